"""Crafted answers to exercises 10.1 (parallel_scan) and 10.2 (scan_backward)."""

import torch

from grading_submissions import correct, wrong
from rnn_lib.scan import linear_recurrence

# -- right answers -----------------------------------------------------------------


@correct("parallel_scan")
def scan_hillis_steele(a, b, h_0):
    # every step composes with the one d steps before it: log2(L) rounds, L log L work
    b = torch.cat([b[:1] + a[:1] * h_0, b[1:]])
    A, B, d = a.clone(), b.clone(), 1
    while d < a.shape[0]:
        A, B = (
            torch.cat([A[:d], A[d:] * A[:-d]]),
            torch.cat([B[:d], A[d:] * B[:-d] + B[d:]]),
        )
        d *= 2
    return B


@correct("parallel_scan")
def scan_padded_blelloch(a, b, h_0):
    # pad to a power of two with identity maps (1, 0), sweep up and down in place
    L = a.shape[0]
    size = 1 << (L - 1).bit_length()
    pad = size - L
    A = torch.cat([a, torch.ones(pad, *a.shape[1:], dtype=a.dtype)])
    B = torch.cat([b, torch.zeros(pad, *b.shape[1:], dtype=b.dtype)])
    B[0] = B[0] + A[0] * h_0
    levels = [(A, B)]
    while levels[-1][0].shape[0] > 1:
        A, B = levels[-1]
        levels.append((A[1::2] * A[0::2], A[1::2] * B[0::2] + B[1::2]))
    states = levels[-1][1]
    for A, B in reversed(levels[:-1]):
        full = torch.empty_like(B)
        full[1::2] = states
        full[0] = B[0]
        full[2::2] = A[2::2] * states[:-1] + B[2::2]
        states = full
    return states[:L]


@correct("scan_backward")
def backward_by_loop(grad_h, a, h_0, h):
    L = a.shape[0]
    g = torch.zeros_like(grad_h)
    carried = torch.zeros_like(h_0)
    for t in range(L - 1, -1, -1):
        carried = grad_h[t] + (a[t + 1] * carried if t + 1 < L else 0)
        g[t] = carried
    before = torch.cat([h_0.unsqueeze(0), h[:-1]])
    return g * before, g, a[0] * g[0]


@correct("scan_backward")
def backward_scanned(grad_h, a, h_0, h):
    shifted = torch.cat([torch.zeros_like(a[:1]), a.flip(0)[:-1]])
    g = linear_recurrence(shifted, grad_h.flip(0)).flip(0)
    return g * torch.cat([h_0[None], h[:-1]]), g, a[0] * g[0]


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("parallel_scan", "correct when L=1, wrong when L=2")
def scan_forgets_the_coefficient(a, b, h_0):
    # composes pairs as if a_t were 1: h_t = h_{t-1} + b_t
    b = torch.cat([b[:1] + a[:1] * h_0, b[1:]])
    return b.cumsum(0)


@wrong("parallel_scan", "should be a tensor, but is a list")
def scan_as_list(a, b, h_0):
    b = torch.cat([b[:1] + a[:1] * h_0, b[1:]])
    A, B, d = a.clone(), b.clone(), 1
    while d < a.shape[0]:
        A, B = (
            torch.cat([A[:d], A[d:] * A[:-d]]),
            torch.cat([B[:d], A[d:] * B[:-d] + B[d:]]),
        )
        d *= 2
    return list(B)


@wrong("scan_backward", "correct when L=1, wrong when L=2")
def backward_coefficient_squared(grad_h, a, h_0, h):
    L = a.shape[0]
    g = torch.zeros_like(grad_h)
    carried = torch.zeros_like(h_0)
    for t in range(L - 1, -1, -1):
        carried = grad_h[t] + (a[t + 1] ** 2 * carried if t + 1 < L else 0)
        g[t] = carried
    return g * torch.cat([h_0[None], h[:-1]]), g, a[0] * g[0]
