"""The checks, one module per exercise notebook, named after it.

``exercises/03_rnn_step.ipynb`` is checked by :mod:`.ex03_rnn_step`, whose
wrong solutions are ``tests/mutants/ex03_rnn_step.py``: adding an exercise is
adding a module ``exNN_name.py`` here. Each module builds its
:class:`~rnn_lib.grading.checking.Check` objects and lists them, in the order
of the notebook's grader cells, as ``GRADER_CELLS``. Start with
:mod:`.ex03_rnn_step`.
"""

from __future__ import annotations

import importlib
import pkgutil

from rnn_lib.grading.checking import Check

# The exercise notebook's name (``'03_rnn_step'``) -> its checks, in order.
EXERCISES: dict[str, tuple[Check, ...]] = {
    module.name.removeprefix("ex"): importlib.import_module(
        f"{__name__}.{module.name}"
    ).GRADER_CELLS
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
    if module.name.startswith("ex")
}

# What a grader cell imports (``'check_rnn_step'``) -> the check.
CHECKS: dict[str, Check] = {
    f"check_{check.name}": check for checks in EXERCISES.values() for check in checks
}
