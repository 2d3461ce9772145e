"""Tests for rnn_lib.functional: rnn_step and rnn_layer against torch, float64."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_lib.functional import activation, rnn_layer, rnn_step
from rnn_lib.packing import check_batch_sizes

DTYPE = torch.float64
TOL = {"atol": 1e-10, "rtol": 1e-10}
TORCH_CELLS = {"tanh": torch.rnn_tanh_cell, "relu": torch.rnn_relu_cell}


def make_bidirectional(h_in, h_out, bias, nonlinearity, seed=0):
    """A one-layer bidirectional nn.RNN: its two directions are our oracle."""
    torch.manual_seed(seed)
    return torch.nn.RNN(
        h_in,
        h_out,
        nonlinearity=nonlinearity,
        bias=bias,
        bidirectional=True,
        dtype=DTYPE,
    )


def direction_weights(ref, reverse):
    """The (w_ih, w_hh, b_ih, b_hh) of one direction of ``ref``, biases None if absent."""
    suffix = "_reverse" if reverse else ""
    return [
        getattr(ref, f"{name}_l0{suffix}", None)
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]


def grads(outputs, cotangents, inputs):
    loss = sum((o * c).sum() for o, c in zip(outputs, cotangents))
    return torch.autograd.grad(loss, [i for i in inputs if i is not None])


# ---------------------------------------------------------------------------
# rnn_step


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
def test_rnn_step_matches_torch_cell(nonlinearity, bias):
    torch.manual_seed(0)
    N, H_in, H_out = 4, 3, 5
    x = torch.randn(N, H_in, dtype=DTYPE, requires_grad=True)
    h = torch.randn(N, H_out, dtype=DTYPE, requires_grad=True)
    w_ih = torch.randn(H_out, H_in, dtype=DTYPE, requires_grad=True)
    w_hh = torch.randn(H_out, H_out, dtype=DTYPE, requires_grad=True)
    b_ih = torch.randn(H_out, dtype=DTYPE, requires_grad=True) if bias else None
    b_hh = torch.randn(H_out, dtype=DTYPE, requires_grad=True) if bias else None
    params = [x, h, w_ih, w_hh, b_ih, b_hh]

    ours = rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, nonlinearity)
    ref = TORCH_CELLS[nonlinearity](x, h, w_ih, w_hh, b_ih, b_hh)
    torch.testing.assert_close(ours, ref, **TOL)
    assert ours.shape == (N, H_out)

    cotangent = torch.randn(N, H_out, dtype=DTYPE)
    for g_ours, g_ref in zip(
        grads([ours], [cotangent], params), grads([ref], [cotangent], params)
    ):
        torch.testing.assert_close(g_ours, g_ref, **TOL)


def test_rnn_step_is_the_formula():
    # Written out by hand, so a test fails if the step ever stops being Elman's.
    torch.manual_seed(1)
    x, h = torch.randn(2, 3, dtype=DTYPE), torch.randn(2, 4, dtype=DTYPE)
    w_ih, w_hh = torch.randn(4, 3, dtype=DTYPE), torch.randn(4, 4, dtype=DTYPE)
    b_ih, b_hh = torch.randn(4, dtype=DTYPE), torch.randn(4, dtype=DTYPE)
    expected = torch.empty(2, 4, dtype=DTYPE)
    for n in range(2):
        for j in range(4):
            a = b_ih[j] + b_hh[j]
            a += sum(x[n, k] * w_ih[j, k] for k in range(3))
            a += sum(h[n, k] * w_hh[j, k] for k in range(4))
            expected[n, j] = torch.relu(a)
    torch.testing.assert_close(
        rnn_step(x, h, w_ih, w_hh, b_ih, b_hh, "relu"), expected, **TOL
    )


def test_rnn_step_unbatched():
    torch.manual_seed(2)
    x, h = torch.randn(3, dtype=DTYPE), torch.randn(4, dtype=DTYPE)
    w_ih, w_hh = torch.randn(4, 3, dtype=DTYPE), torch.randn(4, 4, dtype=DTYPE)
    ours = rnn_step(x, h, w_ih, w_hh)
    torch.testing.assert_close(ours, rnn_step(x[None], h[None], w_ih, w_hh)[0], **TOL)


# ---------------------------------------------------------------------------
# rnn_layer, every state and every gradient against one direction of nn.RNN


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("lengths", [None, [5, 5, 3, 1]], ids=["full", "packed"])
def test_rnn_layer_matches_torch(reverse, nonlinearity, bias, lengths):
    L, N, H_in, H_out = 5, 4, 3, 6
    ref = make_bidirectional(H_in, H_out, bias, nonlinearity)
    weights = direction_weights(ref, reverse)
    x = torch.randn(L, N, H_in, dtype=DTYPE, requires_grad=True)
    h_0 = torch.randn(N, H_out, dtype=DTYPE, requires_grad=True)
    inputs = [x, h_0, *weights]

    # Torch runs both directions; we keep the half that ``reverse`` selects.
    h_0_both = torch.zeros(2, N, H_out, dtype=DTYPE)
    h_0_both = h_0_both.index_put((torch.tensor(int(reverse)),), h_0)
    if lengths is None:
        batch_sizes = None
        out_ref, h_n_ref = ref(x, h_0_both)
    else:
        packed = pack_padded_sequence(x, lengths)
        batch_sizes = packed.batch_sizes.tolist()
        out_ref, h_n_ref = ref(packed, h_0_both)
        out_ref, _ = pad_packed_sequence(out_ref, total_length=L)
    half = slice(H_out, None) if reverse else slice(None, H_out)
    out_ref, h_n_ref = out_ref[..., half], h_n_ref[int(reverse)]

    out, h_n = rnn_layer(
        x,
        h_0,
        *weights,
        nonlinearity=nonlinearity,
        reverse=reverse,
        batch_sizes=batch_sizes,
    )
    assert out.shape == (L, N, H_out) and h_n.shape == (N, H_out)
    torch.testing.assert_close(out, out_ref, **TOL)
    torch.testing.assert_close(h_n, h_n_ref, **TOL)

    cotangents = [
        torch.randn(L, N, H_out, dtype=DTYPE),
        torch.randn(N, H_out, dtype=DTYPE),
    ]
    ours = grads([out, h_n], cotangents, inputs)
    theirs = grads([out_ref, h_n_ref], cotangents, inputs)
    for g_ours, g_ref in zip(ours, theirs):
        torch.testing.assert_close(g_ours, g_ref, **TOL)


def test_rnn_layer_is_a_loop_over_rnn_step():
    torch.manual_seed(3)
    x, h = torch.randn(4, 2, 3, dtype=DTYPE), torch.randn(2, 5, dtype=DTYPE)
    w_ih, w_hh = torch.randn(5, 3, dtype=DTYPE), torch.randn(5, 5, dtype=DTYPE)
    out, h_n = rnn_layer(x, h, w_ih, w_hh, reverse=True)
    for t in (3, 2, 1, 0):
        h = rnn_step(x[t], h, w_ih, w_hh)
        torch.testing.assert_close(out[t], h, **TOL)
    torch.testing.assert_close(h_n, h, **TOL)


def test_packed_rows_wait_and_output_zeros():
    # batch_sizes [2, 1]: row 1 has length 1, so it steps at t=0 only (forward)
    # and starts from h_0 at t=0 (reverse); its output at t=1 is zero.
    torch.manual_seed(4)
    x, h_0 = torch.randn(2, 2, 3, dtype=DTYPE), torch.randn(2, 4, dtype=DTYPE)
    w = [torch.randn(4, 3, dtype=DTYPE), torch.randn(4, 4, dtype=DTYPE)]
    for reverse in (False, True):
        out, h_n = rnn_layer(x, h_0, *w, reverse=reverse, batch_sizes=[2, 1])
        alone, alone_n = rnn_layer(x[:1, 1:], h_0[1:], *w, reverse=reverse)
        torch.testing.assert_close(out[0, 1:], alone[0], **TOL)
        torch.testing.assert_close(h_n[1:], alone_n, **TOL)
        assert torch.equal(out[1, 1], torch.zeros(4, dtype=DTYPE))


def test_batch_sizes_as_tensor():
    torch.manual_seed(5)
    x, h_0 = torch.randn(3, 2, 3, dtype=DTYPE), torch.randn(2, 4, dtype=DTYPE)
    w = [torch.randn(4, 3, dtype=DTYPE), torch.randn(4, 4, dtype=DTYPE)]
    as_list = rnn_layer(x, h_0, *w, batch_sizes=[2, 2, 1])
    as_tensor = rnn_layer(x, h_0, *w, batch_sizes=torch.tensor([2, 2, 1]))
    for a, b in zip(as_list, as_tensor):
        torch.testing.assert_close(a, b, **TOL)


@settings(max_examples=30, deadline=None)
@given(
    L=st.integers(1, 6),
    N=st.integers(1, 4),
    H_in=st.integers(1, 4),
    H_out=st.integers(1, 4),
    reverse=st.booleans(),
    data=st.data(),
)
def test_rnn_layer_shapes_property(L, N, H_in, H_out, reverse, data):
    lengths = sorted(
        data.draw(st.lists(st.integers(1, L), min_size=N, max_size=N)), reverse=True
    )
    lengths[0] = L  # the padded length is the longest row's
    ref = make_bidirectional(H_in, H_out, True, "tanh", seed=L * 100 + N)
    weights = direction_weights(ref, reverse)
    x = torch.randn(L, N, H_in, dtype=DTYPE)
    h_0_both = torch.randn(2, N, H_out, dtype=DTYPE)
    packed = pack_padded_sequence(x, lengths)
    out_ref, h_n_ref = ref(packed, h_0_both)
    out_ref, _ = pad_packed_sequence(out_ref)
    half = slice(H_out, None) if reverse else slice(None, H_out)

    out, h_n = rnn_layer(
        x,
        h_0_both[int(reverse)],
        *weights,
        reverse=reverse,
        batch_sizes=packed.batch_sizes.tolist(),
    )
    torch.testing.assert_close(out, out_ref[..., half], **TOL)
    torch.testing.assert_close(h_n, h_n_ref[int(reverse)], **TOL)


# ---------------------------------------------------------------------------
# errors


def small_layer_args():
    return torch.randn(3, 2, 4), torch.zeros(2, 5), torch.randn(5, 4), torch.randn(5, 5)


def test_activation_rejects_unknown_name():
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"
    ):
        activation("sigmoid")


def test_activation_rejects_non_str():
    with pytest.raises(TypeError, match=r"nonlinearity must be a str, got Tanh"):
        activation(torch.nn.Tanh())


def test_rnn_step_rejects_unknown_nonlinearity():
    x, h, w_ih, w_hh = small_layer_args()
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'gelu'"
    ):
        rnn_step(x[0], h, w_ih, w_hh, nonlinearity="gelu")


def test_rnn_layer_rejects_unknown_nonlinearity():
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'TANH'"
    ):
        rnn_layer(*small_layer_args(), nonlinearity="TANH")


def test_rnn_layer_rejects_empty_sequence():
    x, h, w_ih, w_hh = small_layer_args()
    with pytest.raises(
        ValueError, match=r"expected a sequence of length >= 1, got length 0"
    ):
        rnn_layer(x[:0], h, w_ih, w_hh)


def test_rnn_layer_rejects_wrong_number_of_batch_sizes():
    with pytest.raises(
        ValueError, match=r"expected 3 batch sizes \(one per time step\), got 2"
    ):
        rnn_layer(*small_layer_args(), batch_sizes=[2, 1])


def test_rnn_layer_rejects_increasing_batch_sizes():
    with pytest.raises(ValueError, match=r"non-increasing order .* got \[1, 2, 2\]"):
        rnn_layer(*small_layer_args(), batch_sizes=[1, 2, 2])


@pytest.mark.parametrize("sizes", [[2, 1, 0], [3, 2, 1]])
def test_check_batch_sizes_range(sizes):
    with pytest.raises(
        ValueError, match=rf"expected batch sizes between 1 and 2, got \{sizes}"
    ):
        check_batch_sizes(sizes, 3, 2)
