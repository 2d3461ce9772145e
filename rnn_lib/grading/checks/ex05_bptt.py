"""Checks for exercises/05_bptt.ipynb: exercises 5.1 to 5.3 (after chapter 5).

- 5.1 ``numerical_gradient(f, x, eps)``: central differences, the check on
  everything else.
- 5.2 ``rnn_step_backward(grad_h_new, x, h, h_new, w_ih, w_hh)``: the
  gradients of one tanh step, by hand.
- 5.3 ``rnn_backward(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh)``: the
  gradients of a whole layer, backwards in time.

The reference of 5.1 is the central difference itself, with the step the
case gives (steps up to 0.1, where a forward difference, another step or a
float32 result are far off). Those of 5.2 and 5.3 are the chapter's formulas
written out, so that the tolerance sees the rounding of each product; the
tests prove them equal to autograd through :mod:`rnn_lib.functional` (the
graded functions do not take the biases, so that proof gives the step a
per-row ``b_hh`` that reproduces the given states exactly). None of the
three may use autograd (the text says so). Read next:
:mod:`rnn_lib.grading.checks.ex06_gradient_norms`.
"""

from __future__ import annotations

from functools import partial

import torch

from rnn_lib import functional
from rnn_lib.grading.cases import (
    H_IN_DIM,
    H_OUT_DIM,
    L_DIM,
    N_DIM,
    Case,
    Cases,
    Dim,
    Outcome,
    Raised,
    randn,
    rnn_weights,
)
from rnn_lib.grading.checking import Check, Mistake, Output
from rnn_lib.grading.forbidden import AUTOGRAD, LIB_NUMERICAL_GRADIENT

# -- 5.1 numerical_gradient ------------------------------------------------------


def smooth_function(A: torch.Tensor, b: torch.Tensor):
    """A smooth scalar function of a tensor whose last axis is ``A.shape[0]``.

    Its third derivative is not small, so that the step of a difference matters.
    """

    def f(x):
        return (torch.tanh(x @ A + b) ** 2).sum() + 0.1 * (x**3).sum()

    return f


def _numerical_args(sizes: dict, g) -> dict:
    shape = sizes["x.shape"]
    return {
        "A": randn(shape[-1], 4, generator=g, scale=0.6),
        "b": randn(4, generator=g, scale=0.3),
        "x": randn(*shape, generator=g),
        "eps": sizes["eps"],
    }


def _numerical_call(function, case: Case) -> Outcome:
    """Give ``function`` the case's smooth function, a fresh x and the step."""
    args = case.args
    x = args["x"].clone()
    try:
        value = function(smooth_function(args["A"], args["b"]), x, args["eps"])
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=Raised.of(error))
    unchanged = torch.allclose(x, args["x"], rtol=1e-12, atol=1e-12)
    return Outcome(value=value, modified=() if unchanged else ("x",))


NUMERICAL_CASES = Cases(
    _numerical_args,
    # one entry; steps from 1e-3, where rounding is small, to 0.1, where the
    # central difference's own error (eps^2 f''' / 6) is large: another step,
    # or another formula, gives another answer.
    tuple(
        {"x.shape": shape, "eps": eps}
        for shape, eps in [((1,), 1e-3), ((3,), 0.1), ((2, 3), 1e-2), ((4, 2), 0.05)]
    ),
    seed=51,
    dims={
        "x.shape": Dim(
            ((1,), (2,), (2, 2)),
            "look at how each entry is perturbed and put back, one at a time",
        ),
        "eps": Dim(
            (1e-3, 0.1),
            "look at how the step eps enters: use the eps you are given, on both "
            "sides of x",
            parameter=True,
        ),
    },
)


def _differences(f, x, eps, kind="central", dtype=None, back=False):
    """Finite differences entry by entry, with switches for the known mistakes."""
    grad = torch.zeros(x.shape, dtype=dtype or x.dtype)
    flat = grad.view(-1)
    for i in range(x.numel()):
        step = torch.zeros_like(x).view(-1)
        step[i] = eps
        step = step.view(x.shape)
        if kind == "forward":
            flat[i] = (f(x + step) - f(x)) / eps
        elif kind == "over eps":
            flat[i] = (f(x + step) - f(x - step)) / eps
        else:
            flat[i] = (f(x + step) - f(x - step)) / (2 * eps)
    return grad.to(x.dtype) if back else grad


