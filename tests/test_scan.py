"""Tests for rnn_lib.scan: the parallel scan against the sequential loop in float64,
its hand-derived backward against autograd's and torch.autograd.gradcheck (real
and complex), its depth, and its argument checks."""

import doctest
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.utils._python_dispatch import TorchDispatchMode

from rnn_lib import scan
from rnn_lib.scan import linear_recurrence

DTYPES = [torch.float64, torch.complex128]
# L = 1, powers of two and lengths that are not, odd and even
LENGTHS = [1, 2, 3, 4, 5, 7, 8, 13, 16, 31, 64, 100]
TOL = {"atol": 1e-12, "rtol": 1e-12}


def inputs(L, N, H, dtype, seed=0, zeros=(), requires_grad=False):
    """a, b, h_0 with |a| < 1, and a_t = 0 at the time indices in ``zeros``."""
    g = torch.Generator().manual_seed(seed)

    def draw(*shape):
        t = torch.randn(*shape, generator=g, dtype=torch.float64)
        if dtype.is_complex:
            t = torch.complex(t, torch.randn(*shape, generator=g, dtype=torch.float64))
        return t

    a = draw(L, N, H)
    a = 0.95 * a / (1 + a.abs())  # |a_t| < 0.95
    a[list(zeros)] = 0
    tensors = (a, draw(L, N, H), draw(N, H))
    return [t.requires_grad_(requires_grad) for t in tensors]


