"""Checks for exercises/06_gradient_norms.ipynb: exercises 6.1 and 6.2 (after chapter 6).

- 6.1 ``jacobian_norms(h, w_hh)``: how fast ``dh_L/dh_{L-k}`` shrinks or grows
  with k.
- 6.2 ``clip_grad_norm_(parameters, max_norm) -> total_norm``: global-norm
  clipping, in place.

The reference of 6.1 is :func:`rnn_lib.diagnostics.jacobian_products`
(proven against autograd by its own tests). 6.2 has two, since its text
allows both: the exact factor ``max_norm / total_norm`` that the exercise
teaches (:func:`clip_exactly`), and torch's ``max_norm / (total_norm +
1e-6)`` (:func:`rnn_lib.clipping.clip_grad_norm_`). Neither exercise may call
the library's own versions (the text says so). Read next:
:mod:`rnn_lib.grading.checks.ex07_char_model`.
"""

from __future__ import annotations

from functools import partial

import torch

from rnn_lib import clipping, diagnostics, functional
from rnn_lib.grading.cases import L_DIM, Case, Cases, Dim, Outcome, Raised, randn
from rnn_lib.grading.checking import Check, Mistake, Output
from rnn_lib.grading.forbidden import AUTOGRAD, LIB_CLIP, LIB_JACOBIANS, TORCH_CLIP

# -- 6.1 jacobian_norms ----------------------------------------------------------


def _jacobian_args(sizes: dict, g) -> dict:
    L, H, gain = sizes["L"], sizes["H"], sizes["gain"]
    w_ih = randn(H, 2, generator=g, scale=0.7)
    w_hh = randn(H, H, generator=g, scale=gain * H**-0.5)
    x, h_0 = randn(L, 1, 2, generator=g), torch.zeros(1, H, dtype=torch.float64)
    output, _ = functional.rnn_layer(x, h_0, w_ih, w_hh)
    return {"h": output[:, 0], "w_hh": w_hh}


JACOBIAN_CASES = Cases(
    _jacobian_args,
    tuple(
        {"L": L, "H": H, "gain": gain}
        for L, H, gain in [(1, 3, 1.0), (4, 2, 1.5), (6, 4, 0.8), (3, 5, 2.0)]
    ),
    seed=61,
    dims={
        "L": L_DIM,
        "H": Dim(
            (1, 2),
            "look at the order of the matrix products and the side of "
            "the tanh' factor (they do not matter for H = 1)",
        ),
    },  # fmt: skip
    base={"gain": 1.5},
)


def _jacobian_reference(h, w_hh):
    products = diagnostics.jacobian_products(h, w_hh)  # (L + 1, H, H), [t] = dh_L/dh_t
    # (L,), [k - 1] for dh_L/dh_{L-k}
    return torch.linalg.matrix_norm(products[:-1], ord=2).flip(0)


def _jacobian_norms(h, w_hh, deriv="1 - h^2", side="left", order="later first",
                    transposed=False, norm=2, reverse=False):  # fmt: skip
    """The norms, with switches that turn on the known mistakes."""
    L, H = h.shape
    W = w_hh.T if transposed else w_hh
    product = torch.eye(H, dtype=h.dtype)
    norms = []
    for k in range(1, L + 1):
        state = h[L - k]  # h_{L-k+1}, the output of the step that reads h_{L-k}
        d = {
            "1 - h^2": 1 - state**2,
            "none": torch.ones_like(state),
            "1 - h": 1 - state,
        }[deriv]
        step = d[:, None] * W if side == "left" else W * d[None, :]  # (H, H)
        product = product @ step if order == "later first" else step @ product
        norms.append(torch.linalg.matrix_norm(product, ord=norm))
    norms = torch.stack(norms)  # (L,)
    return norms.flip(0) if reverse else norms


