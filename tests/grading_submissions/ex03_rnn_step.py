"""Crafted answers to exercises 3.1 (rnn_step) and 3.2 (rnn_layer)."""

import torch

from grading_submissions import correct, wrong


def rnn_step(x, h, w_ih, w_hh, b_ih, b_hh):
    """The notebook's own rnn_step (right), which the layers below call."""
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh)


# -- right answers -----------------------------------------------------------------


@correct("rnn_step")
def step_einsum(x, h, w_ih, w_hh, b_ih, b_hh):
    a = torch.einsum("ni,hi->nh", x, w_ih) + torch.einsum("nk,hk->nh", h, w_hh)
    return torch.tanh(a + (b_ih + b_hh))


@correct("rnn_step")
def step_linear(x, h, w_ih, w_hh, b_ih, b_hh):
    linear = torch.nn.functional.linear
    return torch.tanh(linear(x, w_ih, b_ih) + linear(h, w_hh, b_hh))


@correct("rnn_step")
def step_by_rows(x, h, w_ih, w_hh, b_ih, b_hh):
    rows = []
    for n in range(x.shape[0]):
        a = w_ih @ x[n] + w_hh @ h[n] + b_ih + b_hh
        rows.append((torch.exp(2 * a) - 1) / (torch.exp(2 * a) + 1))
    return torch.stack(rows)


@correct("rnn_layer")
def layer_preallocated(x, h_0, w_ih, w_hh, b_ih, b_hh):
    L, N = x.shape[0], x.shape[1]
    output = torch.empty(L, N, w_hh.shape[0], dtype=x.dtype)
    h = h_0
    for t in range(L):
        h = rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        output[t] = h
    return output, output[-1].clone()


@correct("rnn_layer")
def layer_projected_once(x, h_0, w_ih, w_hh, b_ih, b_hh):
    inputs = x @ w_ih.T + b_ih  # (L, N, H_out), all steps at once
    states, h = [], h_0
    for t in range(x.shape[0]):
        h = torch.tanh(inputs[t] + h @ w_hh.T + b_hh)
        states.append(h)
    return torch.stack(states), h


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("rnn_step", "correct when N=1, wrong when N=2", "rows of the batch")
def step_mixes_rows(x, h, w_ih, w_hh, b_ih, b_hh):
    # the state of every row is the sum of all rows' states
    return torch.tanh(x @ w_ih.T + b_ih + h.sum(0, keepdim=True) @ w_hh.T + b_hh)


@wrong("rnn_step", "correct when H_out=1, wrong when H_out=2")
def step_sums_units(x, h, w_ih, w_hh, b_ih, b_hh):
    # one scalar per row for the recurrent term, broadcast over the units
    return torch.tanh(x @ w_ih.T + b_ih + (h @ w_hh.T).sum(1, keepdim=True) + b_hh)


@wrong("rnn_step", "wrong even there", "rounding to float32")
def step_in_float32(x, h, w_ih, w_hh, b_ih, b_hh):
    a = x.float() @ w_ih.float().T + h.float() @ w_hh.float().T
    return torch.tanh(a + (b_ih + b_hh).float()).double()


@wrong("rnn_step", 'known mistake, "missing bias b_hh"')
def step_one_bias_broadcast(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(torch.addmm(b_ih, x, w_ih.t()) + torch.mm(h, w_hh.t()))


@wrong("rnn_step", "should be a tensor, but is a list")
def step_as_list(x, h, w_ih, w_hh, b_ih, b_hh):
    return torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh).tolist()


@wrong("rnn_layer", "correct when L=2, wrong when L=3", "carries over")
def layer_restarts_every_two(x, h_0, w_ih, w_hh, b_ih, b_hh):
    outputs, h = [], h_0
    for t in range(x.shape[0]):
        h = rnn_step(x[t], h if t % 2 else h_0, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


@wrong("rnn_layer", "correct when L=1, wrong when L=2")
def layer_doubles_the_state(x, h_0, w_ih, w_hh, b_ih, b_hh):
    outputs, h = [], h_0
    for t in range(x.shape[0]):
        h = rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
        h = 2 * h  # the state carried on is not the state stored
    return torch.stack(outputs), outputs[-1]


@wrong("rnn_layer", "h_n has shape", "expected (N, H_out)")
def layer_h_n_with_a_layer_axis(x, h_0, w_ih, w_hh, b_ih, b_hh):
    outputs, h = [], h_0
    for t in range(x.shape[0]):
        h = rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h[None]  # (1, N, H_out), like torch's
