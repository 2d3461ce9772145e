"""Checks for exercises/10_parallel_scan.ipynb: exercises 10.1 and 10.2 (after chapter 10).

- 10.1 ``parallel_scan(a, b, h_0) -> h``: the states of ``h_t = a_t h_{t-1} +
  b_t`` by a parallel scan of affine maps, in about 2 log2(L) rounds of
  whole-tensor operations, not a loop over time.
- 10.2 ``scan_backward(grad_h, a, h_0, h) -> (grad_a, grad_b, grad_h_0)``:
  the backward pass, itself a linear recurrence run backwards.

The reference of 10.1 is :func:`rnn_lib.scan.linear_recurrence` (proven
against the sequential loop by its own tests), which the exercise may not
call; a solution that loops over the time steps is refused, as the text
says: its call counts the torch operations the function runs on a long
sequence (:func:`_count_operations`). The reference of 10.2 is autograd
through ``linear_recurrence``, which the exercise may call but not
differentiate. Read next: :mod:`rnn_lib.grading.release`, which makes the
student notebooks.
"""

from __future__ import annotations

import math
from functools import partial

import torch
from torch.overrides import TorchFunctionMode

from rnn_lib import scan
from rnn_lib.grading.cases import (
    N_DIM,
    Case,
    Cases,
    Dim,
    Outcome,
    Raised,
    call_with_clones,
    randn,
)
from rnn_lib.grading.checking import SEQUENCE, STATE, Check, Mistake, Output
from rnn_lib.grading.forbidden import AUTOGRAD
from rnn_lib.grading.recording import Forbidden

LIB_SCAN = Forbidden(
    "rnn_lib.scan.linear_recurrence",
    lambda: (scan.linear_recurrence, scan._states, scan._loop),
)

#: The length on which a loop over time shows: a scan runs a few hundred torch
#: operations there, a loop at least one per step.
LONG = 4096