def _not_restored(f, x, eps):
    grad = torch.zeros_like(x)
    flat_x, flat = x.view(-1), grad.view(-1)
    for i in range(x.numel()):
        flat_x[i] += eps
        up = f(x)
        flat_x[i] -= 2 * eps
        flat[i] = (up - f(x)) / (2 * eps)
    return grad


def _all_at_once(f, x, eps):
    return torch.full_like(x, float((f(x + eps) - f(x - eps)) / (2 * eps)))


NUMERICAL_MISTAKES = (
    Mistake(
        "forward difference",
        "(f(x + eps) - f(x)) / eps is off by about eps * f'' / 2; the central difference "
        "(f(x + eps) - f(x - eps)) / (2 eps) is off by about eps^2 * f''' / 6.",
        partial(_differences, kind="forward"),
    ),
    Mistake(
        "divided by eps instead of 2 eps",
        "the two points x + eps and x - eps are 2 eps apart: divide by 2 * eps.",
        partial(_differences, kind="over eps"),
    ),
    Mistake(
        "perturbation not undone",
        "after evaluating f at x - eps, put the entry back (or perturb a clone): "
        "each entry's difference must be taken around the original x.",
        _not_restored,
    ),
    Mistake(
        "all entries perturbed at once",
        "perturb one entry at a time: x + eps moves every entry and measures the sum "
        "of the partial derivatives, not one of them.",
        _all_at_once,
    ),
    Mistake(
        "gradient flattened",
        "return the gradient in x's shape: grad.view(x.shape) or torch.zeros_like(x).",
        lambda f, x, eps: _differences(f, x, eps).view(-1),
    ),
    Mistake(
        "gradient stored in float32",
        "torch.zeros(x.shape) is float32 and rounds the result to about 7 digits: "
        "use torch.zeros_like(x).",
        partial(_differences, dtype=torch.float32),
    ),
    Mistake(
        "gradient stored in float32",
        "torch.zeros(x.shape) is float32 and rounds every entry to about 7 digits, "
        "even when the result is turned back into float64: use torch.zeros_like(x).",
        partial(_differences, dtype=torch.float32, back=True),
    ),
)

check_numerical_gradient = Check(
    "5.1",
    "numerical_gradient",
    _differences,
    NUMERICAL_CASES,
    (Output("numerical_gradient", "like x", ("index",) * 2),),
    NUMERICAL_MISTAKES,
    hint="For each entry i: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), with e_i "
    "zero except for a 1 at entry i.",
    call=_numerical_call,
    forbidden=(AUTOGRAD, LIB_NUMERICAL_GRADIENT),
)

# -- 5.2 rnn_step_backward -------------------------------------------------------

GRADIENTS_STEP = (
    Output("grad_x", "(N, H_in)", ("batch row", "input feature")),
    Output("grad_h", "(N, H_out)", ("batch row", "unit")),
    Output("grad_w_ih", "(H_out, H_in)", ("row", "column")),
    Output("grad_w_hh", "(H_out, H_out)", ("row", "column")),
    Output("grad_b", "(H_out,)", ("unit",)),
)


def _step_backward_args(sizes: dict, g) -> dict:
    N, H_in, H_out = sizes["N"], sizes["H_in"], sizes["H_out"]
    x, h = randn(N, H_in, generator=g), torch.tanh(randn(N, H_out, generator=g))
    w = rnn_weights(H_in, H_out, g)
    h_new = functional.rnn_step(x, h, *w.values())  # (N, H_out)
    return {
        "grad_h_new": randn(N, H_out, generator=g),
        "x": x,
        "h": h,
        "h_new": h_new,
        "w_ih": w["w_ih"],
        "w_hh": w["w_hh"],
    }


STEP_BACKWARD_CASES = Cases(
    _step_backward_args,
    tuple(
        {"N": N, "H_in": H_in, "H_out": H_out}
        for N, H_in, H_out in [(1, 3, 4), (3, 4, 4), (2, 1, 3), (4, 5, 2)]
    ),
    seed=52,
    dims={"N": N_DIM, "H_in": H_IN_DIM, "H_out": H_OUT_DIM},
)


