"""The checks, one module per exercise notebook, named after it.

``exercises/03_rnn_step.ipynb`` is checked by :mod:`.ex03_rnn_step`, whose
wrong solutions are ``tests/mutants/ex03_rnn_step.py``. Each module builds its
:class:`~rnn_lib.grading.checking.Check` objects and lists them, in the order
of the notebook's grader cells, as ``GRADER_CELLS``. Start with
:mod:`.ex03_rnn_step`.
"""

from __future__ import annotations

from rnn_lib.grading.checking import Check
from rnn_lib.grading.checks import (
    ex03_rnn_step,
    ex03_stacked_bidirectional,
    ex04_rnn_shapes,
    ex05_bptt,
    ex06_gradient_norms,
    ex07_char_model,
    ex08_lstm_cell,
)

_MODULES = (
    ex03_rnn_step,
    ex03_stacked_bidirectional,
    ex04_rnn_shapes,
    ex05_bptt,
    ex06_gradient_norms,
    ex07_char_model,
    ex08_lstm_cell,
)

# The exercise notebook's name (``'03_rnn_step'``) -> its checks, in order.
EXERCISES: dict[str, tuple[Check, ...]] = {
    module.__name__.rpartition(".")[2].removeprefix("ex"): module.GRADER_CELLS
    for module in _MODULES
}

# What a grader cell imports (``'check_rnn_step'``) -> the check.
CHECKS: dict[str, Check] = {
    f"check_{check.name}": check for checks in EXERCISES.values() for check in checks
}