def _scan_args(sizes: dict, g) -> dict:
    L, N, H = sizes["L"], sizes["N"], sizes["H"]
    a = torch.tanh(randn(L, N, H, generator=g))  # coefficients in (-1, 1)
    if L >= LONG:  # a long memory: products of coefficients stay representable
        a = 1 - 0.01 * torch.rand(L, N, H, generator=g, dtype=torch.float64)
    if sizes.get("zero"):
        a[L // 2] = 0  # a step that forgets everything before it
    return {"a": a, "b": randn(L, N, H, generator=g), "h_0": randn(N, H, generator=g)}


SCAN_CASES = Cases(
    _scan_args,
    tuple(
        {"L": L, "N": N, "H": H, "zero": zero}
        for L, N, H, zero in [
            (1, 1, 1, False),
            (2, 1, 2, False),
            (5, 2, 3, True),
            (8, 3, 2, False),
            (13, 2, 2, True),
            (LONG, 1, 1, False),
        ]
    ),
    seed=101,
    dims={
        "L": Dim(
            (1, 2, 3, 4, 5),
            "look at how the steps are paired, and at an odd step left without a "
            "neighbour",
        ),
        "N": N_DIM,
    },
    base={"H": 2, "zero": False},
)


class _CountOperations(TorchFunctionMode):
    """Counts the torch functions and tensor methods called inside it."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def _count_operations(function, case: Case) -> Outcome:
    """Run ``function`` on the case; on a long one, refuse a loop over time."""
    L = case.sizes["L"]
    with _CountOperations() as counter:
        outcome = call_with_clones(function, case)
    if L >= LONG and counter.count > L // 2 and outcome.error is None:
        return Outcome(
            error=Raised(
                "LoopOverTime",
                f"it ran {counter.count} torch operations for L = {L}, about one per "
                f"time step; a parallel scan runs about 2 log2(L) = "
                f"{2 * math.ceil(math.log2(L))} rounds of operations on whole tensors",
            )
        )
    return outcome


def _scan_reference(a, b, h_0):
    return scan.linear_recurrence(a, b, h_0)


def _parallel_scan(a, b, h_0, order="then after first", down="own map", use_h_0=True,
                   any_length=True):  # fmt: skip
    """The recursive scan, with switches that turn on the known mistakes."""

    def compose(a1, b1, a2, b2):  # map 1, then map 2
        if order == "then after first":
            return a2 * a1, a2 * b1 + b2
        return a1 * a2, a1 * b2 + b1

    def states(a, b):
        L = len(a)
        if L == 1:
            return b
        if any_length:
            first, then = (a[0 : L - 1 : 2], b[0 : L - 1 : 2]), (a[1::2], b[1::2])
        else:  # pairs as rows of two: only an even length splits
            pairs_a, pairs_b = (
                a.reshape(L // 2, 2, *a.shape[1:]),
                b.reshape(L // 2, 2, *b.shape[1:]),
            )
            first, then = (pairs_a[:, 0], pairs_b[:, 0]), (pairs_a[:, 1], pairs_b[:, 1])
        h_odd = states(*compose(*first, *then))  # indices 1, 3, ...
        n = (L - 1) // 2
        if down == "own map":  # index 2k: map 2k applied to the state at 2k - 1
            h_even = a[2::2] * h_odd[:n] + b[2::2]
        else:  # the map of index 2k - 1 instead
            h_even = a[1 : 2 * n : 2] * h_odd[:n] + b[1 : 2 * n : 2]
        h = torch.empty_like(b)
        h[1::2], h[0], h[2::2] = h_odd, b[0], h_even
        return h

    if use_h_0:
        b = torch.cat([a[:1] * h_0 + b[:1], b[1:]])
    return states(a, b)


def _sequential(a, b, h_0):
    """The loop over time, which the exercise's text rules out."""
    h, states = h_0, []
    for a_t, b_t in zip(a, b):
        h = a_t * h + b_t
        states.append(h)
    return torch.stack(states)


def _cumulative_product(a, b, h_0):
    """h_t = A_t (h_0 + sum_s b_s / A_s) with A_t = a_1 ... a_t: a division by zero."""
    A = torch.cumprod(a, dim=0)
    return A * (h_0 + torch.cumsum(b / A, dim=0))


def _exclusive(a, b, h_0):
    """The states before each step, h_0 .. h_{L-1}."""
    h = _parallel_scan(a, b, h_0)
    return torch.cat([h_0[None], h[:-1]])


SCAN_MISTAKES = (
    Mistake(
        "composition in the wrong order",
        "map 1 then map 2 is h -> a2 (a1 h + b1) + b2 = (a2 a1, a2 b1 + b2): the later "
        "coefficient multiplies the earlier input, not the other way round.",
        partial(_parallel_scan, order="first after then"),
    ),
    Mistake(
        "off-by-one in the down-sweep",
        "the state at index 2k is one step after the state at index 2k - 1, by the map "
        "of index 2k itself: a[2k] * h[2k - 1] + b[2k], not the map of the step before.",
        partial(_parallel_scan, down="map before"),
    ),
    Mistake(
        "h_0 ignored",
        "h_1 = a_1 h_0 + b_1: fold h_0 into the first input, b_1 + a_1 h_0, before "
        "the scan (or add a_1 ... a_t h_0 to every state after it).",
        partial(_parallel_scan, use_h_0=False),
    ),
    Mistake(
        "lengths that are not a power of two",
        "when a round has an odd number of maps the last has no neighbour: do not pair "
        "it (pair indices 0..L-2 as a[0:L-1:2] with a[1::2]); its state is one step "
        "after the state before it, filled in on the way down.",
        partial(_parallel_scan, any_length=False),
    ),
    Mistake(
        "a loop over the time steps",
        "the exercise asks for the parallel scan: compose neighbouring steps pairwise "
        "into half as many maps, solve that half-length problem the same way, then fill "
        "in the states left out, each one step after a known state.",
        _sequential,
    ),
    Mistake(
        "division by a cumulative product of the coefficients",
        "h_t = A_t (h_0 + sum b_s / A_s) with A_t = a_1 ... a_t divides by zero once a "
        "coefficient is 0 (and underflows long before): compose the affine maps instead.",
        _cumulative_product,
    ),
    Mistake(
        "the state before each step",
        "return h_1 .. h_L, the state after each step (an inclusive scan), not h_0 .. "
        "h_{L-1}.",
        _exclusive,
    ),
)

check_parallel_scan = Check(
    "10.1",
    "parallel_scan",
    _scan_reference,
    SCAN_CASES,
    (Output("h", "(L, N, H)", SEQUENCE),),
    SCAN_MISTAKES,
    hint="If L == 1 return b (after folding h_0 into b[0]); compose the pairs "
    "(a[0::2], b[0::2]) then (a[1::2], b[1::2]); recurse for the states at the odd "
    "indices; the state at index 2k is a[2k] * h[2k - 1] + b[2k].",
    call=_count_operations,
    forbidden=(LIB_SCAN,),
)

# -- 10.2 scan_backward ------------------------------------------------------------


def _backward_args(sizes: dict, g) -> dict:
    args = _scan_args(sizes, g)
    h = scan.linear_recurrence(args["a"], args["b"], args["h_0"])
    return {
        "grad_h": randn(*h.shape, generator=g),
        "a": args["a"],
        "h_0": args["h_0"],
        "h": h,
    }


BACKWARD_CASES = Cases(
    _backward_args,
    tuple(
        {"L": L, "N": N, "H": H, "zero": zero}
        for L, N, H, zero in [
            (1, 1, 1, False),
            (2, 2, 1, False),
            (6, 2, 3, True),
            (9, 3, 2, False),
        ]
    ),
    seed=102,
    dims={
        "L": Dim(
            (1, 2, 3),
            "look at what the gradient carries back from one step to the step before",
        ),
        "N": N_DIM,
    },  # fmt: skip
    base={"H": 2, "zero": False},
)


def _backward_reference(grad_h, a, h_0, h):
    """Autograd through linear_recurrence, with the inputs b_t = h_t - a_t h_{t-1}."""
    h_prev = torch.cat([h_0[None], h[:-1]])
    leaves = [a.clone().requires_grad_(), (h - a * h_prev).requires_grad_()]
    leaves.append(h_0.clone().requires_grad_())
    with torch.enable_grad():
        states = scan.linear_recurrence(*leaves)
        return torch.autograd.grad(states, leaves, grad_h)


def _backward(grad_h, a, h_0, h, coefficient="next", direction="backwards",
              state="previous", first=True, total=True, with_h_0=True):  # fmt: skip
    """The backward pass, with switches that turn on the known mistakes."""
    L = len(a)
    if not total:
        g = grad_h
    elif direction == "backwards":
        # reversed, step i reads a_{t+1} for t = L - i: the flipped a shifted by one
        flipped = a.flip(0)
        if coefficient == "next":
            flipped = torch.cat([torch.zeros_like(a[:1]), flipped[: L - 1]])
        g = scan.linear_recurrence(flipped, grad_h.flip(0)).flip(0)
    else:  # a forward recurrence
        g = scan.linear_recurrence(a, grad_h)
    before = h_0[None] if with_h_0 else torch.zeros_like(h_0[None])
    h_prev = torch.cat([before, h[:-1]]) if state == "previous" else h
    grad_h_0 = a[0] * g[0] if first else g[0]
    return g * h_prev, g, grad_h_0


BACKWARD_MISTAKES = (
    Mistake(
        "coefficients not shifted by one step",
        "dL/dh_t = dL/doutput_t + a_{t+1} dL/dh_{t+1}: the coefficient that carries "
        "h_t into the next step is a_{t+1}, not a_t.",
        partial(_backward, coefficient="own"),
    ),
    Mistake(
        "recurrence run forwards",
        "the gradient flows from the last step back to the first: reverse the "
        "sequences (flip), run the recurrence, reverse the result.",
        partial(_backward, direction="forwards"),
    ),
    Mistake(
        "dL/da_t with h_t instead of h_{t-1}",
        "a_t multiplies h_{t-1} in h_t = a_t h_{t-1} + b_t, so dL/da_t = dL/dh_t * "
        "h_{t-1}, with h_0 at the first step.",
        partial(_backward, state="current"),
    ),
    Mistake(
        "dL/dh_0 without the first coefficient",
        "h_0 enters only through h_1 = a_1 h_0 + b_1: dL/dh_0 = a_1 * dL/dh_1.",
        partial(_backward, first=False),
    ),
    Mistake(
        "only the direct gradient",
        "dL/dh_t is a total derivative: the gradient from above at step t plus what "
        "h_{t+1} carries back, a reverse linear recurrence.",
        partial(_backward, total=False),
    ),
    Mistake(
        "h_0 left out of dL/da_1",
        "the state before step 1 is h_0, not zero: dL/da_1 = dL/dh_1 * h_0.",
        partial(_backward, with_h_0=False),
    ),
)

check_scan_backward = Check(
    "10.2",
    "scan_backward",
    _backward_reference,
    BACKWARD_CASES,
    (
        Output("grad_a", "(L, N, H)", SEQUENCE),
        Output("grad_b", "(L, N, H)", SEQUENCE),
        Output("grad_h_0", "(N, H)", STATE),
    ),
    BACKWARD_MISTAKES,
    hint="g = the states of the recurrence g_t = grad_h_t + a_{t+1} g_{t+1}, run on "
    "the flipped sequences with linear_recurrence; then grad_a = g * h_{t-1}, grad_b = g, "
    "grad_h_0 = a_1 * g_1.",
    forbidden=(AUTOGRAD,),
)

# The checks that the notebook's grader cells call, in order.
GRADER_CELLS = (check_parallel_scan, check_scan_backward)
