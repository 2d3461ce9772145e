"""``python -m rnn_lib.grading grade SUBMISSIONS... --out grades.csv``: the batch grade.

Built for instructors (the book's Exercises part). Each submission is graded
against the exercise it is *declared* to answer (``--exercise``, or the name
of the folder it sits in, e.g. ``submissions/03_rnn_step/alice.ipynb``); a
notebook whose metadata, grader cells or functions belong to another
exercise is ``invalid``, with a message that names both (:func:`mismatch`).

For each submission: read it (a file that is not a notebook is ``invalid``),
take only the code between the solution markers and put it into a pristine
student version of the exercise the way the student's own notebook runs it
(:func:`rnn_lib.grading.notebooks.fill_notebook`), so that edited or deleted
grader cells, stale outputs and anything else outside the markers change
nothing. In place of each grader cell goes the grader's own answer cell
(:mod:`rnn_lib.grading.answers`): the kernel runs the student's functions on
inputs drawn from the batch's seed and sends back plain data. The notebook
runs in a fresh kernel in a sandbox of its own, with a per-cell timeout, an
overall timeout and a memory limit (:mod:`rnn_lib.grading.execute`,
:mod:`rnn_lib.grading.sandbox`), and every process it started has ended
before its row is written. Then, in this process, each check judges the
answers against its reference: its points if the answer cell's reply was
``ok`` and the answers are right, else 0 and the feedback. One bad
submission never stops the batch. ``--jobs N`` grades N submissions at once.

``status`` is ``ok`` (the notebook ran; the checks decide the points),
``timeout`` (a cell or the whole run took too long), ``memory`` (a cell ran
out of memory), ``error`` (the kernel died or could not run) or ``invalid``
(not a notebook, or not the exercise graded). What is written is in
:mod:`rnn_lib.grading.reports`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import os
import re
import tempfile
from collections.abc import Callable
from pathlib import Path

import nbformat
import torch

from rnn_lib.grading import sandbox
from rnn_lib.grading.answers import answer_cell, file_name, read_answers, write_inputs
from rnn_lib.grading.checking import Check
from rnn_lib.grading.checks import EXERCISES
from rnn_lib.grading.execute import run_isolated
from rnn_lib.grading.notebooks import (
    METADATA_KEY,
    fill_notebook,
    grader_cells,
    notebook_regions,
)
from rnn_lib.grading.release import student_versions
from rnn_lib.grading.reports import CheckResult, Result, number, short
from rnn_lib.validation import check_int, check_number

_MEMORY = re.compile(r"MemoryError|can't allocate memory|out of memory|std::bad_alloc")
_CHECKS = {check.label: check for checks in EXERCISES.values() for check in checks}


def declared_exercise(path: Path, exercise: str | None, names: list[str]) -> str:
    """The exercise a submission is graded as: ``exercise``, else its folder's name ('' if neither)."""
    if exercise is not None:
        return exercise
    return path.parent.name if path.parent.name in names else ""


def _functions(nb) -> set[str]:
    return {region.function for region in notebook_regions(nb, strict=False)} - {""}


def mismatch(nb, name: str, pristine: dict) -> str:
    """Why a submission is not exercise ``name`` ('' when nothing says otherwise)."""
    info = nb.metadata.get(METADATA_KEY)
    said = info.get("exercise") if isinstance(info, dict) else None
    if isinstance(said, str) and said in pristine and said != name:
        return f"its metadata says exercise {said}"
    labels = {
        cell.metadata.get(METADATA_KEY, {}).get("check")
        for cell in nb.cells
        if isinstance(cell.metadata.get(METADATA_KEY), dict)
    } - {None}
    owners = {
        other
        for other, checks in EXERCISES.items()
        for c in checks
        if c.label in labels
    }
    if labels and owners and name not in owners:
        return f"its grader cells belong to exercise {' and '.join(sorted(owners))}"
    functions = _functions(nb)
    if not labels and functions and not functions & _functions(pristine[name]):
        others = [
            other for other in pristine if functions & _functions(pristine[other])
        ]
        if others:
            return f"its functions belong to exercise {' and '.join(others)}"
    return ""


def _reply_problem(index: int, report: dict) -> str:
    """Why the answer cell at ``index`` gives nothing, judged by the kernel's reply."""
    if index in report["timed_out"]:
        return "timed out (an endless loop?)"
    reply = report["replies"].get(index)
    if report["notebook"] is None or reply is None:
        return "did not run to its end"
    if reply["status"] != "ok":
        return short(f"{reply['ename'] or 'error'}: {reply['evalue']}")
    return ""


def _judge(check: Check, index: int, report: dict, answers: Path, run_seed: int) -> str:
    """The feedback on one check ('' when it passes), from the reply and the answers."""
    problem = _reply_problem(index, report)
    if problem:
        return problem
    try:
        got = read_answers(check, answers)
    except (OSError, ValueError) as error:
        return f"its answers could not be read ({short(str(error))})"
    return check.judge(got, run_seed)


def _cell_notes(report: dict, skip: set[int]) -> list[str]:
    """Feedback for the cells other than ``skip`` that timed out or raised."""
    notes = []
    for index, cell in enumerate(
        report["notebook"].cells if report["notebook"] else []
    ):
        if cell.cell_type != "code" or index in skip:
            continue
        reply = report["replies"].get(index)
        if index in report["timed_out"]:
            notes.append(f"cell {index} timed out")
        elif reply is not None and reply["status"] != "ok":
            notes.append(
                f"cell {index} raised {short(reply['ename'] + ': ' + reply['evalue'])}"
            )
    return notes