JACOBIAN_MISTAKES = (
    Mistake(
        "missing tanh' factor",
        "each step's Jacobian is diag(1 - h_t^2) W_hh, not W_hh alone: the saturation of "
        "tanh is half of the story.",
        partial(_jacobian_norms, deriv="none"),
    ),
    Mistake(
        "tanh' written as 1 - h",
        "tanh'(a) = 1 - tanh(a)^2 = 1 - h_t ** 2.",
        partial(_jacobian_norms, deriv="1 - h"),
    ),
    Mistake(
        "tanh' factor on the wrong side",
        "dh_t/dh_{t-1} scales the rows: diag(1 - h_t^2) @ W_hh, i.e. (1 - h_t**2)[:, None] "
        "* w_hh, not w_hh * (1 - h_t**2).",
        partial(_jacobian_norms, side="right"),
    ),
    Mistake(
        "product in the wrong order",
        "dh_L/dh_{L-k} = J_L J_{L-1} ... J_{L-k+1}: multiply each earlier step's Jacobian "
        "on the right (product = product @ J), since the matrices do not commute.",
        partial(_jacobian_norms, order="earlier first"),
    ),
    Mistake(
        "transposed W_hh",
        "h_t = tanh(... + h_{t-1} W_hh^T), so dh_t/dh_{t-1} = diag(1 - h_t^2) W_hh with "
        "w_hh as torch stores it.",
        partial(_jacobian_norms, transposed=True),
    ),
    Mistake(
        "Frobenius norm instead of the spectral norm",
        "use the largest singular value: torch.linalg.matrix_norm(J, ord=2).",
        partial(_jacobian_norms, norm="fro"),
    ),
    Mistake(
        "norms in reverse order",
        "norms[k - 1] is for a distance of k steps: the first entry is one step back.",
        partial(_jacobian_norms, reverse=True),
    ),
)

check_jacobian_norms = Check(
    "6.1",
    "jacobian_norms",
    _jacobian_reference,
    JACOBIAN_CASES,
    (Output("jacobian_norms", "(L,)", ("entry",)),),
    JACOBIAN_MISTAKES,
    hint="Start from the identity; for k = 1..L multiply on the right by "
    "diag(1 - h[L-k]**2) @ w_hh and record torch.linalg.matrix_norm(P, ord=2).",
    forbidden=(AUTOGRAD, LIB_JACOBIANS),
)

# -- 6.2 clip_grad_norm_ ---------------------------------------------------------


def _clip_args(sizes: dict, g) -> dict:
    scales = sizes["scales"]
    grads = [
        None if s is None else randn(*shape, generator=g, scale=s)
        for shape, s in zip(sizes["shapes"], scales)
    ]
    return {"grads": grads, "max_norm": sizes["max_norm"]}


def _clip_sizes(shapes, scales, max_norm) -> dict:
    return {"shapes": shapes, "scales": scales, "max_norm": max_norm}


CLIP_CASES = Cases(
    _clip_args,
    (
        _clip_sizes([(3, 4), (4,), (2,)], [2.0, 1.0, 0.05], 1.0),  # clipped; one small
        _clip_sizes([(2, 2), (3,), (1,)], [0.1, 0.1, 0.1], 5.0),  # short: unchanged
        _clip_sizes([(4, 3), (3,), (5,)], [1.0, 1.0, None], 2.0),  # one without .grad
        _clip_sizes([(1, 1), (6,), (2, 3)], [3.0, 0.5, 0.2], 0.5),
    ),
    seed=62,
    dims={
        "max_norm": Dim(
            (100.0, 0.5),
            "look at the rescaling (it happens only when "
            "the total norm exceeds max_norm)",
            parameter=True,
        ),
        "scales": Dim(
            ([1.0, 1.0, 1.0], [2.0, 0.1, 1.0], [1.0, 1.0, None]),
            "look at how every gradient enters the one global norm, and "
            "at a parameter without .grad",
        ),
    },  # fmt: skip
    base={"shapes": [(2,), (1,), (2, 1)]},
)


