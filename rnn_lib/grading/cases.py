"""The inputs a check tries, and how a function is run on them.

Built for the exercises that follow the chapters (the book's Exercises part).
A :class:`Case` is one set of arguments; :class:`Cases` makes them from
sizes (the cases a check tries, and a small lattice of *probes* that
shrinking searches, :mod:`rnn_lib.grading.shrinking`). :func:`call_with_clones`
runs a function on fresh clones of a case's arguments and keeps what came out
as an :class:`Outcome`: a value, or the exception it raised (as a
:class:`Raised`, its type's name and message), which inputs it changed in
place, and which forbidden calls it made. This is the part of the grading
that runs the student's code, in the student's process; an outcome crosses
to the grader as plain data (:func:`outcome_to_plain`,
:mod:`rnn_lib.grading.plain`), and deciding whether it is right is
:mod:`rnn_lib.grading.checking`, which reads next.

Inputs are float64, drawn from a generator of the check's own
(:func:`float64_generator`), so that a check neither uses nor moves the
global seed. A notebook's check makes the same cases every time (its
:attr:`Cases.seed`); the batch grader draws them from a seed of its own, so
that no table of answers copied from this file passes.
"""

from __future__ import annotations

import dataclasses
import itertools
import zlib
from typing import Any, Callable

import torch

from rnn_lib.grading.plain import decode, encode


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


@dataclasses.dataclass(frozen=True)
class Raised:
    """An exception a function raised, as plain data: its type's name and message."""

    type_name: str
    message: str

    @classmethod
    def of(cls, error: BaseException) -> Raised:
        return cls(type(error).__name__, str(error))

    @property
    def not_implemented(self) -> bool:
        """Whether it is the stub's ``NotImplementedError``."""
        return self.type_name == "NotImplementedError"


@dataclasses.dataclass
class Outcome:
    """What one function did on one case.

    Attributes:
        value: what it returned (plain data once it crossed).
        error: what it raised instead, or None.
        modified: the names of the arguments it changed in place.
        forbidden: the forbidden calls it made (:mod:`rnn_lib.grading.recording`).
    """

    value: Any = None
    error: Raised | None = None
    modified: tuple[str, ...] = ()
    forbidden: tuple[str, ...] = ()


def outcome_to_plain(outcome: Outcome) -> dict:
    """An outcome as plain data (:func:`rnn_lib.grading.plain.encode`)."""
    error = outcome.error
    return encode(
        {
            "value": outcome.value,
            "error": None if error is None else [error.type_name, error.message],
            "modified": [str(name) for name in outcome.modified],
            "forbidden": [str(name) for name in outcome.forbidden],
        }
    )


def outcome_from_plain(data: Any) -> Outcome:
    """The outcome that :func:`outcome_to_plain` wrote, checked entry by entry.

    Raises:
        ValueError: if ``data`` is not such an outcome.
    """
    fields = decode(data)
    if type(fields) is not dict or set(fields) != {
        "value",
        "error",
        "modified",
        "forbidden",
    }:
        raise ValueError("malformed outcome")
    error, modified, forbidden = (
        fields["error"],
        fields["modified"],
        fields["forbidden"],
    )
    if error is not None and not (
        type(error) is list and len(error) == 2 and all(type(e) is str for e in error)
    ):
        raise ValueError("malformed outcome: error")
    for names in (modified, forbidden):
        if type(names) is not list or not all(type(name) is str for name in names):
            raise ValueError("malformed outcome: names")
    return Outcome(
        fields["value"],
        None if error is None else Raised(*error),
        tuple(modified),
        tuple(forbidden),
    )


def as_plain(outcome: Outcome) -> Outcome:
    """The outcome as the grader sees it, after the round trip through plain data."""
    return outcome_from_plain(outcome_to_plain(outcome))


def _clone(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(item) for item in value)
    return value


def _same_input(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        # restoring an entry (x[i] += eps, later x[i] -= eps) may round
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
        return Outcome(error=Raised.of(error))
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


@dataclasses.dataclass(frozen=True)
class Dim:
    """A size that shrinking varies.

    Attributes:
        values: its small values, the simplest first, e.g. ``(1, 2)``.
        advice: where to look when the answer goes wrong as this size grows,
            e.g. ``'look at how rows of the batch are combined'``.
        parameter: it is a number the function is given (a step, a
            threshold), not a size of its inputs: probes that differ only in
            it get the same inputs, so that an answer that ignores it shows.
    """

    values: tuple
    advice: str
    parameter: bool = False


# The sizes most checks share, and what a change in each points at.
N_DIM = Dim((1, 2), "look at how the rows of the batch are combined")
L_DIM = Dim((1, 2, 3), "look at what carries over from one step to the next")
H_IN_DIM = Dim((1, 2), "look at how the input features are combined (w_ih)")
H_OUT_DIM = Dim((1, 2), "look at how the units are combined (w_hh)")


@dataclasses.dataclass(frozen=True)
class Cases:
    """How a check makes its inputs from sizes.

    Attributes:
        make: ``make(sizes, generator)`` returns the arguments by name.
        sizes: the sizes of the cases the check tries, in order (edge cases
            such as length 1 and batch 1 first).
        seed: the seed of the cases a notebook's check makes.
        dims: the sizes that shrinking varies (:meth:`probes`).
        base: the other sizes of a probe.
        draw: ``draw(generator)`` returns the sizes of one more case, drawn at
            random (for checks whose inputs are only sizes, so that the
            batch grader's cases are not the ones written here).
        drawn: how many cases ``draw`` adds.
    """

    make: Callable[[dict, torch.Generator], dict]
    sizes: tuple[dict, ...]
    seed: int
    dims: dict[str, Dim] = dataclasses.field(default_factory=dict)
    base: dict = dataclasses.field(default_factory=dict)
    draw: Callable[[torch.Generator], dict] | None = None
    drawn: int = 0

    def __call__(self, seed: int | None = None) -> list[Case]:
        """The cases to try; ``seed`` None for the notebook's own."""
        g = float64_generator(self.seed if seed is None else seed)
        sizes = list(self.sizes)
        sizes += [self.draw(g) for _ in range(self.drawn if self.draw else 0)]
        return [Case(dict(s), self.make(dict(s), g)) for s in sizes]

    def probes(self, seed: int | None = None) -> list[Case]:
        """Small cases: every combination of the values of :attr:`dims` (none without)."""
        if not self.dims:
            return []
        names = list(self.dims)
        cases = []
        for values in itertools.product(*(self.dims[name].values for name in names)):
            sizes = {**dict(zip(names, values)), **self.base}
            # the inputs depend on the sizes, not on the parameters
            shape = [(k, v) for k, v in sizes.items() if not self._parameter(k)]
            key = zlib.crc32(
                repr((self.seed if seed is None else seed, shape)).encode()
            )
            cases.append(Case(sizes, self.make(dict(sizes), float64_generator(key))))
        return cases

    def _parameter(self, name: str) -> bool:
        return name in self.dims and self.dims[name].parameter
