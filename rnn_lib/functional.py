"""The recurrence as pure functions: one step, and the one time loop.

Chapter 3 (``book/03_rnn_from_scratch``) builds these functions. An Elman
RNN (Elman, 1990) keeps a state ``h_t`` and updates it with

    h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),    f = tanh or ReLU

with torch's weight layout: ``W_ih`` is ``(H_out, H_in)``, so a row of ``x``
is multiplied by its transpose. :func:`rnn_step` is one application of that
formula; :func:`rnn_layer` applies it along a sequence through :func:`unroll`,
the one time loop of the library, which the gated layers of chapter 8 use
too. The bookkeeping of that loop (the step order, the reverse direction,
which rows of a packed batch run at each step and where each reads its
state) is :mod:`rnn_lib.packing`, which the hand-derived passes of
:mod:`rnn_lib.bptt` and :mod:`rnn_lib.gated_bptt` share. All of it is plain autograd code: the reference that the
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

from rnn_lib.packing import sequence_batch_sizes, time_steps
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
        state: each (N, *), a state of its own width

    Outputs:
        output: (L, N, *), the first state at every step (zero where a row
            has ended).
        state_n: each shaped as its initial state, each row's state after its own last step: index
            ``length - 1`` going forward, 0 going backward. (A row that runs
            backward starts from the initial state at its own last index.)
    """
    L, N = inputs.shape[0], inputs.shape[1]
    batch_sizes = sequence_batch_sizes(L, N, batch_sizes) or [N] * L
    outputs = [None] * L
    for i in time_steps(L, reverse):
        n = batch_sizes[i]  # rows [:n] take a step, rows [n:] wait
        new = step(inputs[i, :n], *(s[:n] for s in state))  # each (n, *)
        if n == N:
            state = tuple(new)
            outputs[i] = new[0]  # (N, *)
        else:
            state = tuple(torch.cat([s_new, s[n:]]) for s_new, s in zip(new, state))
            outputs[i] = F.pad(new[0], (0, 0, 0, N - n))  # (N, *), zero rows [n:]
    return torch.stack(outputs), state  # (L, N, *), each as its initial state


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
