"""Checks for exercises/03_stacked_bidirectional.ipynb: exercises 3.3 and 3.4.

- 3.3 ``stacked_rnn(x, h_0, layers) -> (output, h_n)``: several layers, each
  reading the one below.
- 3.4 ``bidirectional_rnn(x, h_0, forward, backward) -> (output, h_n)``: a
  forward and a backward direction.

Both follow chapter 3. The references are written with
:func:`rnn_lib.functional.rnn_layer`, in float64 (the tests prove that they
equal torch's own multi-layer kernel ``torch.rnn_tanh``), so that the
tolerance sees each step's rounding. Neither exercise may call torch's RNN
or ``rnn_layer(..., reverse=True)`` (the text says so). Read next:
:mod:`rnn_lib.grading.checks.ex04_rnn_shapes`.
"""

from __future__ import annotations

from functools import partial

import torch

from rnn_lib import functional
from rnn_lib.grading.cases import (
    H_IN_DIM,
    H_OUT_DIM,
    L_DIM,
    N_DIM,
    Cases,
    Dim,
    randn,
    rnn_weights,
)
from rnn_lib.grading.checking import SEQUENCE, STATE, Check, Mistake, Output
from rnn_lib.grading.forbidden import LIB_RNN, REVERSED_LAYER, TORCH_RECURRENCE

FORBIDDEN = (*TORCH_RECURRENCE, LIB_RNN, REVERSED_LAYER)

# -- 3.3 stacked_rnn -------------------------------------------------------------


def _stacked_args(sizes: dict, g) -> dict:
    num_layers, L, N = sizes["num_layers"], sizes["L"], sizes["N"]
    H_in, H_out = sizes["H_in"], sizes["H_out"]
    layers = []
    for layer in range(num_layers):
        weights = rnn_weights(H_in if layer == 0 else H_out, H_out, g)
        layers.append(tuple(weights.values()))
    return {
        "x": randn(L, N, H_in, generator=g),
        "h_0": randn(num_layers, N, H_out, generator=g, scale=0.8),
        "layers": layers,
    }


STACKED_CASES = Cases(
    _stacked_args,
    # one layer, length 1, batch 1, H_in = H_out (so feeding x to every layer runs).
    tuple(
        {"num_layers": layers, "L": L, "N": N, "H_in": H_in, "H_out": H_out}
        for layers, L, N, H_in, H_out in [
            (1, 3, 2, 2, 3),
            (2, 1, 3, 3, 4),
            (3, 4, 1, 4, 4),
            (2, 5, 2, 3, 2),
        ]
    ),
    seed=33,
    dims={
        "num_layers": Dim((1, 2), "look at how each layer reads the one below"),
        "L": Dim((1, 2), L_DIM.advice),
        "N": N_DIM,
        "H_in": H_IN_DIM,
        "H_out": H_OUT_DIM,
    },
)


def _stacked(x, h_0, layers, inputs="below", states="own", h_n="all", output="last"):
    """A stacked RNN with switches that turn on the known mistakes."""
    below, outputs, finals = x, [], []
    for layer, weights in enumerate(layers):
        start = h_0[layer] if states == "own" else h_0[0]
        out, h = functional.rnn_layer(x if inputs == "x" else below, start, *weights)
        outputs.append(out)
        finals.append(h)
        below = out
    if h_n == "last":
        return outputs[-1 if output == "last" else 0], finals[-1]
    if h_n == "reversed":
        finals = finals[::-1]
    return outputs[-1 if output == "last" else 0], torch.stack(finals)


STACKED_MISTAKES = (
    Mistake(
        "every layer reads x",
        "layer l > 0 reads the output of layer l - 1, not the input x.",
        partial(_stacked, inputs="x"),
    ),
    Mistake(
        "one initial state for every layer",
        "layer l starts from its own initial state h_0[l].",
        partial(_stacked, states="first"),
    ),
    Mistake(
        "h_n holds only the last layer",
        "h_n stacks every layer's last state: (num_layers, N, H_out), like torch.",
        partial(_stacked, h_n="last"),
    ),
    Mistake(
        "h_n's layers in reverse order",
        "h_n[l] is the last state of layer l, the lowest layer first.",
        partial(_stacked, h_n="reversed"),
    ),
    Mistake(
        "output of the first layer returned",
        "output is what the top (last) layer produced at every step.",
        partial(_stacked, output="first"),
    ),
)

