"""Checks for exercises/03_rnn_step.ipynb: exercises 3.1 and 3.2 (after chapter 3).

- 3.1 ``rnn_step(x, h, w_ih, w_hh, b_ih, b_hh)``: one step of the recurrence.
- 3.2 ``rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh) -> (output, h_n)``: one
  layer over a whole sequence.

The references are :func:`rnn_lib.functional.rnn_step` and
:func:`rnn_lib.functional.rnn_layer`, in float64. Neither exercise may call
torch's RNN or the course's own functions (the text says so). Read next:
:mod:`rnn_lib.grading.checks.ex03_stacked_bidirectional`.
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
    randn,
    rnn_weights,
)
from rnn_lib.grading.checking import SEQUENCE, STATE, Check, Mistake, Output
from rnn_lib.grading.forbidden import RECURRENCE

# -- 3.1 rnn_step ----------------------------------------------------------------


def _step_args(sizes: dict, g) -> dict:
    N, H_in, H_out = sizes["N"], sizes["H_in"], sizes["H_out"]
    return {
        "x": randn(N, H_in, generator=g),
        "h": randn(N, H_out, generator=g, scale=0.8),
        **rnn_weights(H_in, H_out, g),
    }


STEP_CASES = Cases(
    _step_args,
    # batch 1, a square layer (H_in = H_out, so a transposed W_ih runs), a
    # single input feature, and a wider input.
    tuple(
        {"N": N, "H_in": H_in, "H_out": H_out}
        for N, H_in, H_out in [(1, 3, 4), (3, 5, 5), (2, 1, 2), (4, 6, 3)]
    ),
    seed=31,
    dims={"N": N_DIM, "H_in": H_IN_DIM, "H_out": H_OUT_DIM},
)


FORMULA = "h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)"

STEP_MISTAKES = (
    Mistake(
        "missing recurrent term",
        "the new state must depend on the previous one: add h @ w_hh.T.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + b_ih + b_hh),
    ),
    Mistake(
        "transposed W_hh",
        "use h @ w_hh.T (torch stores W_hh as (H_out, H_out) and computes h W_hh^T).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(
            x @ w_ih.T + b_ih + h @ w_hh + b_hh
        ),
    ),
    Mistake(
        "transposed W_ih",
        "use x @ w_ih.T (torch stores W_ih as (H_out, H_in) and computes x W_ih^T).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(
            x @ w_ih + b_ih + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "ReLU instead of tanh",
        "the Elman RNN of this exercise uses tanh: torch.tanh(...).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.relu(
            x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "sigmoid instead of tanh",
        "use torch.tanh: its outputs lie in (-1, 1), a sigmoid's in (0, 1).",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.sigmoid(
            x @ w_ih.T + b_ih + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "missing nonlinearity",
        "apply torch.tanh to the whole pre-activation.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: x @ w_ih.T + b_ih + h @ w_hh.T + b_hh,
    ),
    Mistake(
        "missing bias b_hh",
        "torch's RNN has two biases: add both b_ih and b_hh.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + b_ih + h @ w_hh.T),
    ),
    Mistake(
        "missing bias b_ih",
        "torch's RNN has two biases: add both b_ih and b_hh.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + h @ w_hh.T + b_hh),
    ),
    Mistake(
        "missing biases",
        "add both biases, b_ih and b_hh, inside the tanh.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(x @ w_ih.T + h @ w_hh.T),
    ),
    Mistake(
        "tanh before the recurrent term",
        f"the tanh wraps the whole sum: {FORMULA}.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: (
            torch.tanh(x @ w_ih.T + b_ih) + h @ w_hh.T + b_hh
        ),
    ),
    Mistake(
        "state laid out as (H_out, N)",
        "keep the batch first: x is (N, H_in), h is (N, H_out), and the result is "
        "(N, H_out): compute x @ w_ih.T + h @ w_hh.T rather than w_ih @ x.T + w_hh @ h.T.",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: torch.tanh(
            w_ih @ x.T + w_hh @ h.T + (b_ih + b_hh)[:, None]
        ),
    ),
)

check_rnn_step = Check(
    "3.1",
    "rnn_step",
    functional.rnn_step,
    STEP_CASES,
    (Output("rnn_step", "(N, H_out)", STATE),),
    STEP_MISTAKES,
    hint=f"Compare your code with {FORMULA}, and mind the shapes: "
    "w_ih is (H_out, H_in), w_hh is (H_out, H_out).",
    forbidden=RECURRENCE,
)

# -- 3.2 rnn_layer ---------------------------------------------------------------


def _layer_args(sizes: dict, g) -> dict:
    L, N, H_in, H_out = sizes["L"], sizes["N"], sizes["H_in"], sizes["H_out"]
    return {
        "x": randn(L, N, H_in, generator=g),
        "h_0": randn(N, H_out, generator=g, scale=0.8),
        **rnn_weights(H_in, H_out, g),
    }


LAYER_CASES = Cases(
    _layer_args,
    # length 1, batch 1, L = N (so swapping them still runs), a longer one.
    tuple(
        {"L": L, "N": N, "H_in": H_in, "H_out": H_out}
        for L, N, H_in, H_out in [
            (1, 2, 3, 4),
            (4, 1, 2, 3),
            (3, 3, 3, 3),
            (6, 2, 4, 5),
        ]
    ),
    seed=32,
    dims={"L": L_DIM, "N": N_DIM, "H_in": H_IN_DIM, "H_out": H_OUT_DIM},
)


def _layer_without_state(x, h_0, w_ih, w_hh, b_ih, b_hh):
    outputs = [functional.rnn_step(x_t, h_0, w_ih, w_hh, b_ih, b_hh) for x_t in x]
    return torch.stack(outputs), outputs[-1]


def _layer_shifted(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for x_t in x:
        outputs.append(h)
        h = functional.rnn_step(x_t, h, w_ih, w_hh, b_ih, b_hh)
    return torch.stack(outputs), h


def _layer_h_n_first(x, h_0, w_ih, w_hh, b_ih, b_hh):
    output, _ = functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    return output, output[0]


def _layer_h_n_initial(x, h_0, w_ih, w_hh, b_ih, b_hh):
    output, _ = functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    return output, h_0


def _layer_reversed(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for t in reversed(range(x.shape[0])):
        h = functional.rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


def _layer_batch_as_time(x, h_0, w_ih, w_hh, b_ih, b_hh, stack_dim=0):
    # reads x as if it were (N, L, H_in): step t takes x[:, t]
    h, outputs = h_0, []
    for t in range(x.shape[1]):
        h = functional.rnn_step(x[:, t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs, dim=stack_dim), h


def _layer_one_step_short(x, h_0, w_ih, w_hh, b_ih, b_hh):
    h, outputs = h_0, []
    for t in range(x.shape[0] - 1):
        h = functional.rnn_step(x[t], h, w_ih, w_hh, b_ih, b_hh)
        outputs.append(h)
    return torch.stack(outputs), h


def _layer_batch_stacked(x, h_0, w_ih, w_hh, b_ih, b_hh):
    output, h_n = functional.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    return output.transpose(0, 1), h_n


LAYER_MISTAKES = (
    Mistake(
        "state not carried over",
        "each step must start from the state the previous step produced: "
        "h = rnn_step(x[t], h, ...), starting from h = h_0.",
        _layer_without_state,
    ),
    Mistake(
        "outputs shifted by one step",
        "output[t] is the state after reading x[t], so store h after the update, not before "
        "(output[0] is h_1, never h_0).",
        _layer_shifted,
    ),
    Mistake(
        "h_n is the first output",
        "h_n is the state after the last step: output[-1] (for one direction).",
        _layer_h_n_first,
    ),
    Mistake(
        "h_n is the initial state",
        "return the state after the last step, not the h_0 you were given.",
        _layer_h_n_initial,
    ),
    Mistake(
        "sequence read backwards",
        "read x from t = 0 to L - 1, and store output[t] in that order.",
        _layer_reversed,
    ),
    Mistake(
        "batch taken as time",
        "x is time-major (L, N, H_in): step t reads x[t], not x[:, t].",
        _layer_batch_as_time,
    ),
    Mistake(
        "batch taken as time",
        "x is time-major (L, N, H_in): step t reads x[t], not x[:, t].",
        partial(_layer_batch_as_time, stack_dim=1),
    ),
    Mistake(
        "loop stops one step early",
        "range(L) runs all L steps; range(L - 1) misses the last one.",
        _layer_one_step_short,
    ),
    Mistake(
        "outputs stacked along the batch axis",
        "stack the states along a new first axis: torch.stack(outputs) gives (L, N, H_out).",
        _layer_batch_stacked,
    ),
)

check_rnn_layer = Check(
    "3.2",
    "rnn_layer",
    functional.rnn_layer,
    LAYER_CASES,
    (
        Output("output", "(L, N, H_out)", SEQUENCE),
        Output("h_n", "(N, H_out)", STATE),
    ),
    LAYER_MISTAKES,
    hint="Start from h = h_0; for t in range(L): h = rnn_step(x[t], h, ...) and keep "
    "each h.",
    forbidden=RECURRENCE,
    uses=(check_rnn_step,),
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_rnn_step, check_rnn_layer)
