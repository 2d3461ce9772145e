"""Grading: the checks that the exercises call, and the ``release`` and ``grade`` commands.

Built for the book's Exercises part. A check takes the student's function,
runs it and the course's reference on the same random float64 inputs, and
raises :class:`CheckFailed` with feedback when they differ (see
:mod:`rnn_lib.grading.checking`). ``python -m rnn_lib.grading release``
writes the student notebooks; ``... grade`` grades submissions into a CSV.
"""

from rnn_lib.grading.backprop import (
    check_numerical_gradient,
    check_rnn_backward,
    check_rnn_step_backward,
)
from rnn_lib.grading.char_model import (
    check_char_model,
    check_next_char_probabilities,
    check_sequence_loss,
    check_train_step,
)
from rnn_lib.grading.checking import CheckFailed
from rnn_lib.grading.gradients import check_clip_grad_norm_, check_jacobian_norms
from rnn_lib.grading.lstm import check_lstm_cell
from rnn_lib.grading.recurrence import (
    check_bidirectional_rnn,
    check_rnn_layer,
    check_rnn_step,
    check_stacked_rnn,
)
from rnn_lib.grading.shapes import (
    check_count_parameters,
    check_final_features,
    check_rnn_output_shapes,
)

__all__ = [
    "CheckFailed",
    "check_rnn_step",
    "check_rnn_layer",
    "check_stacked_rnn",
    "check_bidirectional_rnn",
    "check_rnn_output_shapes",
    "check_count_parameters",
    "check_final_features",
    "check_numerical_gradient",
    "check_rnn_step_backward",
    "check_rnn_backward",
    "check_jacobian_norms",
    "check_clip_grad_norm_",
    "check_sequence_loss",
    "check_next_char_probabilities",
    "check_train_step",
    "check_char_model",
    "check_lstm_cell",
]
