"""Crafted answers to exercises 5.1 (numerical_gradient), 5.2 (rnn_step_backward)
and 5.3 (rnn_backward)."""

import torch

from grading_submissions import correct, wrong


def rnn_step_backward(grad_h_new, x, h, h_new, w_ih, w_hh):
    """The notebook's own rnn_step_backward (right), which rnn_backward calls."""
    delta = grad_h_new * (1 - h_new**2)
    return delta @ w_ih, delta @ w_hh, delta.T @ x, delta.T @ h, delta.sum(0)


# -- right answers -----------------------------------------------------------------


@correct("numerical_gradient")
def numeric_basis(f, x, eps):
    n = x.numel()
    basis = torch.eye(n, dtype=x.dtype).reshape(n, *x.shape) * eps
    slopes = [(f(x + e) - f(x - e)) / (2 * eps) for e in basis]
    return torch.stack(slopes).reshape(x.shape)


@correct("numerical_gradient")
def numeric_in_place_restored(f, x, eps):
    grad = torch.empty_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        saved = flat[i].item()
        flat[i] = saved + eps
        up = f(x)
        flat[i] = saved - eps
        down = f(x)
        flat[i] = saved
        grad.view(-1)[i] = (up - down) / (2 * eps)
    return grad


@correct("rnn_step_backward")
def step_back_einsum(grad_h_new, x, h, h_new, w_ih, w_hh):
    delta = grad_h_new - grad_h_new * h_new * h_new
    return (
        torch.einsum("nh,hi->ni", delta, w_ih),
        torch.einsum("nh,hk->nk", delta, w_hh),
        torch.einsum("nh,ni->hi", delta, x),
        torch.einsum("nh,nk->hk", delta, h),
        torch.einsum("nh->h", delta),
    )


@correct("rnn_backward")
def back_deltas_then_weights(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh):
    L = x.shape[0]
    deltas = torch.zeros_like(output)  # (L, N, H_out), dL/da_t
    carried = grad_h_n
    for t in range(L - 1, -1, -1):
        deltas[t] = (carried + grad_output[t]) * (1 - output[t] ** 2)
        carried = deltas[t] @ w_hh
    previous = torch.cat([h_0[None], output[:-1]])
    return (
        deltas @ w_ih,
        carried,
        torch.einsum("lnh,lni->hi", deltas, x),
        torch.einsum("lnh,lnk->hk", deltas, previous),
        deltas.sum((0, 1)),
    )


@correct("rnn_backward")
def back_with_the_step(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh):
    grads = [None] * x.shape[0]
    total = [torch.zeros_like(w_ih), torch.zeros_like(w_hh), torch.zeros_like(w_hh[0])]
    grad_h = grad_h_n
    for t in reversed(range(x.shape[0])):
        h_prev = h_0 if t == 0 else output[t - 1]
        g_x, grad_h, *weights = rnn_step_backward(
            grad_output[t] + grad_h, x[t], h_prev, output[t], w_ih, w_hh
        )
        grads[t] = g_x
        total = [a + b for a, b in zip(total, weights)]
    return torch.stack(grads), grad_h, *total


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong(
    "numerical_gradient",
    "Your answers are the same for eps=0.001 and eps=0.1",
    "use the eps you are given",
)
def numeric_own_step(f, x, eps):
    eps = 1e-5  # "a small step is always better"
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x)
        e.view(-1)[i] = eps
        grad.view(-1)[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return grad


@wrong("numerical_gradient", "wrong even there")
def numeric_forward_own_step(f, x, eps):
    h = 1e-6
    base = f(x)
    grad = torch.zeros_like(x)
    for i in range(x.numel()):
        e = torch.zeros_like(x)
        e.view(-1)[i] = h
        grad.view(-1)[i] = (f(x + e) - base) / h
    return grad


@wrong("numerical_gradient", 'known mistake, "gradient stored in float32"')
def numeric_float32_back(f, x, eps):
    grad = torch.zeros(x.numel())
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=x.dtype)
        e[i] = eps
        grad[i] = (f(x + e.view(x.shape)) - f(x - e.view(x.shape))) / (2 * eps)
    return grad.view(x.shape).double()


@wrong("rnn_step_backward", "wrong even there")
def step_back_new_state_in_w_hh(grad_h_new, x, h, h_new, w_ih, w_hh):
    delta = grad_h_new * (1 - h_new**2)
    return delta @ w_ih, delta @ w_hh, delta.T @ x, delta.T @ h_new, delta.sum(0)


@wrong("rnn_step_backward", "correct when H_out=1, wrong when H_out=2")
def step_back_grad_x_transposed(grad_h_new, x, h, h_new, w_ih, w_hh):
    delta = grad_h_new * (1 - h_new**2)
    return delta @ w_ih.T, delta @ w_hh, delta.T @ x, delta.T @ h, delta.sum(0)


@wrong("rnn_backward", "correct when L=1, wrong when L=2")
def back_h_n_at_every_step(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh):
    grads, grad_h = [], torch.zeros_like(h_0)
    totals = [0, 0, 0]
    for t in reversed(range(x.shape[0])):
        h_prev = h_0 if t == 0 else output[t - 1]
        g_x, grad_h, *weights = rnn_step_backward(
            grad_output[t] + grad_h + grad_h_n, x[t], h_prev, output[t], w_ih, w_hh
        )
        grads.insert(0, g_x)
        totals = [a + b for a, b in zip(totals, weights)]
    return torch.stack(grads), grad_h, *totals
