"""rnn_lib.grading.checking: how a Check compares and explains.

The feedback names what differs (output, position, size, case), catches
wrong structures, dtypes and in-place changes, names a known mistake or
gives the hint, and shows only itself in a notebook; a Check prints one line
when it passes.
"""

from functools import partial

import pytest
import torch

from rnn_lib.grading.cases import Cases
from rnn_lib.grading.checking import Check, CheckFailed, Mistake, Output

INPUTS = {1: torch.ones(1, 3, dtype=torch.float64),
          2: torch.arange(6.0, dtype=torch.float64).view(2, 3)}  # fmt: skip
CASES = Cases(lambda sizes, g: {"x": INPUTS[sizes["N"]]}, ({"N": 1}, {"N": 2}), seed=0)
OUT = [Output("y", "(N, 3)", ("batch row", "unit"))]


def double(x):
    return 2 * x


def verify(name, student, reference, cases, outputs, **kwargs) -> None:
    Check("9.9", name, reference, cases, tuple(outputs), **kwargs).verify(student)


def feedback(student, outputs=OUT, **kwargs) -> str:
    with pytest.raises(CheckFailed) as failure:
        verify("double", student, double, CASES, outputs, **kwargs)
    return str(failure.value)


def test_a_correct_answer_passes_silently(capsys):
    verify("double", lambda x: x + x, double, CASES, OUT)
    assert capsys.readouterr().out == ""


def test_a_check_prints_one_line_when_it_passes_and_nothing_when_it_fails(capsys):
    check = Check("9.9", "double", double, CASES, tuple(OUT))
    check(lambda x: x + x)
    assert capsys.readouterr().out == "double: all checks passed\n"
    with pytest.raises(CheckFailed):
        check(lambda x: 3 * x)
    assert capsys.readouterr().out == ""
    assert (check.label, repr(check)) == ("9.9 double", "<check 9.9 double>")


def test_feedback_names_the_position_the_values_and_the_case():
    def wrong(x):
        y = 2 * x
        if len(y) > 1:
            y[1, 2] += 0.5
        return y

    assert feedback(wrong) == (
        "double's y differs from the reference at batch row 1, unit 2: expected 10, "
        "got 10.5 (largest error 0.5, for N=2)."
    )


@pytest.mark.parametrize(
    "student, message",
    [
        (
            lambda x: (2 * x).T,
            r"has shape \(3, 1\), expected \(N, 3\) = \(1, 3\) \(for N=1\)",
        ),
        (lambda x: (2 * x).float(), "has dtype torch.float32, expected torch.float64"),
        (lambda x: 2 * x + torch.nan, "got nan"),
        (lambda x: None, "should be a tensor, but is a NoneType"),
        (lambda x: x.mul_(2), "changed its input x in place"),
        (lambda x: 1 / 0, "raised ZeroDivisionError: division by zero"),
        ("not a function", "should be a function, but is a str"),
    ],
)
def test_feedback_for_wrong_shapes_dtypes_values_and_behaviour(student, message):
    with pytest.raises(CheckFailed, match=message):
        verify("double", student, double, CASES, OUT)


def test_a_stub_is_told_to_write_its_code():
    def stub(x):
        raise NotImplementedError("Exercise 9.9: double")

    assert feedback(stub).startswith("double is not written yet (Exercise 9.9: double)")


def pair(x):
    return x, 2 * x


@pytest.mark.parametrize(
    "student, message",
    [
        (
            lambda x: x,
            "should return a tuple \\(a, b\\), but returned a tensor of shape",
        ),
        (lambda x: (x,), "should return 2 values \\(a, b\\), but returned 1"),
        (lambda x: {"a": x}, "returned a dict without \\['b'\\]"),
    ],
)
def test_feedback_for_wrong_structures(student, message):
    with pytest.raises(CheckFailed, match=message):
        verify("pair", student, pair, CASES, [Output("a"), Output("b")])


def test_a_dict_with_the_right_names_is_accepted():
    verify(
        "pair", lambda x: {"a": x, "b": 2 * x}, pair, CASES, [Output("a"), Output("b")]
    )


def test_hint_when_no_known_mistake_matches():
    assert feedback(lambda x: 3 * x, hint="Multiply by two.").endswith(
        "\nMultiply by two."
    )


def scaled(x, factor=2):
    return factor * x


MISTAKES = (
    Mistake("tripled", "multiply by two, not three.", partial(scaled, factor=3)),
    Mistake("negated", "keep the sign.", lambda x: -2 * x),
)


def test_a_known_mistake_is_named_instead_of_the_hint():
    got = feedback(lambda x: x * 3.0, mistakes=MISTAKES, hint="Multiply by two.")
    assert got.endswith(
        '\nYour answers equal those of a known mistake, "tripled": '
        "multiply by two, not three."
    )
    assert "Multiply by two." not in got
    # a mistake names an answer only if it equals it on every case
    assert feedback(lambda x: 3 * x if len(x) == 1 else 4 * x, mistakes=MISTAKES) == (
        "double's y differs from the reference at batch row 0, unit 0: expected 2, "
        "got 3 (largest error 1, for N=1)."
    )


def test_notebooks_show_the_feedback_not_a_traceback():
    error = CheckFailed("first line\nsecond line")
    assert error._render_traceback_() == ["CheckFailed: first line", "second line"]


def test_a_state_that_still_holds_its_graph_is_said_so():
    w = torch.ones(3, dtype=torch.float64, requires_grad=True)
    check = Check(
        "9.9", "state", lambda x: x.sum(0), CASES,
        (Output("state", kind="detached tensor"),),
    )  # fmt: skip
    with pytest.raises(CheckFailed, match="still requires grad .* .detach\\(\\)"):
        check.verify(lambda x: x.sum(0) * w)


NOTEBOOK = """
import torch


def rnn_step_backward(grad_h_new, x, h, h_new, w_ih, w_hh):  # tanh' forgotten
    delta = grad_h_new
    return delta @ w_ih, delta @ w_hh, delta.T @ x, delta.T @ h, delta.sum(0)


def rnn_backward(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh):  # right
    grads, grad_h, totals = [], grad_h_n, [0, 0, 0]
    for t in reversed(range(x.shape[0])):
        h_prev = h_0 if t == 0 else output[t - 1]
        g_x, grad_h, *weights = rnn_step_backward(
            grad_output[t] + grad_h, x[t], h_prev, output[t], w_ih, w_hh
        )
        grads.insert(0, g_x)
        totals = [a + b for a, b in zip(totals, weights)]
    return torch.stack(grads), grad_h, *totals
"""


def test_a_failing_function_it_calls_is_blamed_not_this_one():
    from rnn_lib.grading import check_rnn_backward

    namespace: dict = {}
    exec(NOTEBOOK, namespace)  # as a notebook defines them: globals of one namespace
    with pytest.raises(CheckFailed) as failure:
        check_rnn_backward(namespace["rnn_backward"])
    feedback = str(failure.value)
    assert "Your rnn_step_backward fails check 5.2 rnn_step_backward too" in feedback
    assert "known mistake" not in feedback  # not rnn_backward's "missing tanh' factor"
