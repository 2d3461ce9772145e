"""How a check compares a student's function with the reference and explains why.

Built for the exercises that follow the chapters (the book's Exercises part).
Each check is a :class:`Check`: what the grader knows about one graded
function, as data (its cases, its reference, its outputs, its known mistakes,
a hint). Calling it runs the student's function and the reference on the same
cases (float64 inputs, several shapes, edge cases such as length 1 and batch
1), and on the first difference raises :class:`CheckFailed` with feedback
that names the output, the position (time step, batch row, unit) and the size
of the error. Then it runs each known mistake on the same cases: when the
student's answers equal one mistake's answers on every case, the feedback
names that mistake and how to fix it.

The inputs and how a function is run on them are in
:mod:`rnn_lib.grading.cases`; the checks themselves are in
:mod:`rnn_lib.grading.checks`, one module per exercise notebook: read one of
those next.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Callable

import torch

from rnn_lib.grading.cases import Case, Outcome, call_with_clones

# float64 answers written another way (a loop instead of a matmul) agree to
# about 1e-15; a real mistake is off by far more than these.
ATOL = 1e-7
RTOL = 1e-6

# What an index along each dimension of a state, or of a sequence of them, means.
STATE = ("batch row", "unit")
SEQUENCE = ("time step t=", "batch row", "unit")


class CheckFailed(AssertionError):
    """A check's verdict on a wrong answer; the message is the feedback."""

    def _render_traceback_(self) -> list[str]:
        # IPython (and so nbval) shows these lines instead of a traceback
        # through the grading code, which would only hide the feedback.
        return [
            f"CheckFailed: {line}" if i == 0 else line
            for i, line in enumerate(str(self).split("\n"))
        ]


@dataclasses.dataclass(frozen=True)
class Output:
    """One output of a graded function.

    Attributes:
        name: how the feedback calls it, e.g. ``'h_n'``.
        shape: the shape in the book's letters, e.g. ``'(L, N, H_out)'``.
        dims: what an index along each dimension means, e.g.
            ``('time step t', 'batch row', 'unit')``.
    """

    name: str
    shape: str = ""
    dims: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Mistake:
    """A known wrong answer: a function with the graded signature that makes it.

    Most checks write the right answer once, with keyword switches that each
    turn on one mistake, and make each mistake's function with
    ``functools.partial(_step_backward, deriv="none")``.

    Attributes:
        name: a few words, quoted in the feedback, e.g. ``'transposed W_hh'``.
        advice: what to change, e.g. ``'use h @ w_hh.T ...'``.
        function: the mistake, written out.
    """

    name: str
    advice: str
    function: Callable


def _same(a: Any, b: Any) -> bool:
    """Whether two answers agree (tensors within tolerance, the rest exactly)."""
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)):
            try:
                return math.isclose(float(a), float(b), rel_tol=RTOL, abs_tol=ATOL)
            except (TypeError, ValueError, RuntimeError):
                return False
        if a.shape != b.shape:
            return False
        try:
            return torch.allclose(
                a.double(), b.double(), rtol=RTOL, atol=ATOL, equal_nan=True
            )
        except RuntimeError:
            return False
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) or isinstance(b, float):
        try:
            return math.isclose(float(a), float(b), rel_tol=RTOL, abs_tol=ATOL)
        except (TypeError, ValueError):
            return False
    return a == b


def _same_outcome(a: Outcome, b: Outcome) -> bool:
    if a.error is not None or b.error is not None:
        return type(a.error) is type(b.error)
    return a.modified == b.modified and _same(a.value, b.value)


def _fmt(value: Any) -> str:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    return repr(value)


def _type_name(value: Any) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def _where(index: tuple[int, ...], output: Output) -> str:
    if not index:
        return ""
    parts = []
    for i, position in enumerate(index):
        label = output.dims[i] if i < len(output.dims) else f"index {i}"
        parts.append(
            f"{label} {position}" if not label.endswith("=") else f"{label}{position}"
        )
    return " at " + ", ".join(parts)


