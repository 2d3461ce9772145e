"""Backpropagation through time, derived by hand (chapter 5).

One recurrent layer, ``h_t = f(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``
with ``f`` = tanh or ReLU, as a :class:`torch.autograd.Function` whose
backward pass is the derivation of chapter 5 rather than autograd's replay of
the forward graph. Write ``a_t`` for the pre-activation and ``delta_t`` for
``dL/da_t``, the *total* derivative of the loss with respect to ``a_t``. Going
backwards in time,

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

:func:`rnn_layer` has the semantics of :func:`rnn_lib.functional.rnn_layer`
(packed batches and reversed direction included); ``rnn_lib.RNN`` calls it by
default. :func:`detach_state` is what truncated BPTT does between chunks.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch.autograd.function import once_differentiable

NONLINEARITIES = ("tanh", "relu")


def _as_list(batch_sizes) -> list[int] | None:
    if batch_sizes is None:
        return None
    if isinstance(batch_sizes, torch.Tensor):
        return [int(b) for b in batch_sizes.tolist()]
    return [int(b) for b in batch_sizes]


def _check(x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, batch_sizes) -> None:
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    if x.dim() != 3:
        raise ValueError(f"expected x of shape (L, N, H_in), got {tuple(x.shape)}")
    L, N, H_in = x.shape
    H = w_hh.shape[0]
    expected = {
        "w_ih": (w_ih, (H, H_in)),
        "w_hh": (w_hh, (H, H)),
        "h_0": (h_0, (N, H)),
        "b_ih": (b_ih, (H,)),
        "b_hh": (b_hh, (H,)),
    }
    for name, (tensor, shape) in expected.items():
        if tensor is not None and tuple(tensor.shape) != shape:
            raise ValueError(f"expected {name} of shape {shape}, got {tuple(tensor.shape)}")
    if batch_sizes is not None:
        if len(batch_sizes) != L:
            raise ValueError(f"expected {L} batch sizes, got {len(batch_sizes)}")
        if any(b < 1 or b > N for b in batch_sizes) or any(
            later > earlier for earlier, later in zip(batch_sizes, batch_sizes[1:])
        ):
            raise ValueError(
                f"batch_sizes must be non-increasing and between 1 and {N}, got {batch_sizes}"
            )


def _steps(L: int, reverse: bool) -> range:
    """The time steps in the order the recurrence visits them."""
    return range(L - 1, -1, -1) if reverse else range(L)


class RNNLayerFunction(torch.autograd.Function):
    """One tanh/ReLU layer over a whole sequence, with a hand-derived backward.

    Called through :func:`rnn_layer`; ``apply`` takes the same arguments
    positionally, with ``batch_sizes`` a list of ints or None.
    """

    @staticmethod
    def forward(ctx, x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, batch_sizes):
        L, N, H_in = x.shape
        H = w_hh.shape[0]
        # All input projections at once, written straight into the output buffer.
        bias = b_ih if b_hh is None else (b_hh if b_ih is None else b_ih + b_hh)
        x2d = x.reshape(L * N, H_in)  # (L*N, H_in)
        if bias is None:
            out = torch.mm(x2d, w_ih.t())  # (L*N, H_out)
        else:
            out = torch.addmm(bias, x2d, w_ih.t())  # (L*N, H_out)
        out = out.view(L, N, H)  # (L, N, H_out)
        act = torch.tanh_ if nonlinearity == "tanh" else torch.relu_
        w_hh_t = w_hh.t()
        if batch_sizes is None:
            prev = h_0
            for t in _steps(L, reverse):
                step = out[t]  # (N, H_out)
                step.addmm_(prev, w_hh_t)
                act(step)
                prev = step
            h_n = prev.clone()  # (N, H_out)
        else:
            h_n = h_0.clone()  # rows that never step keep h_0
            for t in _steps(L, reverse):
                b = batch_sizes[t]
                step = out[t, :b]  # (b, H_out)
                out[t, b:] = 0
                if not reverse:
                    prev = h_0[:b] if t == 0 else out[t - 1, :b]
                    step.addmm_(prev, w_hh_t)
                else:
                    # Row i starts at its own last step, from h_0[i].
                    b_next = batch_sizes[t + 1] if t + 1 < L else 0
                    if b_next:
                        step[:b_next].addmm_(out[t + 1, :b_next], w_hh_t)
                    step[b_next:].addmm_(h_0[b_next:b], w_hh_t)
                act(step)
            # h_n[i] is row i's state after its own last step.
            if reverse:
                h_n[: batch_sizes[0]] = out[0, : batch_sizes[0]]
            else:
                for t in range(L):
                    b_next = batch_sizes[t + 1] if t + 1 < L else 0
                    h_n[b_next : batch_sizes[t]] = out[t, b_next : batch_sizes[t]]
        ctx.save_for_backward(x, h_0, w_ih, w_hh, out)
        ctx.nonlinearity = nonlinearity
        ctx.reverse = reverse
        ctx.batch_sizes = batch_sizes
        ctx.has_b_ih = b_ih is not None
        ctx.has_b_hh = b_hh is not None
        return out, h_n

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_output, grad_h_n):
        x, h_0, w_ih, w_hh, out = ctx.saved_tensors
        L, N, H_in = x.shape
        H = w_hh.shape[0]
        reverse, batch_sizes = ctx.reverse, ctx.batch_sizes
        # f'(a_t) from the saved outputs h_t = f(a_t), for all steps at once.
        if ctx.nonlinearity == "tanh":
            deriv = 1 - out * out  # (L, N, H_out)
        else:
            deriv = (out > 0).to(out.dtype)  # (L, N, H_out)
        # delta holds dL/da_t; it starts as the direct gradient dL/doutput_t.
        if grad_output is None:
            delta = torch.zeros_like(out)  # (L, N, H_out)
        else:
            delta = grad_output.clone(memory_format=torch.contiguous_format)
        first = L - 1 if reverse else 0  # the step that reads h_0
        last = 0 if reverse else L - 1  # the step that writes h_n
        order = list(_steps(L, reverse))[::-1]  # backwards in time
        g_0 = None  # dL/da at the step where each row read h_0, (N, H_out)
        if batch_sizes is None:
            if grad_h_n is not None:
                delta[last] += grad_h_n
            later = None
            for t in order:
                step = delta[t]  # (N, H_out)
                if later is not None:
                    step.addmm_(later, w_hh)  # + delta_{t+1} W_hh
                step.mul_(deriv[t])
                later = step
            g_0 = delta[first]  # (N, H_out)
        else:
            b_0 = batch_sizes[0]
            for t in range(L):
                delta[t, batch_sizes[t] :] = 0  # padded outputs are constants
            if grad_h_n is not None:
                if reverse:
                    delta[0, :b_0] += grad_h_n[:b_0]
                else:
                    for t in range(L):
                        b_next = batch_sizes[t + 1] if t + 1 < L else 0
                        delta[t, b_next : batch_sizes[t]] += grad_h_n[b_next : batch_sizes[t]]
            g_0 = torch.zeros_like(h_0)  # (N, H_out)
            for i, t in enumerate(order):
                b = batch_sizes[t]
                if i > 0:
                    t_later = order[i - 1]
                    # Rows [:b_fed] of step t were the previous state of step t_later.
                    b_fed = min(b, batch_sizes[t_later])
                    delta[t, :b_fed].addmm_(delta[t_later, :b_fed], w_hh)
                delta[t, :b].mul_(deriv[t, :b])
            if reverse:
                for t in range(L):
                    b_next = batch_sizes[t + 1] if t + 1 < L else 0
                    g_0[b_next : batch_sizes[t]] = delta[t, b_next : batch_sizes[t]]
            else:
                g_0[:b_0] = delta[0, :b_0]
        need = ctx.needs_input_grad
        delta2d = delta.view(L * N, H)  # (L*N, H_out)
        grad_x = grad_h_0 = grad_w_ih = grad_w_hh = grad_b_ih = grad_b_hh = None
        if need[0]:
            grad_x = torch.mm(delta2d, w_ih).view(L, N, H_in)  # (L, N, H_in)
        if need[1]:
            grad_h_0 = torch.mm(g_0, w_hh)  # (N, H_out)
            if batch_sizes is not None and grad_h_n is not None and batch_sizes[0] < N:
                grad_h_0[batch_sizes[0] :] += grad_h_n[batch_sizes[0] :]
        if need[2]:
            grad_w_ih = torch.mm(delta2d.t(), x.reshape(L * N, H_in))  # (H_out, H_in)
        if need[3]:
            # h_{t-1} is out[t-1] going forward, out[t+1] going backward; padded
            # rows of out are zero, and rows that start from h_0 come in via g_0.
            if reverse:
                d_later, h_prev = delta[:-1], out[1:]
            else:
                d_later, h_prev = delta[1:], out[:-1]
            grad_w_hh = torch.mm(g_0.t(), h_0)  # (H_out, H_out)
            if L > 1:
                grad_w_hh.addmm_(d_later.reshape(-1, H).t(), h_prev.reshape(-1, H))
        if need[4] or need[5]:
            grad_b = delta2d.sum(0)  # (H_out,)
            grad_b_ih = grad_b if need[4] else None
            grad_b_hh = grad_b if need[5] else None
        return grad_x, grad_h_0, grad_w_ih, grad_w_hh, grad_b_ih, grad_b_hh, None, None, None


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
    pass differs (the chapter 5 derivation instead of autograd). It can be
    differentiated once: asking for a double backward raises.

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
    batch_sizes = _as_list(batch_sizes)
    _check(x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, batch_sizes)
    return RNNLayerFunction.apply(
        x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, batch_sizes
    )


def detach_state(h: torch.Tensor) -> torch.Tensor:
    """Cut the graph behind a state: what truncated BPTT does between chunks.

    The value carries over to the next chunk, the gradient does not flow back
    into the previous one.
    """
    return h.detach()
