"""Crafted answers to exercises 3.3 (stacked_rnn) and 3.4 (bidirectional_rnn)."""

import torch

from grading_submissions import correct, wrong
from rnn_lib.functional import rnn_layer  # the notebook imports it too

# -- right answers -----------------------------------------------------------------


@correct("stacked_rnn")
def stacked_preallocated(x, h_0, layers):
    h_n = torch.empty_like(h_0)
    below = x
    for index, (w_ih, w_hh, b_ih, b_hh) in enumerate(layers):
        below, h_n[index] = rnn_layer(below, h_0[index], w_ih, w_hh, b_ih, b_hh)
    return below, h_n


@correct("stacked_rnn")
def stacked_recursive(x, h_0, layers):
    def run(below, starts, rest):
        if not rest:
            return below, []
        output, h = rnn_layer(below, starts[0], *rest[0])
        top, finals = run(output, starts[1:], rest[1:])
        return top, [h, *finals]

    top, finals = run(x, h_0, list(layers))
    return top, torch.stack(finals)


@correct("bidirectional_rnn")
def bidirectional_by_index(x, h_0, forward, backward):
    L = x.shape[0]
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    reversed_x = torch.stack([x[L - 1 - t] for t in range(L)])
    out_b, h_b = rnn_layer(reversed_x, h_0[1], *backward)
    out_b = torch.stack([out_b[L - 1 - t] for t in range(L)])
    return torch.cat((out_f, out_b), dim=2), torch.stack((h_f, h_b))


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("stacked_rnn", "correct when num_layers=1, wrong when num_layers=2")
def stacked_layers_read_the_sum(x, h_0, layers):
    below, finals = x, []
    for layer, weights in enumerate(layers):
        start = h_0[layer] if layer == 0 else h_0[layer] + finals[-1]
        below, h = rnn_layer(below, start, *weights)
        finals.append(h)
    return below, torch.stack(finals)


@wrong("stacked_rnn", "h_n", "expected (num_layers, N, H_out)")
def stacked_h_n_concatenated(x, h_0, layers):
    below, finals = x, []
    for layer, weights in enumerate(layers):
        below, h = rnn_layer(below, h_0[layer], *weights)
        finals.append(h)
    return below, torch.cat(finals, dim=-1)


@wrong("bidirectional_rnn", "wrong even there")
def bidirectional_mixed_weights(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    mixed = (forward[0], backward[1], backward[2], backward[3])  # forward's w_ih
    out_b, h_b = rnn_layer(x.flip(0), h_0[1], *mixed)
    return torch.cat([out_f, out_b.flip(0)], -1), torch.stack([h_f, h_b])


@wrong("bidirectional_rnn", "correct when L=2, wrong when L=3")
def bidirectional_rolled_not_flipped(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    out_b, h_b = rnn_layer(torch.roll(x, 1, dims=0), h_0[1], *backward)
    return torch.cat([out_f, out_b.flip(0)], -1), torch.stack([h_f, h_b])
