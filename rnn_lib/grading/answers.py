"""One check's answers in the batch grade: computed in the student's kernel, judged outside.

Built for ``python -m rnn_lib.grading grade`` (the book's Exercises part). In
place of each grader cell, the batch grader runs a cell of its own
(:func:`answer_cell`) that calls :func:`answer` in the student's kernel:

1. the grader writes the inputs, as plain data (:mod:`rnn_lib.grading.plain`):
   the check's cases, its probes (for shrinking) and the cases of the checks
   of the functions it uses (:func:`write_inputs`), drawn from the batch's
   seed;
2. :func:`answer` runs the student's function on them the check's own way
   (fresh clones, forbidden calls recorded; :meth:`Check.run
   <rnn_lib.grading.checking.Check.run>`) and writes the outcomes as plain
   data;
3. the grader reads them back (:func:`read_answers`), refusing anything that
   is not exactly that form, and the check judges them against its
   reference in the grader's own process.

Whatever the student's code does to its own process (replacing a check,
``torch.allclose`` or this module, swallowing exceptions, returning a tensor
subclass that equals everything), only numbers come back, and the decision
is made where that code never ran. Read next: :mod:`rnn_lib.grading.grade`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from rnn_lib.grading.cases import Case, outcome_from_plain, outcome_to_plain
from rnn_lib.grading.checking import Answers, Check
from rnn_lib.grading.plain import decode, encode, load, save


def _checks() -> dict[str, Check]:
    from rnn_lib.grading.checks import CHECKS  # the registry imports every check

    return {check.label: check for check in CHECKS.values()}


def file_name(check: Check) -> str:
    """``'3.1_rnn_step.pt'``: where a check's inputs or answers go in a folder."""
    return check.label.replace(" ", "_") + ".pt"


def inputs(check: Check, run_seed: int) -> dict[str, list[Case]]:
    """What the student's function runs on: ``cases``, ``probes``, ``uses:<name>``."""
    seed = check.seed(run_seed)
    parts = {"cases": check.cases(seed), "probes": check.cases.probes(seed)}
    for used in check.uses:
        parts[f"uses:{used.argument}"] = used.cases(used.seed(run_seed))
    return parts


def write_inputs(check: Check, run_seed: int, path: Path) -> None:
    """Write :func:`inputs` to ``path`` as plain data."""
    plain = {
        part: [encode({"sizes": case.sizes, "args": case.args}) for case in cases]
        for part, cases in inputs(check, run_seed).items()
    }
    save(plain, path)


def _read_inputs(path: Path) -> dict[str, list[Case]]:
    parts = load(path)
    found = {}
    for part, cases in parts.items():
        found[part] = []
        for item in cases:
            case = decode(item)
            found[part].append(Case(case["sizes"], case["args"]))
    return found


def answer(label: str, function: Callable, inputs_path: str, answers_path: str) -> None:
    """Run in the student's kernel: the outcomes of ``function`` on the inputs, written out."""
    check = _checks()[label]
    parts = _read_inputs(Path(inputs_path))
    plain: dict[str, Any] = {}
    for part, cases in parts.items():
        graded = function
        if part.startswith("uses:"):
            graded = check.used_function(function, part.removeprefix("uses:"))
            if graded is None:  # the notebook does not define it
                continue
            used = next(c for c in check.uses if f"uses:{c.argument}" == part)
            plain[part] = [outcome_to_plain(o) for o in used.run(graded, cases)]
        else:
            plain[part] = [outcome_to_plain(o) for o in check.run(graded, cases)]
    save(plain, Path(answers_path))


def answer_cell(check: Check, inputs_path: Path, answers_path: Path) -> str:
    """The source of the cell that the batch grader runs in place of a grader cell."""
    return (
        f"# Check {check.label}, as the batch grader runs it: your answers go to the\n"
        "# grader, which compares them with the reference in its own process.\n"
        "from rnn_lib.grading.answers import answer\n\n"
        f"answer({check.label!r}, {check.argument}, {str(inputs_path)!r}, "
        f"{str(answers_path)!r})\n"
    )


def read_answers(check: Check, path: Path) -> Answers:
    """The answers a kernel wrote for ``check``, checked entry by entry.

    Raises:
        ValueError: if the file is missing parts or is not plain data.
    """
    data = load(path)
    if type(data) is not dict or not {"cases", "probes"} <= set(data):
        raise ValueError("the answers file lacks its cases")
    parts = {}
    for part, items in data.items():
        if type(part) is not str or type(items) is not list:
            raise ValueError("the answers file is malformed")
        parts[part] = [outcome_from_plain(item) for item in items]
    probes = parts["probes"]
    return Answers(
        parts["cases"], lambda: probes, lambda name: parts.get(f"uses:{name}")
    )
