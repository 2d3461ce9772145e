"""How far a right answer may lie from the reference: float64 rounding, measured.

Built for the checks of the exercises (the book's Exercises part). Two
correct programs written differently (a loop or a matmul, one order of
summation or another) round differently, and a check must accept both but
nothing further away: not a forward difference where a central one was
asked for, not a result that went through float32. So the tolerance is
measured on the reference itself, on each case, by Monte Carlo arithmetic
(Parker, 1997): :func:`tolerances` runs the reference again :data:`RUNS`
times under :class:`Rounding`, a ``TorchFunctionMode`` that multiplies the
result of every torch operation (and the operands of every sum and product
of matrices, where rounding accumulates) by ``1 + e r``, with ``r`` uniform
in ``[-1, 1]`` and ``e`` float64's machine epsilon: each moves by up to a
unit in the last place, at random, which is what rounding does to it. (A
factor ``1 + u r`` with the unit roundoff ``u = e / 2`` would round back to
1 almost always.) How far those runs spread is how far rounding can move this
computation on this input, cancellations and long products included; an
output's tolerance is :data:`SAFETY` times that spread plus :data:`SAFETY`
units in the last place of its largest entry (for outputs that rounding
cannot move, a slice say). Integers and shapes are compared exactly.

Read next: :mod:`rnn_lib.grading.checking`, which compares within these.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import torch
from torch.overrides import TorchFunctionMode

from rnn_lib.grading.cases import float64_generator

EPS = torch.finfo(torch.float64).eps  # a unit in the last place of 1, 2.2e-16
U = EPS / 2  # the unit roundoff
RUNS = 3
# Honest programs round more or less than the reference, in another order;
# a float32 result (about 6e-8 relative) or a wrong formula is far beyond.
SAFETY = 64

# Operations that add up many products: their operands are perturbed too, so
# that the accumulated rounding, not only the final one, shows in the spread.
ACCUMULATING = frozenset(
    "matmul __matmul__ __rmatmul__ mm bmm mv dot addmm addmv baddbmm einsum "
    "linear sum mean cumsum prod tensordot inner norm vector_norm matrix_norm "
    "svdvals logsumexp softmax log_softmax cross_entropy nll_loss".split()
)


def _tensors(values) -> list[torch.Tensor]:
    found = []
    for value in values:
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(_tensors(value))
    return found


class Rounding(TorchFunctionMode):
    """Torch operations that round at random by one unit roundoff, as float64 does."""

    def __init__(self, generator: torch.Generator):
        super().__init__()
        self.generator = generator

    def _noise(self, tensor: torch.Tensor) -> torch.Tensor:
        r = torch.rand(tensor.shape, generator=self.generator, dtype=tensor.dtype)
        return 1 + EPS * (2 * r - 1)

    def _roundable(self, value) -> bool:
        return (
            isinstance(value, torch.Tensor)
            and value.layout == torch.strided
            and value.dtype == torch.float64
        )

    def _operand(self, value):
        if self._roundable(value) and type(value) is torch.Tensor:
            return value * self._noise(value)
        return value

    def _result(self, name: str, value, storages: set[int]):
        if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
            return type(value)(self._result(name, item, storages) for item in value)
        if not self._roundable(value):
            return value
        shared = value.untyped_storage().data_ptr() in storages
        if not shared and type(value) is torch.Tensor:
            return value * self._noise(value)
        # an in-place update outside autograd (an optimizer step, clipping)
        if shared and name.endswith("_") and not torch.is_grad_enabled():
            value.mul_(self._noise(value))
        return value

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in ("__get__", "__set__"):  # an attribute (p.grad): the tensor itself
            return func(*args, **kwargs)
        if name in ACCUMULATING:
            args = tuple(self._operand(a) for a in args)
            kwargs = {key: self._operand(v) for key, v in kwargs.items()}
        inputs = _tensors(list(args) + list(kwargs.values()))
        storages = {
            t.untyped_storage().data_ptr() for t in inputs if t.layout == torch.strided
        }
        return self._result(name, func(*args, **kwargs), storages)


def _spread(runs: list[Any], expected: Any) -> Any:
    """Leaf by leaf, how far the runs strayed from ``expected`` (None: exact)."""
    if isinstance(expected, torch.Tensor):
        if not expected.is_floating_point():
            return None
        worst = 0.0
        for run in runs:
            difference = (run.detach().double() - expected.detach().double()).abs()
            finite = difference[torch.isfinite(difference)]
            worst = max(worst, float(finite.max()) if finite.numel() else 0.0)
        scale = expected.detach().abs()
        scale = scale[torch.isfinite(scale)]
        largest = float(scale.max()) if scale.numel() else 0.0
        return SAFETY * (worst + U * largest)
    if type(expected) is float:
        worst = max(
            (abs(run - expected) for run in runs if math.isfinite(run)), default=0
        )
        return SAFETY * (worst + U * abs(expected)) if math.isfinite(expected) else 0.0
    if isinstance(expected, (tuple, list)) and not isinstance(expected, torch.Size):
        return type(expected)(
            _spread([run[i] for run in runs], item) for i, item in enumerate(expected)
        )
    if isinstance(expected, dict):
        return {
            key: _spread([run[key] for run in runs], expected[key]) for key in expected
        }
    return None


def tolerances(run: Callable[[], Any], expected: Any, seed: int = 0) -> Any:
    """The allowed absolute error of each leaf of ``expected`` (None where exact).

    Args:
        run: computes the value again (the reference on fresh clones of a
            case's inputs), here under :class:`Rounding`.
        expected: what ``run`` gave without it.
        seed: the seed of the perturbations.
    """
    generator = float64_generator(seed)
    runs = []
    for _ in range(RUNS):
        with Rounding(generator):
            runs.append(run())
    return _spread(runs, expected)
