"""How one answer is compared with the reference's, and how the difference is said.

Built for the checks of the exercises (the book's Exercises part), used by
:mod:`rnn_lib.grading.checking`. A graded function's outputs are declared as
:class:`Output`: a name, a shape in the book's letters, what each index means,
and a *kind*: exactly a ``torch.Tensor`` with the reference's dtype, a
Python float, an int, a shape (:data:`KINDS`). :func:`describe_difference`
says, for one case, how the student's outcome falls short of the
reference's: an exception, an input changed in place, a wrong structure, a
wrong kind, shape or dtype, or the first entry that lies outside the
tolerance (:mod:`rnn_lib.grading.rounding`), with its position (time step,
batch row, unit), both values and the largest error. :func:`same_outcome`
is the loose equality by which a student's answers are found to equal a known
mistake's. Every comparison is written out in tensor arithmetic (no
``torch.allclose``), so that in a notebook a student's code that replaced
that function does not change the verdict. Read next:
:mod:`rnn_lib.grading.checking`.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from typing import Any

import torch

from rnn_lib.grading.cases import Case, Outcome
from rnn_lib.grading.plain import Opaque

# Whether two answers are "the same" when naming a known mistake: a student's
# mistake and the catalog's, written differently, agree to far better than this.
ATOL = 1e-7
RTOL = 1e-6

# Said of an error of about a float32 rounding, far above float64's.
FLOAT32_SIZED = (
    "; an error this small is what rounding to float32, or an approximation, "
    "gives: keep every tensor in float64 and compute the formula exactly"
)

# What an index along each dimension of a state, or of a sequence of them, means.
STATE = ("batch row", "unit")
SEQUENCE = ("time step t=", "batch row", "unit")

# What an output may be (Output.kind) and how the feedback says it.
KINDS = {
    "tensor": "a tensor",
    "detached tensor": "a tensor",
    "float": "a Python float",
    "number": "a 0-dim tensor or a Python float",
    "int": "a Python int",
    "shape": "a tuple of ints",
    "floats": "a list of Python floats",
}


@dataclasses.dataclass(frozen=True)
class Output:
    """One output of a graded function.

    Attributes:
        name: how the feedback calls it, e.g. ``'h_n'``.
        shape: the shape in the book's letters, e.g. ``'(L, N, H_out)'``.
        dims: what an index along each dimension means, e.g.
            ``('time step t', 'batch row', 'unit')``.
        kind: what it must be, one of :data:`KINDS`: ``'tensor'`` is exactly
            a ``torch.Tensor`` with the reference's dtype, on the CPU like the
            inputs; ``'detached tensor'`` also holds no graph.
        note: said when it is of the wrong kind, e.g. why a tensor is needed.
    """

    name: str
    shape: str = ""
    dims: tuple[str, ...] = ()
    kind: str = "tensor"
    note: str = ""


def _number(value: Any) -> float | None:
    """A Python number or a one-entry tensor as a float; None for anything else."""
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return float(value.detach().reshape(()))
    if type(value) in (int, float):
        return float(value)
    return None


def same(a: Any, b: Any) -> bool:
    """Whether two answers agree loosely (for naming a known mistake)."""
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        if a.shape != b.shape:
            return False
        try:  # written out: a student's code may have replaced torch.allclose
            x, y = a.detach().double(), b.detach().double()
            close = ((x - y).abs() <= ATOL + RTOL * y.abs()) | (x == y)  # inf == inf
            return bool((close | (x.isnan() & y.isnan())).all())
        except RuntimeError:
            return False
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL) or x == y
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(p, q) for p, q in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, torch.Tensor) or isinstance(b, torch.Tensor):
        return False
    return a == b


def same_outcome(a: Outcome, b: Outcome) -> bool:
    if a.error is not None or b.error is not None:
        return (a.error and a.error.type_name) == (b.error and b.error.type_name)
    return a.modified == b.modified and same(a.value, b.value)


def _fmt(value: Any, digits: int = 6) -> str:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.detach().reshape(()).item()
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    if isinstance(value, torch.Size):
        return str(tuple(value))
    return repr(value)


def type_phrase(value: Any) -> str:
    """How the feedback names what a value is: ``a tensor of shape (2, 3)``."""
    if isinstance(value, Opaque):
        return value.what
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
        return None, (
            f"{name} should return a tuple ({names}), but returned {type_phrase(value)}"
        )
    if len(value) != len(outputs):
        return None, (
            f"{name} should return {len(outputs)} values ({names}), but returned "
            f"{len(value)}"
        )
    return list(value), ""


def _kind_problem(got: Any, output: Output, label: str) -> str:
    """A sentence saying that ``got`` is not of the output's kind, or ''."""
    kind = output.kind
    if kind in ("tensor", "detached tensor"):
        ok = type(got) is torch.Tensor
    elif kind == "float":
        ok = type(got) in (float, int)
    elif kind == "number":
        ok = type(got) in (float, int) or (type(got) is torch.Tensor and got.dim() == 0)
    elif kind == "int":
        ok = type(got) is int
    elif kind == "floats":
        ok = isinstance(got, (list, tuple)) and all(
            type(x) in (float, int) for x in got
        )
    else:  # a shape
        ok = isinstance(got, (tuple, list)) and all(type(n) is int for n in got)
    if ok:
        return ""
    note = f": {output.note}" if output.note else ""
    if kind == "floats" and isinstance(got, (list, tuple)):
        i, item = next((i, x) for i, x in enumerate(got) if type(x) not in (float, int))
        where = f"{output.dims[0]} {i}'s" if output.dims else f"entry {i}"
        return f"{label} should hold Python floats, but {where} is {type_phrase(item)}{note}"
    return f"{label} should be {KINDS[kind]}, but is {type_phrase(got)}{note}"