def _split(value: Any, outputs: Sequence[Output], name: str) -> tuple[list | None, str]:
    """The answer as one item per output, or a sentence saying why it is not."""
    if len(outputs) == 1:
        return [value], ""
    names = ", ".join(output.name for output in outputs)
    if isinstance(value, dict):
        missing = [output.name for output in outputs if output.name not in value]
        if missing:
            return None, f"{name} returned a dict without {missing}; expected ({names})"
        return [value[output.name] for output in outputs], ""
    if not isinstance(value, (tuple, list)):
        return (
            None,
            f"{name} should return a tuple ({names}), but returned {_type_name(value)}",
        )
    if len(value) != len(outputs):
        return None, (
            f"{name} should return {len(outputs)} values ({names}), but returned {len(value)}"
        )
    return list(value), ""


def _compare(got: Any, expected: Any, output: Output, case: Case, name: str) -> str:
    """A sentence naming how ``got`` differs from ``expected``, or ''."""
    label = f"{name}'s {output.name}" if output.name != name else name
    if isinstance(expected, torch.Tensor) and expected.dim() == 0:
        if isinstance(got, (int, float)) and not isinstance(got, bool):
            got = torch.tensor(float(got), dtype=expected.dtype)
    if isinstance(expected, torch.Tensor):
        if not isinstance(got, torch.Tensor):
            return f"{label} should be a tensor, but is {_type_name(got)}"
        if got.shape != expected.shape:
            wanted = f"{output.shape} = " if output.shape else ""
            return (
                f"{label} has shape {tuple(got.shape)}, expected {wanted}"
                f"{tuple(expected.shape)} (for {case.describe()})"
            )
        if got.dtype != expected.dtype:
            return (
                f"{label} has dtype {got.dtype}, expected {expected.dtype} like the "
                "inputs: create new tensors with dtype=x.dtype (or torch.zeros_like)"
            )
        if got.requires_grad and not expected.requires_grad:
            got = got.detach()
        got = got.to(expected.device)
        if torch.allclose(got, expected, rtol=RTOL, atol=ATOL, equal_nan=False):
            return ""
        error = (got - expected).abs()
        error = torch.where(torch.isnan(error), torch.full_like(error, math.inf), error)
        flat = int(torch.argmax(error))
        index = tuple(
            int(i) for i in torch.unravel_index(torch.tensor(flat), expected.shape)
        )
        return (
            f"{label} differs from the reference{_where(index, output)}: "
            f"expected {_fmt(expected[index])}, got {_fmt(got[index])} "
            f"(largest error {_fmt(error.max())}, for {case.describe()})"
        )
    if _same(got, expected):
        return ""
    return f"{label} is wrong: expected {_fmt(expected)}, got {_fmt(got)} (for {case.describe()})"


def describe_difference(
    name: str, got: Outcome, expected: Outcome, outputs: Sequence[Output], case: Case
) -> str:
    """A sentence saying how the student's outcome on a case falls short, or ''."""
    if got.error is not None:
        error = got.error
        return f"{name} raised {type(error).__name__}: {error} (for {case.describe()})"
    if got.modified:
        names = ", ".join(got.modified)
        return (
            f"{name} changed its input {names} in place (for {case.describe()}): "
            "compute new tensors instead (h = h + ..., not h += ...)"
        )
    parts, problem = _split(got.value, outputs, name)
    if problem:
        return problem
    expected_parts, _ = _split(expected.value, outputs, name)
    for part, wanted, output in zip(parts, expected_parts, outputs):
        problem = _compare(part, wanted, output, case, name)
        if problem:
            return problem
    return ""


def not_written(name: str, error: NotImplementedError) -> str:
    """The feedback for a stub that still raises NotImplementedError."""
    return (
        f"{name} is not written yet ({error}): replace the raise between "
        "### BEGIN SOLUTION and ### END SOLUTION with your code."
    )