@pytest.mark.parametrize(
    "L, N, H, dtype, with_h_0",
    list(itertools.product(LENGTHS, [1, 3], [1, 4], DTYPES, [True, False])),
)
def test_scan_equals_the_loop(L, N, H, dtype, with_h_0):
    a, b, h_0 = inputs(L, N, H, dtype, zeros=[L // 2])
    h_0 = h_0 if with_h_0 else None
    got = linear_recurrence(a, b, h_0)
    expected = linear_recurrence(a, b, h_0, method="loop")
    assert got.shape == (L, N, H) and got.dtype == dtype
    torch.testing.assert_close(got, expected, **TOL)


def test_the_loop_is_the_recurrence_written_out():
    a, b, h_0 = inputs(3, 2, 2, torch.float64)
    h_1 = a[0] * h_0 + b[0]
    h_2 = a[1] * h_1 + b[1]
    h_3 = a[2] * h_2 + b[2]
    expected = torch.stack([h_1, h_2, h_3])
    for method in scan.METHODS:
        torch.testing.assert_close(
            linear_recurrence(a, b, h_0, method=method), expected, **TOL
        )


@pytest.mark.parametrize("dtype", DTYPES)
def test_zero_coefficients_forget_everything_before(dtype):
    a, b, h_0 = inputs(9, 2, 3, dtype)
    a[4] = 0  # h_5 = b_5, whatever came before
    h = linear_recurrence(a, b, h_0)
    torch.testing.assert_close(h[4], b[4], **TOL)
    torch.testing.assert_close(linear_recurrence(torch.zeros_like(a), b, h_0), b)


def test_unit_coefficients_give_the_cumulative_sum():
    _, b, h_0 = inputs(37, 2, 3, torch.float64)
    h = linear_recurrence(torch.ones_like(b), b, h_0)
    torch.testing.assert_close(h, h_0 + b.cumsum(0), **TOL)


@settings(max_examples=60, deadline=None)
@given(
    L=st.integers(1, 300),
    N=st.integers(1, 3),
    H=st.integers(1, 3),
    complex_=st.booleans(),
    zero_at=st.sets(st.integers(0, 299), max_size=4),
    seed=st.integers(0, 2**16),
)
def test_scan_equals_the_loop_for_drawn_shapes(L, N, H, complex_, zero_at, seed):
    dtype = torch.complex128 if complex_ else torch.float64
    a, b, h_0 = inputs(L, N, H, dtype, seed, zeros=[t for t in zero_at if t < L])
    torch.testing.assert_close(
        linear_recurrence(a, b, h_0),
        linear_recurrence(a, b, h_0, method="loop"),
        **TOL,
    )


def test_float32_agrees_with_float64_to_its_own_rounding():
    a, b, h_0 = inputs(1000, 4, 8, torch.float64)
    exact = linear_recurrence(a, b, h_0, method="loop")
    got = linear_recurrence(a.float(), b.float(), h_0.float())
    assert got.dtype == torch.float32
    torch.testing.assert_close(got.double(), exact, atol=1e-5, rtol=1e-5)


# -- the backward pass -----------------------------------------------------------


@pytest.mark.parametrize(
    "L, dtype, with_h_0",
    list(itertools.product([1, 2, 5, 8, 13], DTYPES, [True, False])),
)
def test_hand_derived_gradients_equal_autograd_through_the_loop(L, dtype, with_h_0):
    a, b, h_0 = inputs(L, 3, 4, dtype, zeros=[L // 2], requires_grad=True)
    leaves = [a, b, h_0] if with_h_0 else [a, b]
    cotangent = inputs(L, 3, 4, dtype, seed=1)[1]
    grads = {}
    for method in scan.METHODS:
        h = linear_recurrence(a, b, h_0 if with_h_0 else None, method=method)
        grads[method] = torch.autograd.grad(h, leaves, cotangent)
    for got, expected in zip(grads["scan"], grads["loop"]):
        torch.testing.assert_close(got, expected, **TOL)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("L", [1, 2, 3, 6, 7])
def test_gradcheck_with_batched_gradients(dtype, L):
    a, b, h_0 = inputs(L, 2, 3, dtype, zeros=[L - 1], requires_grad=True)
    assert torch.autograd.gradcheck(
        linear_recurrence, (a, b, h_0), check_batched_grad=True
    )
    assert torch.autograd.gradcheck(
        lambda a, b: linear_recurrence(a, b), (a, b), check_batched_grad=True
    )


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradgradcheck_a_double_backward(dtype):
    a, b, h_0 = inputs(5, 2, 2, dtype, requires_grad=True)
    assert torch.autograd.gradgradcheck(linear_recurrence, (a, b, h_0))


def test_only_the_gradients_asked_for_are_computed():
    a, b, h_0 = inputs(6, 2, 3, torch.float64)
    b.requires_grad_()
    (grad_b,) = torch.autograd.grad(linear_recurrence(a, b, h_0).sum(), [b])
    # dL/db_t = sum over later steps of the products of coefficients
    expected = torch.autograd.grad(
        linear_recurrence(a, b, h_0, method="loop").sum(), [b]
    )[0]
    torch.testing.assert_close(grad_b, expected, **TOL)


class _CountOperations(TorchDispatchMode):
    """Counts the ATen operations run inside it (the forward's and autograd's)."""

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.count += 1
        return func(*args, **(kwargs or {}))


def _operations(L, method):
    """How many operations the forward and the backward pass run at length L."""
    a, b, h_0 = inputs(L, 1, 1, torch.float64, requires_grad=True)
    with _CountOperations() as forward:
        h = linear_recurrence(a, b, h_0, method=method)
    cotangent = torch.ones_like(h)
    with _CountOperations() as backward:
        h.backward(cotangent)
    return forward.count, backward.count


def test_the_scan_forward_and_backward_run_in_logarithmic_depth():
    short, long = _operations(64, "scan"), _operations(4096, "scan")
    # 64 times the length, 6 more levels of recursion: about twice the operations
    assert long[0] < 3 * short[0] and long[1] < 3 * short[1]
    loop_short, loop_long = _operations(64, "loop"), _operations(4096, "loop")
    assert loop_long[0] > 40 * loop_short[0] and loop_long[1] > 40 * loop_short[1]


def test_autocast_keeps_the_inputs_dtype():
    a, b, h_0 = inputs(7, 2, 3, torch.float64)
    a, b, h_0 = a.float(), b.float(), h_0.float()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        h = linear_recurrence(a, b, h_0)
    assert h.dtype == torch.float32
    torch.testing.assert_close(h, linear_recurrence(a, b, h_0, method="loop"))


def test_docstring_example_runs():
    result = doctest.testmod(scan, extraglobs={"torch": torch})
    assert result.attempted > 0 and result.failed == 0


# -- argument checks -------------------------------------------------------------


def test_wrong_types_raise_type_error():
    a, b, h_0 = inputs(3, 2, 2, torch.float64)
    with pytest.raises(TypeError, match=r"a must be a torch.Tensor, got list"):
        linear_recurrence([1.0], b)
    with pytest.raises(TypeError, match=r"h_0 must be a torch.Tensor, got float"):
        linear_recurrence(a, b, 0.0)
    with pytest.raises(
        TypeError, match=r"expected a of a floating or complex dtype, got torch.int64"
    ):
        linear_recurrence(a.long(), b.long())
    with pytest.raises(
        TypeError,
        match=r"expected b of dtype torch.float64 \(a's dtype\), got torch.float32",
    ):
        linear_recurrence(a, b.float())
    with pytest.raises(
        TypeError,
        match=r"expected h_0 of dtype torch.float64 \(a's dtype\), got torch.complex128",
    ):
        linear_recurrence(a, b, h_0.to(torch.complex128))
    with pytest.raises(TypeError, match=r"method must be a str, got int"):
        linear_recurrence(a, b, method=1)


def test_wrong_values_raise_value_error():
    a, b, h_0 = inputs(3, 2, 2, torch.float64)
    with pytest.raises(
        ValueError,
        match=r"expected b of shape \(3, 2, 2\) \(a's shape\), got \(3, 2, 1\)",
    ):
        linear_recurrence(a, b[..., :1])
    with pytest.raises(
        ValueError, match=r"expected a of shape \(L, N, H\) with L >= 1, got \(2, 2\)"
    ):
        linear_recurrence(a[0], b[0])
    with pytest.raises(
        ValueError,
        match=r"expected a of shape \(L, N, H\) with L >= 1, got \(0, 2, 2\)",
    ):
        linear_recurrence(a[:0], b[:0])
    with pytest.raises(
        ValueError, match=r"expected h_0 of shape \(2, 2\), got \(1, 2, 2\)"
    ):
        linear_recurrence(a, b, h_0[None])
    with pytest.raises(
        ValueError, match=r"expected b on device cpu \(a's device\), got meta"
    ):
        linear_recurrence(a, b.to("meta"))
    with pytest.raises(
        ValueError, match=r"method must be 'scan' or 'loop', got 'blelloch'"
    ):
        linear_recurrence(a, b, method="blelloch")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", DTYPES)
def test_cuda_matches_the_cpu_loop(dtype):
    a, b, h_0 = inputs(100, 3, 4, dtype, zeros=[50], requires_grad=True)
    cotangent = inputs(100, 3, 4, dtype, seed=1)[1]
    h = linear_recurrence(a, b, h_0, method="loop")
    expected = torch.autograd.grad(h, [a, b, h_0], cotangent)
    on_gpu = [t.detach().cuda().requires_grad_() for t in (a, b, h_0)]
    h_gpu = linear_recurrence(*on_gpu)
    got = torch.autograd.grad(h_gpu, on_gpu, cotangent.cuda())
    torch.testing.assert_close(h_gpu.cpu(), h, **TOL)
    for g, e in zip(got, expected):
        torch.testing.assert_close(g.cpu(), e, **TOL)
