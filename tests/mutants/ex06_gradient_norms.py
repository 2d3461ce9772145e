"""Wrong solutions to exercises 6.1 (jacobian_norms) and 6.2 (clip_grad_norm_)."""

import torch

from mutants import mutant


def _norms(h, w_hh, factor=lambda s: 1 - s**2, step=None, left=False, ord=2):
    L = h.shape[0]
    P = torch.eye(w_hh.shape[0], dtype=h.dtype)
    out = []
    for k in range(1, L + 1):
        J = step(h[L - k], w_hh) if step else torch.diag(factor(h[L - k])) @ w_hh
        P = J @ P if left else P @ J
        out.append(torch.linalg.matrix_norm(P, ord=ord))
    return torch.stack(out)


@mutant("jacobian_norms", "missing tanh' factor")
def jac_no_tanh(h, w_hh):
    L = h.shape[0]
    return torch.stack(
        [
            torch.linalg.matrix_norm(torch.linalg.matrix_power(w_hh, k), ord=2)
            for k in range(1, L + 1)
        ]
    )


@mutant("jacobian_norms", "tanh' written as 1 - h")
def jac_one_minus_h(h, w_hh):
    return _norms(h, w_hh, factor=lambda s: 1 - s)


@mutant("jacobian_norms", "tanh' factor on the wrong side")
def jac_wrong_side(h, w_hh):
    return _norms(h, w_hh, step=lambda s, w: w @ torch.diag(1 - s**2))


@mutant("jacobian_norms", "product in the wrong order")
def jac_wrong_order(h, w_hh):
    return _norms(h, w_hh, left=True)


@mutant("jacobian_norms", "transposed W_hh")
def jac_transposed(h, w_hh):
    return _norms(h, w_hh, step=lambda s, w: torch.diag(1 - s**2) @ w.T)


@mutant("jacobian_norms", "Frobenius norm instead of the spectral norm")
def jac_frobenius(h, w_hh):
    L = h.shape[0]
    P = torch.eye(w_hh.shape[0], dtype=h.dtype)
    out = torch.zeros(L, dtype=h.dtype)
    for k in range(1, L + 1):
        P = P @ ((1 - h[L - k] ** 2)[:, None] * w_hh)
        out[k - 1] = P.norm()
    return out


@mutant("jacobian_norms", "norms in reverse order")
def jac_reversed(h, w_hh):
    return _norms(h, w_hh).flip(0)


def _total(params):
    return sum((p.grad**2).sum() for p in params if p.grad is not None) ** 0.5


@mutant("clip_grad_norm_", "each gradient clipped on its own")
def clip_per_tensor(parameters, max_norm):
    total = _total(parameters)
    for p in parameters:
        if p.grad is not None:
            n = p.grad.norm()
            if n > max_norm:
                p.grad *= max_norm / n
    return total


@mutant("clip_grad_norm_", "values clamped instead of the norm")
def clip_values(parameters, max_norm):
    total = _total(parameters)
    for p in parameters:
        if p.grad is not None:
            p.grad.data = p.grad.data.clamp(-max_norm, max_norm)
    return total


@mutant("clip_grad_norm_", "always rescaled to max_norm")
def clip_always(parameters, max_norm):
    total = _total(parameters)
    for p in parameters:
        if p.grad is not None:
            p.grad.mul_(max_norm / total)
    return total


@mutant("clip_grad_norm_", "norm returned after clipping")
def clip_returns_new_norm(parameters, max_norm):
    total = _total(parameters)
    if total > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(max_norm / total)
    return _total(parameters)


@mutant("clip_grad_norm_", "norms added instead of squares")
def clip_sum_of_norms(parameters, max_norm):
    total = sum(p.grad.norm() for p in parameters if p.grad is not None)
    if total > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(max_norm / total)
    return total


@mutant("clip_grad_norm_", "parameters without a gradient not skipped")
def clip_no_skip(parameters, max_norm):
    total = torch.sqrt(sum(p.grad.norm() ** 2 for p in parameters))
    if total > max_norm:
        for p in parameters:
            p.grad.mul_(max_norm / total)
    return total


@mutant("clip_grad_norm_", "gradients left unchanged")
def clip_scales_weights(parameters, max_norm):
    total = _total(parameters)
    if total > max_norm:
        with torch.no_grad():
            for p in parameters:
                p.mul_(max_norm / total)
    return total
