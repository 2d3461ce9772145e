"""Checks for exercises/04_rnn_shapes.ipynb: exercises 4.1 to 4.3 (after chapter 4).

- 4.1 ``rnn_output_shapes(L, N, H_in, H_out, num_layers, bidirectional,
  batch_first)``: the shapes of ``output`` and ``h_n``.
- 4.2 ``count_parameters(H_in, H_out, num_layers, bidirectional, bias)``: how
  many numbers an ``nn.RNN`` learns.
- 4.3 ``final_features(output, batch_first) -> (N, 2 * H_out)``: a
  bidirectional RNN's summary of a sequence.

The references are ``torch.nn.RNN`` itself (4.1, 4.2) and, for 4.3, the
definition ``cat(h_n[0], h_n[1])`` read off ``output`` (the tests prove the
two agree). 4.1 and 4.2 are answered from the definitions: building a
``torch.nn.RNN`` inside them is refused (the text says so), and the batch
grader adds configurations drawn at random to the ones listed here. Read
next: :mod:`rnn_lib.grading.checks.ex05_bptt`.
"""

from __future__ import annotations

from functools import partial

import torch

from rnn_lib.grading.cases import L_DIM, N_DIM, Cases, Dim, randn
from rnn_lib.grading.checking import Check, Mistake, Output
from rnn_lib.grading.forbidden import BUILT_RNN

LAYERS_DIM = Dim((1, 2), "look at how num_layers enters")
DIRECTIONS_DIM = Dim((False, True), "look at what a second direction adds")
BATCH_FIRST_DIM = Dim((False, True), "look at what batch_first changes, and what not")


def _integer(g, low: int, high: int) -> int:
    """A random int in [low, high] from the check's own generator."""
    return int(torch.randint(low, high + 1, (), generator=g))


def _flag(g) -> bool:
    return bool(torch.randint(2, (), generator=g))


# -- 4.1 rnn_output_shapes -------------------------------------------------------

SHAPE_ARGS = ("L", "N", "H_in", "H_out", "num_layers", "bidirectional", "batch_first")


def _draw_shape(g) -> dict:
    values = (
        _integer(g, 1, 9), _integer(g, 1, 9), _integer(g, 1, 12), _integer(g, 1, 12),
        _integer(g, 1, 3), _flag(g), _flag(g),
    )  # fmt: skip
    return dict(zip(SHAPE_ARGS, values))


SHAPE_CASES = Cases(
    lambda sizes, g: {name: sizes[name] for name in SHAPE_ARGS},  # in the call's order
    tuple(
        dict(zip(SHAPE_ARGS, values))
        for values in [
            (5, 3, 10, 20, 1, False, False),
            (5, 3, 10, 20, 2, True, False),
            (6, 4, 3, 7, 2, True, True),
            (1, 1, 4, 6, 3, False, True),
            (7, 2, 3, 5, 1, True, True),
            (4, 6, 2, 8, 2, False, False),
        ]
    ),
    seed=41,
    dims={
        "L": Dim((1, 2), L_DIM.advice),
        "N": N_DIM,
        "num_layers": LAYERS_DIM,
        "bidirectional": DIRECTIONS_DIM,
        "batch_first": BATCH_FIRST_DIM,
    },
    base={"H_in": 3, "H_out": 4},
    draw=_draw_shape,
    drawn=3,
)


def _shape_reference(L, N, H_in, H_out, num_layers, bidirectional, batch_first):
    rnn = torch.nn.RNN(
        H_in, H_out, num_layers, batch_first=batch_first, bidirectional=bidirectional
    )
    x = torch.zeros((N, L, H_in) if batch_first else (L, N, H_in))
    output, h_n = rnn(x)
    return tuple(output.shape), tuple(h_n.shape)


def _shapes(L, N, H_in, H_out, num_layers, bidirectional, batch_first, wrong=""):
    """The shapes, with a switch that turns on one known mistake."""
    D = 2 if bidirectional else 1
    features = H_out if wrong == "no D in output" else D * H_out
    if wrong == "every layer in output":
        features = num_layers * D * H_out
    output = (
        (N, L, features)
        if batch_first and wrong != "batch_first ignored"
        else (L, N, features)
    )
    h_n = (D * num_layers, N, H_out)
    if wrong == "batch_first on h_n" and batch_first:
        h_n = (N, D * num_layers, H_out)
    elif wrong == "no num_layers in h_n":
        h_n = (D, N, H_out)
    elif wrong == "no D in h_n":
        h_n = (num_layers, N, H_out)
    elif wrong == "D in h_n's last axis":
        h_n = (num_layers, N, D * H_out)
    return output, h_n


