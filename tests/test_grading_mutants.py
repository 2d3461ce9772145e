"""The checks of rnn_lib.grading fail every realistic wrong solution and name its mistake.

The wrong solutions live in tests/mutants/, one module per exercise notebook
named as its module of checks (at least five per graded function); each is
registered with the known mistake its feedback must name.
"""

import importlib
import pkgutil
from collections import Counter

import pytest

import mutants
import rnn_lib.grading as grading
from rnn_lib.grading import CHECKS, EXERCISES

for module in pkgutil.iter_modules(mutants.__path__):
    importlib.import_module(f"mutants.{module.name}")

CASES = [
    pytest.param(check, mistake, function, id=f"{check}-{function.__name__}")
    for check, mistake, function in mutants.REGISTRY
]


@pytest.mark.parametrize("check, mistake, function", CASES)
def test_mutant_fails_and_is_named(check, mistake, function):
    with pytest.raises(grading.CheckFailed) as failure:
        CHECKS[f"check_{check}"](function)
    assert f'known mistake, "{mistake}"' in str(failure.value)


def test_at_least_five_mutants_per_graded_function():
    counts = Counter(check for check, _, _ in mutants.REGISTRY)
    # check_char_model has no mistakes of its own: it grades train_step again,
    # whose mutants check_train_step names.
    graded = [check.name for check in CHECKS.values() if check.mistakes]
    assert len(graded) == len(CHECKS) - 1
    assert {name: counts[name] for name in graded if counts[name] < 5} == {}


def test_every_mutant_names_a_known_mistake_of_its_check():
    # A typo in a registration would make the test above unfailable.
    for check, mistake, _ in mutants.REGISTRY:
        known = CHECKS[f"check_{check}"].mistakes
        assert mistake in {m.name for m in known}, (check, mistake)


def test_each_mutant_sits_in_the_module_of_its_exercise():
    for check, _, function in mutants.REGISTRY:
        exercise = function.__module__.removeprefix("mutants.ex")
        assert check in {c.name for c in EXERCISES[exercise]}, (check, function)
