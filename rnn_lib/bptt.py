"""Backpropagation through time, derived by hand (chapter 5).

Read chapter 5's small version first (``book/05_backpropagation_through_time``,
the ``bptt_backward`` cell): the same derivation in twenty lines, one step at
a time. This module is that derivation made fast and complete (packed
batches, the reverse direction, autocast, double backward).

One recurrent layer, ``h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
with ``f`` = tanh or ReLU, as a :class:`torch.autograd.Function` whose
backward pass is the derivation of chapter 5 rather than autograd's replay of
the forward graph. With steps t = 1..L as in the chapter (``output[t - 1]``
holds h_t, h_0 is the initial state), write ``a_t`` for the pre-activation
and ``delta_t`` for ``dL/da_t``, the *total* derivative of the loss with
respect to ``a_t``. Going backwards in time,

    dL/dh_t   = dL/doutput_t (+ dL/dh_n at the last step) + delta_{t+1} W_hh
    delta_t   = dL/dh_t * f'(a_t)       f' = 1 - h_t^2 (tanh), [h_t > 0] (ReLU)

and then, with one matrix multiply each over all time steps,

    dL/dW_ih = sum_t delta_t^T x_t        dL/dx_t  = delta_t W_ih
    dL/dW_hh = sum_t delta_t^T h_{t-1}    dL/dh_0  = delta_1 W_hh
    dL/db_ih = dL/db_hh = sum_t delta_t

Speed comes from doing as little as possible per time step: the input
projections of all steps are one matrix multiply into the output buffer; a
forward step is one in-place ``addmm_`` with ``W_hh`` and one in-place
nonlinearity; a backward step is one ``addmm_`` and one in-place multiply.
The per-step loops come in two versions, dense (every row runs every step)
and packed (rows of different lengths); the step order and the batch sizes
come from :mod:`rnn_lib.functional`. When the caller asks for the gradient's
own graph (``create_graph=True``, a double backward) or for batched gradients
(``is_grads_batched=True``, which runs the backward under ``vmap``), autograd
replays the reference loop of :mod:`rnn_lib.functional` instead of the
in-place one.

:func:`rnn_layer` has the semantics of :func:`rnn_lib.functional.rnn_layer`
(packed batches and reversed direction included); ``rnn_lib.RNN`` calls it by
default. :func:`numerical_gradient` and :func:`relative_error` are the
centred-difference gradient check that verifies it.

Read next: :mod:`rnn_lib.gated`, whose LSTM and GRU are backpropagated the
same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from rnn_lib import functional
from rnn_lib.custom_backward import autocast_off, replay_needed, under_autocast
from rnn_lib.functional import derivative_from_output
from rnn_lib.packing import (
    add_final_grads,
    final_states,
    sequence_batch_sizes,
    state_sources,
    time_steps,
    zero_ended_rows,
)

Tensor = torch.Tensor


# ---------------------------------------------------------------------------
# The forward pass


def _via_sigmoid(nonlinearity: str, x: Tensor) -> bool:
    """Whether the tanh loop runs on sigmoids (see :func:`_recurrence_terms`)."""
    return (
        nonlinearity == "tanh"
        and x.device.type == "cpu"
        and x.dtype in (torch.float32, torch.float64)
    )


def _recurrence_terms(x, h_0, w_hh, b_ih, b_hh, nonlinearity):
    """What each step adds and applies: ``(shift, scale, alpha, state_0, act)``.

    A step computes ``act(scale * (x_t W_ih^T) + shift + alpha * s_{t-1} W_hh^T)``
    on a running state s. Normally s = h, ``shift`` is the bias, scale = alpha
    = 1 and ``act`` is f. The tanh-through-sigmoid trick: tanh(a) =
    2 sigmoid(2a) - 1, and on every CPU, in float32 and float64, the tanh loop
    runs on s_t = sigmoid(2 a_t) = (h_t + 1) / 2, without testing which kernel
    is faster there. The choice was made on a CPU where torch's tanh kernel
    was several times slower than its sigmoid; on other CPUs and torch
    versions sigmoid can be the slower one (chapter 5 times both, on the
    machine that builds it). The loop computes

        2 a_t = 2 (x_t W_ih^T + b) - 2 rowsum(W_hh) + 4 s_{t-1} W_hh^T,

    and one pass at the end turns every s_t back into h_t = 2 s_t - 1. (It
    costs an absolute error of about one unit in the last place of 0.5: fine
    in float32 and float64, too coarse in half precision.)
    """
    bias = b_ih if b_hh is None else (b_hh if b_ih is None else b_ih + b_hh)
    if _via_sigmoid(nonlinearity, x):
        shift = -2 * w_hh.sum(1) if bias is None else 2 * bias - 2 * w_hh.sum(1)
        return shift, 2, 4, (h_0 + 1) / 2, torch.Tensor.sigmoid_
    act = torch.Tensor.tanh_ if nonlinearity == "tanh" else torch.Tensor.relu_
    return bias, 1, 1, h_0, act


def _input_projections(x: Tensor, w_ih: Tensor, shift, scale) -> Tensor:
    """``scale * x_t W_ih^T + shift`` for every step, in one matrix multiply.

    Inputs: x (L, N, H_in). Outputs: (L, N, H_out), the buffer the loop fills.
    """
    L, N, H_in = x.shape
    x2d = x.reshape(L * N, H_in)  # (L*N, H_in)
    if shift is None:
        out = torch.mm(x2d, w_ih.t())  # (L*N, H_out)
    else:
        out = torch.addmm(shift, x2d, w_ih.t(), alpha=scale)  # (L*N, H_out)
    return out.view(L, N, w_ih.shape[0])  # (L, N, H_out)


def _recur_dense(steps, state_0, w_hh_t, alpha, act, reverse) -> None:
    """Every row runs every step: one in-place ``addmm_`` and ``act`` per step."""
    prev = state_0  # (N, H_out)
    for i in time_steps(len(steps), reverse):
        act(steps[i].addmm_(prev, w_hh_t, alpha=alpha))
        prev = steps[i]


def _recur_packed(steps, state_0, w_hh_t, alpha, act, reverse, batch_sizes) -> None:
    """A packed batch: index i updates rows ``[:batch_sizes[i]]`` only."""
    L, N = len(steps), state_0.shape[0]
    for i in time_steps(L, reverse):
        for lo, hi, src in state_sources(i, L, N, batch_sizes, reverse):
            prev = state_0 if src is None else steps[src]
            steps[i][lo:hi].addmm_(prev[lo:hi], w_hh_t, alpha=alpha)
        act(steps[i][: batch_sizes[i]])


# ---------------------------------------------------------------------------
# The backward pass


def _deltas_dense(delta, deriv, w_hh, grad_h_n, reverse) -> Tensor:
    """Turn ``delta`` (holding dL/doutput) into dL/da_t in place; return g_0.

    g_0 is delta at the step that read h_0, (N, H_out).
    """
    L = delta.shape[0]
    deltas, derivs = delta.unbind(0), deriv.unbind(0)
    deltas[0 if reverse else L - 1].add_(grad_h_n)
    later = None  # delta of the step that read this step's state
    for i in time_steps(L, not reverse):  # the forward order, reversed
        if later is not None:
            deltas[i].addmm_(later, w_hh)  # + delta_later W_hh
        later = deltas[i].mul_(derivs[i])  # * f'(a_t)
    return deltas[L - 1 if reverse else 0]


def _deltas_packed(delta, deriv, w_hh, grad_h_n, h_0, reverse, batch_sizes):
    """:func:`_deltas_dense` for a packed batch.

    Returns g_0 (each row's delta at the step that read h_0) and the part of
    dL/dh_n that reaches h_0 directly (rows that never step), or None.
    """
    L, N = delta.shape[0], delta.shape[1]
    zero_ended_rows(delta, batch_sizes)  # padded outputs are constants
    direct = add_final_grads(delta, grad_h_n, batch_sizes, reverse)
    g_0 = torch.zeros_like(h_0)  # (N, H_out)
    for i in time_steps(L, not reverse):  # the forward order, reversed
        delta[i, : batch_sizes[i]].mul_(deriv[i, : batch_sizes[i]])  # * f'(a_t)
        for lo, hi, src in state_sources(i, L, N, batch_sizes, reverse):
            if src is None:
                g_0[lo:hi] = delta[i, lo:hi]
            else:  # the step that wrote this state gets delta W_hh
                delta[src, lo:hi].addmm_(delta[i, lo:hi], w_hh)
    return g_0, direct


def _gradients(need, delta, g_0, direct, x, h_0, w_ih, w_hh, out, ctx) -> tuple:
    """The gradients of all inputs, each one matrix multiply (or sum) over all steps.

    ``direct`` is the part of dL/dh_n that reaches h_0 without a step (rows of
    a packed batch that never step), or None.
    """
    L, N, H_in = x.shape
    H = w_hh.shape[0]
    delta2d = delta.view(L * N, H)  # (L*N, H_out)
    grad_x = grad_h_0 = grad_w_ih = grad_w_hh = grad_b = None
    if need[0]:
        grad_x = torch.mm(delta2d, w_ih).view(L, N, H_in)  # (L, N, H_in)
    if need[1]:
        grad_h_0 = torch.mm(g_0, w_hh)  # (N, H_out)
        if direct is not None:
            grad_h_0 += direct
    if need[2]:
        grad_w_ih = torch.mm(delta2d.t(), x.reshape(L * N, H_in))  # (H_out, H_in)
    if need[3]:
        # sum_t delta_t^T h_{t-1}: h_{t-1} is out[i-1] going forward and
        # out[i+1] going backward; rows that read h_0 come in through g_0
        # (padded rows of out are zero, so they add nothing).
        grad_w_hh = torch.mm(g_0.t(), h_0)  # (H_out, H_out)
        if L > 1:
            later, read = (
                (delta[:-1], out[1:]) if ctx.reverse else (delta[1:], out[:-1])
            )
            grad_w_hh.addmm_(later.reshape(-1, H).t(), read.reshape(-1, H))
    if need[4] or need[5]:
        grad_b = delta2d.sum(0)  # (H_out,)
    grad_b_ih = grad_b if need[4] else None
    grad_b_hh = grad_b if need[5] else None
    return grad_x, grad_h_0, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh


class RNNLayerFunction(torch.autograd.Function):
    """One tanh/ReLU layer over a whole sequence, with a hand-derived backward.

    Called through :func:`rnn_layer`, which validates the arguments; ``apply``
    takes the same arguments positionally, ``batch_sizes`` a list or None.
    """

    @staticmethod
    @autocast_off
    def forward(
        ctx, x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, batch_sizes
    ):
        shift, scale, alpha, state_0, act = _recurrence_terms(
            x, h_0, w_hh, b_ih, b_hh, nonlinearity
        )
        out = _input_projections(x, w_ih, shift, scale)  # (L, N, H_out)
        steps = out.unbind(0)  # L views (N, H_out), no copies
        if batch_sizes is None:
            _recur_dense(steps, state_0, w_hh.t(), alpha, act, reverse)
        else:
            _recur_packed(steps, state_0, w_hh.t(), alpha, act, reverse, batch_sizes)
        if _via_sigmoid(nonlinearity, x):
            out.mul_(2).sub_(1)  # h_t = 2 s_t - 1
        zero_ended_rows(out, batch_sizes)  # rows that have ended output zeros
        h_n = final_states(out, h_0, batch_sizes, reverse)  # (N, H_out)
        ctx.save_for_backward(x, h_0, w_ih, w_hh, b_ih, b_hh, out)
        ctx.nonlinearity, ctx.reverse = nonlinearity, reverse
        ctx.batch_sizes = batch_sizes
        return out, h_n

    @staticmethod
    @autocast_off
    def backward(ctx, grad_output, grad_h_n):
        if replay_needed(grad_output, grad_h_n):
            return _differentiable_backward(ctx, grad_output, grad_h_n)
        x, h_0, w_ih, w_hh, _, _, out = ctx.saved_tensors
        deriv = derivative_from_output(out, ctx.nonlinearity)  # f'(a_t), (L, N, H_out)
        # delta[i] becomes dL/da_t. It starts as the direct part dL/doutput_t,
        # plus dL/dh_n at each row's last step.
        delta = grad_output.clone(memory_format=torch.contiguous_format)
        if ctx.batch_sizes is None:
            g_0 = _deltas_dense(delta, deriv, w_hh, grad_h_n, ctx.reverse)
            direct = None
        else:
            g_0, direct = _deltas_packed(
                delta, deriv, w_hh, grad_h_n, h_0, ctx.reverse, ctx.batch_sizes
            )
        grads = _gradients(
            ctx.needs_input_grad, delta, g_0, direct, x, h_0, w_ih, w_hh, out, ctx
        )
        return (*grads, None, None, None)


def _differentiable_backward(ctx, grad_output, grad_h_n):
    """The backward pass as a graph that autograd can differentiate or batch.

    The in-place loop of :meth:`RNNLayerFunction.backward` leaves no graph and
    cannot run under vmap, so when the caller asks for a graph
    (``create_graph=True``, as in a gradient penalty or a Hessian-vector
    product) or for batched gradients, autograd replays the reference loop
    :func:`rnn_lib.functional.rnn_layer` instead: same gradient.
    """
    inputs = ctx.saved_tensors[:6]  # x, h_0, w_ih, w_hh, b_ih, b_hh
    need = ctx.needs_input_grad[:6]
    with torch.enable_grad():
        output, h_n = functional.rnn_layer(
            *inputs, ctx.nonlinearity, ctx.reverse, ctx.batch_sizes
        )
    wanted = [t for t, n in zip(inputs, need) if n]
    grads = iter(
        torch.autograd.grad(
            (output, h_n), wanted, (grad_output, grad_h_n), create_graph=True
        )
    )
    return (*(next(grads) if n else None for n in need), None, None, None)


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
    """One recurrent layer over a sequence, backpropagated by hand.

    Same semantics as :func:`rnn_lib.functional.rnn_layer`; only the backward
    pass differs (the chapter 5 derivation instead of autograd). With
    ``create_graph=True`` the backward is autograd's, so that it can be
    differentiated again (a double backward).

    Args:
        x: the inputs, time-major.
        h_0: the initial state.
        w_ih, w_hh: weights, laid out as torch's ``weight_ih_l0``/``weight_hh_l0``.
        b_ih, b_hh: biases or None.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        reverse: run index L-1 down to 0; ``output[i]`` is still the state at i.
        batch_sizes: None, or L non-increasing positive ints for a packed
            batch (rows ordered by length, longest first): index i updates only
            rows ``[:batch_sizes[i]]``; other rows keep their state and their
            output is zero.

    Inputs:
        x: (L, N, H_in)
        h_0: (N, H_out)

    Outputs:
        output: (L, N, H_out), the state at every step.
        h_n: (N, H_out), each row's state after its own last step.
    """
    functional.activation(nonlinearity)  # the same errors as functional.rnn_layer
    batch_sizes = sequence_batch_sizes(x.shape[0], x.shape[1], batch_sizes)
    x, h_0, w_ih, w_hh, b_ih, b_hh = under_autocast(x, (x, h_0, w_ih, w_hh, b_ih, b_hh))
    return RNNLayerFunction.apply(
        x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, batch_sizes
    )


def numerical_gradient(
    loss: Callable[[], torch.Tensor], tensor: torch.Tensor, eps: float = 1e-6
) -> torch.Tensor:
    """The centred-difference estimate of ``d loss() / d tensor``.

    Each entry of ``tensor`` is nudged by +eps and -eps in place (and put
    back); the estimate is ``(loss(+) - loss(-)) / (2 eps)``, whose error is
    O(eps^2) plus rounding of order (machine epsilon / eps). Use float64.

    Args:
        loss: computes a scalar from the current value of ``tensor``.
        tensor: the tensor to differentiate by; left unchanged.
        eps: the step.

    Outputs:
        grad: the same shape as ``tensor``.
    """
    grad = torch.empty_like(tensor)
    flat, grad_flat = tensor.detach().view(-1), grad.view(-1)
    with torch.no_grad():
        for i in range(flat.numel()):
            original = flat[i].item()
            flat[i] = original + eps
            up = loss().item()
            flat[i] = original - eps
            down = loss().item()
            flat[i] = original
            grad_flat[i] = (up - down) / (2 * eps)
    return grad


def relative_error(a: torch.Tensor, b: torch.Tensor) -> float:
    """``||a - b|| / max(||a||, ||b||)``, 0 when both are zero."""
    scale = max(a.norm().item(), b.norm().item())
    return 0.0 if scale == 0 else (a - b).norm().item() / scale
