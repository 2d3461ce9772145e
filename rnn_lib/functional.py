"""The recurrence as pure functions: one step, and the one time loop.

Chapter 3 (``book/03_rnn_from_scratch``) builds these functions. An Elman
RNN (Elman, 1990) keeps a state ``h_t`` and updates it with

    h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),    f = tanh or ReLU

with torch's weight layout: ``W_ih`` is ``(H_out, H_in)``, so a row of ``x``
is multiplied by its transpose. :func:`rnn_step` is one application of that
formula; :func:`rnn_layer` applies it along a sequence through :func:`unroll`,
the one time loop of the library: the step order, the reverse direction and
the bookkeeping of packed batches (rows of different lengths) are written
there and nowhere else (the gated layers of chapter 8 use it too; the
hand-derived passes of :mod:`rnn_lib.bptt` take their step order and batch
sizes from here). All of it is plain autograd code: the reference that the
modules in :mod:`rnn_lib.rnn`, the hand-derived backward passes and the
exercises are checked against.

:data:`NONLINEARITIES` is the one table of the nonlinearities the course
uses, each with its derivative written through its output (``f'(a) = 1 -
f(a)^2`` for tanh) and the bound ``gamma`` on ``|f'|`` that chapter 6 needs.

Errors follow :mod:`rnn_lib.validation`. Shapes are left to torch's own
matrix-multiply checks; :mod:`rnn_lib.rnn` validates them first.

Read next: :mod:`rnn_lib.rnn` (the modules built on these functions), then
:mod:`rnn_lib.bptt` (the backward pass of chapter 5).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from rnn_lib.validation import check_choice

Tensor = torch.Tensor


@dataclasses.dataclass(frozen=True)
class Nonlinearity:
    """A nonlinearity ``f`` and what the backward pass needs of it.

    Attributes:
        function: ``f`` itself.
        derivative: ``f'(a)`` computed from the output ``h = f(a)`` (the
            backward pass keeps ``h``, not ``a``); same shape as ``h``.
        gamma: the largest value of ``|f'|``, the gamma of chapter 6's bound.
    """

    function: Callable[[Tensor], Tensor]
    derivative: Callable[[Tensor], Tensor]
    gamma: float


NONLINEARITIES: dict[str, Nonlinearity] = {
    "tanh": Nonlinearity(torch.tanh, lambda h: h.square().neg_().add_(1), 1.0),
    "relu": Nonlinearity(torch.relu, lambda h: (h > 0).to(h.dtype), 1.0),
    "sigmoid": Nonlinearity(torch.sigmoid, lambda h: h * (1 - h), 0.25),
}

#: The nonlinearities an Elman RNN accepts (torch's ``nn.RNN`` takes these two).
RNN_NONLINEARITIES = ("tanh", "relu")


def nonlinearity_of(
    nonlinearity: str, allowed: Sequence[str] = RNN_NONLINEARITIES
) -> Nonlinearity:
    """The :class:`Nonlinearity` named ``nonlinearity``, one of ``allowed``.

    Raises:
        TypeError: ``nonlinearity`` is not a str.
        ValueError: it is not one of ``allowed``.
    """
    return NONLINEARITIES[check_choice("nonlinearity", nonlinearity, allowed)]


def activation(nonlinearity: str) -> Callable[[Tensor], Tensor]:
    """The function ``f`` named by ``nonlinearity`` (``'tanh'`` or ``'relu'``)."""
    return nonlinearity_of(nonlinearity).function


def derivative_from_output(
    h: Tensor, nonlinearity: str, allowed: Sequence[str] = RNN_NONLINEARITIES
) -> Tensor:
    """``f'(a)`` written through the output ``h = f(a)``, same shape as ``h``.

    tanh: ``1 - h^2``; relu: 1 where ``h > 0``, else 0; sigmoid: ``h (1 - h)``.
    """
    return nonlinearity_of(nonlinearity, allowed).derivative(h)


# ---------------------------------------------------------------------------
# One step


def rnn_step(
    x: Tensor,
    h: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
) -> Tensor:
    """One step of the recurrence: ``f(x W_ih^T + b_ih + h W_hh^T + b_hh)``.

    Args:
        x: the input at this step.
        h: the previous state ``h_{t-1}``.
        w_ih: input-to-hidden weights, laid out like torch's ``weight_ih_l0``.
        w_hh: hidden-to-hidden weights, like ``weight_hh_l0``.
        b_ih: input-to-hidden bias, or None for no bias.
        b_hh: hidden-to-hidden bias, or None for no bias.
        nonlinearity: ``'tanh'`` or ``'relu'``.

    Inputs:
        x: (N, H_in)
        h: (N, H_out)
        w_ih: (H_out, H_in)
        w_hh: (H_out, H_out)
        b_ih, b_hh: (H_out,)

    Outputs:
        h_new: (N, H_out), the new state ``h_t``.
    """
    f = activation(nonlinearity)
    pre = x @ w_ih.T + h @ w_hh.T  # (N, H_out)
    if b_ih is not None:
        pre = pre + b_ih
    if b_hh is not None:
        pre = pre + b_hh
    return f(pre)  # (N, H_out)


# ---------------------------------------------------------------------------
# The time loop


def time_steps(L: int, reverse: bool = False) -> range:
    """The indices ``0 .. L-1`` in the order the recurrence visits them."""
    return range(L - 1, -1, -1) if reverse else range(L)


def check_batch_sizes(batch_sizes: Sequence[int], length: int, batch: int) -> None:
    """Check that ``batch_sizes`` describes a packed batch of ``length`` steps.

    A packed batch orders its rows by length, longest first; ``batch_sizes[i]``
    is the number of rows still running at index ``i`` (time ``i + 1``). So
    there is one entry per step, every entry is between 1 and ``batch``, and no
    entry is larger than the one before.

    Raises:
        ValueError: any of these does not hold.
    """
    if len(batch_sizes) != length:
        raise ValueError(
            f"expected {length} batch sizes (one per time step), got {len(batch_sizes)}"
        )
    sizes = list(batch_sizes)
    if any(later > earlier for earlier, later in zip(sizes, sizes[1:])):
        raise ValueError(
            "expected batch sizes in non-increasing order (rows sorted by length, "
            f"longest first), got {sizes}"
        )
    if any(b < 1 or b > batch for b in sizes):
        raise ValueError(f"expected batch sizes between 1 and {batch}, got {sizes}")


def sequence_batch_sizes(
    L: int, N: int, batch_sizes: Sequence[int] | Tensor | None
) -> list[int] | None:
    """Check a sequence's length and its packed ``batch_sizes``; return them as ints.

    Args:
        L, N: the sequence length and the batch size.
        batch_sizes: None (every row runs every step), or L ints (a list or a
            CPU tensor), the rows running at each index.

    Returns:
        None, or ``batch_sizes`` as a list of Python ints.

    Raises:
        ValueError: ``L`` is 0, or ``batch_sizes`` is not a packed batch's.
    """
    if L == 0:
        raise ValueError("expected a sequence of length >= 1, got length 0")
    if batch_sizes is None:
        return None
    if isinstance(batch_sizes, Tensor):
        batch_sizes = batch_sizes.tolist()
    batch_sizes = [int(b) for b in batch_sizes]
    check_batch_sizes(batch_sizes, L, N)
    return batch_sizes


def state_sources(
    i: int, L: int, N: int, batch_sizes: Sequence[int] | None, reverse: bool
) -> list[tuple[int, int, int | None]]:
    """Where the rows that step at index i read their previous state from.

    Returns a list of ``(lo, hi, source)``: rows ``[lo:hi)`` read the state
    written at index ``source``, or the initial state when ``source`` is None.
    Going forward every running row goes on from index i-1 (rows only ever
    end). Going backward, rows ``[:batch_sizes[i+1]]`` go on from index i+1
    and the rows whose last index is i start there from the initial state.
    The hand-derived backward passes walk the same list the other way.
    """
    b = N if batch_sizes is None else batch_sizes[i]
    if not reverse:
        return [(0, b, i - 1 if i > 0 else None)]
    if i == L - 1:
        return [(0, b, None)]
    c = N if batch_sizes is None else batch_sizes[i + 1]  # rows that go on
    return [(0, c, i + 1)] + ([(c, b, None)] if c < b else [])


def final_positions(
    L: int, N: int, batch_sizes: Sequence[int] | None, reverse: bool
) -> list[tuple[int, int, int | None]]:
    """At which index each row's final state was written: ``(lo, hi, index)``.

    Going forward row n ends at its last index (``length_n - 1``), going
    backward at index 0; rows that never step (index None) keep the initial
    state.
    """
    if batch_sizes is None:
        return [(0, N, 0 if reverse else L - 1)]
    if reverse:
        ends = [(0, batch_sizes[0], 0)]
    else:
        nexts = list(batch_sizes[1:]) + [0]
        ends = [(c, b, i) for i, (b, c) in enumerate(zip(batch_sizes, nexts)) if c < b]
    return ends + ([(batch_sizes[0], N, None)] if batch_sizes[0] < N else [])


def unroll(
    step: Callable[..., tuple[Tensor, ...]],
    inputs: Tensor,
    state: tuple[Tensor, ...],
    reverse: bool = False,
    batch_sizes: Sequence[int] | Tensor | None = None,
) -> tuple[Tensor, tuple[Tensor, ...]]:
    """Apply ``step(inputs[i], *state) -> new state`` along time: the one time loop.

    The state is a tuple of tensors whose first one is also the step's output
    (``(h,)`` for an RNN or GRU, ``(h, c)`` for an LSTM). For a packed batch,
    index i updates only rows ``[:batch_sizes[i]]``: the other rows have
    ended, keep their state, and output zeros at i.

    Args:
        step: one step of the recurrence.
        inputs: what the step reads at each index (the input ``x_t``, or its
            projection ``x_t W_ih^T + b_ih``), time-major.
        state: the initial states.
        reverse: visit ``i = L-1`` down to 0 (the backward direction of a
            bidirectional layer); ``output[i]`` is still the output at index i.
        batch_sizes: None when all N rows run for all L steps; otherwise L
            non-increasing positive ints (rows sorted by length, longest first).

    Inputs:
        inputs: (L, N, *)
        state: each (N, S)

    Outputs:
        output: (L, N, S_0), the first state at every step (zero where a row
            has ended).
        state_n: each (N, S), each row's state after its own last step: index
            ``length - 1`` going forward, 0 going backward. (A row that runs
            backward starts from the initial state at its own last index.)
    """
    L, N = inputs.shape[0], inputs.shape[1]
    batch_sizes = sequence_batch_sizes(L, N, batch_sizes) or [N] * L
    outputs = [None] * L
    for i in time_steps(L, reverse):
        n = batch_sizes[i]  # rows [:n] take a step, rows [n:] wait
        new = step(inputs[i, :n], *(s[:n] for s in state))  # each (n, S)
        if n == N:
            state = tuple(new)
            outputs[i] = new[0]  # (N, S_0)
        else:
            state = tuple(torch.cat([s_new, s[n:]]) for s_new, s in zip(new, state))
            outputs[i] = F.pad(new[0], (0, 0, 0, N - n))  # (N, S_0), zero rows [n:]
    return torch.stack(outputs), state  # (L, N, S_0), each (N, S)


def rnn_layer(
    x: Tensor,
    h_0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
    batch_sizes: Sequence[int] | Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One recurrent layer over a whole sequence: :func:`rnn_step` unrolled.

    Args:
        x: the inputs, time-major.
        h_0: the initial state.
        w_ih, w_hh, b_ih, b_hh, nonlinearity: as in :func:`rnn_step`.
        reverse, batch_sizes: as in :func:`unroll`.

    Inputs:
        x: (L, N, H_in)
        h_0: (N, H_out)

    Outputs:
        output: (L, N, H_out), the state at every step (zero where a row has
            ended).
        h_n: (N, H_out), each row's state after its own last step.
    """
    activation(nonlinearity)  # fail before the loop, not inside it

    def step(x_t, h):
        return (rnn_step(x_t, h, w_ih, w_hh, b_ih, b_hh, nonlinearity),)

    output, (h_n,) = unroll(step, x, (h_0,), reverse, batch_sizes)
    return output, h_n  # (L, N, H_out), (N, H_out)
