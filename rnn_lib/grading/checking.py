"""How a check compares a student's function with the reference and explains why.

Built for the exercises that follow the chapters (the book's Exercises part).
Every check in :mod:`rnn_lib.grading` calls :func:`verify`: it runs the
student's function and the reference on the same cases (float64 inputs,
several shapes, edge cases such as length 1 and batch 1), and on the first
difference raises :class:`CheckFailed` with feedback that names the output,
the position (time step, batch row, unit) and the size of the error. Then it
runs each known mistake on the same cases: when the student's answers equal
one mistake's answers on every case, the feedback names that mistake and how
to fix it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any, Callable

import torch

# float64 answers written another way (a loop instead of a matmul) agree to
# about 1e-15; a real mistake is off by far more than these.
ATOL = 1e-7
RTOL = 1e-6


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

    Attributes:
        name: a few words, quoted in the feedback, e.g. ``'transposed W_hh'``.
        advice: what to change, e.g. ``'use h @ w_hh.T ...'``.
        function: the mistake, written out.
    """

    name: str
    advice: str
    function: Callable


@dataclasses.dataclass
class Case:
    """One set of inputs.

    Attributes:
        sizes: the sizes the feedback reports, e.g. ``{'N': 1, 'H_in': 3}``.
        args: the arguments by name, in the graded function's order. Each
            call gets fresh clones, so a function that changes its inputs
            in place is caught and cannot spoil the next call.
    """

    sizes: dict[str, Any]
    args: dict[str, Any]

    def describe(self) -> str:
        return ", ".join(f"{key}={value}" for key, value in self.sizes.items())


@dataclasses.dataclass
class Outcome:
    """What one function did on one case: a value, or an exception."""

    value: Any = None
    error: BaseException | None = None
    modified: tuple[str, ...] = ()


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(item) for item in value)
    return value


def _same_input(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return a.shape == b.shape and torch.allclose(a, b, rtol=1e-12, atol=1e-12)
    if isinstance(a, (list, tuple)):
        return all(_same_input(x, y) for x, y in zip(a, b))
    return True


def call_with_clones(function: Callable, case: Case) -> Outcome:
    """Run ``function`` on fresh clones of the case's arguments.

    Exceptions are caught and kept (a KeyboardInterrupt is not). Arguments
    that the call changed in place are listed in ``Outcome.modified``.
    """
    args = {name: _clone(value) for name, value in case.args.items()}
    try:
        value = function(*args.values())
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=error)
    modified = tuple(
        name for name in args if not _same_input(args[name], case.args[name])
    )
    return Outcome(value=value, modified=modified)


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


def not_written(name: str, error: NotImplementedError) -> CheckFailed:
    """The feedback for a stub that still raises NotImplementedError."""
    return CheckFailed(
        f"{name} is not written yet ({error}): replace the raise between "
        "### BEGIN SOLUTION and ### END SOLUTION with your code."
    )


def verify(
    name: str,
    student: Callable,
    reference: Callable,
    cases: Sequence[Case],
    outputs: Sequence[Output],
    mistakes: Sequence[Mistake] = (),
    hint: str = "",
    call: Callable[[Callable, Case], Outcome] = call_with_clones,
) -> None:
    """Raise :class:`CheckFailed` unless ``student`` agrees with ``reference``.

    Args:
        name: the graded function's name, as the feedback calls it.
        student: the student's function.
        reference: the course's function, or torch's, with the same signature.
        cases: the inputs to try, in order (edge cases first).
        outputs: what the function returns, one :class:`Output` per value.
        mistakes: known wrong answers; the feedback names the one the
            student's answers equal on every case.
        hint: said when no known mistake matches.
        call: how to run a function on a case (default: on fresh clones of
            the case's arguments).
    """
    __tracebackhide__ = True  # pytest and IPython show the feedback, not this frame
    if not callable(student):
        raise CheckFailed(f"{name} should be a function, but is {_type_name(student)}")
    answers = [call(student, case) for case in cases]
    problem = ""
    for case, got in zip(cases, answers):
        if isinstance(got.error, NotImplementedError):
            raise not_written(name, got.error)
        expected = call(reference, case)
        if expected.error is not None:  # the reference never fails on a case
            raise expected.error
        problem = describe_difference(name, got, expected, outputs, case)
        if problem:
            break
    if not problem:
        return
    lines = [problem + "."]
    for mistake in mistakes:
        if all(
            _same_outcome(call(mistake.function, case), got)
            for case, got in zip(cases, answers)
        ):
            lines.append(
                f'Your answers equal those of a known mistake, "{mistake.name}": {mistake.advice}'
            )
            break
    else:
        if hint:
            lines.append(hint)
    raise CheckFailed("\n".join(lines))


def float64_generator(seed: int) -> torch.Generator:
    """A generator of its own, so a check neither uses nor moves the global seed."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def randn(*shape: int, generator: torch.Generator, scale: float = 1.0) -> torch.Tensor:
    """Normal float64 entries times ``scale``, on the CPU."""
    return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)