check_stacked_rnn = Check(
    "3.3",
    "stacked_rnn",
    _stacked,
    STACKED_CASES,
    (
        Output("output", "(L, N, H_out)", SEQUENCE),
        Output("h_n", "(num_layers, N, H_out)", ("layer",) + STATE),
    ),
    STACKED_MISTAKES,
    hint="Run rnn_layer once per layer: layer l reads the previous layer's output "
    "and starts from h_0[l]; h_n stacks each layer's last state.",
    forbidden=FORBIDDEN,
)

# -- 3.4 bidirectional_rnn -------------------------------------------------------


def _bidirectional_args(sizes: dict, g) -> dict:
    L, N, H_in, H_out = sizes["L"], sizes["N"], sizes["H_in"], sizes["H_out"]
    forward, backward = rnn_weights(H_in, H_out, g), rnn_weights(H_in, H_out, g)
    return {
        "x": randn(L, N, H_in, generator=g),
        "h_0": randn(2, N, H_out, generator=g, scale=0.8),
        "forward": tuple(forward.values()),
        "backward": tuple(backward.values()),
    }


BIDIRECTIONAL_CASES = Cases(
    _bidirectional_args,
    tuple(
        {"L": L, "N": N, "H_in": H_in, "H_out": H_out}
        for L, N, H_in, H_out in [
            (1, 2, 3, 2),
            (4, 1, 2, 3),
            (3, 3, 4, 4),
            (5, 2, 3, 2),
        ]
    ),
    seed=34,
    dims={"L": L_DIM, "N": N_DIM, "H_in": H_IN_DIM, "H_out": H_OUT_DIM},
)


def _bidirectional(
    x,
    h_0,
    forward,
    backward,
    flip_in=True,
    flip_out=True,
    h_n_at="own",
    order="fb",
    weights="own",
    states="own",
):
    """A bidirectional RNN with switches that turn on the known mistakes."""
    if weights == "forward":
        backward = forward
    out_f, h_f = functional.rnn_layer(x, h_0[0], *forward)
    start = h_0[1] if states == "own" else h_0[0]
    out_b, h_b = functional.rnn_layer(x.flip(0) if flip_in else x, start, *backward)
    if flip_out:
        out_b = out_b.flip(0)
    if h_n_at == "last":
        h_b = out_b[-1]
    halves = [out_f, out_b] if order == "fb" else [out_b, out_f]
    return torch.cat(halves, dim=-1), torch.stack([h_f, h_b])


BIDIRECTIONAL_MISTAKES = (
    Mistake(
        "backward outputs not flipped back",
        "after running the backward direction on x.flip(0), flip its outputs back so that "
        "output[t] holds both directions' states at time t.",
        partial(_bidirectional, flip_out=False),
    ),
    Mistake(
        "backward direction reads the sequence forwards",
        "the backward direction reads x from index L - 1 down to 0: run it on x.flip(0).",
        partial(_bidirectional, flip_in=False, flip_out=False),
    ),
    Mistake(
        "backward h_n taken at the last time step",
        "the backward direction ends at t = 0: its h_n is its state there, "
        "not output[-1]'s backward half (which has seen one step).",
        partial(_bidirectional, h_n_at="last"),
    ),
    Mistake(
        "halves concatenated in the wrong order",
        "torch puts the forward direction first: torch.cat([forward, backward], dim=-1).",
        partial(_bidirectional, order="bf"),
    ),
    Mistake(
        "forward weights used for both directions",
        "each direction has its own weights: run the backward one with `backward`.",
        partial(_bidirectional, weights="forward"),
    ),
    Mistake(
        "one initial state for both directions",
        "h_0[0] starts the forward direction, h_0[1] the backward one.",
        partial(_bidirectional, states="first"),
    ),
)

check_bidirectional_rnn = Check(
    "3.4",
    "bidirectional_rnn",
    _bidirectional,
    BIDIRECTIONAL_CASES,
    (
        Output("output", "(L, N, 2 * H_out)", SEQUENCE),
        Output("h_n", "(2, N, H_out)", ("direction",) + STATE),
    ),
    BIDIRECTIONAL_MISTAKES,
    hint="Run the forward weights on x, the backward weights on x.flip(0) and flip "
    "their outputs back; concatenate the halves along the last axis.",
    forbidden=FORBIDDEN,
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_stacked_rnn, check_bidirectional_rnn)