SHAPE_MISTAKES = (
    Mistake(
        "batch_first applied to h_n",
        "batch_first changes only input and output; h_0 and h_n stay "
        "(D * num_layers, N, H_out) whatever it says.",
        partial(_shapes, wrong="batch_first on h_n"),
    ),
    Mistake(
        "output missing the direction factor",
        "a bidirectional RNN concatenates both directions: output's last axis is D * H_out.",
        partial(_shapes, wrong="no D in output"),
    ),
    Mistake(
        "output holding every layer",
        "output is the last layer's states only: its last axis is D * H_out, "
        "whatever num_layers is.",
        partial(_shapes, wrong="every layer in output"),
    ),
    Mistake(
        "batch_first ignored",
        "with batch_first=True, output is (N, L, D * H_out).",
        partial(_shapes, wrong="batch_first ignored"),
    ),
    Mistake(
        "h_n missing num_layers",
        "h_n holds the last state of every layer and direction: (D * num_layers, N, H_out).",
        partial(_shapes, wrong="no num_layers in h_n"),
    ),
    Mistake(
        "h_n missing the direction factor",
        "h_n holds one state per layer *and* direction: (D * num_layers, N, H_out).",
        partial(_shapes, wrong="no D in h_n"),
    ),
    Mistake(
        "directions in h_n's last axis",
        "h_n stacks directions along its first axis, (D * num_layers, N, H_out); only "
        "output concatenates them along the last.",
        partial(_shapes, wrong="D in h_n's last axis"),
    ),
)

check_rnn_output_shapes = Check(
    "4.1",
    "rnn_output_shapes",
    _shape_reference,
    SHAPE_CASES,
    (Output("output shape", kind="shape"), Output("h_n shape", kind="shape")),
    SHAPE_MISTAKES,
    hint="output is (L, N, D * H_out), or (N, L, D * H_out) if batch_first; h_n is "
    "(D * num_layers, N, H_out) in every case, with D = 2 if bidirectional else 1.",
    forbidden=(BUILT_RNN,),
)

# -- 4.2 count_parameters --------------------------------------------------------

COUNT_ARGS = ("H_in", "H_out", "num_layers", "bidirectional", "bias")


def _draw_count(g) -> dict:
    values = (_integer(g, 1, 12), _integer(g, 1, 12), _integer(g, 1, 3), _flag(g),
              _flag(g))  # fmt: skip
    return dict(zip(COUNT_ARGS, values))


COUNT_CASES = Cases(
    lambda sizes, g: {name: sizes[name] for name in COUNT_ARGS},
    tuple(
        dict(zip(COUNT_ARGS, values))
        for values in [
            (3, 5, 1, False, True),
            (3, 5, 2, False, True),
            (4, 6, 1, True, True),
            (4, 6, 3, True, True),
            (2, 7, 2, True, False),
            (5, 3, 1, False, False),
        ]
    ),
    seed=42,
    dims={
        "num_layers": Dim((1, 2, 3), LAYERS_DIM.advice),
        "bidirectional": DIRECTIONS_DIM,
        "bias": Dim((False, True), "look at the biases"),
        "H_in": Dim((1, 2), "look at how H_in enters"),
        "H_out": Dim((1, 2), "look at how H_out enters"),
    },
    draw=_draw_count,
    drawn=3,
)


def _count_reference(H_in, H_out, num_layers, bidirectional, bias):
    rnn = torch.nn.RNN(H_in, H_out, num_layers, bias=bias, bidirectional=bidirectional)
    return sum(p.numel() for p in rnn.parameters())


def _count(H_in, H_out, num_layers, bidirectional, bias, wrong=""):
    """The count, with a switch that turns on one known mistake."""
    D = 1 if wrong == "no D" or not bidirectional else 2
    total = 0
    for layer in range(num_layers):
        inputs = H_in
        if layer > 0 and wrong != "H_in above":
            inputs = H_out if wrong == "H_out above" else D * H_out
        weights = H_out * inputs + (
            H_out * H_in if wrong == "W_hh H_in" else H_out * H_out
        )
        biases = 0
        if bias or wrong == "bias always":
            biases = H_out if wrong == "one bias" else 2 * H_out
        total += D * (weights + biases)
    return total


COUNT_MISTAKES = (
    Mistake(
        "one bias instead of two",
        "torch.nn.RNN has two biases per layer and direction, bias_ih and bias_hh, "
        "H_out numbers each.",
        partial(_count, wrong="one bias"),
    ),
    Mistake(
        "deeper layers reading H_in features",
        "layer l > 0 reads the layer below, D * H_out features, so its weight_ih is "
        "(H_out, D * H_out).",
        partial(_count, wrong="H_in above"),
    ),
    Mistake(
        "deeper layers reading H_out features in a bidirectional RNN",
        "a bidirectional layer's output has 2 * H_out features, so the next layer's "
        "weight_ih is (H_out, 2 * H_out).",
        partial(_count, wrong="H_out above"),
    ),
    Mistake(
        "directions not counted",
        "a bidirectional RNN has a full set of weights per direction (the *_reverse ones).",
        partial(_count, wrong="no D"),
    ),
    Mistake(
        "biases counted when bias=False",
        "bias=False leaves out bias_ih and bias_hh altogether.",
        partial(_count, wrong="bias always"),
    ),
    Mistake(
        "W_hh counted as (H_out, H_in)",
        "weight_hh maps a state to a state: it is (H_out, H_out).",
        partial(_count, wrong="W_hh H_in"),
    ),
)

