"""Backpropagation through time for the LSTM and the GRU, derived by hand (chapter 8).

Chapter 8 (``book/08_gated_rnns``) derives these passes the way chapter 5
derives the plain RNN's, and checks them numerically; read its small version
first. This module is that derivation made fast and complete: layers are
run by :class:`rnn_lib.gated.LSTM` / :class:`rnn_lib.gated.GRU` (packed
batches, the reverse direction, ``proj_size``, no bias) with the same numbers
as the autograd reference :func:`rnn_lib.gated_functional.lstm_layer` /
:func:`rnn_lib.gated_functional.gru_layer`.

Notation as in chapter 8: steps t = 1..L, pre-activations ``a``, and for a
loss L the total derivatives ``dL/dh_t`` and ``dL/dc_t`` (everything that
``h_t`` or ``c_t`` changes later counts). Going backwards in time:

LSTM, with ``m_t = o_t * tanh(c_t)`` and ``h_t = m_t`` (or ``m_t W_hr^T``)::

    dL/dm_t  = dL/dh_t                  (or dL/dh_t W_hr)
    dL/dc_t  = dL/dm_t * o_t * (1 - tanh(c_t)^2) + dL/dc_{t+1} * f_{t+1}
    dL/da_i  = dL/dc_t * g_t * i_t (1 - i_t)
    dL/da_f  = dL/dc_t * c_{t-1} * f_t (1 - f_t)
    dL/da_g  = dL/dc_t * i_t * (1 - g_t^2)
    dL/da_o  = dL/dm_t * tanh(c_t) * o_t (1 - o_t)
    dL/dh_{t-1} gets  dL/da_t W_hh      (the four blocks stacked as in W_hh)

GRU, with ``u_t = h_{t-1} W_hn^T + b_hn`` the recurrent part of the candidate::

    dL/da_n  = dL/dh_t * (1 - z_t) * (1 - n_t^2)
    dL/da_r  = dL/da_n * u_t * r_t (1 - r_t)
    dL/da_z  = dL/dh_t * (h_{t-1} - n_t) * z_t (1 - z_t)
    dL/dh_{t-1} gets  dL/dh_t * z_t + [da_r, da_z, da_n * r_t] W_hh

Everything that does not feed the recurrence is computed for all steps at
once: the coefficients above (from the saved gates), then after the loop the
weight gradients, one matrix multiply each over all steps. A backward step is
then one ``addmm_`` and a few in-place products, with no allocation; the
input projections of the forward pass are one matrix multiply. The step order
and the packed-batch bookkeeping come from :mod:`rnn_lib.functional`.

As in :mod:`rnn_lib.bptt`, a double backward (``create_graph=True``) or
batched gradients (``is_grads_batched=True``) replay the autograd reference.

Read next: :mod:`rnn_lib.models`, the character model that uses these cells.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from rnn_lib import gated_functional
from rnn_lib.custom_backward import autocast_off, replay_needed, under_autocast
from rnn_lib.packing import (
    add_final_grads,
    final_states,
    previous_states,
    sequence_batch_sizes,
    state_sources,
    time_steps,
    zero_ended_rows,
)

Tensor = torch.Tensor


# ---------------------------------------------------------------------------
# Shared by the two cells


def _input_projections(x: Tensor, w_ih: Tensor, bias: Tensor | None) -> Tensor:
    """``x_t W_ih^T + bias`` for every step, one matrix multiply: (L, N, G)."""
    L, N, H_in = x.shape
    x2d = x.reshape(L * N, H_in)  # (L*N, H_in)
    out = torch.mm(x2d, w_ih.t()) if bias is None else torch.addmm(bias, x2d, w_ih.t())
    return out.view(L, N, w_ih.shape[0])  # (L, N, G)


def _sum_bias(b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor | None:
    if b_ih is None:
        return b_hh
    return b_ih if b_hh is None else b_ih + b_hh


def _replay(layer, ctx, grads):
    """The backward pass by autograd through the reference loop (see module doc)."""
    inputs, need = ctx.saved_tensors[: ctx.n_inputs], ctx.needs_input_grad
    need = need[: ctx.n_inputs]
    with torch.enable_grad():
        outputs = layer(*inputs, reverse=ctx.reverse, batch_sizes=ctx.batch_sizes)
    outputs = [outputs[0], *outputs[1]] if isinstance(outputs[1], tuple) else outputs
    wanted = [t for t, n in zip(inputs, need) if n]
    computed = iter(torch.autograd.grad(outputs, wanted, grads, create_graph=True))
    return (*(next(computed) if n else None for n in need), None, None)


# ---------------------------------------------------------------------------
# LSTM


def _lstm_recur(gates, h, c, tc, m, h_0, c_0, w_hh, w_hr, reverse, batch_sizes):
    """The LSTM's loop over time, writing every step's states in place.

    Inputs: gates (L, N, 4 H) holding the input projections; it leaves with
    the gate activations i, f, g, o. h (L, N, P), c, tc = tanh(c) and m = o *
    tc (L, N, H) are filled (m only with a projection, else it is h).
    """
    L, N = gates.shape[0], gates.shape[1]
    H = c.shape[2]
    w_hh_t = w_hh.t()
    for t in time_steps(L, reverse):
        b = N if batch_sizes is None else batch_sizes[t]
        g_t = gates[t]
        for lo, hi, src in state_sources(t, L, N, batch_sizes, reverse):
            prev = h_0 if src is None else h[src]
            g_t[lo:hi].addmm_(prev[lo:hi], w_hh_t)
        if b < N:
            g_t = g_t[:b]
        g_t[:, : 2 * H].sigmoid_()  # i, f
        g_t[:, 2 * H : 3 * H].tanh_()  # g
        g_t[:, 3 * H :].sigmoid_()  # o
        i, f, g, o = g_t.split(H, 1)
        c_t = c[t, :b]
        for lo, hi, src in state_sources(t, L, N, batch_sizes, reverse):
            prev = c_0 if src is None else c[src]
            torch.mul(f[lo:hi], prev[lo:hi], out=c_t[lo:hi])
        c_t.addcmul_(i, g)  # c_t = f * c_{t-1} + i * g
        torch.tanh(c_t, out=tc[t, :b])
        torch.mul(o, tc[t, :b], out=m[t, :b])
        if w_hr is not None:
            torch.mm(m[t, :b], w_hr.t(), out=h[t, :b])  # (b, P)


def _lstm_recur_dense(gates, h, c, tc, m, h_0, c_0, w_hh, w_hr, reverse):
    """:func:`_lstm_recur` when every row runs every step: the same loop, with
    every per-step view made once before it (a view costs as much as a small
    product)."""
    H = c.shape[2]
    steps, c_s, tc_s, m_s, h_s = (t.unbind(0) for t in (gates, c, tc, m, h))
    i_s, f_s, g_s, o_s = (gates[..., k * H : (k + 1) * H].unbind(0) for k in range(4))
    if_s = gates[..., : 2 * H].unbind(0)  # i and f side by side: one sigmoid
    w_hh_t = w_hh.t()
    w_hr_t = None if w_hr is None else w_hr.t()
    h_prev, c_prev = h_0, c_0
    for t in time_steps(len(steps), reverse):
        steps[t].addmm_(h_prev, w_hh_t)
        if_s[t].sigmoid_()
        g_s[t].tanh_()
        o_s[t].sigmoid_()
        torch.mul(f_s[t], c_prev, out=c_s[t])
        c_s[t].addcmul_(i_s[t], g_s[t])  # c_t = f * c_{t-1} + i * g
        torch.tanh(c_s[t], out=tc_s[t])
        torch.mul(o_s[t], tc_s[t], out=m_s[t])
        if w_hr_t is not None:
            torch.mm(m_s[t], w_hr_t, out=h_s[t])  # (N, P)
        h_prev, c_prev = h_s[t], c_s[t]


def _lstm_deltas_dense(K, A, f, dh, dc, w_hh, w_hr, reverse):
    """:func:`_lstm_deltas` when every row runs every step, views made once."""
    L, N, H = dc.shape
    dh_0 = dh.new_zeros(N, dh.shape[2])
    dc_0 = dc.new_zeros(N, H)
    K4 = K.view(L, N, 4, H)
    K_s, K_ifg, K_o = K.unbind(0), K4[:, :, :3].unbind(0), K4[:, :, 3].unbind(0)
    dh_s, dc_s, dc_wide = dh.unbind(0), dc.unbind(0), dc.unsqueeze(2).unbind(0)
    A_s, f_s = A.unbind(0), f.unbind(0)
    for t in time_steps(L, not reverse):
        dm = dh_s[t] if w_hr is None else dh_s[t] @ w_hr  # (N, H)
        dc_s[t].addcmul_(dm, A_s[t])  # total dL/dc_t
        K_ifg[t].mul_(dc_wide[t])  # da_i, da_f, da_g
        K_o[t].mul_(dm)  # da_o
        if t == (L - 1 if reverse else 0):  # this step read h_0 and c_0
            to_h, to_c = dh_0, dc_0
        else:
            before = t + 1 if reverse else t - 1
            to_h, to_c = dh_s[before], dc_s[before]
        to_h.addmm_(K_s[t], w_hh)
        to_c.addcmul_(dc_s[t], f_s[t])
    return dh_0, dc_0


def _lstm_coefficients(gates, c, tc, c_prev) -> tuple[Tensor, Tensor]:
    """For all steps at once: K (L, N, 4 H) and A (L, N, H) of the derivation.

    ``dL/da = [dc K_i, dc K_f, dc K_g, dm K_o]`` and ``dc = ... + dm A``.
    Written as in-place passes over the saved gates (``x - x * x`` is
    ``x (1 - x)``), so that no temporary the size of the sequence is made.
    """
    i, f, g, o = gates.chunk(4, 2)
    K = torch.empty_like(gates)
    K_i, K_f, K_g, K_o = K.chunk(4, 2)
    torch.addcmul(i, i, i, value=-1, out=K_i).mul_(g)  # g i (1 - i)
    torch.addcmul(f, f, f, value=-1, out=K_f).mul_(c_prev)  # c_{t-1} f (1 - f)
    torch.mul(i, g, out=K_g)
    torch.addcmul(i, K_g, g, value=-1, out=K_g)  # i (1 - g^2)
    torch.addcmul(o, o, o, value=-1, out=K_o).mul_(tc)  # tanh(c) o (1 - o)
    A = torch.mul(o, tc)
    torch.addcmul(o, A, tc, value=-1, out=A)  # o (1 - tanh(c)^2)
    return K, A


def _lstm_deltas(K, A, f, dh, dc, w_hh, w_hr, reverse, batch_sizes):
    """Turn K into dL/da for every step, going backwards; return the h_0, c_0 parts.

    ``dh`` (L, N, P) and ``dc`` (L, N, H) hold the direct parts and collect
    what each step passes back.
    """
    L, N, H = dc.shape
    dh_0 = dh.new_zeros(N, dh.shape[2])
    dc_0 = dc.new_zeros(N, H)
    K4 = K.view(L, N, 4, H)
    for t in time_steps(L, not reverse):
        b = N if batch_sizes is None else batch_sizes[t]
        dm = dh[t, :b] if w_hr is None else dh[t, :b] @ w_hr  # (b, H)
        dc_t = dc[t, :b].addcmul_(dm, A[t, :b])  # total dL/dc_t
        K4[t, :b, :3].mul_(dc_t.unsqueeze(1))  # da_i, da_f, da_g
        K4[t, :b, 3].mul_(dm)  # da_o
        for lo, hi, src in state_sources(t, L, N, batch_sizes, reverse):
            to_h, to_c = (dh_0, dc_0) if src is None else (dh[src], dc[src])
            to_h[lo:hi].addmm_(K[t, lo:hi], w_hh)
            to_c[lo:hi].addcmul_(dc[t, lo:hi], f[t, lo:hi])
    return dh_0, dc_0


class LSTMLayerFunction(torch.autograd.Function):
    """One LSTM layer over a sequence, with the hand-derived backward pass.

    Called through :func:`lstm_layer`, which validates the arguments.
    """

    @staticmethod
    @autocast_off
    def forward(ctx, x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, batch_sizes):
        L, N = x.shape[0], x.shape[1]
        H = c_0.shape[1]
        gates = _input_projections(x, w_ih, _sum_bias(b_ih, b_hh))  # (L, N, 4 H)
        # Dense, every entry is written; packed, the zero rows are the padding.
        new = x.new_empty if batch_sizes is None else x.new_zeros
        h = new(L, N, h_0.shape[1])  # (L, N, P)
        c, tc = new(L, N, H), new(L, N, H)
        m = h if w_hr is None else new(L, N, H)
        if batch_sizes is None:
            _lstm_recur_dense(gates, h, c, tc, m, h_0, c_0, w_hh, w_hr, reverse)
        else:
            _lstm_recur(gates, h, c, tc, m, h_0, c_0, w_hh, w_hr, reverse, batch_sizes)
        h_n = final_states(h, h_0, batch_sizes, reverse)
        c_n = final_states(c, c_0, batch_sizes, reverse)
        ctx.save_for_backward(
            x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, gates, h, c, tc, m
        )
        ctx.reverse, ctx.batch_sizes, ctx.n_inputs = reverse, batch_sizes, 8
        return h, h_n, c_n

    @staticmethod
    @autocast_off
    def backward(ctx, grad_output, grad_h_n, grad_c_n):
        if replay_needed(grad_output, grad_h_n, grad_c_n):
            return _replay(_reference_lstm, ctx, (grad_output, grad_h_n, grad_c_n))
        x, h_0, c_0, w_ih, w_hh, _, _, w_hr, gates, h, c, tc, m = ctx.saved_tensors
        reverse, batch_sizes = ctx.reverse, ctx.batch_sizes
        c_prev = previous_states(c, c_0, batch_sizes, reverse)
        K, A = _lstm_coefficients(gates, c, tc, c_prev)
        zero_ended_rows(K, batch_sizes)
        dh = grad_output.clone(memory_format=torch.contiguous_format)  # (L, N, P)
        zero_ended_rows(dh, batch_sizes)
        dc = torch.zeros_like(c)
        direct_h = add_final_grads(dh, grad_h_n, batch_sizes, reverse)
        direct_c = add_final_grads(dc, grad_c_n, batch_sizes, reverse)
        f = gates[..., c.shape[2] : 2 * c.shape[2]]
        if batch_sizes is None:
            dh_0, dc_0 = _lstm_deltas_dense(K, A, f, dh, dc, w_hh, w_hr, reverse)
        else:
            dh_0, dc_0 = _lstm_deltas(K, A, f, dh, dc, w_hh, w_hr, reverse, batch_sizes)
        h_prev = previous_states(h, h_0, batch_sizes, reverse)
        grads = _weight_grads(ctx.needs_input_grad, K, x, h_prev, w_ih, w_hh)
        grad_w_hr = None
        if w_hr is not None and ctx.needs_input_grad[7]:
            grad_w_hr = dh.flatten(0, 1).t() @ m.flatten(0, 1)  # (P, H)
        grad_x, grad_w_ih, grad_w_hh, grad_b = grads
        return (
            grad_x,
            dh_0 if direct_h is None else dh_0 + direct_h,
            dc_0 if direct_c is None else dc_0 + direct_c,
            grad_w_ih,
            grad_w_hh,
            grad_b if ctx.needs_input_grad[5] else None,
            grad_b if ctx.needs_input_grad[6] else None,
            grad_w_hr,
            None,
            None,
        )


def _weight_grads(need, d_in, x, h_prev, w_ih, w_hh, d_rec=None):
    """dL/dx, dL/dW_ih, dL/dW_hh and dL/db_ih, one matrix multiply each.

    ``d_in`` (L, N, G) is dL/da for the input projections, ``d_rec`` the one
    for the recurrent projections (the same tensor unless a gate multiplies
    the recurrent part, as the GRU's reset gate does).
    """
    L, N, H_in = x.shape
    d2d = d_in.flatten(0, 1)  # (L*N, G)
    r2d = d2d if d_rec is None else d_rec.flatten(0, 1)
    grad_x = torch.mm(d2d, w_ih).view(L, N, H_in) if need[0] else None
    grad_w_ih = torch.mm(d2d.t(), x.reshape(L * N, H_in))
    grad_w_hh = torch.mm(r2d.t(), h_prev.flatten(0, 1))
    return grad_x, grad_w_ih, grad_w_hh, d2d.sum(0)


def _reference_lstm(x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, batch_sizes):
    output, (h_n, c_n) = gated_functional.lstm_layer(
        x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, batch_sizes
    )
    return output, h_n, c_n


# ---------------------------------------------------------------------------
# GRU


def _gru_recur(gx, gh, h, h_0, w_hh, b_hh, reverse, batch_sizes):
    """The GRU's loop over time, writing every step's states in place.

    Inputs: gx (L, N, 3 H) holding the input projections ``x W_ih^T + b_ih``;
    it leaves with the activations r, z, n. gh (L, N, 3 H) is filled with the
    recurrent projections ``h_{t-1} W_hh^T + b_hh`` and h (L, N, H) with the
    states.
    """
    L, N, H = h.shape
    w_hh_t = w_hh.t()
    for t in time_steps(L, reverse):
        b = N if batch_sizes is None else batch_sizes[t]
        for lo, hi, src in state_sources(t, L, N, batch_sizes, reverse):
            prev = (h_0 if src is None else h[src])[lo:hi]
            if b_hh is None:
                torch.mm(prev, w_hh_t, out=gh[t, lo:hi])
            else:
                torch.addmm(b_hh, prev, w_hh_t, out=gh[t, lo:hi])
        x_t, h_t = gx[t, :b], gh[t, :b]
        rz = x_t[:, : 2 * H].add_(h_t[:, : 2 * H]).sigmoid_()  # r, z
        n = x_t[:, 2 * H :].addcmul_(rz[:, :H], h_t[:, 2 * H :]).tanh_()
        for lo, hi, src in state_sources(t, L, N, batch_sizes, reverse):
            prev = (h_0 if src is None else h[src])[lo:hi]
            # h_t = n + z * (h_{t-1} - n) = (1 - z) * n + z * h_{t-1}
            torch.lerp(n[lo:hi], prev, rz[lo:hi, H:], out=h[t, lo:hi])


def _gru_recur_dense(gx, gh, h, h_0, w_hh, b_hh, reverse):
    """:func:`_gru_recur` when every row runs every step, views made once."""
    H = h.shape[2]
    gh_s, h_s = gh.unbind(0), h.unbind(0)
    x_rz, x_n = gx[..., : 2 * H].unbind(0), gx[..., 2 * H :].unbind(0)
    h_rz, h_n = gh[..., : 2 * H].unbind(0), gh[..., 2 * H :].unbind(0)
    r_s, z_s = gx[..., :H].unbind(0), gx[..., H : 2 * H].unbind(0)
    w_hh_t = w_hh.t()
    prev = h_0
    for t in time_steps(len(h_s), reverse):
        if b_hh is None:
            torch.mm(prev, w_hh_t, out=gh_s[t])
        else:
            torch.addmm(b_hh, prev, w_hh_t, out=gh_s[t])
        x_rz[t].add_(h_rz[t]).sigmoid_()  # r, z
        x_n[t].addcmul_(r_s[t], h_n[t]).tanh_()  # n
        torch.lerp(x_n[t], prev, z_s[t], out=h_s[t])  # (1 - z) * n + z * h_{t-1}
        prev = h_s[t]


def _gru_deltas_dense(K_h, z, dh, w_hh, reverse) -> Tensor:
    """:func:`_gru_deltas` when every row runs every step, views made once."""
    L, N, H = dh.shape
    dh_0 = dh.new_zeros(N, H)
    K_s, K_wide = K_h.unbind(0), K_h.view(L, N, 3, H).unbind(0)
    dh_s, dh_wide, z_s = dh.unbind(0), dh.unsqueeze(2).unbind(0), z.unbind(0)
    for t in time_steps(L, not reverse):
        K_wide[t].mul_(dh_wide[t])
        if t == (L - 1 if reverse else 0):  # this step read h_0
            to_h = dh_0
        else:
            to_h = dh_s[t + 1 if reverse else t - 1]
        to_h.addmm_(K_s[t], w_hh)
        to_h.addcmul_(dh_s[t], z_s[t])
    return dh_0


def _gru_coefficients(gx, gh, h_prev) -> tuple[Tensor, Tensor]:
    """For all steps at once: dL/da = dL/dh_t * K_x (input side), * K_h (recurrent).

    Outputs: K_x, K_h, each (L, N, 3 H), blocks r, z, n; in-place passes as
    in :func:`_lstm_coefficients`.
    """
    r, z, n = gx.chunk(3, 2)
    H = r.shape[2]
    u = gh[..., 2 * H :]  # h_{t-1} W_hn^T + b_hn
    K_x = torch.empty_like(gx)
    K_r, K_z, K_n = K_x.chunk(3, 2)
    torch.mul(n, n, out=K_n).neg_().add_(1)  # 1 - n^2
    torch.addcmul(K_n, K_n, z, value=-1, out=K_n)  # (1 - z) (1 - n^2)
    torch.addcmul(r, r, r, value=-1, out=K_r).mul_(u).mul_(K_n)  # K_n u r (1 - r)
    torch.addcmul(z, z, z, value=-1, out=K_z).mul_(h_prev - n)  # (h - n) z (1 - z)
    K_h = K_x.clone()
    K_h[..., 2 * H :].mul_(r)
    return K_x, K_h


def _gru_deltas(K_h, z, dh, w_hh, reverse, batch_sizes) -> Tensor:
    """Complete dL/dh_t for every step going backwards; K_h becomes dL/da (recurrent).

    ``dh`` (L, N, H) holds the direct parts and collects what each step
    passes back. Returns the part that reaches h_0, (N, H).
    """
    L, N, H = dh.shape
    dh_0 = dh.new_zeros(N, H)
    K3 = K_h.view(L, N, 3, H)
    for t in time_steps(L, not reverse):
        b = N if batch_sizes is None else batch_sizes[t]
        K3[t, :b].mul_(dh[t, :b].unsqueeze(1))
        for lo, hi, src in state_sources(t, L, N, batch_sizes, reverse):
            to_h = dh_0 if src is None else dh[src]
            to_h[lo:hi].addmm_(K_h[t, lo:hi], w_hh)
            to_h[lo:hi].addcmul_(dh[t, lo:hi], z[t, lo:hi])
    return dh_0


class GRULayerFunction(torch.autograd.Function):
    """One GRU layer over a sequence, with the hand-derived backward pass.

    Called through :func:`gru_layer`, which validates the arguments.
    """

    @staticmethod
    @autocast_off
    def forward(ctx, x, h_0, w_ih, w_hh, b_ih, b_hh, reverse, batch_sizes):
        L, N = x.shape[0], x.shape[1]
        H = h_0.shape[1]
        gx = _input_projections(x, w_ih, b_ih)  # (L, N, 3 H)
        # Dense, every entry is written; packed, the zero rows are the padding.
        new = x.new_empty if batch_sizes is None else x.new_zeros
        gh, h = new(L, N, 3 * H), new(L, N, H)
        if batch_sizes is None:
            _gru_recur_dense(gx, gh, h, h_0, w_hh, b_hh, reverse)
        else:
            _gru_recur(gx, gh, h, h_0, w_hh, b_hh, reverse, batch_sizes)
        h_n = final_states(h, h_0, batch_sizes, reverse)
        ctx.save_for_backward(x, h_0, w_ih, w_hh, b_ih, b_hh, gx, gh, h)
        ctx.reverse, ctx.batch_sizes, ctx.n_inputs = reverse, batch_sizes, 6
        return h, h_n

    @staticmethod
    @autocast_off
    def backward(ctx, grad_output, grad_h_n):
        if replay_needed(grad_output, grad_h_n):
            return _replay(_reference_gru, ctx, (grad_output, grad_h_n))
        x, h_0, w_ih, w_hh, _, _, gx, gh, h = ctx.saved_tensors
        reverse, batch_sizes = ctx.reverse, ctx.batch_sizes
        H = h.shape[2]
        h_prev = previous_states(h, h_0, batch_sizes, reverse)
        K_x, K_h = _gru_coefficients(gx, gh, h_prev)
        zero_ended_rows(K_h, batch_sizes)
        dh = grad_output.clone(memory_format=torch.contiguous_format)  # (L, N, H)
        zero_ended_rows(dh, batch_sizes)
        direct = add_final_grads(dh, grad_h_n, batch_sizes, reverse)
        z = gx[..., H : 2 * H]
        if batch_sizes is None:
            dh_0 = _gru_deltas_dense(K_h, z, dh, w_hh, reverse)
        else:
            dh_0 = _gru_deltas(K_h, z, dh, w_hh, reverse, batch_sizes)
        d_in = K_x.view(*dh.shape[:2], 3, H).mul_(dh.unsqueeze(2)).view_as(K_x)
        zero_ended_rows(d_in, batch_sizes)
        need = ctx.needs_input_grad
        grad_x, grad_w_ih, grad_w_hh, grad_b_ih = _weight_grads(
            need, d_in, x, h_prev, w_ih, w_hh, K_h
        )
        return (
            grad_x,
            dh_0 if direct is None else dh_0 + direct,
            grad_w_ih,
            grad_w_hh,
            grad_b_ih if need[4] else None,
            K_h.flatten(0, 1).sum(0) if need[5] else None,
            None,
            None,
        )


def _reference_gru(x, h_0, w_ih, w_hh, b_ih, b_hh, reverse, batch_sizes):
    return gated_functional.gru_layer(
        x, h_0, w_ih, w_hh, b_ih, b_hh, reverse, batch_sizes
    )


# ---------------------------------------------------------------------------
# The layer functions


def lstm_layer(
    x: Tensor,
    h_0: Tensor,
    c_0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    w_hr: Tensor | None = None,
    reverse: bool = False,
    batch_sizes: Sequence[int] | Tensor | None = None,
) -> tuple[Tensor, tuple[Tensor, Tensor]]:
    """One LSTM layer, backpropagated by hand: :func:`rnn_lib.gated_functional.lstm_layer`'s
    semantics (arguments, shapes, packed batches), another backward pass."""
    batch_sizes = sequence_batch_sizes(x.shape[0], x.shape[1], batch_sizes)
    tensors = under_autocast(x, (x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr))
    output, h_n, c_n = LSTMLayerFunction.apply(*tensors, reverse, batch_sizes)
    return output, (h_n, c_n)


def gru_layer(
    x: Tensor,
    h_0: Tensor,
    w_ih: Tensor,
    w_hh: Tensor,
    b_ih: Tensor | None = None,
    b_hh: Tensor | None = None,
    reverse: bool = False,
    batch_sizes: Sequence[int] | Tensor | None = None,
) -> tuple[Tensor, Tensor]:
    """One GRU layer, backpropagated by hand: :func:`rnn_lib.gated_functional.gru_layer`'s
    semantics (arguments, shapes, packed batches), another backward pass."""
    batch_sizes = sequence_batch_sizes(x.shape[0], x.shape[1], batch_sizes)
    tensors = under_autocast(x, (x, h_0, w_ih, w_hh, b_ih, b_hh))
    return GRULayerFunction.apply(*tensors, reverse, batch_sizes)
