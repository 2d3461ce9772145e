"""rnn_lib.grading.checks: one module per exercise notebook, and their references.

Every check is registered under the name its grader cell imports, in the
module named after its notebook, in the notebook's order and with its points;
every check passes its own reference with one stable line; the references
that are not torch itself agree with torch.
"""

import dataclasses
import importlib

import nbformat
import pytest
import torch
from test_grading_release import NAMES, SOLUTIONS

import rnn_lib.grading as grading
from rnn_lib import functional
from rnn_lib.grading import CHECKS, EXERCISES, CheckFailed
from rnn_lib.grading.notebooks import GRADER_TAG


def test_each_exercise_notebook_has_its_module_of_checks():
    assert list(EXERCISES) == NAMES
    for name, checks in EXERCISES.items():
        module = importlib.import_module(f"rnn_lib.grading.checks.ex{name}")
        assert module.GRADER_CELLS == checks


@pytest.mark.parametrize("name", NAMES)
def test_grader_cells_call_their_checks_in_order_with_their_points(name):
    nb = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    cells = [c for c in nb.cells if GRADER_TAG in c.metadata.get("tags", [])]
    checks = EXERCISES[name]
    assert [c.metadata["rnn_grading"]["check"] for c in cells] == [
        check.label for check in checks
    ]
    assert [c.metadata["rnn_grading"]["points"] for c in cells] == [
        check.points for check in checks
    ]
    for cell, check in zip(cells, checks):
        assert f"from rnn_lib.grading import check_{check.name}\n" in cell.source


def test_the_public_names_are_the_registered_checks():
    assert set(CHECKS) == {
        name for name in grading.__all__ if name.startswith("check_")
    }
    for public, check in CHECKS.items():
        assert getattr(grading, public) is check
        assert public == f"check_{check.name}"


def test_every_check_prints_one_line_when_it_passes(capsys):
    for public, check in CHECKS.items():
        if public == "check_char_model":  # it trains a model: the slow test below
            continue
        # the references may make the calls the exercises forbid the students
        dataclasses.replace(check, forbidden=())(check.reference)
        assert capsys.readouterr().out == f"{check.name}: all checks passed\n"


# -- the references that are not torch itself agree with torch ------------------


def test_final_features_reference_is_cat_of_h_n():
    for case in CHECKS["check_final_features"].cases():
        batch_first = case.args["batch_first"]
        rnn = torch.nn.RNN(
            2, case.sizes["H_out"], bidirectional=True, batch_first=batch_first
        )
        x = torch.randn((3, 4, 2) if batch_first else (4, 3, 2))
        output, h_n = rnn(x)
        torch.testing.assert_close(
            CHECKS["check_final_features"].reference(output, batch_first),
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
    got = CHECKS["check_rnn_backward"].reference(
        grad_output, grad_h_n, x, h_0, output.detach(), w_ih, w_hh
    )
    for a, b in zip(got, expected):
        torch.testing.assert_close(a, b)
    # one step is the layer with L = 1
    step = CHECKS["check_rnn_step_backward"].reference(
        grad_h_n,
        x[0],
        h_0,
        functional.rnn_step(x[0], h_0, w_ih, w_hh, b_ih, b_hh),
        w_ih,
        w_hh,
    )
    layer = CHECKS["check_rnn_backward"].reference(
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
    case = CHECKS["check_jacobian_norms"].cases()[2]
    h, w_hh = case.args["h"], case.args["w_hh"]
    L = h.shape[0]
    # a_t = h_{t-1} W^T + c_t with c_t chosen so that the states are h.
    previous = torch.cat([torch.zeros(1, h.shape[1], dtype=h.dtype), h[:-1]])
    c = torch.atanh(h) - previous @ w_hh.T
    norms = CHECKS["check_jacobian_norms"].reference(h, w_hh)
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
    grading.check_char_model(CHECKS["check_train_step"].reference)
    assert "below 2.4 nats" in capsys.readouterr().out

    def frozen(model, optimizer, input, target, h, max_norm):
        logits, h_n = model(input, h)
        return torch.nn.functional.cross_entropy(
            logits.flatten(0, 1), target.flatten()
        ).item(), h_n

    with pytest.raises(CheckFailed, match="validation loss of 4.* the target is 2.4"):
        grading.check_char_model(frozen)
