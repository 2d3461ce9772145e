"""rnn_lib.grading.shrinking: feedback for a mistake no catalog names.

The smallest probe that fails and the simpler ones beside it that pass make
the message; a parameter the answer ignores is named. On the wrong answers of
tests/grading_submissions/ that equal no known mistake, the feedback of the
check says where the mistake starts to show.
"""

import importlib
import pkgutil

import grading_submissions
import pytest

from rnn_lib.grading import CHECKS, CheckFailed
from rnn_lib.grading.cases import Case, Cases, Dim
from rnn_lib.grading.shrinking import explain, ignored

DIMS = {"L": Dim((1, 2, 3), "look at the steps"), "N": Dim((1, 2), "look at the rows")}
PROBES = [Case({"L": L, "N": N}, {}) for L in (1, 2, 3) for N in (1, 2)]


def _problems(wrong) -> list[str]:
    return ["differs" if wrong(p.sizes) else "" for p in PROBES]


def test_one_size_that_matters():
    message = explain(DIMS, PROBES, _problems(lambda s: s["N"] > 1))
    assert message.startswith(
        "Shrunk to small inputs: correct when N=1, wrong when N=2 (with L=1): "
        "look at the rows. There, differs."
    )


def test_the_first_step_that_goes_wrong():
    message = explain(DIMS, PROBES, _problems(lambda s: s["L"] > 2))
    assert "correct when L=2, wrong when L=3 (with N=1): look at the steps" in message


def test_two_sizes_that_matter_together():
    message = explain(DIMS, PROBES, _problems(lambda s: s["L"] > 1 and s["N"] > 1))
    assert "correct when L=1 or N=1, wrong when L=2 and N=2" in message
    assert "look at the steps; look at the rows" in message


def test_wrong_on_the_smallest_input():
    message = explain(DIMS, PROBES, _problems(lambda s: True))
    assert message.startswith("Shrunk to the smallest input tried (L=1, N=1), it is ")


def test_nothing_to_say_when_every_probe_is_right_or_there_are_none():
    assert explain(DIMS, PROBES, _problems(lambda s: False)) == ""
    assert explain({}, [], []) == ""


def test_a_parameter_the_answer_ignores():
    dims = {"eps": Dim((0.1, 0.5), "use eps", parameter=True)}
    probes = [Case({"eps": 0.1}, {}), Case({"eps": 0.5}, {})]
    student = lambda i, j: True  # noqa: E731 - the same answers for both
    reference = lambda i, j: False  # noqa: E731
    message = ignored(dims, probes, ["", "differs"], student, reference)
    assert message == (
        "Your answers are the same for eps=0.1 and eps=0.5, where the reference's "
        "differ: use eps."
    )
    assert ignored(dims, probes, ["", "differs"], reference, reference) == ""


def test_probes_that_differ_only_in_a_parameter_get_the_same_inputs():
    import torch

    cases = Cases(
        lambda sizes, g: {
            "x": torch.randn(sizes["N"], generator=g),
            "eps": sizes["eps"],
        },
        ({"N": 2, "eps": 0.1},),
        seed=3,
        dims={"N": Dim((1, 2), ""), "eps": Dim((0.1, 0.5), "", parameter=True)},
    )
    probes = {(p.sizes["N"], p.sizes["eps"]): p.args["x"] for p in cases.probes()}
    assert torch.equal(probes[(2, 0.1)], probes[(2, 0.5)])


for module in pkgutil.iter_modules(grading_submissions.__path__):
    importlib.import_module(f"grading_submissions.{module.name}")

SHRUNK = [
    s
    for s in grading_submissions.REGISTRY
    if any(
        w in " ".join(s.says) for w in ("correct when", "wrong even", "are the same")
    )
]


@pytest.mark.parametrize("submission", SHRUNK, ids=lambda s: s.function.__name__)
def test_an_unnamed_mistake_is_shrunk_not_named(submission):
    with pytest.raises(CheckFailed) as failure:
        CHECKS[f"check_{submission.check}"](submission.function)
    feedback = str(failure.value)
    assert "known mistake" not in feedback
    assert "Shrunk to" in feedback or "Your answers are the same" in feedback
