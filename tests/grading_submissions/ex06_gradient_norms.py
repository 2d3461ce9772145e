"""Crafted answers to exercises 6.1 (jacobian_norms) and 6.2 (clip_grad_norm_)."""

import torch

from grading_submissions import correct, wrong

# -- right answers -----------------------------------------------------------------


@correct("jacobian_norms")
def jac_with_diag_and_svdvals(h, w_hh):
    L = h.shape[0]
    product = torch.eye(h.shape[1], dtype=h.dtype)
    norms = torch.zeros(L, dtype=h.dtype)
    for k in range(1, L + 1):
        product = product @ (torch.diag(1 - h[L - k] * h[L - k]) @ w_hh)
        norms[k - 1] = torch.linalg.svdvals(product)[0]
    return norms


@correct("clip_grad_norm_")
def clip_like_torch(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.linalg.vector_norm(torch.cat([g.reshape(-1) for g in grads]))
    factor = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g.mul_(factor)
    return total


@correct("clip_grad_norm_")
def clip_python_float(parameters, max_norm):
    total = sum(float((p.grad**2).sum()) for p in parameters if p.grad is not None)
    total = total**0.5
    if total > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad = p.grad * (max_norm / total)
    return total


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("jacobian_norms", "correct when L=1, wrong when L=2")
def jac_state_one_step_early(h, w_hh):
    L = h.shape[0]
    product, norms = torch.eye(h.shape[1], dtype=h.dtype), []
    for k in range(1, L + 1):
        state = h[max(L - k - 1, 0)]
        product = product @ ((1 - state**2)[:, None] * w_hh)
        norms.append(torch.linalg.matrix_norm(product, ord=2))
    return torch.stack(norms)


@wrong("jacobian_norms", "should be a tensor, but is a list")
def jac_as_floats(h, w_hh):
    L = h.shape[0]
    product, norms = torch.eye(h.shape[1], dtype=h.dtype), []
    for k in range(1, L + 1):
        product = product @ ((1 - h[L - k] ** 2)[:, None] * w_hh)
        norms.append(float(torch.linalg.matrix_norm(product, ord=2)))
    return norms


@wrong("clip_grad_norm_", "wrong even there")
def clip_by_the_weights(parameters, max_norm):
    total = torch.sqrt(sum((p.detach() ** 2).sum() for p in parameters))
    if total > max_norm:
        for p in parameters:
            if p.grad is not None:
                p.grad.mul_(max_norm / total)
    return total


@wrong("clip_grad_norm_", "correct when max_norm=100.0, wrong when max_norm=0.5")
def clip_squares_the_factor(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    if total > max_norm:
        for g in grads:
            g.mul_((max_norm / total) ** 2)
    return total
