"""Submissions written to test the grader, beside the mutants of tests/mutants/.

Each module holds, for one exercise notebook, functions written the way a
student might write them:

- :func:`correct`: right answers written differently from the reference (a
  loop or vectorised, einsum or matmul, torch's clipping or the exact one);
  every check must give them full marks, in a notebook and in the batch grader.
- :func:`wrong`: realistic mistakes that are *not* among tests/mutants/ (so
  many of them equal no known mistake); each must fail its check, and its
  feedback must hold the words it is registered with: the known mistake's
  name, or the sizes that shrinking names ("correct when N=1"), or the kind
  an output must be.

:func:`notebook` puts such functions' bodies into an exercise's student
notebook, so that the batch grader can run them; the attacks on the grader
(tampering, escaping the sandbox) are notebooks of their own, in
tests/test_grading_attacks.py.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import textwrap
from pathlib import Path
from typing import Callable

import nbformat

from rnn_lib.grading.notebooks import notebook_regions

ROOT = Path(__file__).resolve().parents[2]


@dataclasses.dataclass(frozen=True)
class Submission:
    """One crafted answer to one graded function.

    Attributes:
        check: the check's name, e.g. ``'rnn_step'``.
        function: the answer.
        right: whether it is a right answer.
        says: words its feedback must hold (for a wrong answer).
    """

    check: str
    function: Callable
    right: bool
    says: tuple[str, ...] = ()

    @property
    def exercise(self) -> str:
        """The notebook it answers, from its module's name: ``'03_rnn_step'``."""
        return self.function.__module__.rsplit(".", 1)[-1].removeprefix("ex")


REGISTRY: list[Submission] = []


def correct(check: str) -> Callable[[Callable], Callable]:
    """Register a right answer to ``check_<check>``."""

    def register(function: Callable) -> Callable:
        REGISTRY.append(Submission(check, function, True))
        return function

    return register


def wrong(check: str, *says: str) -> Callable[[Callable], Callable]:
    """Register a wrong answer to ``check_<check>`` whose feedback holds ``says``."""

    def register(function: Callable) -> Callable:
        REGISTRY.append(Submission(check, function, False, says))
        return function

    return register


def body(function: Callable) -> str:
    """The statements of ``function`` (its docstring left out), indented for a region."""
    source = textwrap.dedent(inspect.getsource(function))
    (node,) = ast.parse(source).body
    statements = node.body
    if isinstance(statements[0], ast.Expr) and isinstance(
        statements[0].value, ast.Constant
    ):
        statements = statements[1:]
    lines = source.split("\n")[statements[0].lineno - 1 : statements[-1].end_lineno]
    return textwrap.indent(textwrap.dedent("\n".join(lines)), "    ")


def notebook(exercise: str, bodies: dict[str, str]) -> nbformat.NotebookNode:
    """The student notebook of ``exercise`` with the regions of ``bodies`` filled in."""
    nb = nbformat.read(ROOT / "exercises" / f"{exercise}.ipynb", as_version=4)
    for region in reversed(notebook_regions(nb)):
        if region.function in bodies:
            cell = nb.cells[region.cell_index]
            lines = cell.source.split("\n")
            lines[region.start : region.stop] = bodies[region.function].split("\n")
            cell.source = "\n".join(lines)
    return nb


def solution_bodies(exercise: str) -> dict[str, str]:
    """The solution notebook's region bodies, by function."""
    nb = nbformat.read(
        ROOT / "exercises" / "solutions" / f"{exercise}.ipynb", as_version=4
    )
    return {region.function: region.body for region in notebook_regions(nb)}


def run_in_process(nb) -> dict[str, BaseException | None]:
    """Run the code cells in order in one namespace, as a kernel (and nbval) would.

    Returns:
        for each grader cell, by its check's label, what it raised (None: passed).
    """
    namespace: dict = {}
    verdicts = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, f"<cell {cell.get('id')}>", "exec"), namespace)
            error = None
        except Exception as raised:  # noqa: BLE001 - recorded and asserted on
            error = raised
        if "grader" in cell.metadata.get("tags", []):
            verdicts[cell.metadata["rnn_grading"]["check"]] = error
    return verdicts
