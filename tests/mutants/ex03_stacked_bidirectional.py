"""Wrong solutions to exercises 3.3 (stacked_rnn) and 3.4 (bidirectional_rnn)."""

import torch

from mutants import mutant
from rnn_lib.functional import rnn_layer


@mutant("stacked_rnn", "every layer reads x")
def stacked_reads_x(x, h_0, layers):
    finals = []
    for i, weights in enumerate(layers):
        output, h = rnn_layer(x, h_0[i], *weights)
        finals.append(h)
    return output, torch.stack(finals)


@mutant("stacked_rnn", "one initial state for every layer")
def stacked_one_state(x, h_0, layers):
    inp, finals = x, []
    for weights in layers:
        inp, h = rnn_layer(inp, h_0[0], *weights)
        finals.append(h)
    return inp, torch.stack(finals)


@mutant("stacked_rnn", "h_n holds only the last layer")
def stacked_last_h(x, h_0, layers):
    inp = x
    for i in range(len(layers)):
        inp, h = rnn_layer(inp, h_0[i], *layers[i])
    return inp, h


@mutant("stacked_rnn", "h_n's layers in reverse order")
def stacked_reversed_h_n(x, h_0, layers):
    inp, finals = x, []
    for i, weights in enumerate(layers):
        inp, h = rnn_layer(inp, h_0[i], *weights)
        finals.insert(0, h)
    return inp, torch.stack(finals)


@mutant("stacked_rnn", "output of the first layer returned")
def stacked_first_output(x, h_0, layers):
    outputs, finals = [], []
    inp = x
    for i, weights in enumerate(layers):
        inp, h = rnn_layer(inp, h_0[i], *weights)
        outputs.append(inp)
        finals.append(h)
    return outputs[0], torch.stack(finals)


@mutant("bidirectional_rnn", "backward outputs not flipped back")
def bi_no_flip_back(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    out_b, h_b = rnn_layer(torch.flip(x, [0]), h_0[1], *backward)
    return torch.cat((out_f, out_b), 2), torch.stack((h_f, h_b))


@mutant("bidirectional_rnn", "backward direction reads the sequence forwards")
def bi_no_flip(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    out_b, h_b = rnn_layer(x, h_0[1], *backward)
    return torch.cat([out_f, out_b], dim=-1), torch.stack([h_f, h_b])


@mutant("bidirectional_rnn", "backward h_n taken at the last time step")
def bi_h_n_last(x, h_0, forward, backward):
    out_f, _ = rnn_layer(x, h_0[0], *forward)
    out_b, _ = rnn_layer(x.flip(0), h_0[1], *backward)
    output = torch.cat([out_f, out_b.flip(0)], dim=-1)
    H = out_f.shape[-1]
    return output, torch.stack([output[-1, :, :H], output[-1, :, H:]])


@mutant("bidirectional_rnn", "halves concatenated in the wrong order")
def bi_wrong_order(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    out_b, h_b = rnn_layer(x.flip(0), h_0[1], *backward)
    return torch.cat([out_b.flip(0), out_f], dim=-1), torch.stack([h_f, h_b])


@mutant("bidirectional_rnn", "forward weights used for both directions")
def bi_shared_weights(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    out_b, h_b = rnn_layer(x.flip(0), h_0[1], *forward)
    return torch.cat([out_f, out_b.flip(0)], dim=-1), torch.stack([h_f, h_b])


@mutant("bidirectional_rnn", "one initial state for both directions")
def bi_one_state(x, h_0, forward, backward):
    out_f, h_f = rnn_layer(x, h_0[0], *forward)
    out_b, h_b = rnn_layer(x.flip(0), h_0[0], *backward)
    return torch.cat([out_f, out_b.flip(0)], dim=-1), torch.stack([h_f, h_b])
