"""The LSTM and the GRU as pure functions: one step, and one layer over a sequence.

Chapter 8 (``book/08_gated_rnns``) builds these. The equations and the gate
order are torch's (``torch.nn.LSTM``, ``torch.nn.GRU``), so the weights of
``torch.nn`` plug straight in.

LSTM (Hochreiter and Schmidhuber, 1997). The rows of ``W_ih`` and ``W_hh`` are
four blocks of H_out, in the order i, f, g, o::

    i = sigmoid(x W_ii^T + b_ii + h W_hi^T + b_hi)     input gate
    f = sigmoid(x W_if^T + b_if + h W_hf^T + b_hf)     forget gate
    g = tanh(x W_ig^T + b_ig + h W_hg^T + b_hg)        candidate
    o = sigmoid(x W_io^T + b_io + h W_ho^T + b_ho)     output gate
    c' = f * c + i * g
    h' = o * tanh(c')            or, with proj_size > 0,  h' = (o * tanh(c')) W_hr^T

GRU (Cho et al., 2014). Three blocks, in the order r, z, n; the reset gate
multiplies the *recurrent* part of the candidate, bias included::

    r = sigmoid(x W_ir^T + b_ir + h W_hr^T + b_hr)     reset gate
    z = sigmoid(x W_iz^T + b_iz + h W_hz^T + b_hz)     update gate
    n = tanh(x W_in^T + b_in + r * (h W_hn^T + b_hn))  candidate
    h' = (1 - z) * n + z * h

:func:`lstm_step` / :func:`gru_step` are one step, :func:`lstm_layer` /
:func:`gru_layer` one layer over a sequence, with the conventions of
:func:`rnn_lib.functional.rnn_step` and :func:`rnn_lib.functional.rnn_layer`
(time-major input, ``reverse``, packed ``batch_sizes``). The layer functions
compute the input projections of all steps in one matrix multiply, then run
the one time loop, :func:`rnn_lib.functional.unroll`. Autograd differentiates
them: they are the reference that the hand-derived backward passes of
:mod:`rnn_lib.gated_bptt` are checked against.

Read next: :mod:`rnn_lib.gated_bptt` (their backward pass by hand), then
:mod:`rnn_lib.gated` (the modules).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rnn_lib.functional import unroll
from rnn_lib.packing import sequence_batch_sizes

# ---------------------------------------------------------------------------
# One step


def _project(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
    """``x W^T + b`` for x of shape (N, in) and W of shape (out, in): (N, out)."""
    return x @ w.T if b is None else torch.addmm(b, x, w.T)


def _lstm_update(
    gates_x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
    w_hr: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """The LSTM step once the input part ``x W_ih^T + b_ih`` is known."""
    gates = gates_x + _project(h, w_hh, b_hh)  # (N, 4 H_out)
    i, f, g, o = gates.chunk(4, dim=1)  # each (N, H_out)
    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)  # (N, H_out)
    h_new = torch.sigmoid(o) * torch.tanh(c_new)  # (N, H_out)
    if w_hr is not None:
        h_new = h_new @ w_hr.T  # (N, H_proj)
    return h_new, c_new


def lstm_step(
    x: torch.Tensor,
    h: torch.Tensor,
    c: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    w_hr: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One LSTM step: ``c' = f * c + i * g``, ``h' = o * tanh(c')``.

    Args:
        x: the input at this step.
        h, c: the previous hidden state and cell state.
        w_ih: input-to-hidden weights, the blocks i, f, g, o stacked by rows,
            laid out like torch's ``weight_ih_l0``.
        w_hh: hidden-to-hidden weights, like ``weight_hh_l0``.
        b_ih, b_hh: the two biases, or None for no bias.
        w_hr: the projection ``weight_hr_l0``, or None for no projection.

    Inputs:
        x: (N, H_in)
        h: (N, H_out), or (N, H_proj) with a projection
        c: (N, H_out)
        w_ih: (4 H_out, H_in)
        w_hh: (4 H_out, H_out), or (4 H_out, H_proj) with a projection
        b_ih, b_hh: (4 H_out,)
        w_hr: (H_proj, H_out)

    Outputs: h', c'
        h': (N, H_out), or (N, H_proj) with a projection
        c': (N, H_out)
    """
    return _lstm_update(_project(x, w_ih, b_ih), h, c, w_hh, b_hh, w_hr)


def _gru_update(
    gates_x: torch.Tensor,
    h: torch.Tensor,
    w_hh: torch.Tensor,
    b_hh: torch.Tensor | None,
) -> torch.Tensor:
    """The GRU step once the input part ``x W_ih^T + b_ih`` is known."""
    # The input part and the recurrent part of each gate, blocks r, z, n.
    x_r, x_z, x_n = gates_x.chunk(3, dim=1)  # each (N, H_out)
    rec_r, rec_z, rec_n = _project(h, w_hh, b_hh).chunk(3, dim=1)  # each (N, H_out)
    r = torch.sigmoid(x_r + rec_r)  # (N, H_out)
    z = torch.sigmoid(x_z + rec_z)  # (N, H_out)
    n = torch.tanh(x_n + r * rec_n)  # (N, H_out)
    return n + z * (h - n)  # (1 - z) * n + z * h, (N, H_out)


