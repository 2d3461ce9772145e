"""Grading: the checks that the exercises call, and the ``release`` and ``grade`` commands.

Built for the book's Exercises part. A check takes the student's function,
runs it and the course's reference on the same random float64 inputs, and
raises :class:`CheckFailed` with feedback when they differ. Each check is a
:class:`~rnn_lib.grading.checking.Check` (how it compares and explains is in
:mod:`rnn_lib.grading.checking`), built in the module of its exercise
notebook under :mod:`rnn_lib.grading.checks`; :data:`CHECKS` holds them all
by the names below. ``python -m rnn_lib.grading release`` writes the student
notebooks (:mod:`rnn_lib.grading.release`); ``... grade`` grades submissions
into a CSV (:mod:`rnn_lib.grading.grade`).
"""

from rnn_lib.grading.checking import CheckFailed
from rnn_lib.grading.checks import CHECKS, EXERCISES
from rnn_lib.grading.checks.ex03_rnn_step import check_rnn_layer, check_rnn_step
from rnn_lib.grading.checks.ex03_stacked_bidirectional import (
    check_bidirectional_rnn,
    check_stacked_rnn,
)
from rnn_lib.grading.checks.ex04_rnn_shapes import (
    check_count_parameters,
    check_final_features,
    check_rnn_output_shapes,
)
from rnn_lib.grading.checks.ex05_bptt import (
    check_numerical_gradient,
    check_rnn_backward,
    check_rnn_step_backward,
)
from rnn_lib.grading.checks.ex06_gradient_norms import (
    check_clip_grad_norm_,
    check_jacobian_norms,
)
from rnn_lib.grading.checks.ex07_char_model import (
    check_char_model,
    check_next_char_probabilities,
    check_sequence_loss,
    check_train_step,
)
from rnn_lib.grading.checks.ex07_ngram_baseline import (
    check_choose_alpha,
    check_ngram_cross_entropy,
    check_ngram_log_probs,
)
from rnn_lib.grading.checks.ex08_lstm_cell import check_lstm_cell
from rnn_lib.grading.checks.ex09_attention_beam_search import (
    check_additive_attention,
    check_beam_step,
    check_masked_cross_entropy,
)
from rnn_lib.grading.checks.ex10_parallel_scan import (
    check_parallel_scan,
    check_scan_backward,
)

__all__ = [
    "CHECKS",
    "EXERCISES",
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
    "check_ngram_log_probs",
    "check_ngram_cross_entropy",
    "check_choose_alpha",
    "check_lstm_cell",
    "check_additive_attention",
    "check_beam_step",
    "check_masked_cross_entropy",
    "check_parallel_scan",
    "check_scan_backward",
]
