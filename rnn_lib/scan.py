"""Linear recurrences: the sequential loop, the parallel scan and its backward (chapter 10).

Chapter 10 (``book/10_linear_recurrences``) derives everything here. A
*linear diagonal recurrence* updates each unit of its state on its own,

    h_t = a_t * h_{t-1} + b_t,       t = 1..L, entry by entry,

with coefficients ``a_t`` and inputs ``b_t`` that do not depend on
``h_{t-1}`` (the chapter writes them lambda_t and beta_t, because a_t and b
already mean the pre-activation and the biases there). Step t is the affine
map ``f_t(h) = a_t h + b_t``, and affine maps compose into affine maps:

    f_t after f_s:  h -> a_t (a_s h + b_s) + b_t = (a_t a_s) h + (a_t b_s + b_t).

Composition is associative, so the states ``h_t = f_t(...f_1(h_0))``, the
prefixes of the sequence of maps, can be computed in any grouping (in exact
arithmetic; in floating point the groupings differ by rounding): in at most
2 floor(log2 L) rounds of elementwise work (:func:`_states`) instead of L
sequential steps. The rounds are those of Blelloch's scan (1990): an up-sweep
that composes neighbours pairwise, halving the sequence at each round
(floor(log2 L) rounds), and a down-sweep that comes back down and fills in
the states left out, each one step after a state already known. With h_0
folded into the first input, the first map of every level is already its
state, a copy; the down-sweep works only at the levels of three maps or more,
floor(log2(L / 3)) + 1 rounds for L >= 3 (two for L = 7, as many as up). The
work stays O(L): about L compositions (two multiplications and an addition
each) and L single steps, two to three times the loop's arithmetic, in log L
large operations instead of L small ones.

The backward pass is a linear recurrence too, running backwards. With
``g_t = dL/dh_t`` the total derivative and ``dL/doutput_t`` the gradient
arriving from above,

    g_t = dL/doutput_t + conj(a_{t+1}) * g_{t+1},     g_{L+1} = 0,
    dL/db_t = g_t,   dL/da_t = g_t * conj(h_{t-1}),   dL/dh_0 = conj(a_1) * g_1,

so it is scanned with the same rounds (``conj`` is torch's convention for
complex gradients and does nothing to real numbers). Because that backward is
written in differentiable torch operations, a double backward
(``create_graph=True``) and batched gradients (``is_grads_batched=True``)
need no replay of a reference, unlike :mod:`rnn_lib.bptt`; from
:mod:`rnn_lib.custom_backward` only :func:`autocast_off` is needed.

:func:`linear_recurrence` is the public function: ``method="loop"`` is the
sequential reference (backpropagated by autograd), ``method="scan"`` the
parallel scan with the hand-derived backward above.

Read next: :mod:`rnn_lib.linear_rnn`, the minGRU and the LRU built on it.
"""

from __future__ import annotations

import torch

from rnn_lib.custom_backward import autocast_off
from rnn_lib.validation import check_choice, check_tensor

Tensor = torch.Tensor

METHODS = ("scan", "loop")


# ---------------------------------------------------------------------------
# The sequential reference


def _loop(a: Tensor, b: Tensor, h_0: Tensor | None) -> Tensor:
    """``h_t = a_t * h_{t-1} + b_t`` one step at a time: (L, N, H)."""
    h = torch.zeros_like(b[0]) if h_0 is None else h_0  # (N, H)
    states = []
    for a_t, b_t in zip(a, b):
        h = a_t * h + b_t  # (N, H)
        states.append(h)
    return torch.stack(states)  # (L, N, H)


# ---------------------------------------------------------------------------
# The parallel scan


def _compose(a_first: Tensor, b_first: Tensor, a_then: Tensor, b_then: Tensor):
    """The affine map "``first``, then ``then``": ``(a_then a_first, a_then b_first + b_then)``."""
    return a_then * a_first, a_then * b_first + b_then


