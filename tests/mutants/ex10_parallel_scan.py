"""Wrong solutions to exercises 10.1 (parallel_scan) and 10.2 (scan_backward)."""

import torch

from mutants import mutant
from rnn_lib.scan import linear_recurrence


def _with_h_0(a, b, h_0):
    return torch.cat([b[:1] + a[:1] * h_0, b[1:]])


def _merge(even, odd):
    """even[0], odd[0], even[1], ... (even may be one longer)."""
    out = torch.stack([even[: len(odd)], odd], dim=1).flatten(0, 1)
    return torch.cat([out, even[len(odd) :]])


def _scan(a, b, combine, fill):
    """The recursive scan: pairs up with ``combine``, states down with ``fill``."""
    L = a.shape[0]
    if L == 1:
        return b
    m = L // 2
    pa, pb = combine(
        a[0 : 2 * m : 2], b[0 : 2 * m : 2], a[1 : 2 * m : 2], b[1 : 2 * m : 2]
    )
    odd = _scan(pa, pb, combine, fill)
    return _merge(torch.cat([b[:1], fill(a, b, odd)]), odd)


def _right_combine(a1, b1, a2, b2):
    return a2 * a1, a2 * b1 + b2


def _right_fill(a, b, odd):
    n = (a.shape[0] - 1) // 2
    return a[2::2] * odd[:n] + b[2::2]


@mutant("parallel_scan", "composition in the wrong order")
def scan_swapped(a, b, h_0):
    def combine(a1, b1, a2, b2):
        return a1 * a2, a1 * b2 + b1

    return _scan(a, _with_h_0(a, b, h_0), combine, _right_fill)


@mutant("parallel_scan", "off-by-one in the down-sweep")
def scan_map_before(a, b, h_0):
    def fill(a, b, odd):
        n = (a.shape[0] - 1) // 2
        return a[1 : 2 * n : 2] * odd[:n] + b[1 : 2 * n : 2]

    return _scan(a, _with_h_0(a, b, h_0), _right_combine, fill)


@mutant("parallel_scan", "h_0 ignored")
def scan_from_zero(a, b, h_0):
    return _scan(a, b, _right_combine, _right_fill)


@mutant("parallel_scan", "lengths that are not a power of two")
def scan_pairs_by_view(a, b, h_0):
    def solve(a, b):
        L = a.shape[0]
        if L == 1:
            return b
        pa, pb = a.view(L // 2, 2, *a.shape[1:]), b.view(L // 2, 2, *b.shape[1:])
        odd = solve(pa[:, 1] * pa[:, 0], pa[:, 1] * pb[:, 0] + pb[:, 1])
        return _merge(torch.cat([b[:1], _right_fill(a, b, odd)]), odd)

    return solve(a, _with_h_0(a, b, h_0))


@mutant("parallel_scan", "a loop over the time steps")
def scan_by_loop(a, b, h_0):
    h = torch.empty_like(b)
    state = h_0
    for t in range(a.shape[0]):
        state = a[t] * state + b[t]
        h[t] = state
    return h


@mutant("parallel_scan", "division by a cumulative product of the coefficients")
def scan_closed_form(a, b, h_0):
    products = a.cumprod(0)
    return products * (h_0 + (b / products).cumsum(0))


@mutant("parallel_scan", "the state before each step")
def scan_exclusive(a, b, h_0):
    h = _scan(a, _with_h_0(a, b, h_0), _right_combine, _right_fill)
    return torch.cat([h_0.unsqueeze(0), h[:-1]])


# -- 10.2 ---------------------------------------------------------------------------


def _total(grad_h, coefficients):
    """g_t = grad_h_t + coefficients[t] * g_{t+1}, by a loop from the last step."""
    g = torch.zeros_like(grad_h)
    later = torch.zeros_like(grad_h[0])
    for t in reversed(range(grad_h.shape[0])):
        later = grad_h[t] + coefficients[t] * later
        g[t] = later
    return g


def _next(a):
    return torch.cat([a[1:], torch.zeros_like(a[:1])])


def _previous(h_0, h):
    return torch.cat([h_0[None], h[:-1]])


@mutant("scan_backward", "coefficients not shifted by one step")
def backward_own_coefficient(grad_h, a, h_0, h):
    g = _total(grad_h, a)
    return g * _previous(h_0, h), g, a[0] * g[0]


@mutant("scan_backward", "recurrence run forwards")
def backward_forwards(grad_h, a, h_0, h):
    g = linear_recurrence(a, grad_h)
    return g * _previous(h_0, h), g, a[0] * g[0]


@mutant("scan_backward", "dL/da_t with h_t instead of h_{t-1}")
def backward_current_state(grad_h, a, h_0, h):
    g = _total(grad_h, _next(a))
    return g * h, g, a[0] * g[0]


@mutant("scan_backward", "dL/dh_0 without the first coefficient")
def backward_h_0_direct(grad_h, a, h_0, h):
    g = _total(grad_h, _next(a))
    return g * _previous(h_0, h), g, g[0].clone()


@mutant("scan_backward", "only the direct gradient")
def backward_direct_only(grad_h, a, h_0, h):
    return grad_h * _previous(h_0, h), grad_h.clone(), a[0] * grad_h[0]


@mutant("scan_backward", "h_0 left out of dL/da_1")
def backward_zero_before(grad_h, a, h_0, h):
    g = _total(grad_h, _next(a))
    return g * _previous(torch.zeros_like(h_0), h), g, a[0] * g[0]
