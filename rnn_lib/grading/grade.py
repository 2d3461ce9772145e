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
)
from rnn_lib.grading.release import student_versions
from rnn_lib.validation import check_int, check_number

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


def _cell_failures(executed, skip: set[int], timed_out: set[int]) -> list[str]:
    """Feedback for the cells other than ``skip`` that timed out or raised."""
    feedback = []
    for index, cell in enumerate(executed.cells if executed is not None else []):
        if cell.cell_type != "code" or index in skip:
            continue
        if index in timed_out:
            feedback.append(f"cell {index} timed out")
        elif _error(cell):
            feedback.append(f"cell {index} raised {_error(cell)}")
    return feedback


def _check_problem(index: int, report: dict) -> str:
    """Why grader cell ``index`` earns nothing, or '' when it ran and passed."""
    executed = report["notebook"]
    if index in report["timed_out"]:
        return "timed out (an endless loop?)"
    if executed is None or index not in report["completed"]:
        return "did not run to its end"
    return _error(executed.cells[index])


def score(
    pristine, report: dict, missing: list[str]
) -> tuple[str, dict[str, float], str]:
    """Status, points per check and feedback from an executed notebook."""
    checks = grader_cells(pristine)
    failure, timed_out = report["failure"], set(report["timed_out"])
    feedback = [
        f"no solution found for {name} (its stub was graded)" for name in missing
    ]
    feedback += _cell_failures(
        report["notebook"], {index for index, _, _ in checks}, timed_out
    )
    points: dict[str, float] = {}
    status = "ok"
    for index, check, value in checks:
        problem = _check_problem(index, report)
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


def check_limits(cell_timeout: float, timeout: float, memory_mb: int) -> None:
    """Seconds per cell and per submission must be positive, megabytes an int >= 1."""
    check_number("cell_timeout", cell_timeout, positive=True)
    check_number("timeout", timeout, positive=True)
    check_int("memory_mb", memory_mb)


def grade(
    paths: list[Path],
    solutions: Path | None,
    out: Path,
    cell_timeout: float = 60,
    timeout: float = 600,
    memory_mb: int = 4096,
    log=print,
) -> list[Result]:
    """Grade every submission in turn, write the CSV, return the results.

    Args:
        paths: the submissions, notebooks.
        solutions: the folder of solution notebooks; None for those installed
            with rnn_lib.
        out: the CSV to write.
        cell_timeout, timeout, memory_mb: the limits of each run (see
            :func:`check_limits`).
        log: called with one line per submission graded.
    """
    check_limits(cell_timeout, timeout, memory_mb)
    pristine = student_versions(solutions)
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