def _states(a: Tensor, b: Tensor) -> Tensor:
    """The states ``h_t = a_t h_{t-1} + b_t`` from ``h_0 = 0``, by the parallel scan.

    Inputs: a, b (L, ...). Outputs: h (L, ...). Sequential depth: floor(log2 L)
    rounds of elementwise operations up, and floor(log2(L / 3)) + 1 rounds of
    work down for L >= 3 (the first state of each level, ``h[0] = b[0]``, is a
    copy, and at a level of two maps the down-sweep's slice is empty); work
    O(L).
    """
    L = a.shape[0]
    if L == 1:
        return b  # h_1 = b_1
    # Up-sweep: compose the neighbours (index 0, 1), (2, 3), ...: L // 2 maps
    # of two steps each (an odd last step waits for the down-sweep).
    a_pairs, b_pairs = _compose(a[0 : L - 1 : 2], b[0 : L - 1 : 2], a[1::2], b[1::2])
    # The states at indices 1, 3, 5, ...: the same problem, half as long.
    h_odd = _states(a_pairs, b_pairs)  # (L // 2, ...)
    # Down-sweep: each state left out is one step after a state now known.
    h = torch.empty_like(b)  # (L, ...)
    h[1::2] = h_odd
    h[0] = b[0]
    h[2::2] = a[2::2] * h_odd[: (L - 1) // 2] + b[2::2]
    return h


def _scan(a: Tensor, b: Tensor, h_0: Tensor | None) -> Tensor:
    """The states ``h_1 .. h_L`` by the parallel scan: (L, N, H)."""
    if h_0 is not None:  # h_1 = a_1 h_0 + b_1: fold h_0 into the first input
        b = torch.cat((a[:1] * h_0 + b[:1], b[1:]))
    return _states(a, b)


def _reverse_scan(c: Tensor, u: Tensor) -> Tensor:
    """``g_t = u_t + c_{t+1} * g_{t+1}`` for t = L..1 (``c_{L+1}`` unused): (L, N, H)."""
    # Reversed, it is the forward recurrence g'_i = c'_i g'_{i-1} + u'_i with
    # c' the coefficients flipped and shifted by one step.
    shifted = torch.cat((torch.zeros_like(c[:1]), c.flip(0)[:-1]))  # (L, N, H)
    return _states(shifted, u.flip(0)).flip(0)


class LinearRecurrenceFunction(torch.autograd.Function):
    """The parallel scan, with the backward pass derived by hand (see the module doc).

    Called through :func:`linear_recurrence`, which validates the arguments;
    ``apply(a, b, h_0)`` takes ``h_0`` as a tensor or None.
    """

    @staticmethod
    @autocast_off
    def forward(ctx, a, b, h_0):
        h = _scan(a, b, h_0)  # (L, N, H)
        ctx.save_for_backward(a, h_0, h)
        return h

    @staticmethod
    @autocast_off
    def backward(ctx, grad_h):
        a, h_0, h = ctx.saved_tensors
        g = _reverse_scan(a.conj(), grad_h)  # dL/dh_t, (L, N, H)
        grad_a = grad_h_0 = None
        if ctx.needs_input_grad[0]:
            first = torch.zeros_like(h[:1]) if h_0 is None else h_0[None]
            h_prev = torch.cat((first, h[:-1]))  # h_0 .. h_{L-1}
            grad_a = g * h_prev.conj()
        if h_0 is not None and ctx.needs_input_grad[2]:
            grad_h_0 = a[0].conj() * g[0]  # (N, H)
        grad_b = g if ctx.needs_input_grad[1] else None
        return grad_a, grad_b, grad_h_0


# ---------------------------------------------------------------------------
# The public function


def _check_inputs(a, b, h_0) -> None:
    """Tensors of one floating or complex dtype, on one device, shaped alike."""
    check_tensor("a", a)
    check_tensor("b", b)
    if not (a.dtype.is_floating_point or a.dtype.is_complex):
        raise TypeError(f"expected a of a floating or complex dtype, got {a.dtype}")
    for name, tensor in (("b", b), ("h_0", h_0)):
        if tensor is None:
            continue
        check_tensor(name, tensor)
        if tensor.dtype != a.dtype:
            raise TypeError(
                f"expected {name} of dtype {a.dtype} (a's dtype), got {tensor.dtype}"
            )
        if tensor.device != a.device:
            raise ValueError(
                f"expected {name} on device {a.device} (a's device), got {tensor.device}"
            )
    if a.dim() != 3 or a.shape[0] == 0:
        raise ValueError(
            f"expected a of shape (L, N, H) with L >= 1, got {tuple(a.shape)}"
        )
    if b.shape != a.shape:
        raise ValueError(
            f"expected b of shape {tuple(a.shape)} (a's shape), got {tuple(b.shape)}"
        )
    if h_0 is not None and h_0.shape != a.shape[1:]:
        raise ValueError(
            f"expected h_0 of shape {tuple(a.shape[1:])}, got {tuple(h_0.shape)}"
        )


def linear_recurrence(
    a: Tensor, b: Tensor, h_0: Tensor | None = None, *, method: str = "scan"
) -> Tensor:
    """The states of ``h_t = a_t * h_{t-1} + b_t`` (entry by entry) for t = 1..L.

    Args:
        a: the coefficients a_t (the chapter's lambda_t), real or complex.
        b: the inputs b_t (the chapter's beta_t), of a's dtype.
        h_0: the initial state, of a's dtype; None for zeros.
        method: ``'scan'``, the parallel scan in at most 2 floor(log2 L)
            rounds, with the hand-derived backward; or ``'loop'``, the sequential reference,
            L steps, backpropagated by autograd. Both compute the same states
            up to rounding.

    Inputs:
        a, b: (L, N, H)
        h_0: (N, H)

    Outputs:
        h: (L, N, H), ``h[t - 1]`` is h_t.

    where:
        L = sequence length, N = batch size, H = number of units.

    Raises:
        TypeError: an argument is not a tensor, or the dtypes are not one
            floating or complex dtype.
        ValueError: the shapes do not match, L is 0, the devices differ, or
            ``method`` is neither ``'scan'`` nor ``'loop'``.

    Example::

        >>> a = torch.full((3, 1, 1), 0.5)
        >>> linear_recurrence(a, torch.ones(3, 1, 1)).flatten().tolist()
        [1.0, 1.5, 1.75]
    """
    check_choice("method", method, METHODS)
    _check_inputs(a, b, h_0)
    if method == "loop":
        return _loop(a, b, h_0)
    return LinearRecurrenceFunction.apply(a, b, h_0)
