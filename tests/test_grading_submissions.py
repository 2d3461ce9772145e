"""The checks on answers written for the purpose, beyond the mutants.

tests/grading_submissions/ holds right answers written differently from the
references, which every check must accept, and wrong answers that are not
among tests/mutants/ (most equal no known mistake), which every check must
fail with feedback that finds the mistake: the words each is registered with
(a known mistake's name, the sizes shrinking names, the kind an output must
be). Both hold for the notebook's cases and for cases drawn from other seeds,
as the batch grader draws them.
"""

import importlib
import pkgutil

import grading_submissions
import pytest

from rnn_lib.grading import CHECKS, EXERCISES, CheckFailed

for module in pkgutil.iter_modules(grading_submissions.__path__):
    importlib.import_module(f"grading_submissions.{module.name}")

RIGHT = [s for s in grading_submissions.REGISTRY if s.right]
WRONG = [s for s in grading_submissions.REGISTRY if not s.right]
SEEDS = [None, 20260101]  # the notebook's cases, and a batch's


def _id(submission) -> str:
    return f"{submission.check}-{submission.function.__name__}"


@pytest.mark.parametrize("seed", SEEDS, ids=["notebook", "batch"])
@pytest.mark.parametrize("submission", RIGHT, ids=_id)
def test_a_right_answer_written_differently_passes(submission, seed):
    CHECKS[f"check_{submission.check}"].verify(submission.function, seed)


@pytest.mark.parametrize("seed", SEEDS, ids=["notebook", "batch"])
@pytest.mark.parametrize("submission", WRONG, ids=_id)
def test_a_new_wrong_answer_fails_with_feedback_that_finds_it(submission, seed):
    with pytest.raises(CheckFailed) as failure:
        CHECKS[f"check_{submission.check}"].verify(submission.function, seed)
    for words in submission.says:
        assert words in str(failure.value), str(failure.value)


def test_every_graded_function_has_right_and_wrong_answers():
    graded = {check.name for check in CHECKS.values()} - {"char_model"}
    assert {s.check for s in RIGHT} == graded
    assert {s.check for s in WRONG} == graded


def test_each_answer_sits_in_the_module_of_its_exercise():
    for submission in grading_submissions.REGISTRY:
        checks = EXERCISES[submission.exercise]
        assert submission.check in {c.name for c in checks}, _id(submission)