def _compare(
    got: Any, expected: Any, tolerance: Any, output: Output, case: Case, name: str
) -> str:
    """A sentence naming how ``got`` differs from ``expected``, or ''."""
    label = f"{name}'s {output.name}" if output.name != name else name
    if expected is None:  # e.g. the .grad of a parameter the loss does not use
        return (
            "" if got is None else f"{label} should be None, but is {type_phrase(got)}"
        )
    problem = _kind_problem(got, output, label)
    if problem:
        return problem
    if isinstance(got, torch.Tensor) and isinstance(expected, torch.Tensor):
        return _compare_tensors(got, expected, tolerance, output, case, label)
    if output.kind == "floats":
        return _compare_floats(got, expected, tolerance, output, case, label)
    x, y = _number(got), _number(expected)
    if x is not None and y is not None and isinstance(tolerance, float):
        if abs(x - y) <= tolerance:
            return ""
    elif got == expected or (
        isinstance(got, (tuple, list)) and tuple(got) == tuple(expected)
    ):
        return ""
    return (
        f"{label} is wrong: expected {_fmt(expected)}, got {_fmt(got)} "
        f"(for {case.describe()})"
    )


def _compare_floats(got, expected, tolerance, output: Output, case: Case, label) -> str:
    if len(got) != len(expected):
        return f"{label} has {len(got)} entries, expected {len(expected)}"
    for i, (x, y, tol) in enumerate(zip(got, expected, tolerance)):
        if not abs(x - y) <= tol:
            return (
                f"{label} is wrong{_where((i,), output)}: expected {_fmt(y, 10)}, "
                f"got {_fmt(float(x), 10)} (for {case.describe()})"
            )
    return ""


def _compare_tensors(
    got, expected, tolerance, output: Output, case: Case, label
) -> str:
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
    if output.kind == "detached tensor" and got.requires_grad:
        return (
            f"{label} still requires grad (it holds the graph that made it): return "
            "it detached, .detach(), so that gradients stop there"
        )
    got, expected = got.detach(), expected.detach()
    if not expected.is_floating_point() or tolerance is None:
        error = (got != expected).to(torch.float64)
    else:
        error = (got - expected).abs()
        error = torch.where(torch.isnan(error), torch.full_like(error, math.inf), error)
        error = torch.where(error <= tolerance, torch.zeros_like(error), error)
    if not bool(error.any()):
        return ""
    flat = int(torch.argmax(error))
    index = tuple(
        int(i) for i in torch.unravel_index(torch.tensor(flat), expected.shape)
    )
    size = (got - expected).abs().max() if expected.is_floating_point() else None
    largest = f"largest error {_fmt(size)}, " if size is not None else ""
    # enough digits that the two numbers shown differ
    scale = float(expected.abs().max()) if expected.is_floating_point() else 0.0
    relative = float(size) / scale if size is not None and scale > 0 else 1.0
    relative = relative if math.isfinite(relative) else 1.0
    digits = max(6, min(17, 2 - math.floor(math.log10(max(relative, 1e-17)))))
    small = FLOAT32_SIZED if 1e-10 < relative < 1e-5 else ""
    return (
        f"{label} differs from the reference{_where(index, output)}: "
        f"expected {_fmt(expected[index], digits)}, got {_fmt(got[index], digits)} "
        f"({largest}for {case.describe()}){small}"
    )


def describe_difference(
    name: str,
    got: Outcome,
    expected: Outcome,
    tolerance: Any,
    outputs: Sequence[Output],
    case: Case,
) -> str:
    """A sentence saying how the student's outcome on a case falls short, or ''."""
    if got.error is not None:
        error = got.error
        return (
            f"{name} raised {error.type_name}: {error.message} (for {case.describe()})"
        )
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
    tolerance_parts = (
        [tolerance] if len(outputs) == 1 else list(tolerance or [None] * len(outputs))
    )
    for part, wanted, tol, output in zip(
        parts, expected_parts, tolerance_parts, outputs
    ):
        problem = _compare(part, wanted, tol, output, case, name)
        if problem:
            return problem
    return ""