def gru_step(
    x: torch.Tensor,
    h: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
) -> torch.Tensor:
    """One GRU step: ``h' = (1 - z) * n + z * h``.

    Args:
        x: the input at this step.
        h: the previous state.
        w_ih: input-to-hidden weights, the blocks r, z, n stacked by rows,
            laid out like torch's ``weight_ih_l0``.
        w_hh: hidden-to-hidden weights, like ``weight_hh_l0``.
        b_ih, b_hh: the two biases, or None for no bias. ``b_hn`` (the last
            block of ``b_hh``) sits inside the reset gate's product.

    Inputs:
        x: (N, H_in)
        h: (N, H_out)
        w_ih: (3 H_out, H_in)
        w_hh: (3 H_out, H_out)
        b_ih, b_hh: (3 H_out,)

    Outputs:
        h': (N, H_out)
    """
    return _gru_update(_project(x, w_ih, b_ih), h, w_hh, b_hh)


# ---------------------------------------------------------------------------
# One layer over a sequence


def _input_gates(
    x: torch.Tensor, w_ih: torch.Tensor, b_ih: torch.Tensor | None
) -> torch.Tensor:
    """The input part of every gate at every step, in one matrix multiply.

    Inputs:
        x: (L, N, H_in), L >= 1

    Outputs:
        (L, N, gates * H_out): ``x_t W_ih^T + b_ih`` for every t.
    """
    L, N = x.shape[0], x.shape[1]
    return _project(x.flatten(0, 1), w_ih, b_ih).view(L, N, -1)  # (L, N, G)


def lstm_layer(
    x: torch.Tensor,
    h_0: torch.Tensor,
    c_0: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    w_hr: torch.Tensor | None = None,
    reverse: bool = False,
    batch_sizes: Sequence[int] | torch.Tensor | None = None,
) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
    """One LSTM layer over a whole sequence: :func:`lstm_step` in a loop.

    Args:
        x: the inputs, time-major.
        h_0, c_0: the initial hidden state and cell state.
        w_ih, w_hh, b_ih, b_hh, w_hr: as in :func:`lstm_step`.
        reverse, batch_sizes: as in :func:`rnn_lib.functional.rnn_layer`.

    Inputs:
        x: (L, N, H_in)
        h_0: (N, H_out), or (N, H_proj) with a projection
        c_0: (N, H_out)

    Outputs: output, (h_n, c_n)
        output: (L, N, H_out) or (L, N, H_proj): the hidden state at every
            step (zero where a row has ended).
        h_n, c_n: each row's states after its own last step.
    """
    batch_sizes = sequence_batch_sizes(x.shape[0], x.shape[1], batch_sizes)
    gates_x = _input_gates(x, w_ih, b_ih)  # (L, N, 4 H_out)

    def step(g, h, c):
        return _lstm_update(g, h, c, w_hh, b_hh, w_hr)

    output, (h_n, c_n) = unroll(step, gates_x, (h_0, c_0), reverse, batch_sizes)
    return output, (h_n, c_n)  # (L, N, H_out or H_proj), ((N, ...), (N, H_out))


def gru_layer(
    x: torch.Tensor,
    h_0: torch.Tensor,
    w_ih: torch.Tensor,
    w_hh: torch.Tensor,
    b_ih: torch.Tensor | None = None,
    b_hh: torch.Tensor | None = None,
    reverse: bool = False,
    batch_sizes: Sequence[int] | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One GRU layer over a whole sequence: :func:`gru_step` in a loop.

    Args:
        x: the inputs, time-major.
        h_0: the initial state.
        w_ih, w_hh, b_ih, b_hh: as in :func:`gru_step`.
        reverse, batch_sizes: as in :func:`rnn_lib.functional.rnn_layer`.

    Inputs:
        x: (L, N, H_in)
        h_0: (N, H_out)

    Outputs: output, h_n
        output: (L, N, H_out), the state at every step (zero where a row has
            ended).
        h_n: (N, H_out), each row's state after its own last step.
    """
    batch_sizes = sequence_batch_sizes(x.shape[0], x.shape[1], batch_sizes)
    gates_x = _input_gates(x, w_ih, b_ih)  # (L, N, 3 H_out)

    def step(g, h):
        return (_gru_update(g, h, w_hh, b_hh),)

    output, (h_n,) = unroll(step, gates_x, (h_0,), reverse, batch_sizes)
    return output, h_n  # (L, N, H_out), (N, H_out)
