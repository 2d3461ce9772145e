"""The inputs a check tries, and how a function is run on them.

Built for the exercises that follow the chapters (the book's Exercises part).
A :class:`Case` is one set of arguments; :func:`call_with_clones` runs a
function on fresh clones of them and keeps what came out as an
:class:`Outcome` (a value, or the exception it raised, and which inputs it
changed in place). This is all of the grading that runs the student's code;
deciding whether the outcomes are right is :mod:`rnn_lib.grading.checking`,
which reads next. Inputs are float64, drawn from a generator of the check's
own (:func:`float64_generator`), so that a check neither uses nor moves the
global seed and makes the same cases every time.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import torch


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


def float64_generator(seed: int) -> torch.Generator:
    """A generator of its own, so a check neither uses nor moves the global seed."""
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


def randn(*shape: int, generator: torch.Generator, scale: float = 1.0) -> torch.Tensor:
    """Normal float64 entries times ``scale``, on the CPU."""
    return scale * torch.randn(*shape, generator=generator, dtype=torch.float64)


def rnn_weights(
    H_in: int, H_out: int, generator: torch.Generator, gates: int = 1
) -> dict[str, torch.Tensor]:
    """``w_ih, w_hh, b_ih, b_hh`` laid out like torch's, ``gates`` blocks of rows.

    The weights are scaled by 1 / sqrt(fan-in), so states neither vanish nor
    saturate over a few steps; ``gates=4`` gives an LSTM's.
    """
    rows = gates * H_out
    return {
        "w_ih": randn(rows, H_in, generator=generator, scale=H_in**-0.5),
        "w_hh": randn(rows, H_out, generator=generator, scale=H_out**-0.5),
        "b_ih": randn(rows, generator=generator, scale=0.5),
        "b_hh": randn(rows, generator=generator, scale=0.5),
    }