@dataclasses.dataclass(frozen=True)
class Settings:
    """How every submission of a batch runs and is judged.

    Attributes:
        cell_timeout, timeout, memory_mb: the limits of each run.
        run_seed: the seed the checks' inputs are drawn from.
        hidden: folders no run may see (the submissions', the outputs').
        sandbox: ``'auto'``, ``'bwrap'``, ``'unshare'`` or ``'none'``.
    """

    cell_timeout: float = 60
    timeout: float = 600
    memory_mb: int = 4096
    run_seed: int = 0
    hidden: tuple[Path, ...] = ()
    sandbox: str = "auto"


def _invalid(path: Path, name: str, why: str) -> Result:
    return Result(str(path), name, "invalid", [], [why])


def grade_one(path: Path, name: str, pristine: dict, settings: Settings) -> Result:
    """Grade one submission as exercise ``name`` (see the module docstring)."""
    try:
        nb = nbformat.read(path, as_version=4)
        submitted = notebook_regions(nb, strict=False)
        wrong = mismatch(nb, name, pristine) if name in pristine else ""
    except Exception as error:  # not JSON, not a notebook, cells of the wrong type, ...
        return _invalid(path, "", short(f"not a notebook: {error}"))
    if name not in pristine:
        known = ", ".join(sorted(pristine))
        why = f"not told which exercise it answers: pass --exercise, or put it in a folder named after one ({known})"
        return _invalid(
            path,
            "",
            why if not name else f"{name} is not one of the exercises ({known})",
        )
    if wrong:
        return _invalid(
            path,
            name,
            f"this notebook is not exercise {name}, which this batch grades: {wrong}",
        )
    filled, missing, notes = fill_notebook(pristine[name], submitted)
    notes = [
        f"no solution found for {function} (its stub was graded)"
        for function in missing
    ] + notes
    with tempfile.TemporaryDirectory(prefix="rnn-grade-") as folder:
        work = Path(folder)
        inputs, answers = work / "inputs", work / "answers"
        inputs.mkdir()
        answers.mkdir()
        cells = grader_cells(filled)
        for index, label, _ in cells:
            check = _CHECKS[label]
            write_inputs(check, settings.run_seed, inputs / file_name(check))
            filled.cells[index].source = answer_cell(
                check, inputs / file_name(check), answers / file_name(check)
            )
        report = run_isolated(
            filled, settings.cell_timeout, settings.timeout, settings.memory_mb,
            work=work, hidden=settings.hidden, sandbox_choice=settings.sandbox,
        )  # fmt: skip
        checks = []
        for index, label, points in cells:
            check = _CHECKS[label]
            feedback = _judge(
                check, index, report, answers / file_name(check), settings.run_seed
            )
            checks.append(
                CheckResult(label, 0.0 if feedback else points, points, feedback)
            )
    notes += _cell_notes(report, {index for index, _, _ in cells})
    status = "ok"
    if any(_MEMORY.search(check.feedback) for check in checks):
        status = "memory"
    if report["timed_out"] or report["failure"] == "timeout":
        status = "timeout"
        if report["failure"] == "timeout":
            notes.append("the notebook ran past the overall time limit")
    elif report["failure"]:
        status = "error"
        notes.append(short(report["failure"]))
    return Result(str(path), name, status, checks, notes)


def check_limits(cell_timeout: float, timeout: float, memory_mb: int) -> None:
    """Seconds per cell and per submission must be positive, megabytes an int >= 1."""
    check_number("cell_timeout", cell_timeout, positive=True)
    check_number("timeout", timeout, positive=True)
    check_int("memory_mb", memory_mb)


def grade(
    paths: list[Path],
    solutions: Path | None,
    exercise: str | None = None,
    settings: Settings = Settings(),
    jobs: int | None = None,
    log: Callable[[str], None] = print,
) -> list[Result]:
    """Grade every submission, ``jobs`` at a time; the results, in the order given.

    Every process a submission started has ended before this returns.

    Args:
        paths: the submissions, notebooks.
        solutions: the folder of solution notebooks; None for those installed
            with rnn_lib.
        exercise: the exercise they all answer; None to read it from each
            submission's folder.
        settings: the limits, the seed and the sandbox (:class:`Settings`).
        jobs: how many at once (default: the number of cores).
        log: called with one line per submission graded.
    """
    check_limits(settings.cell_timeout, settings.timeout, settings.memory_mb)
    jobs = check_int("jobs", jobs if jobs is not None else os.cpu_count() or 1)
    pristine = student_versions(solutions)
    names = sorted(pristine)
    declared = [declared_exercise(path, exercise, names) for path in paths]

    def one(path: Path, name: str) -> Result:
        try:
            result = grade_one(path, name, pristine, settings)
        except Exception as error:  # one bad submission never stops the batch
            result = Result(
                str(path), name, "error", [], [short(f"grader failed: {error!r}")]
            )
        log(
            f"{path}: {result.status}, {number(result.total)}/{number(result.max_points)}"
        )
        return result

    with _one_thread(), sandbox.Subreaper():
        with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
            results = list(pool.map(one, paths, declared))
        sandbox.sweep_all()
    return results


@contextlib.contextmanager
def _one_thread():
    """Torch on one thread while judging: the references are small, the jobs many."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)
