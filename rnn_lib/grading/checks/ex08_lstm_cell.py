"""Checks for exercises/08_lstm_cell.ipynb: exercise 8.1 (after chapter 8).

- 8.1 ``lstm_cell(x, h, c, w_ih, w_hh, b_ih, b_hh) -> (h_new, c_new)``: one
  LSTM step with torch's gate order (i, f, g, o).

The reference is :func:`rnn_lib.gated.lstm_step` (proven against
``torch.nn.LSTM`` by its own tests); neither torch's LSTM nor the course's
may be called (the text says so). The last of the checks; read next
:mod:`rnn_lib.grading.release`, which makes the student notebooks.
"""

from __future__ import annotations

from functools import partial

import torch

from rnn_lib import gated
from rnn_lib.grading.cases import H_IN_DIM, N_DIM, Cases, Dim, randn, rnn_weights
from rnn_lib.grading.checking import STATE, Check, Mistake, Output
from rnn_lib.grading.forbidden import LSTM


def _lstm_args(sizes: dict, g) -> dict:
    N, H_in, H = sizes["N"], sizes["H_in"], sizes["H_out"]
    return {
        "x": randn(N, H_in, generator=g),
        "h": torch.tanh(randn(N, H, generator=g)),
        "c": randn(N, H, generator=g),
        **rnn_weights(H_in, H, g, gates=4),
    }


LSTM_CASES = Cases(
    _lstm_args,
    tuple(
        {"N": N, "H_in": H_in, "H_out": H}
        for N, H_in, H in [(1, 3, 2), (3, 4, 4), (2, 1, 3), (4, 5, 2)]
    ),
    seed=81,
    dims={
        "N": N_DIM,
        "H_in": H_IN_DIM,
        "H_out": Dim((1, 2), "look at how the four gate blocks are split and ordered"),
    },
)


def _lstm(x, h, c, w_ih, w_hh, b_ih, b_hh, order="ifgo", candidate=torch.tanh, forget=True,
          keep=True, squash=True, recurrent=True, old_cell=False):  # fmt: skip
    """An LSTM step with switches that turn on the known mistakes."""
    gates = x @ w_ih.T + b_ih + b_hh  # (N, 4 H)
    if recurrent:
        gates = gates + h @ w_hh.T
    block = dict(zip(order, gates.chunk(4, dim=1)))  # each (N, H)
    i, f, o = (torch.sigmoid(block[name]) for name in "ifo")
    cell_input = candidate(block["g"])
    c_new = i * cell_input  # (N, H)
    if keep:
        c_new = c_new + (f * c if forget else c)
    shown = c if old_cell else c_new
    h_new = o * torch.tanh(shown) if squash else o * shown  # (N, H)
    return h_new, c_new


LSTM_MISTAKES = (
    Mistake(
        "gates in the order i, f, o, g",
        "torch stacks the blocks of w_ih and w_hh as i, f, g, o: "
        "i, f, g, o = gates.chunk(4, dim=1).",
        partial(_lstm, order="ifog"),
    ),
    Mistake(
        "gates in the order i, g, f, o",
        "that is TensorFlow's order (i, j, f, o); torch's is i, f, g, o.",
        partial(_lstm, order="igfo"),
    ),
    Mistake(
        "sigmoid on the cell input g",
        "g is the candidate content, squashed by tanh to (-1, 1); only i, f and o are gates "
        "with a sigmoid.",
        partial(_lstm, candidate=torch.sigmoid),
    ),
    Mistake(
        "forget gate ignored",
        "the old cell state passes through the forget gate: c_new = f * c + i * g.",
        partial(_lstm, forget=False),
    ),
    Mistake(
        "old cell state dropped",
        "the cell state carries memory: c_new = f * c + i * g, not i * g.",
        partial(_lstm, keep=False),
    ),
    Mistake(
        "no tanh on the new cell state",
        "h_new = o * tanh(c_new): the cell state is unbounded, the output is squashed.",
        partial(_lstm, squash=False),
    ),
    Mistake(
        "missing recurrent term",
        "every gate reads the previous state too: add h @ w_hh.T (and b_hh).",
        partial(_lstm, recurrent=False),
    ),
    Mistake(
        "h_new from the old cell state",
        "compute c_new first, then h_new = o * tanh(c_new).",
        partial(_lstm, old_cell=True),
    ),
)

check_lstm_cell = Check(
    "8.1",
    "lstm_cell",
    gated.lstm_step,
    LSTM_CASES,
    (Output("h_new", "(N, H_out)", STATE), Output("c_new", "(N, H_out)", STATE)),
    LSTM_MISTAKES,
    hint="gates = x @ w_ih.T + b_ih + h @ w_hh.T + b_hh; i, f, g, o = gates.chunk(4, 1); "
    "c_new = sigmoid(f) * c + sigmoid(i) * tanh(g); h_new = sigmoid(o) * tanh(c_new).",
    forbidden=LSTM,
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_lstm_cell,)
