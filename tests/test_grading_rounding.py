"""rnn_lib.grading.rounding: tolerances measured from the reference's own rounding.

A result that rounding cannot move gets a few units in the last place; a
computation that cancels gets more; every check's tolerance on its cases
lies far below a float32 rounding, so that a result that went through
float32 cannot pass, and above the rounding of the right answers written
differently (tests/test_grading_submissions.py).
"""

import dataclasses

import torch

from rnn_lib.grading import CHECKS
from rnn_lib.grading.cases import float64_generator
from rnn_lib.grading.rounding import SAFETY, Rounding, U, tolerances


def test_a_slice_gets_the_floor():
    x = torch.linspace(-2, 3, 6, dtype=torch.float64)
    tolerance = tolerances(lambda: x[2:], x[2:])
    assert tolerance == SAFETY * U * 3.0


def test_cancellation_widens_the_tolerance():
    x = torch.tensor([1.0, 1e-8], dtype=torch.float64)

    def difference():
        return ((x[0] + x[1]) - x[0]) / x[1]  # about 1, after a cancellation

    value = difference()
    assert tolerances(difference, value) > 1e3 * SAFETY * U


def test_an_attribute_is_the_tensor_itself_and_updates_outside_autograd_round():
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    p.grad = torch.full((3,), 2.0, dtype=torch.float64)
    with Rounding(float64_generator(0)):
        p.grad.mul_(0.5)  # reaches the parameter's gradient, not a copy
        with torch.no_grad():
            p.add_(p.grad)
    assert torch.allclose(p.grad, torch.ones(3, dtype=torch.float64), atol=1e-15)
    assert not torch.equal(p.detach(), torch.full((3,), 2.0, dtype=torch.float64))


def _relative(tolerance, value) -> list[float]:
    """Each tensor leaf's tolerance over its largest entry."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return [tolerance / max(float(value.abs().max()), 1e-300)]
    if type(value) is float:
        return [tolerance / max(abs(value), 1e-300)]
    if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
        return [r for t, v in zip(tolerance, value) for r in _relative(t, v)]
    return []


def test_every_check_is_far_tighter_than_float32():
    for public, check in CHECKS.items():
        if public == "check_char_model":
            continue
        free = dataclasses.replace(check, forbidden=())
        for case in free.cases():
            expected = free.call(free.reference, case).value
            tolerance = tolerances(
                lambda case=case, free=free: free.call(free.reference, case).value,
                expected,
            )
            worst = max(_relative(tolerance, expected), default=0.0)
            assert worst < 1e-9, (check.label, case.describe(), worst)