check_count_parameters = Check(
    "4.2",
    "count_parameters",
    _count_reference,
    COUNT_CASES,
    (Output("count_parameters", kind="int"),),
    COUNT_MISTAKES,
    hint="Per layer and direction: weight_ih (H_out, layer input), weight_hh "
    "(H_out, H_out), and two biases of H_out if bias. Check your answer against "
    "sum(p.numel() for p in torch.nn.RNN(...).parameters()) outside the function.",
    forbidden=(BUILT_RNN,),
)

# -- 4.3 final_features ----------------------------------------------------------


def _final_args(sizes: dict, g) -> dict:
    L, N, H, batch_first = sizes["L"], sizes["N"], sizes["H_out"], sizes["batch_first"]
    rnn = torch.nn.RNN(2, H, bidirectional=True, batch_first=batch_first).double()
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(randn(*p.shape, generator=g, scale=0.7))
        x = randn(*((N, L, 2) if batch_first else (L, N, 2)), generator=g)
        output, _ = rnn(x)
    return {"output": output, "batch_first": batch_first}


FINAL_CASES = Cases(
    _final_args,
    # batch_first both ways, each with L and N both above 1 and different (a
    # reshape then differs from a transpose), and with L = 1 and N = 1.
    tuple(
        {"L": L, "N": N, "H_out": H, "batch_first": batch_first}
        for L, N, H, batch_first in [
            (4, 3, 2, False),
            (1, 2, 3, True),
            (5, 1, 2, True),
            (3, 3, 4, False),
            (5, 3, 2, True),
            (2, 4, 3, True),
        ]
    ),
    seed=43,
    dims={
        "L": L_DIM,
        "N": N_DIM,
        "batch_first": BATCH_FIRST_DIM,
        "H_out": Dim((1, 2), "look at how the features split into two halves"),
    },
)


def _final(
    output, batch_first, forward_at=-1, backward_at=0, time_major=False, order="fb",
    layout="transpose",
):  # fmt: skip
    """The summary, with switches that turn on the known mistakes."""
    seq = output  # (L, N, 2 H), time first, once batch_first is undone
    if batch_first and not time_major:
        N, L = output.shape[:2]
        seq = (
            output.transpose(0, 1)
            if layout == "transpose"
            else output.reshape(L, N, -1)
        )
    H = seq.shape[-1] // 2
    forward, backward = seq[forward_at, :, :H], seq[backward_at, :, H:]  # (N, H) each
    halves = [forward, backward] if order == "fb" else [backward, forward]
    return torch.cat(halves, dim=-1)  # (N, 2 * H)


FINAL_MISTAKES = (
    Mistake(
        "last time step for both directions",
        "output[-1]'s backward half has seen only the last input; the backward "
        "direction's summary is its state at t = 0.",
        partial(_final, backward_at=-1),
    ),
    Mistake(
        "first time step for both directions",
        "the forward direction's summary is its state at the last step, index L - 1.",
        partial(_final, forward_at=0),
    ),
    Mistake(
        "directions' time steps swapped",
        "forward half at index L - 1, backward half at index 0, not the other way round.",
        partial(_final, forward_at=0, backward_at=-1),
    ),
    Mistake(
        "batch_first ignored",
        "with batch_first=True, time is output's second axis: output[:, -1] and output[:, 0].",
        partial(_final, time_major=True),
    ),
    Mistake(
        "batch_first undone with reshape",
        "reshape keeps the entries in memory order, so (N, L, F) read as (L, N, F) mixes "
        "time steps and rows: swap the axes with output.transpose(0, 1).",
        partial(_final, layout="reshape"),
    ),
    Mistake(
        "halves swapped",
        "keep torch's order, forward first: torch.cat([forward, backward], dim=-1).",
        partial(_final, order="bf"),
    ),
    Mistake(
        "mean over time",
        "take each direction's last state, not an average over the steps.",
        lambda output, batch_first: output.mean(dim=1 if batch_first else 0),
    ),
)

check_final_features = Check(
    "4.3",
    "final_features",
    _final,
    FINAL_CASES,
    (Output("final_features", "(N, 2 * H_out)", ("batch row", "feature")),),
    FINAL_MISTAKES,
    hint="Concatenate the forward half of the last step with the backward half of "
    "the first step; these are h_n[0] and h_n[1].",
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_rnn_output_shapes, check_count_parameters, check_final_features)