def _step_backward(grad_h_new, x, h, h_new, w_ih, w_hh, deriv="1 - h_new^2", transposed="",
                   bias="sum"):  # fmt: skip
    """The step's gradients, with switches that turn on the known mistakes."""
    factor = {
        "1 - h_new^2": 1 - h_new**2,
        "none": 1.0,
        "1 - h^2": 1 - h**2,
        "1 - h_new": 1 - h_new,
    }
    delta = grad_h_new * factor[deriv]  # (N, H_out), dL/da
    grad_x = delta @ w_ih  # (N, H_in)
    grad_h = delta @ w_hh.T if transposed == "grad_h" else delta @ w_hh  # (N, H_out)
    grad_w_ih = x.T @ delta if transposed == "grad_w_ih" else delta.T @ x
    grad_w_hh = h.T @ delta if transposed == "grad_w_hh" else delta.T @ h
    grad_b = {"sum": delta.sum(0), "mean": delta.mean(0), "none": delta}[bias]
    return grad_x, grad_h, grad_w_ih, grad_w_hh, grad_b


STEP_BACKWARD_MISTAKES = (
    Mistake(
        "missing tanh' factor",
        "h_new = tanh(a), so dL/da = dL/dh_new * (1 - h_new^2): multiply by tanh' "
        "before going through the weights.",
        partial(_step_backward, deriv="none"),
    ),
    Mistake(
        "tanh' taken at the previous state",
        "the derivative belongs to the step's own output: 1 - h_new^2, not 1 - h^2.",
        partial(_step_backward, deriv="1 - h^2"),
    ),
    Mistake(
        "tanh' written as 1 - h_new",
        "tanh'(a) = 1 - tanh(a)^2 = 1 - h_new ** 2 (the sigmoid's derivative is the one "
        "with s * (1 - s)).",
        partial(_step_backward, deriv="1 - h_new"),
    ),
    Mistake(
        "W_hh gradient transposed",
        "a = ... + h W_hh^T, so dL/dW_hh = delta^T h, an (H_out, H_out) matrix with "
        "rows for the outputs: delta.T @ h.",
        partial(_step_backward, transposed="grad_w_hh"),
    ),
    Mistake(
        "W_ih gradient transposed",
        "dL/dW_ih = delta^T x has W_ih's shape (H_out, H_in): delta.T @ x.",
        partial(_step_backward, transposed="grad_w_ih"),
    ),
    Mistake(
        "state gradient through W_hh^T",
        "the forward pass multiplies by W_hh^T, so the backward pass multiplies by "
        "W_hh: grad_h = delta @ w_hh.",
        partial(_step_backward, transposed="grad_h"),
    ),
    Mistake(
        "bias gradient averaged over the batch",
        "the loss sums over the batch rows, and each row adds the same bias: sum delta "
        "over rows, delta.sum(0).",
        partial(_step_backward, bias="mean"),
    ),
    Mistake(
        "bias gradient not summed over the batch",
        "the bias is one (H_out,) vector shared by every row: delta.sum(0).",
        partial(_step_backward, bias="none"),
    ),
)

check_rnn_step_backward = Check(
    "5.2",
    "rnn_step_backward",
    _step_backward,
    STEP_BACKWARD_CASES,
    GRADIENTS_STEP,
    STEP_BACKWARD_MISTAKES,
    hint="delta = grad_h_new * (1 - h_new**2); then grad_x = delta @ w_ih, grad_h = "
    "delta @ w_hh, grad_w_ih = delta.T @ x, grad_w_hh = delta.T @ h, grad_b = "
    "delta.sum(0).",
    forbidden=(AUTOGRAD,),
)

# -- 5.3 rnn_backward ------------------------------------------------------------

GRADIENTS_LAYER = (
    Output("grad_x", "(L, N, H_in)", ("time step t=", "batch row", "input feature")),
    Output("grad_h_0", "(N, H_out)", ("batch row", "unit")),
    Output("grad_w_ih", "(H_out, H_in)", ("row", "column")),
    Output("grad_w_hh", "(H_out, H_out)", ("row", "column")),
    Output("grad_b", "(H_out,)", ("unit",)),
)


def _backward_args(sizes: dict, g) -> dict:
    L, N, H_in, H_out = sizes["L"], sizes["N"], sizes["H_in"], sizes["H_out"]
    x, h_0 = randn(L, N, H_in, generator=g), randn(N, H_out, generator=g, scale=0.8)
    w = rnn_weights(H_in, H_out, g)
    output, _ = functional.rnn_layer(x, h_0, *w.values())  # (L, N, H_out)
    return {
        "grad_output": randn(L, N, H_out, generator=g),
        "grad_h_n": randn(N, H_out, generator=g),
        "x": x,
        "h_0": h_0,
        "output": output,
        "w_ih": w["w_ih"],
        "w_hh": w["w_hh"],
    }