@dataclasses.dataclass(frozen=True, eq=False)
class Check:
    """One check: what the grader knows about a graded function, as data.

    A grader cell calls it, ``check_rnn_step(rnn_step)``: it prints one
    stable line when the function is right and raises :class:`CheckFailed`
    with feedback when it is not. The work comes in two parts that can run
    apart: :meth:`answers` runs the student's function on the cases, and
    :meth:`judge` (the reference, the comparison, the known mistakes) decides.

    Attributes:
        exercise: the exercise's number, e.g. ``'3.1'``.
        name: the graded function, e.g. ``'rnn_step'``. The check is called
            ``check_<name>``, and its grader cell's label is ``'3.1 rnn_step'``.
        reference: the course's function, or torch's, with the same signature.
        cases: makes the inputs to try, in order (edge cases first); seeded,
            so each call makes the same ones.
        outputs: what the function returns, one :class:`Output` per value.
        mistakes: known wrong answers; the feedback names the one whose
            answers the student's equal on every case.
        hint: said when no known mistake matches.
        call: how to run a function on a case (default: on fresh clones of
            the case's arguments).
        points: what the check is worth; its grader cell's metadata says the same.
    """

    exercise: str
    name: str
    reference: Callable
    cases: Callable[[], Sequence[Case]]
    outputs: tuple[Output, ...]
    mistakes: tuple[Mistake, ...] = ()
    hint: str = ""
    call: Callable[[Callable, Case], Outcome] = call_with_clones
    points: float = 1

    @property
    def label(self) -> str:
        """How the grader cell's metadata and the CSV name it: ``'3.1 rnn_step'``."""
        return f"{self.exercise} {self.name}"

    @property
    def passed(self) -> str:
        """The one line it prints when the function is right."""
        return f"{self.name}: all checks passed"

    def __repr__(self) -> str:
        return f"<check {self.label}>"

    def __call__(self, student: Callable) -> None:
        """Print :attr:`passed` if ``student`` is right, else raise :class:`CheckFailed`."""
        __tracebackhide__ = True  # pytest and IPython show the feedback, not this frame
        self.verify(student)
        print(self.passed)

    def verify(self, student: Callable) -> None:
        """Raise :class:`CheckFailed` unless ``student`` agrees with the reference."""
        __tracebackhide__ = True
        cases = self.cases()
        feedback = self.judge(cases, self.answers(student, cases))
        if feedback:
            raise CheckFailed(feedback)

    def answers(self, student: Callable, cases: Sequence[Case]) -> list[Outcome]:
        """What the student's function does on each case."""
        if not callable(student):
            raise CheckFailed(
                f"{self.name} should be a function, but is {_type_name(student)}"
            )
        return [self.call(student, case) for case in cases]

    def judge(self, cases: Sequence[Case], answers: Sequence[Outcome]) -> str:
        """The feedback on the student's answers to ``cases``; '' when they are right."""
        problem = ""
        for case, got in zip(cases, answers):
            if isinstance(got.error, NotImplementedError):
                return not_written(self.name, got.error)
            expected = self.call(self.reference, case)
            if expected.error is not None:  # the reference never fails on a case
                raise expected.error
            problem = describe_difference(self.name, got, expected, self.outputs, case)
            if problem:
                break
        if not problem:
            return ""
        known = self.known_mistake(cases, answers)
        return "\n".join(line for line in (problem + ".", known or self.hint) if line)

    def known_mistake(self, cases: Sequence[Case], answers: Sequence[Outcome]) -> str:
        """The sentence naming the known mistake the answers equal, or ''."""
        for known in self.mistakes:
            if all(
                _same_outcome(self.call(known.function, case), got)
                for case, got in zip(cases, answers)
            ):
                return (
                    f'Your answers equal those of a known mistake, "{known.name}": '
                    f"{known.advice}"
                )
        return ""
