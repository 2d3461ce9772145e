"""The calls the exercises rule out, written once (see :mod:`rnn_lib.grading.recording`).

Built for the exercises (the book's Exercises part). Each rule names one call
as an exercise's text names it (``torch.nn.RNN``) and the functions that make
it; the checks list the rules their exercise's text states, and a test proves
that every rule's name appears in that text. A rule watches the function
that does the work (``torch.nn.RNN.forward``, the kernel
``torch.rnn_tanh_cell``), so a call through another name or a wrapper is
seen too. Read next: :mod:`rnn_lib.grading.checking`.
"""

from __future__ import annotations

import torch

import rnn_lib
from rnn_lib import bptt as rnn_lib_bptt
from rnn_lib import clipping, diagnostics, functional, gated_functional
from rnn_lib.grading.recording import Forbidden


def _rule(name: str, *targets) -> Forbidden:
    return Forbidden(name, lambda: targets)


# The recurrence itself, done by torch or by the course's own code.
TORCH_RNN = _rule("torch.nn.RNN", torch.nn.RNN.forward)
TORCH_RNN_CELL = _rule("torch.nn.RNNCell", torch.nn.RNNCell.forward)
TORCH_RNN_KERNEL = _rule("torch.rnn_tanh", torch.rnn_tanh)
TORCH_RNN_CELL_KERNEL = _rule("torch.rnn_tanh_cell", torch.rnn_tanh_cell)
LIB_RNN_STEP = _rule("rnn_lib.functional.rnn_step", functional.rnn_step)
LIB_RNN_LAYER = _rule("rnn_lib.functional.rnn_layer", functional.rnn_layer)
LIB_RNN = _rule("rnn_lib.RNN", rnn_lib.RNN.forward, rnn_lib.RNNCell.forward)
TORCH_RECURRENCE = (TORCH_RNN, TORCH_RNN_CELL, TORCH_RNN_KERNEL, TORCH_RNN_CELL_KERNEL)
# 3.1 and 3.2: the step and the layer written out.
RECURRENCE = (*TORCH_RECURRENCE, LIB_RNN_STEP, LIB_RNN_LAYER, LIB_RNN)
REVERSED_LAYER = Forbidden(
    "rnn_layer(..., reverse=True)",
    lambda: (functional.rnn_layer,),
    when=lambda arguments: arguments.get("reverse") is True,
)

# Building a torch.nn.RNN to read off what the definitions give.
BUILT_RNN = _rule("torch.nn.RNN", torch.nn.RNN.__init__, torch.nn.RNNBase.__init__)

# Gradients computed for the student.
AUTOGRAD = _rule("torch.autograd", torch.autograd.grad, torch.autograd.backward)
LIB_NUMERICAL_GRADIENT = _rule(
    "rnn_lib.bptt.numerical_gradient", rnn_lib_bptt.numerical_gradient
)
LIB_JACOBIANS = _rule(
    "rnn_lib.diagnostics",
    diagnostics.jacobian_products,
    diagnostics.step_jacobians,
    diagnostics.state_jacobian_norms,
)

# Clipping done for the student.
TORCH_CLIP = _rule(
    "torch.nn.utils.clip_grad_norm_",
    torch.nn.utils.clip_grad_norm_,
    torch.nn.utils.clip_grads_with_norm_,
)
LIB_CLIP = _rule("rnn_lib.clipping.clip_grad_norm_", clipping.clip_grad_norm_)

# The LSTM, done by torch or by the course's own code.
TORCH_LSTM = _rule(
    "torch.nn.LSTMCell", torch.nn.LSTMCell.forward, torch.nn.LSTM.forward
)
TORCH_LSTM_KERNEL = _rule("torch.lstm_cell", torch.lstm_cell, torch.lstm)
LIB_LSTM = _rule(
    "rnn_lib.gated.lstm_step",
    gated_functional.lstm_step,
    rnn_lib.LSTMCell.forward,
    rnn_lib.LSTM.forward,
)
LSTM = (TORCH_LSTM, TORCH_LSTM_KERNEL, LIB_LSTM)
