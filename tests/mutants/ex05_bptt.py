"""Wrong solutions to exercises 5.1 (numerical_gradient), 5.2 (rnn_step_backward)
and 5.3 (rnn_backward)."""

import torch

from mutants import mutant


@mutant("numerical_gradient", "forward difference")
def numeric_forward(f, x, eps):
    grad = torch.zeros_like(x)
    base = f(x)
    for i in range(x.numel()):
        xp = x.clone()
        xp.view(-1)[i] += eps
        grad.view(-1)[i] = (f(xp) - base) / eps
    return grad


@mutant("numerical_gradient", "divided by eps instead of 2 eps")
def numeric_over_eps(f, x, eps):
    grad = torch.zeros_like(x)
    for idx in torch.cartesian_prod(*[torch.arange(n) for n in x.shape]).view(
        -1, x.dim()
    ):
        idx = tuple(idx.tolist())
        xp, xm = x.clone(), x.clone()
        xp[idx] += eps
        xm[idx] -= eps
        grad[idx] = (f(xp) - f(xm)) / eps
    return grad


@mutant("numerical_gradient", "perturbation not undone")
def numeric_not_restored(f, x, eps):
    grad = torch.zeros_like(x)
    flat = x.view(-1)
    for i in range(flat.numel()):
        flat[i] = flat[i] + eps
        f_plus = f(x)
        flat[i] = flat[i] - 2 * eps
        f_minus = f(x)
        grad.view(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad


@mutant("numerical_gradient", "all entries perturbed at once")
def numeric_all_at_once(f, x, eps):
    slope = (f(x + eps) - f(x - eps)) / (2 * eps)
    return slope * torch.ones_like(x)


@mutant("numerical_gradient", "gradient flattened")
def numeric_flat(f, x, eps):
    flat = x.reshape(-1)
    out = []
    for i in range(len(flat)):
        e = torch.zeros_like(flat)
        e[i] = eps
        out.append(
            (f((flat + e).view(x.shape)) - f((flat - e).view(x.shape))) / (2 * eps)
        )
    return torch.stack(out)


@mutant("numerical_gradient", "gradient stored in float32")
def numeric_float32(f, x, eps):
    grad = torch.zeros(x.shape)
    for i in range(x.numel()):
        e = torch.zeros(x.numel(), dtype=x.dtype)
        e[i] = eps
        e = e.reshape(x.shape)
        grad.view(-1)[i] = (f(x + e) - f(x - e)) / (2 * eps)
    return grad


@mutant("rnn_step_backward", "missing tanh' factor")
def step_back_no_tanh(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new
    return d @ w_ih, d @ w_hh, d.T @ x, d.T @ h, d.sum(dim=0)


@mutant("rnn_step_backward", "tanh' taken at the previous state")
def step_back_prev_state(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h.pow(2))
    return d @ w_ih, d @ w_hh, d.T @ x, d.T @ h, d.sum(dim=0)


@mutant("rnn_step_backward", "tanh' written as 1 - h_new")
def step_back_one_minus_h(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new)
    return d @ w_ih, d @ w_hh, d.T @ x, d.T @ h, d.sum(dim=0)


@mutant("rnn_step_backward", "W_hh gradient transposed")
def step_back_w_hh_t(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new * h_new)
    return (
        d @ w_ih,
        d @ w_hh,
        torch.einsum("nh,ni->hi", d, x),
        torch.einsum("nh,ni->ih", d, h),
        d.sum(0),
    )


@mutant("rnn_step_backward", "W_ih gradient transposed")
def step_back_w_ih_t(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new**2)
    return d @ w_ih, d @ w_hh, x.t() @ d, d.t() @ h, d.sum(0)


@mutant("rnn_step_backward", "state gradient through W_hh^T")
def step_back_grad_h_t(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new**2)
    return d @ w_ih, d @ w_hh.T, d.T @ x, d.T @ h, d.sum(0)


@mutant("rnn_step_backward", "bias gradient averaged over the batch")
def step_back_bias_mean(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new**2)
    return d @ w_ih, d @ w_hh, d.T @ x, d.T @ h, d.mean(0)


@mutant("rnn_step_backward", "bias gradient not summed over the batch")
def step_back_bias_rows(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new**2)
    return d @ w_ih, d @ w_hh, d.T @ x, d.T @ h, d


def _good_step(grad_h_new, x, h, h_new, w_ih, w_hh):
    d = grad_h_new * (1 - h_new**2)
    return d @ w_ih, d @ w_hh, d.T @ x, d.T @ h, d.sum(0)


def _layer(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh, carry=True, use_output=True,
           use_h_n=True, shift=False, add=True, step=_good_step):  # fmt: skip
    L = x.shape[0]
    grad_x = torch.zeros_like(x)
    g_w_ih, g_w_hh, g_b = 0, 0, 0
    g_h = grad_h_n.clone() if use_h_n else torch.zeros_like(grad_h_n)
    for t in range(L - 1, -1, -1):
        if use_output:
            g_h = g_h + grad_output[t]
        h_prev = output[t] if shift else (output[t - 1] if t > 0 else h_0)
        g_x, g_prev, a, b, c = step(g_h, x[t], h_prev, output[t], w_ih, w_hh)
        grad_x[t] = g_x
        if add:
            g_w_ih, g_w_hh, g_b = g_w_ih + a, g_w_hh + b, g_b + c
        else:
            g_w_ih, g_w_hh, g_b = a, b, c
        g_h = g_prev if carry else torch.zeros_like(g_prev)
        last = g_prev
    return grad_x, last, g_w_ih, g_w_hh, g_b


@mutant("rnn_backward", "gradient not carried back through time")
def back_no_carry(*args):
    return _layer(*args, carry=False)


@mutant("rnn_backward", "grad_output ignored")
def back_no_output(*args):
    return _layer(*args, use_output=False)


@mutant("rnn_backward", "grad_h_n ignored")
def back_no_h_n(*args):
    return _layer(*args, use_h_n=False)


@mutant("rnn_backward", "previous state off by one")
def back_shifted(*args):
    return _layer(*args, shift=True)


@mutant("rnn_backward", "weight gradients not summed over time")
def back_overwrite(*args):
    return _layer(*args, add=False)


@mutant("rnn_backward", "missing tanh' factor")
def back_no_tanh(*args):
    return _layer(*args, step=step_back_no_tanh)
