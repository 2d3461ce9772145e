"""Wrong solutions to exercises 3.1 (rnn_step) and 3.2 (rnn_layer)."""

import torch

from mutants import mutant


def step(x, h, w_ih, w_hh, b_ih, b_hh):
    """A right rnn_step, the student's own, that the wrong layers below call."""
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


@mutant("rnn_step", "missing recurrent term")
def step_without_h(x, h, w_ih, w_hh, b_ih, b_hh):
    a = torch.matmul(x, w_ih.t()) + b_ih + b_hh
    return torch.tanh(a)


@mutant("rnn_step", "transposed W_hh")
def step_w_hh_transposed(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(torch.einsum("nh,hk->nk", h, w_hh) + x @ w_ih.T + b_ih + b_hh)


@mutant("rnn_step", "transposed W_ih")
def step_w_ih_transposed(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(x.matmul(w_ih) + b_ih + h.matmul(w_hh.T) + b_hh)


@mutant("rnn_step", "ReLU instead of tanh")
def step_relu(x, h, w_ih, w_hh, b_ih, b_hh):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return torch.clamp(a, min=0)


@mutant("rnn_step", "sigmoid instead of tanh")
def step_sigmoid(x, h, w_ih, w_hh, b_ih, b_hh):
    a = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
    return 1 / (1 + torch.exp(-a))


@mutant("rnn_step", "missing nonlinearity")
def step_linear(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.addmm(b_ih + b_hh, x, w_ih.T) + h @ w_hh.T


@mutant("rnn_step", "missing bias b_hh")
def step_one_bias(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(
        torch.nn.functional.linear(x, w_ih, b_ih) + torch.nn.functional.linear(h, w_hh)
    )


@mutant("rnn_step", "missing biases")
def step_no_bias(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(x @ w_ih.T + h @ w_hh.T)


@mutant("rnn_step", "tanh before the recurrent term")
def step_tanh_early(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(x @ w_ih.T + b_ih) + h @ w_hh.T + b_hh


@mutant("rnn_step", "state laid out as (H_out, N)")
def step_column_layout(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(w_ih @ x.T + w_hh @ h.T + b_ih.unsqueeze(1) + b_hh.unsqueeze(1))


@mutant("rnn_layer", "state not carried over")
def layer_forgets_state(x, h_0, w_ih, w_hh, b_ih, b_hh):
    outputs = []
    for t in range(x.shape[0]):
        outputs.append(step(x[t], h_0, w_ih, w_hh, b_ih, b_hh))
    return torch.stack(outputs), outputs[-1]


@mutant("rnn_layer", "outputs shifted by one step")
def layer_stores_before_update(x, h_0, w_ih, w_hh, b_ih, b_hh):
    L, N = x.shape[:2]
    output = torch.zeros(L, N, w_hh.shape[0], dtype=x.dtype)
    h = h_0
    for t in range(L):
        output[t] = h
        h = step(x[t], h, w_ih, w_hh, b_ih, b_hh)
    return output, h


@mutant("rnn_layer", "h_n is the first output")
def layer_h_n_first(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for x_t in x:
        h = step(x_t, h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    output = torch.stack(outputs)
    return output, output[0]


@mutant("rnn_layer", "h_n is the initial state")
def layer_h_n_initial(x, h_0, w_ih, w_hh, b_ih, b_hh):
    hs = [h_0]
    for x_t in x:
        hs.append(step(x_t, hs[-1], w_ih, w_hh, b_ih, b_hh))
    return torch.stack(hs[1:]), hs[0]


@mutant("rnn_layer", "sequence read backwards")
def layer_backwards(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for x_t in x.flip(0):
        h = step(x_t, h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


@mutant("rnn_layer", "batch taken as time")
def layer_batch_major(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for t in range(x.shape[1]):
        h = step(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h


@mutant("rnn_layer", "loop stops one step early")
def layer_one_short(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for t in range(len(x) - 1):
        h = step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


@mutant("rnn_layer", "outputs stacked along the batch axis")
def layer_wrong_stack(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for x_t in x:
        h = step(x_t, h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=1), h
