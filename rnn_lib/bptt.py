"""Backpropagation through time, derived by hand (chapter 5).

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
A double backward works too: when the caller asks for the gradient's own
graph (``create_graph=True``), autograd replays the reference loop of
:mod:`rnn_lib.functional` instead of the in-place one.

:func:`rnn_layer` has the semantics of :func:`rnn_lib.functional.rnn_layer`
(packed batches and reversed direction included); ``rnn_lib.RNN`` calls it by
default. :func:`numerical_gradient` and :func:`relative_error` are the
centred-difference gradient check that verifies it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

import torch

from rnn_lib import functional
from rnn_lib.functional import activation, check_batch_sizes


def _steps(L: int, reverse: bool) -> range:
    """The time steps in the order the recurrence visits them."""
    return range(L - 1, -1, -1) if reverse else range(L)


def _autocast_off(method):
    """Run a forward or backward ``method(ctx, tensor, ...)`` with autocast off.

    Under autocast, :func:`rnn_layer` casts every input to the autocast dtype
    before the call; inside, the in-place products must then keep that dtype
    rather than let autocast pick one per operation.
    """

    @functools.wraps(method)
    def run(ctx, tensor, *rest):
        with torch.autocast(tensor.device.type, enabled=False):
            return method(ctx, tensor, *rest)

    return run


def _ends(batch_sizes: list[int]) -> list[tuple[int, int]]:
    """For each step t, the rows ``[lo:hi)`` whose last step going forward is t."""
    nexts = batch_sizes[1:] + [0]
    return [(b_next, b) for b, b_next in zip(batch_sizes, nexts)]


class RNNLayerFunction(torch.autograd.Function):
    """One tanh/ReLU layer over a whole sequence, with a hand-derived backward.

    Called through :func:`rnn_layer`, which validates the arguments; ``apply``
    takes the same arguments positionally, ``batch_sizes`` a list or None.
    """

    @staticmethod
    @_autocast_off
    def forward(
        ctx, x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, batch_sizes
    ):
        L, N, H_in = x.shape
        H = w_hh.shape[0]
        bias = b_ih if b_hh is None else (b_hh if b_ih is None else b_ih + b_hh)
        # Speed: on the CPU torch's tanh kernel can be several times slower than
        # its sigmoid (chapter 5 measures both), and tanh(a) = 2 sigmoid(2a) - 1.
        # So there the tanh loop runs on
        # s_t = sigmoid(2 a_t) = (h_t + 1) / 2, where
        #   2 a_t = 2 (x_t W_ih^T + b) - 2 rowsum(W_hh) + 4 s_{t-1} W_hh^T,
        # and one pass at the end turns every s_t back into h_t = 2 s_t - 1.
        # (It costs an absolute error of about one unit in the last place of
        # 0.5: fine in float32 and float64, too coarse in half precision.)
        via_sigmoid = (
            nonlinearity == "tanh"
            and x.device.type == "cpu"
            and x.dtype in (torch.float32, torch.float64)
        )
        if via_sigmoid:
            shift = -2 * w_hh.sum(1) if bias is None else 2 * bias - 2 * w_hh.sum(1)
            scale, alpha, state_0 = 2, 4, (h_0 + 1) / 2
            act = torch.Tensor.sigmoid_
        else:
            shift, scale, alpha, state_0 = bias, 1, 1, h_0
            act = torch.Tensor.tanh_ if nonlinearity == "tanh" else torch.Tensor.relu_
        # All input projections at once, written straight into the output buffer.
        x2d = x.reshape(L * N, H_in)  # (L*N, H_in)
        if shift is None:
            out = torch.mm(x2d, w_ih.t())  # (L*N, H_out)
        else:
            out = torch.addmm(shift, x2d, w_ih.t(), alpha=scale)  # (L*N, H_out)
        out = out.view(L, N, H)  # (L, N, H_out)
        steps = out.unbind(0)  # L views (N, H_out), no copies
        w_hh_t = w_hh.t()
        # Per step: one matrix multiply with W_hh added in place, one in-place f.
        if batch_sizes is None:
            prev = state_0
            for t in _steps(L, reverse):
                act(steps[t].addmm_(prev, w_hh_t, alpha=alpha))
                prev = steps[t]
        else:
            for t in _steps(L, reverse):
                b = batch_sizes[t]  # rows [:b] take a step
                if not reverse:
                    prev = state_0[:b] if t == 0 else steps[t - 1][:b]
                    steps[t][:b].addmm_(prev, w_hh_t, alpha=alpha)
                else:  # rows [:c] go on from step t+1, rows [c:b] start from h_0
                    c = batch_sizes[t + 1] if t + 1 < L else 0
                    if c > 0:
                        steps[t][:c].addmm_(steps[t + 1][:c], w_hh_t, alpha=alpha)
                    if c < b:
                        steps[t][c:b].addmm_(state_0[c:b], w_hh_t, alpha=alpha)
                act(steps[t][:b])
        if via_sigmoid:
            out.mul_(2).sub_(1)  # h_t = 2 s_t - 1
        if batch_sizes is None:
            h_n = steps[0 if reverse else L - 1].clone()  # (N, H_out)
        else:
            for t, b in enumerate(batch_sizes):
                steps[t][b:] = 0  # rows that have ended output zeros
            h_n = h_0.clone()  # rows that never step keep h_0
            if reverse:
                h_n[: batch_sizes[0]] = steps[0][: batch_sizes[0]]
            else:
                for t, (lo, hi) in enumerate(_ends(batch_sizes)):
                    h_n[lo:hi] = steps[t][lo:hi]
        ctx.save_for_backward(x, h_0, w_ih, w_hh, b_ih, b_hh, out)
        ctx.nonlinearity, ctx.reverse, ctx.batch_sizes = (
            nonlinearity,
            reverse,
            batch_sizes,
        )
        return out, h_n

    @staticmethod
    @_autocast_off
    def backward(ctx, grad_output, grad_h_n):
        if torch.is_grad_enabled():  # create_graph=True: a double backward may follow
            return _differentiable_backward(ctx, grad_output, grad_h_n)
        x, h_0, w_ih, w_hh, _, _, out = ctx.saved_tensors
        L, N, H_in = x.shape
        H = w_hh.shape[0]
        reverse, batch_sizes = ctx.reverse, ctx.batch_sizes
        # f'(a_t) from the saved outputs h_t = f(a_t), all steps at once.
        if ctx.nonlinearity == "tanh":
            deriv = out.square().neg_().add_(1)  # 1 - h_t^2, (L, N, H_out)
        else:
            deriv = (out > 0).to(out.dtype)  # [h_t > 0], (L, N, H_out)
        # delta[t] becomes dL/da_t. It starts as the direct part dL/doutput_t,
        # plus dL/dh_n at each row's last step.
        delta = grad_output.clone(
            memory_format=torch.contiguous_format
        )  # (L, N, H_out)
        deltas, derivs = delta.unbind(0), deriv.unbind(0)
        backwards = _steps(L, not reverse)  # the forward order, reversed
        if batch_sizes is None:
            deltas[0 if reverse else L - 1].add_(grad_h_n)
            later = None  # delta of the step that read this step's state
            for t in backwards:
                if later is not None:
                    deltas[t].addmm_(later, w_hh)  # + delta_later W_hh
                later = deltas[t].mul_(derivs[t])  # * f'(a_t)
            g_0 = deltas[
                L - 1 if reverse else 0
            ]  # dL/da where h_0 was read, (N, H_out)
        else:
            for t, b in enumerate(batch_sizes):
                deltas[t][b:] = 0  # padded outputs are constants
            b_0 = batch_sizes[0]
            if reverse:
                deltas[0][:b_0].add_(grad_h_n[:b_0])
            else:
                for t, (lo, hi) in enumerate(_ends(batch_sizes)):
                    deltas[t][lo:hi].add_(grad_h_n[lo:hi])
            later = None
            for t in backwards:
                b = batch_sizes[t]
                if later is not None:
                    # Rows [:b_fed] of this step's state fed the later step.
                    b_fed = min(b, batch_sizes[later])
                    deltas[t][:b_fed].addmm_(deltas[later][:b_fed], w_hh)
                deltas[t][:b].mul_(derivs[t][:b])
                later = t
            # Row i read h_0 at its first step: t = 0 forward, its last backward.
            g_0 = torch.zeros_like(h_0)  # (N, H_out)
            if reverse:
                for t, (lo, hi) in enumerate(_ends(batch_sizes)):
                    g_0[lo:hi] = deltas[t][lo:hi]
            else:
                g_0[:b_0] = deltas[0][:b_0]
        # The gradients, each one matrix multiply (or sum) over all steps.
        need = ctx.needs_input_grad
        delta2d = delta.view(L * N, H)  # (L*N, H_out)
        grad_x = grad_h_0 = grad_w_ih = grad_w_hh = grad_b = None
        if need[0]:
            grad_x = torch.mm(delta2d, w_ih).view(L, N, H_in)  # (L, N, H_in)
        if need[1]:
            grad_h_0 = torch.mm(g_0, w_hh)  # (N, H_out)
            if batch_sizes is not None and batch_sizes[0] < N:
                # Rows that never step pass dL/dh_n straight to h_0.
                grad_h_0[batch_sizes[0] :] += grad_h_n[batch_sizes[0] :]
        if need[2]:
            grad_w_ih = torch.mm(delta2d.t(), x.reshape(L * N, H_in))  # (H_out, H_in)
        if need[3]:
            # sum_t delta_t^T h_{t-1}: h_{t-1} is out[t-1] going forward and
            # out[t+1] going backward; rows that read h_0 come in through g_0
            # (padded rows of out are zero, so they add nothing).
            grad_w_hh = torch.mm(g_0.t(), h_0)  # (H_out, H_out)
            if L > 1:
                d_read, h_read = (
                    (delta[:-1], out[1:]) if reverse else (delta[1:], out[:-1])
                )
                grad_w_hh.addmm_(d_read.reshape(-1, H).t(), h_read.reshape(-1, H))
        if need[4] or need[5]:
            grad_b = delta2d.sum(0)  # (H_out,)
        grad_b_ih = grad_b if need[4] else None
        grad_b_hh = grad_b if need[5] else None
        return (
            grad_x,
            grad_h_0,
            grad_w_ih,
            grad_w_hh,
            grad_b_ih,
            grad_b_hh,
            None,
            None,
            None,
        )


def _differentiable_backward(ctx, grad_output, grad_h_n):
    """The backward pass as a graph that can be differentiated again.

    The in-place loop of :meth:`RNNLayerFunction.backward` leaves no graph, so
    when the caller asks for one (``create_graph=True``, as in a gradient
    penalty or a Hessian-vector product) autograd replays the reference loop
    :func:`rnn_lib.functional.rnn_layer` instead: same gradient, differentiable.
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
        reverse: run t = L-1 down to 0; ``output[t]`` is still the state at t.
        batch_sizes: None, or L non-increasing positive ints for a packed
            batch (rows ordered by length, longest first): step t updates only
            rows ``[:batch_sizes[t]]``; other rows keep their state and their
            output is zero.

    Inputs:
        x: (L, N, H_in)
        h_0: (N, H_out)

    Outputs:
        output: (L, N, H_out), the state at every step.
        h_n: (N, H_out), each row's state after its own last step.
    """
    activation(nonlinearity)  # the same errors as functional.rnn_layer
    L, N = x.shape[0], x.shape[1]
    if L == 0:
        raise ValueError("expected a sequence of length >= 1, got length 0")
    if batch_sizes is not None:
        if isinstance(batch_sizes, torch.Tensor):
            batch_sizes = batch_sizes.tolist()
        batch_sizes = [int(b) for b in batch_sizes]
        check_batch_sizes(batch_sizes, L, N)
    device_type = x.device.type
    # Under torch.autocast (its per-device query exists from torch 2.4 on).
    if hasattr(torch, "get_autocast_dtype") and torch.is_autocast_enabled(device_type):
        dtype = torch.get_autocast_dtype(device_type)
        x, h_0, w_ih, w_hh, b_ih, b_hh = (
            None if t is None else t.to(dtype) for t in (x, h_0, w_ih, w_hh, b_ih, b_hh)
        )
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
