"""Crafted answers to exercises 4.1 (rnn_output_shapes), 4.2 (count_parameters)
and 4.3 (final_features)."""

import torch

from grading_submissions import correct, wrong

# -- right answers -----------------------------------------------------------------


@correct("rnn_output_shapes")
def shapes_as_sizes(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    directions = 1 + int(bidirectional)
    first, second = (N, L) if batch_first else (L, N)
    return (
        torch.Size([first, second, directions * H_out]),
        torch.Size([directions * num_layers, N, H_out]),
    )


@correct("count_parameters")
def count_closed_form(H_in, H_out, num_layers, bidirectional, bias):
    D = 2 if bidirectional else 1
    biases = 2 * H_out if bias else 0
    first = H_out * H_in + H_out * H_out + biases
    deeper = H_out * D * H_out + H_out * H_out + biases
    return D * (first + (num_layers - 1) * deeper)


@correct("final_features")
def final_by_indexing(output, batch_first):
    H = output.shape[-1] // 2
    if batch_first:
        return torch.cat([output[:, -1, :H], output[:, 0, H:]], dim=1)
    return torch.cat([output[-1, :, :H], output[0, :, H:]], dim=1)


@correct("final_features")
def final_by_chunks(output, batch_first):
    seq = output.permute(1, 0, 2) if batch_first else output
    forward, backward = seq.chunk(2, dim=-1)
    return torch.hstack([forward[-1], backward[0]])


# -- wrong answers that no catalog lists ---------------------------------------------


@wrong("rnn_output_shapes", "correct when num_layers=1, wrong when num_layers=2")
def shapes_layers_for_directions(
    L, N, H_in, H_out, num_layers, bidirectional, batch_first
):
    features = 2 * H_out if bidirectional else num_layers * H_out
    output = (N, L, features) if batch_first else (L, N, features)
    return output, ((2 if bidirectional else 1) * num_layers, N, H_out)


@wrong("rnn_output_shapes", "should be a tuple of ints, but is a str")
def shapes_as_text(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    D = 2 if bidirectional else 1
    output = (N, L, D * H_out) if batch_first else (L, N, D * H_out)
    return str(output), str((D * num_layers, N, H_out))


@wrong("count_parameters", "correct when", "bidirectional=True and bias=True")
def count_biases_once(H_in, H_out, num_layers, bidirectional, bias):
    D = 2 if bidirectional else 1
    total = 0
    for layer in range(num_layers):
        inputs = H_in if layer == 0 else D * H_out
        total += D * (H_out * inputs + H_out * H_out)
        total += 2 * H_out if bias else 0  # the reverse direction's biases forgotten
    return total


@wrong("count_parameters", "should be a Python int, but is a float")
def count_as_float(H_in, H_out, num_layers, bidirectional, bias):
    D = 2.0 if bidirectional else 1.0
    total = 0.0
    for layer in range(num_layers):
        inputs = H_in if layer == 0 else D * H_out
        total += D * (H_out * inputs + H_out * H_out + (2 * H_out if bias else 0))
    return total


@wrong("final_features", 'known mistake, "batch_first undone with reshape"')
def final_reshaped(output, batch_first):
    if batch_first:
        N, L, F = output.shape
        output = output.reshape(L, N, F)
    H = output.shape[-1] // 2
    return torch.cat([output[-1, :, :H], output[0, :, H:]], dim=-1)


@wrong("final_features", "correct when L=1, wrong when L=2")
def final_backward_one_step_late(output, batch_first):
    seq = output.transpose(0, 1) if batch_first else output
    H = seq.shape[-1] // 2
    late = min(1, seq.shape[0] - 1)
    return torch.cat([seq[-1, :, :H], seq[late, :, H:]], dim=-1)