def _clip_call(function, case: Case) -> Outcome:
    """Give ``function`` fresh parameters with the case's gradients."""
    parameters = []
    for grad in case.args["grads"]:
        shape = grad.shape if grad is not None else (2,)
        p = torch.nn.Parameter(torch.ones(shape, dtype=torch.float64))
        p.grad = None if grad is None else grad.clone()
        parameters.append(p)
    try:
        total = function(parameters, case.args["max_norm"])
    except Exception as error:  # a student's code may raise anything
        return Outcome(error=Raised.of(error))
    grads = [None if p.grad is None else p.grad.detach().clone() for p in parameters]
    return Outcome(value=(total, *grads))


def _torch_clip(parameters, max_norm):
    """torch's clipping: the factor is max_norm / (total_norm + 1e-6)."""
    return clipping.clip_grad_norm_(parameters, max_norm)


def _clip(parameters, max_norm, per_tensor=False, clamp=False, always=False, after=False,
          add_norms=False, skip_none=True, in_place=True):  # fmt: skip
    """Clipping with switches that turn on the known mistakes."""
    grads = [p.grad for p in parameters if p.grad is not None or not skip_none]
    norms = torch.stack([g.norm() for g in grads])  # (number of gradients,)
    total = norms.sum() if add_norms else torch.linalg.vector_norm(norms)
    scale = max_norm / total if always else torch.clamp(max_norm / total, max=1.0)
    for g, norm in zip(grads, norms):
        if clamp:
            g.clamp_(-max_norm, max_norm)
        elif per_tensor:
            g.mul_(torch.clamp(max_norm / norm, max=1.0))
        elif in_place:
            g.mul_(scale)
    return total * scale if after else total


def clip_exactly(parameters, max_norm):
    """Global-norm clipping as exercise 6.2 teaches it: the factor max_norm / total_norm."""
    return _clip(parameters, max_norm)


CLIP_MISTAKES = (
    Mistake(
        "each gradient clipped on its own",
        "the norm is global: the square root of the sum of every gradient's squared "
        "entries, and all gradients are scaled by the same factor.",
        partial(_clip, per_tensor=True),
    ),
    Mistake(
        "values clamped instead of the norm",
        "that is clip_grad_value_, which changes the direction; norm clipping multiplies "
        "every gradient by max_norm / total_norm when total_norm > max_norm.",
        partial(_clip, clamp=True),
    ),
    Mistake(
        "always rescaled to max_norm",
        "gradients whose total norm is already below max_norm stay as they are: scale "
        "by min(1, max_norm / total_norm).",
        partial(_clip, always=True),
    ),
    Mistake(
        "norm returned after clipping",
        "return the total norm *before* clipping, as torch does (it is what you log).",
        partial(_clip, after=True),
    ),
    Mistake(
        "norms added instead of squares",
        "the global norm is sqrt(sum of squared per-tensor norms), not their sum.",
        partial(_clip, add_norms=True),
    ),
    Mistake(
        "parameters without a gradient not skipped",
        "a parameter whose .grad is None (unused in the loss) has nothing to clip: skip it.",
        partial(_clip, skip_none=False),
    ),
    Mistake(
        "gradients left unchanged",
        "scale each p.grad in place (p.grad.mul_(scale)), not p itself or a copy.",
        partial(_clip, in_place=False),
    ),
)

check_clip_grad_norm_ = Check(
    "6.2",
    "clip_grad_norm_",
    clip_exactly,
    CLIP_CASES,
    (
        Output("total norm", kind="number"),
        Output("parameters[0].grad", dims=("row", "column")),
        Output("parameters[1].grad", dims=("entry",)),
        Output("parameters[2].grad", dims=("row", "column")),
    ),
    CLIP_MISTAKES,
    hint="total = sqrt(sum over gradients of (g**2).sum()); if total > max_norm, "
    "multiply every gradient in place by max_norm / total; return total.",
    call=_clip_call,
    alternatives=(_torch_clip,),
    forbidden=(TORCH_CLIP, LIB_CLIP),
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_jacobian_norms, check_clip_grad_norm_)