BACKWARD_CASES = Cases(
    _backward_args,
    tuple(
        {"L": L, "N": N, "H_in": H_in, "H_out": H_out}
        for L, N, H_in, H_out in [
            (1, 2, 3, 4),
            (4, 1, 2, 3),
            (3, 3, 3, 3),
            (6, 2, 4, 5),
        ]
    ),
    seed=53,
    dims={"L": L_DIM, "N": N_DIM, "H_in": H_IN_DIM, "H_out": H_OUT_DIM},
)


def _backward(grad_output, grad_h_n, x, h_0, output, w_ih, w_hh, carry=True, direct=True,
              final=True, previous_shift=False, accumulate=True, deriv=True):  # fmt: skip
    """The layer's gradients, with switches that turn on the known mistakes."""
    L = x.shape[0]
    # (L, N, H), the state each step read
    previous = output if previous_shift else torch.cat([h_0[None], output[:-1]])
    grad_x = torch.zeros_like(x)  # (L, N, H_in)
    grad_w_ih, grad_w_hh = torch.zeros_like(w_ih), torch.zeros_like(w_hh)
    grad_b = torch.zeros_like(w_hh[0])
    later = torch.zeros_like(h_0)  # dL/dh_t arriving from step t + 1, (N, H)
    for t in reversed(range(L)):
        grad_h = later.clone()
        if direct:
            grad_h = grad_h + grad_output[t]
        if final and t == L - 1:
            grad_h = grad_h + grad_h_n
        delta = grad_h * (1 - output[t] ** 2) if deriv else grad_h  # (N, H)
        grad_x[t] = delta @ w_ih
        parts = (delta.T @ x[t], delta.T @ previous[t], delta.sum(0))
        if accumulate:
            grad_w_ih, grad_w_hh, grad_b = (
                grad_w_ih + parts[0],
                grad_w_hh + parts[1],
                grad_b + parts[2],
            )
        else:
            grad_w_ih, grad_w_hh, grad_b = parts
        reached = delta @ w_hh  # dL/dh_{t-1} through this step, (N, H)
        later = reached if carry else torch.zeros_like(reached)
    return grad_x, reached, grad_w_ih, grad_w_hh, grad_b


BACKWARD_MISTAKES = (
    Mistake(
        "gradient not carried back through time",
        "dL/dh_t has two parts: the direct grad_output[t] and delta_{t+1} @ w_hh from the "
        "step after; carry the second from one step to the one before.",
        partial(_backward, carry=False),
    ),
    Mistake(
        "grad_output ignored",
        "every output[t] feeds the loss: add grad_output[t] at every step, not only "
        "grad_h_n at the last.",
        partial(_backward, direct=False),
    ),
    Mistake(
        "grad_h_n ignored",
        "h_n is the last state, so grad_h_n joins grad_output[L - 1] at the last step.",
        partial(_backward, final=False),
    ),
    Mistake(
        "previous state off by one",
        "step t read h_{t-1}: output[t - 1], or h_0 at t = 0. Use it in delta.T @ h_prev.",
        partial(_backward, previous_shift=True),
    ),
    Mistake(
        "weight gradients not summed over time",
        "the same weights serve every step: add each step's contribution with +=.",
        partial(_backward, accumulate=False),
    ),
    Mistake(
        "missing tanh' factor",
        "multiply dL/dh_t by 1 - output[t]**2 before going through the weights.",
        partial(_backward, deriv=False),
    ),
)

check_rnn_backward = Check(
    "5.3",
    "rnn_backward",
    _backward,
    BACKWARD_CASES,
    GRADIENTS_LAYER,
    BACKWARD_MISTAKES,
    hint="Go from index t = L - 1 down to 0: dL/dh_t = grad_output[t] (+ grad_h_n at the last "
    "step) + the gradient from step t + 1; call rnn_step_backward with h = h_{t-1}; "
    "add up the weight gradients.",
    forbidden=(AUTOGRAD,),
    uses=(check_rnn_step_backward,),
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_numerical_gradient, check_rnn_step_backward, check_rnn_backward)
