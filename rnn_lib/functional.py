"""The recurrence as pure functions: one step, and one layer over a sequence.

Chapter 3 (``book/03_rnn_from_scratch``) builds these two functions. An Elman
RNN (Elman, 1990) keeps a state ``h_t`` and updates it with

    h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh),    f = tanh or ReLU

with torch's weight layout: ``W_ih`` is ``(H_out, H_in)``, so a row of ``x``
is multiplied by its transpose. :func:`rnn_step` is one application of that
formula; :func:`rnn_layer` applies it along a sequence, forward or backward in
time, and handles packed batches (rows of different lengths). Both are plain
autograd code: the reference that the modules in :mod:`rnn_lib.rnn`, the
hand-derived backward pass in :mod:`rnn_lib.bptt` and the exercises are
checked against.

Errors: a wrong type raises ``TypeError``, a wrong value ``ValueError``.
Shapes are left to torch's own matrix-multiply checks; :mod:`rnn_lib.rnn`
validates them before it calls these functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

NONLINEARITIES: dict[str, Callable[[torch.Tensor], torch.Tensor]] = {
    "tanh": torch.tanh,
    "relu": torch.relu,
}


def activation(nonlinearity: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """The function ``f`` named by ``nonlinearity`` (``'tanh'`` or ``'relu'``).

    Raises:
        TypeError: ``nonlinearity`` is not a str.
        ValueError: it is a str other than ``'tanh'`` and ``'relu'``.
    """
    if not isinstance(nonlinearity, str):
        raise TypeError(
            f"nonlinearity must be a str, got {type(nonlinearity).__name__}"
        )
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    return NONLINEARITIES[nonlinearity]


def check_batch_sizes(batch_sizes: Sequence[int], length: int, batch: int) -> None:
    """Check that ``batch_sizes`` describes a packed batch of ``length`` steps.

    A packed batch orders its rows by length, longest first; ``batch_sizes[t]``
    is the number of rows still running at step ``t``. So there is one entry
    per step, every entry is between 1 and ``batch``, and no entry is larger
    than the one before.

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


def rnn_step(
    x: torch.Tensor,
    h: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    nonlinearity: str = "tanh",
) -> torch.Tensor:
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


def rnn_layer(
    x: torch.Tensor,
    h_0: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    nonlinearity: str = "tanh",
    reverse: bool = False,
    batch_sizes: Sequence[int] | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One recurrent layer over a whole sequence: :func:`rnn_step` in a loop.

    Args:
        x: the inputs, time-major.
        h_0: the initial state.
        w_ih, w_hh, b_ih, b_hh, nonlinearity: as in :func:`rnn_step`.
        reverse: run from ``t = L-1`` down to ``0`` (the backward direction of
            a bidirectional RNN). ``output[t]`` is still the state at time t.
        batch_sizes: None when all N rows run for all L steps. For a packed
            batch (rows ordered by length, longest first), L non-increasing
            positive ints: step t updates only rows ``[:batch_sizes[t]]``; the
            other rows keep their state and their output at step t is zero.

    Inputs:
        x: (L, N, H_in)
        h_0: (N, H_out)

    Outputs:
        output: (L, N, H_out), the state at every step (zero where a row has
            ended).
        h_n: (N, H_out), each row's state after its own last step: ``t =
            length - 1`` going forward, ``t = 0`` going backward. (A row that
            runs backward starts from ``h_0`` at its own last step.)
    """
    activation(nonlinearity)  # fail before the loop, not inside it
    L, N = x.shape[0], x.shape[1]
    if L == 0:
        raise ValueError("expected a sequence of length >= 1, got length 0")
    if batch_sizes is None:
        batch_sizes = [N] * L
    else:
        if isinstance(batch_sizes, torch.Tensor):
            batch_sizes = batch_sizes.tolist()
        check_batch_sizes(batch_sizes, L, N)

    weights = (w_ih, w_hh, b_ih, b_hh)
    steps = range(L - 1, -1, -1) if reverse else range(L)
    h = h_0  # (N, H_out)
    outputs = [None] * L
    for t in steps:
        n = batch_sizes[t]  # rows [:n] take a step, rows [n:] wait
        h_t = rnn_step(x[t, :n], h[:n], *weights, nonlinearity)  # (n, H_out)
        if n == N:
            h = outputs[t] = h_t  # (N, H_out)
        else:
            h = torch.cat([h_t, h[n:]])  # (N, H_out)
            outputs[t] = F.pad(h_t, (0, 0, 0, N - n))  # (N, H_out), zero rows [n:]
    return torch.stack(outputs), h  # (L, N, H_out), (N, H_out)
