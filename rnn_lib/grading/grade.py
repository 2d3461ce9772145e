"""``python -m rnn_lib.grading grade SUBMISSION.ipynb ... --out grades.csv``.

For each submission: read it (a file that is not a notebook is ``invalid``),
find which exercise it is (the notebook's metadata, else its file name), take
only what sits between the solution markers, put that into a pristine student
version of the exercise (so deleted or edited grader cells, stale outputs and
anything else outside the markers change nothing), run it in a fresh kernel
in a child process with a per-cell timeout, an overall timeout and a memory
limit (:mod:`rnn_lib.grading.execute`), and score each grader cell: its points
if it ran without raising, else 0 and its error as feedback. One bad
submission never stops the batch.

The CSV has one row per submission: ``submission, exercise, status``, one
column of points per check, ``total, max_points, feedback``. ``status`` is
``ok`` (the notebook ran; the checks decide the points), ``timeout`` (a cell or
the whole run took too long), ``memory`` (a cell ran out of memory),
``error`` (the kernel died or could not run) or ``invalid`` (not a notebook,
or not one of the exercises).
"""

from __future__ import annotations

import csv
import dataclasses
import re
from pathlib import Path

import nbformat

from rnn_lib.grading.execute import run_isolated
from rnn_lib.grading.notebooks import (
    METADATA_KEY,
    fill_notebook,
    grader_cells,
    notebook_regions,
    release_notebook,
)
from rnn_lib.grading.release import solution_paths

FEEDBACK_CHARS = 600
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_MEMORY = re.compile(r"MemoryError|can't allocate memory|out of memory|std::bad_alloc")


@dataclasses.dataclass
class Result:
    """The grade of one submission.

    Attributes:
        submission: the path as given.
        exercise: the exercise's name, e.g. ``'03_rnn_step'`` ('' if unknown).
        status: ``ok``, ``timeout``, ``memory``, ``error`` or ``invalid``.
        points: points per check, in the notebook's order.
        max_points: what a full solution gets.
        feedback: what went wrong, one sentence per failing check.
    """

    submission: str
    exercise: str
    status: str
    points: dict[str, float]
    max_points: float
    feedback: str

    @property
    def total(self) -> float:
        return sum(self.points.values())


def _short(text: str) -> str:
    text = " ".join(_ANSI.sub("", text).split())
    return text if len(text) <= FEEDBACK_CHARS else text[: FEEDBACK_CHARS - 3] + "..."


def _error(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return _short(f"{output.get('ename', 'Error')}: {output.get('evalue', '')}")
    return ""


def identify(nb, path: Path, names: list[str]) -> str:
    """The exercise a submission answers: its metadata, else its file name."""
    info = nb.metadata.get(METADATA_KEY)
    name = info.get("exercise", "") if isinstance(info, dict) else ""
    if name in names:
        return name
    matches = [candidate for candidate in names if candidate in path.name]
    return max(matches, key=len) if matches else ""


def score(
    pristine, report: dict, missing: list[str]
) -> tuple[str, dict[str, float], str]:
    """Status, points per check and feedback from an executed notebook."""
    checks = grader_cells(pristine)
    executed = report["notebook"]
    failure, timed_out = report["failure"], set(report["timed_out"])
    completed = set(report["completed"])
    feedback = [
        f"no solution found for {name} (its stub was graded)" for name in missing
    ]
    points: dict[str, float] = {}
    status = "ok"
    grader_indices = {index for index, _, _ in checks}
    if executed is not None:
        for index, cell in enumerate(executed.cells):
            if cell.cell_type != "code" or index in grader_indices:
                continue
            if index in timed_out:
                feedback.append(f"cell {index} timed out")
            elif _error(cell):
                feedback.append(f"cell {index} raised {_error(cell)}")
    for index, check, value in checks:
        cell = executed.cells[index] if executed is not None else None
        problem = ""
        if index in timed_out:
            problem = "timed out (an endless loop?)"
        elif cell is None or index not in completed:
            problem = "did not run to its end"
        else:
            problem = _error(cell)
        points[check] = 0.0 if problem else value
        if problem:
            feedback.append(f"{check}: {problem}")
        if _MEMORY.search(problem):
            status = "memory"
    if timed_out or failure == "timeout":
        status = "timeout"
        if failure == "timeout":
            feedback.append("the notebook ran past the overall time limit")
    elif failure:
        status = "error"
        feedback.append(_short(failure))
    return status, points, " | ".join(feedback)


def grade_one(
    path: Path,
    pristine: dict[str, nbformat.NotebookNode],
    cell_timeout: float,
    timeout: float,
    memory_mb: int,
) -> Result:
    """Grade one submission against the student versions in ``pristine``."""
    try:
        nb = nbformat.read(path, as_version=4)
        name = identify(nb, path, sorted(pristine))
        submitted = notebook_regions(nb, strict=False)
    except Exception as error:  # not JSON, not a notebook, cells of the wrong type, ...
        return Result(
            str(path), "", "invalid", {}, 0.0, _short(f"not a notebook: {error}")
        )
    if not name:
        known = ", ".join(sorted(pristine))
        return Result(
            str(path), "", "invalid", {}, 0.0, f"not one of the exercises ({known})"
        )
    student = pristine[name]
    max_points = sum(value for _, _, value in grader_cells(student))
    filled, missing = fill_notebook(student, submitted)
    report = run_isolated(filled, cell_timeout, timeout, memory_mb)
    status, points, feedback = score(student, report, missing)
    return Result(str(path), name, status, points, max_points, feedback)


def pristine_exercises(solutions: Path) -> dict[str, nbformat.NotebookNode]:
    """The student version of every exercise, by name."""
    return {
        path.stem: release_notebook(nbformat.read(path, as_version=4), path.stem)
        for path in solution_paths(solutions)
    }


def write_csv(results: list[Result], pristine: dict, out: Path) -> None:
    names = sorted({result.exercise for result in results if result.exercise})
    checks = [check for name in names for _, check, _ in grader_cells(pristine[name])]
    with open(out, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "submission",
                "exercise",
                "status",
                *checks,
                "total",
                "max_points",
                "feedback",
            ]
        )
        for result in results:
            row = [result.submission, result.exercise, result.status]
            row += [
                _number(result.points[c]) if c in result.points else "" for c in checks
            ]
            row += [_number(result.total), _number(result.max_points), result.feedback]
            writer.writerow(row)


def _number(value: float) -> str:
    return f"{value:g}"


def grade(
    paths: list[Path],
    solutions: Path,
    out: Path,
    cell_timeout: float = 60,
    timeout: float = 600,
    memory_mb: int = 4096,
    log=print,
) -> list[Result]:
    """Grade every submission in turn, write the CSV, return the results."""
    pristine = pristine_exercises(solutions)
    results = []
    for path in paths:
        try:
            result = grade_one(path, pristine, cell_timeout, timeout, memory_mb)
        except Exception as error:  # one bad submission never stops the batch
            result = Result(
                str(path), "", "error", {}, 0.0, _short(f"grader failed: {error!r}")
            )
        results.append(result)
        log(
            f"{path}: {result.status}, {_number(result.total)}/{_number(result.max_points)}"
        )
    write_csv(results, pristine, out)
    return results
