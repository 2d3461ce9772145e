"""rnn_lib.grading.checking and the references behind the checks.

The feedback names what differs (output, position, size, case), catches
wrong structures, dtypes and in-place changes, and shows only itself in a
notebook. The references that are not torch itself agree with torch.
"""

import pytest
import torch

import rnn_lib.grading as grading
from rnn_lib import functional
from rnn_lib.grading import backprop, char_model, gradients, recurrence, shapes
from rnn_lib.grading.checking import Case, CheckFailed, Output, verify

CASES = [Case({"N": 1}, {"x": torch.ones(1, 3, dtype=torch.float64)}),
         Case({"N": 2}, {"x": torch.arange(6.0, dtype=torch.float64).view(2, 3)})]  # fmt: skip
OUT = [Output("y", "(N, 3)", ("batch row", "unit"))]


def double(x):
    return 2 * x


def feedback(student, outputs=OUT, **kwargs) -> str:
    with pytest.raises(CheckFailed) as failure:
        verify("double", student, double, CASES, outputs, **kwargs)
    return str(failure.value)


def test_a_correct_answer_passes_silently(capsys):
    verify("double", lambda x: x + x, double, CASES, OUT)
    assert capsys.readouterr().out == ""


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


def test_notebooks_show_the_feedback_not_a_traceback():
    error = CheckFailed("first line\nsecond line")
    assert error._render_traceback_() == ["CheckFailed: first line", "second line"]


def test_every_check_prints_one_line_when_it_passes(capsys):
    solutions = {
        "rnn_step": recurrence._step_reference,
        "rnn_layer": recurrence._layer_reference,
        "stacked_rnn": recurrence._stacked_reference,
        "bidirectional_rnn": recurrence._bidirectional_reference,
        "rnn_output_shapes": shapes._shape_reference,
        "count_parameters": shapes._count_reference,
        "final_features": shapes._final_reference,
        "numerical_gradient": backprop._numerical_reference,
        "rnn_step_backward": backprop._step_backward_reference,
        "rnn_backward": backprop._backward_reference,
        "jacobian_norms": gradients._jacobian_reference,
        "clip_grad_norm_": gradients._reference_clip,
        "sequence_loss": char_model._loss_reference,
        "next_char_probabilities": char_model._probability_reference,
        "train_step": char_model._train_reference,
    }
    for name, reference in solutions.items():
        getattr(grading, f"check_{name}")(reference)
        assert capsys.readouterr().out == f"{name}: all checks passed\n"


# -- the references that are not torch itself agree with torch ---------------


def test_final_features_reference_is_cat_of_h_n():
    for case in shapes._final_cases():
        batch_first = case.args["batch_first"]
        rnn = torch.nn.RNN(
            2, case.sizes["H_out"], bidirectional=True, batch_first=batch_first
        )
        x = torch.randn((3, 4, 2) if batch_first else (4, 3, 2))
        output, h_n = rnn(x)
        torch.testing.assert_close(
            shapes._final_reference(output, batch_first),
            torch.cat([h_n[0], h_n[1]], dim=-1),
        )


def test_backward_references_equal_autograd_with_the_real_biases():
    g = torch.Generator().manual_seed(5)
    L, N, H_in, H = 4, 3, 2, 5
    x, h_0 = (
        torch.randn(L, N, H_in, generator=g, dtype=torch.float64),
        torch.randn(N, H, generator=g, dtype=torch.float64),
    )
    w_ih, w_hh = (
        torch.randn(H, H_in, generator=g, dtype=torch.float64),
        torch.randn(H, H, generator=g, dtype=torch.float64) / 2,
    )
    b_ih, b_hh = (
        torch.randn(H, generator=g, dtype=torch.float64),
        torch.randn(H, generator=g, dtype=torch.float64),
    )
    leaves = [t.clone().requires_grad_() for t in (x, h_0, w_ih, w_hh, b_ih)]
    output, h_n = functional.rnn_layer(*leaves, b_hh)
    grad_output, grad_h_n = torch.randn_like(output), torch.randn_like(h_n)
    expected = torch.autograd.grad(
        (output * grad_output).sum() + (h_n * grad_h_n).sum(), leaves
    )
    got = backprop._backward_reference(
        grad_output, grad_h_n, x, h_0, output.detach(), w_ih, w_hh
    )
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
    # one step is the layer with L = 1
    step = backprop._step_backward_reference(
        grad_h_n,
        x[0],
        h_0,
        functional.rnn_step(x[0], h_0, w_ih, w_hh, b_ih, b_hh),
        w_ih,
        w_hh,
    )
    layer = backprop._backward_reference(
        torch.zeros_like(output[:1]),
        grad_h_n,
        x[:1],
        h_0,
        functional.rnn_step(x[0], h_0, w_ih, w_hh, b_ih, b_hh)[None],
        w_ih,
        w_hh,
    )
    for a, b in zip(step, layer):
        torch.testing.assert_close(a.reshape(b.shape), b)


def test_jacobian_norms_reference_equals_autograd_jacobians():
    case = gradients._jacobian_cases()[2]
    h, w_hh = case.args["h"], case.args["w_hh"]
    L = h.shape[0]
    # a_t = h_{t-1} W^T + c_t with c_t chosen so that the states are h.
    previous = torch.cat([torch.zeros(1, h.shape[1], dtype=h.dtype), h[:-1]])
    c = torch.atanh(h) - previous @ w_hh.T
    norms = gradients._jacobian_reference(h, w_hh)
    for k in range(1, L + 1):

        def run(start, k=k):
            state = start
            for t in range(L - k, L):
                state = torch.tanh(state @ w_hh.T + c[t])
            return state

        J = torch.autograd.functional.jacobian(run, previous[L - k])
        torch.testing.assert_close(norms[k - 1], torch.linalg.matrix_norm(J, ord=2))


@pytest.mark.slow
def test_char_model_passes_a_learner_and_fails_one_that_does_not(capsys):
    grading.check_char_model(char_model._train_reference)
    assert "below 2.4 nats" in capsys.readouterr().out

    def frozen(model, optimizer, input, target, h, max_norm):
        logits, h_n = model(input, h)
        return char_model.F.cross_entropy(
            logits.flatten(0, 1), target.flatten()
        ).item(), h_n

    with pytest.raises(CheckFailed, match="validation loss of 4.* the target is 2.4"):
        grading.check_char_model(frozen)
