"""rnn_lib.grading.recording and .forbidden: the calls an exercise refuses, and how they are seen.

A call is seen however it is made (another name, a wrapper module, a thread
the function starts), only while the student's function runs, only under
its condition; switching the recorder off is itself seen. Every exercise's
text names the calls its checks refuse, and each check refuses them, with a
message that names the call and no points.
"""

import re
import threading

import nbformat
import pytest
import torch
from test_grading_release import SOLUTIONS

from rnn_lib import functional
from rnn_lib.grading import CHECKS, EXERCISES, CheckFailed
from rnn_lib.grading.forbidden import AUTOGRAD, REVERSED_LAYER, TORCH_RNN_CELL_KERNEL
from rnn_lib.grading.recording import SWITCHED_OFF, Forbidden, Recorder


def _seen(rules, function, *args) -> list[str]:
    recorder = Recorder(rules)
    recorder.wrap(function)(*args)
    return recorder.seen


X, H = torch.randn(2, 3), torch.randn(2, 4)
W_IH, W_HH, B = torch.randn(4, 3), torch.randn(4, 4), torch.randn(4)


def test_a_call_is_seen_under_any_name():
    from torch import rnn_tanh_cell as my_cell

    assert _seen([TORCH_RNN_CELL_KERNEL], lambda: my_cell(X, H, W_IH, W_HH, B, B)) == [
        "torch.rnn_tanh_cell"
    ]


def test_a_call_through_a_module_is_seen():
    cell = torch.nn.RNNCell(3, 4)
    assert _seen([TORCH_RNN_CELL_KERNEL], cell, X, H) == ["torch.rnn_tanh_cell"]


def test_a_python_call_is_seen_and_its_condition_read():
    x = torch.randn(3, 2, 3)
    h_0 = torch.zeros(2, 4)

    def layer(reverse):
        return lambda: functional.rnn_layer(x, h_0, W_IH, W_HH, B, B, reverse=reverse)

    assert _seen([REVERSED_LAYER], layer(True)) == ["rnn_layer(..., reverse=True)"]
    assert _seen([REVERSED_LAYER], layer(False)) == []


def test_autograd_is_seen_through_backward_and_grad():
    w = torch.randn(3, requires_grad=True)
    assert _seen([AUTOGRAD], lambda: (w**2).sum().backward()) == ["torch.autograd"]
    assert _seen([AUTOGRAD], lambda: torch.autograd.grad((w**2).sum(), w)) == [
        "torch.autograd"
    ]


def test_a_call_from_a_thread_the_function_starts_is_seen():
    def threaded():
        worker = threading.Thread(
            target=lambda: torch.rnn_tanh_cell(X, H, W_IH, W_HH, B, B)
        )
        worker.start()
        worker.join()

    assert _seen([TORCH_RNN_CELL_KERNEL], threaded) == ["torch.rnn_tanh_cell"]


def test_switching_the_recorder_off_is_seen():
    import sys

    def hide():
        sys.setprofile(None)
        torch.rnn_tanh_cell(X, H, W_IH, W_HH, B, B)

    assert _seen([TORCH_RNN_CELL_KERNEL], hide) == [SWITCHED_OFF]


def test_only_the_wrapped_call_is_recorded_and_the_profiler_is_put_back():
    import sys

    recorder = Recorder([TORCH_RNN_CELL_KERNEL])
    torch.rnn_tanh_cell(X, H, W_IH, W_HH, B, B)  # before: not the student's
    recorder.wrap(lambda: None)()
    assert recorder.seen == []
    assert sys.getprofile() is None


def test_no_rules_no_profiler():
    function = lambda: 1  # noqa: E731
    assert Recorder([]).wrap(function) is function


def test_every_rule_watches_something():
    for check in CHECKS.values():
        for rule in check.forbidden:
            assert isinstance(rule, Forbidden)
            assert list(rule.targets()), rule.name


def _exercise_texts() -> dict[str, str]:
    """The markdown of each exercise, from its heading ("## Exercise 3.1: ...") on."""
    texts: dict[str, str] = {}
    for name in EXERCISES:
        number = None
        for cell in nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4).cells:
            if cell.cell_type != "markdown":
                continue
            heading = re.match(r"## (?:Exercise|Check) (\d+\.\d+)", cell.source)
            number = heading.group(1) if heading else number
            if number:
                texts[number] = texts.get(number, "") + cell.source
    return texts


def test_every_refused_call_is_named_in_its_exercise_text():
    texts = _exercise_texts()
    for check in CHECKS.values():
        for rule in check.forbidden:
            assert f"`{rule.name}`" in texts[check.exercise], (check.label, rule.name)


# (check, a right answer made with a call its exercise refuses, the call named)
REFUSED = [
    ("rnn_step", lambda x, h, w_ih, w_hh, b_ih, b_hh: functional.rnn_step(
        x, h, w_ih, w_hh, b_ih, b_hh), "rnn_lib.functional.rnn_step"),
    ("rnn_layer", lambda x, h_0, w_ih, w_hh, b_ih, b_hh: _torch_layer(
        x, h_0, w_ih, w_hh, b_ih, b_hh), "torch.nn.RNN"),
    ("bidirectional_rnn", lambda x, h_0, forward, backward: _reversed_layer(
        x, h_0, forward, backward), "rnn_layer(..., reverse=True)"),
    ("count_parameters", lambda H_in, H_out, num_layers, bidirectional, bias: sum(
        p.numel() for p in torch.nn.RNN(H_in, H_out, num_layers, bias=bias,
                                         bidirectional=bidirectional).parameters()),
     "torch.nn.RNN"),
    ("numerical_gradient", lambda f, x, eps: _autograd_gradient(f, x), "torch.autograd"),
    ("clip_grad_norm_", lambda parameters, max_norm: torch.nn.utils.clip_grad_norm_(
        parameters, max_norm), "torch.nn.utils.clip_grad_norm_"),
    ("lstm_cell", lambda x, h, c, w_ih, w_hh, b_ih, b_hh: torch.lstm_cell(
        x, (h, c), w_ih, w_hh, b_ih, b_hh), "torch.lstm_cell"),
]  # fmt: skip


def _torch_layer(x, h_0, w_ih, w_hh, b_ih, b_hh):
    rnn = torch.nn.RNN(x.shape[-1], h_0.shape[-1]).double()
    with torch.no_grad():
        for p, w in zip(rnn.parameters(), (w_ih, w_hh, b_ih, b_hh)):
            p.copy_(w)
        output, h_n = rnn(x, h_0[None])
    return output, h_n[0]


def _reversed_layer(x, h_0, forward, backward):
    out_f, h_f = functional.rnn_layer(x, h_0[0], *forward)
    out_b, h_b = functional.rnn_layer(x, h_0[1], *backward, reverse=True)
    return torch.cat([out_f, out_b], -1), torch.stack([h_f, h_b])


def _autograd_gradient(f, x):
    x = x.detach().clone().requires_grad_()
    (grad,) = torch.autograd.grad(f(x), x)
    return grad


@pytest.mark.parametrize("check, function, call", REFUSED, ids=[r[0] for r in REFUSED])
def test_a_refused_call_gives_no_points_and_is_named(check, function, call):
    with pytest.raises(CheckFailed, match="rules out") as failure:
        CHECKS[f"check_{check}"](function)
    assert f"calls {call}" in str(failure.value)
