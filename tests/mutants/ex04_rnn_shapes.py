"""Wrong solutions to exercises 4.1 (rnn_output_shapes), 4.2 (count_parameters)
and 4.3 (final_features)."""

import torch

from mutants import mutant


@mutant("rnn_output_shapes", "batch_first applied to h_n")
def shapes_h_n_batch_first(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 2 if bidirectional else 1
    if batch_first:
        return (N, L, D * H_out), (N, D * num_layers, H_out)
    return (L, N, D * H_out), (D * num_layers, N, H_out)


@mutant("rnn_output_shapes", "output missing the direction factor")
def shapes_no_d_in_output(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 2 if bidirectional else 1
    output = [N, L, H_out] if batch_first else [L, N, H_out]
    return output, [D * num_layers, N, H_out]


@mutant("rnn_output_shapes", "batch_first ignored")
def shapes_no_batch_first(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 1 + int(bidirectional)
    return torch.Size([L, N, D * H_out]), torch.Size([D * num_layers, N, H_out])


@mutant("rnn_output_shapes", "h_n missing num_layers")
def shapes_h_n_one_layer(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 2 if bidirectional else 1
    output = (N, L, D * H_out) if batch_first else (L, N, D * H_out)
    return output, (D, N, H_out)


@mutant("rnn_output_shapes", "h_n missing the direction factor")
def shapes_h_n_no_d(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 2 if bidirectional else 1
    output = (N, L, D * H_out) if batch_first else (L, N, D * H_out)
    return output, (num_layers, N, H_out)


@mutant("rnn_output_shapes", "directions in h_n's last axis")
def shapes_h_n_concat(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 2 if bidirectional else 1
    output = (N, L, D * H_out) if batch_first else (L, N, D * H_out)
    return output, (num_layers, N, D * H_out)


def _per_layer(H_in, H_out, num_layers, D, bias, n_biases=2, above=None):
    total = 0
    for layer in range(num_layers):
        inputs = H_in if layer == 0 else (above if above is not None else D * H_out)
        total += D * (
            H_out * inputs + H_out * H_out + (n_biases * H_out if bias else 0)
        )
    return total


@mutant("count_parameters", "one bias instead of two")
def count_one_bias(H_in, H_out, num_layers, bidirectional, bias):
    return _per_layer(
        H_in, H_out, num_layers, 2 if bidirectional else 1, bias, n_biases=1
    )


@mutant("count_parameters", "deeper layers reading H_in features")
def count_h_in_above(H_in, H_out, num_layers, bidirectional, bias):
    return _per_layer(
        H_in, H_out, num_layers, 2 if bidirectional else 1, bias, above=H_in
    )


@mutant(
    "count_parameters", "deeper layers reading H_out features in a bidirectional RNN"
)
def count_h_out_above(H_in, H_out, num_layers, bidirectional, bias):
    return _per_layer(
        H_in, H_out, num_layers, 2 if bidirectional else 1, bias, above=H_out
    )


@mutant("count_parameters", "directions not counted")
def count_one_direction(H_in, H_out, num_layers, bidirectional, bias):
    return _per_layer(H_in, H_out, num_layers, 1, bias)


@mutant("count_parameters", "biases counted when bias=False")
def count_always_bias(H_in, H_out, num_layers, bidirectional, bias):
    return _per_layer(H_in, H_out, num_layers, 2 if bidirectional else 1, True)


@mutant("count_parameters", "W_hh counted as (H_out, H_in)")
def count_w_hh_wrong(H_in, H_out, num_layers, bidirectional, bias):
    D = 2 if bidirectional else 1
    n = 0
    for layer in range(num_layers):
        n_in = H_in if layer == 0 else D * H_out
        n += D * (H_out * n_in + H_out * H_in + (2 * H_out if bias else 0))
    return n


@mutant("final_features", "last time step for both directions")
def final_last_step(output, batch_first):
    return output[:, -1] if batch_first else output[-1]


@mutant("final_features", "first time step for both directions")
def final_first_step(output, batch_first):
    return output[:, 0] if batch_first else output[0]


@mutant("final_features", "directions' time steps swapped")
def final_swapped_steps(output, batch_first):
    if batch_first:
        output = output.permute(1, 0, 2)
    H = output.size(2) // 2
    return torch.cat((output[0, :, :H], output[-1, :, H:]), 1)


@mutant("final_features", "batch_first ignored")
def final_time_major_always(output, batch_first):
    H = output.shape[-1] // 2
    return torch.cat([output[-1, :, :H], output[0, :, H:]], dim=-1)


@mutant("final_features", "halves swapped")
def final_halves_swapped(output, batch_first):
    seq = output.transpose(0, 1) if batch_first else output
    H = seq.shape[-1] // 2
    return torch.cat([seq[0, :, H:], seq[-1, :, :H]], dim=-1)


@mutant("final_features", "mean over time")
def final_mean(output, batch_first):
    return output.mean(1) if batch_first else output.mean(0)
