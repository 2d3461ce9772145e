"""Tests for rnn_lib/clipping.py: the teaching clippers equal torch's."""

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_lib.clipping import clip_grad_norm_, clip_grad_value_, global_grad_norm

DT = torch.float64


def _params(
    seed, scale=1.0, shapes=((3, 4), (5,), (2, 2, 2)), without_grad=(), zero=False
):
    g = torch.Generator().manual_seed(seed)
    params = []
    for i, shape in enumerate(shapes):
        p = torch.zeros(shape, dtype=DT, requires_grad=True)
        if i not in without_grad:
            p.grad = (
                torch.zeros(shape, dtype=DT)
                if zero
                else scale * torch.randn(shape, generator=g, dtype=DT)
            )
        params.append(p)
    return params


def _clone(params):
    copies = []
    for p in params:
        q = p.detach().clone().requires_grad_(True)
        q.grad = None if p.grad is None else p.grad.clone()
        copies.append(q)
    return copies


def _assert_same_grads(ours, theirs):
    for a, b in zip(ours, theirs):
        assert (a.grad is None) == (b.grad is None)
        if a.grad is not None:
            torch.testing.assert_close(a.grad, b.grad, equal_nan=True)


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    scale=st.floats(1e-3, 1e3),
    max_norm=st.floats(1e-2, 1e2),
    norm_type=st.sampled_from([1.0, 2.0, 3.0, math.inf]),
)
def test_clip_grad_norm_matches_torch(seed, scale, max_norm, norm_type):
    ours = _params(seed, scale, without_grad=(1,))
    theirs = _clone(ours)
    total = clip_grad_norm_(ours, max_norm, norm_type)
    expected = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    torch.testing.assert_close(total, expected)
    _assert_same_grads(ours, theirs)


def test_clip_grad_norm_keeps_direction_and_hits_max_norm():
    params = _params(0, scale=100.0)
    before = torch.cat([p.grad.flatten() for p in params])
    total = clip_grad_norm_(params, 1.0)
    after = torch.cat([p.grad.flatten() for p in params])
    torch.testing.assert_close(total, before.norm())
    torch.testing.assert_close(
        after.norm(), torch.tensor(1.0, dtype=DT), rtol=1e-5, atol=0
    )
    torch.testing.assert_close(after / after.norm(), before / before.norm())


@pytest.mark.parametrize(
    "make",
    [
        lambda: _params(0, zero=True),  # zero gradients: nothing to scale
        lambda: _params(1, scale=50.0)[0],  # a single tensor
        lambda: _params(2, without_grad=(0, 1, 2)),  # no gradient at all
    ],
    ids=["zero-grads", "single-tensor", "no-grads"],
)
def test_clip_grad_norm_edge_cases_match_torch(make):
    ours, theirs = make(), make()
    total = clip_grad_norm_(ours, 1.0)
    torch.testing.assert_close(total, torch.nn.utils.clip_grad_norm_(theirs, 1.0))
    as_list = (lambda x: [x]) if isinstance(ours, torch.Tensor) else list
    _assert_same_grads(as_list(ours), as_list(theirs))


def test_clip_grad_norm_accepts_a_generator():
    ours, theirs = _params(2, 50.0), _params(2, 50.0)
    total = clip_grad_norm_(iter(ours), 2.0)
    torch.testing.assert_close(total, torch.nn.utils.clip_grad_norm_(iter(theirs), 2.0))
    _assert_same_grads(ours, theirs)


def test_clip_grad_norm_nonfinite():
    def with_inf():
        params = _params(0)
        params[0].grad[0, 0] = math.inf
        return params

    ours, theirs = with_inf(), with_inf()
    torch.testing.assert_close(
        clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    )
    _assert_same_grads(ours, theirs)  # inf * 0 = nan, where torch has nan too
    with pytest.raises(
        RuntimeError, match="the total 2.0-norm of the gradients is inf"
    ):
        clip_grad_norm_(with_inf(), 1.0, error_if_nonfinite=True)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), clip_value=st.floats(1e-3, 10.0))
def test_clip_grad_value_matches_torch(seed, clip_value):
    ours = _params(seed, scale=3.0, without_grad=(2,))
    theirs = _clone(ours)
    assert clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_same_grads(ours, theirs)


def test_value_clipping_changes_direction_norm_clipping_does_not():
    p = torch.zeros(2, requires_grad=True)
    p.grad = torch.tensor([10.0, 1.0])
    clip_grad_value_(p, 2.0)
    torch.testing.assert_close(p.grad, torch.tensor([2.0, 1.0]))  # was 10:1, now 2:1


def test_global_grad_norm():
    params = _params(0, without_grad=(1,))
    flat = torch.cat([params[0].grad.flatten(), params[2].grad.flatten()])
    torch.testing.assert_close(global_grad_norm(params), flat.norm())
    torch.testing.assert_close(global_grad_norm(params, math.inf), flat.abs().max())
    torch.testing.assert_close(global_grad_norm(params, 1.0), flat.abs().sum())
    torch.testing.assert_close(global_grad_norm([]), torch.tensor(0.0))


def test_validation_messages():
    params = _params(0)
    with pytest.raises(ValueError, match="max_norm must be positive, got -1.0"):
        clip_grad_norm_(params, -1.0)
    with pytest.raises(ValueError, match="clip_value must be positive, got 0"):
        clip_grad_value_(params, 0)
    with pytest.raises(TypeError, match="max_norm must be a number, got str"):
        clip_grad_norm_(params, "1")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_torch():
    ours = [p.cuda() for p in _params(0, 10.0)]
    for p, q in zip(ours, _params(0, 10.0)):
        p.grad = q.grad.cuda()
    theirs = _clone(ours)
    torch.testing.assert_close(
        clip_grad_norm_(ours, 1.0), torch.nn.utils.clip_grad_norm_(theirs, 1.0)
    )
    _assert_same_grads(ours, theirs)
