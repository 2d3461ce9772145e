"""Tests for rnn_lib.rnn: RNNCell and RNN against torch.nn, float64.

torch is the oracle: the same weights (moved with load_state_dict) must give
the same output, h_n and gradients (input, h_0, every parameter) to 1e-10,
over the whole grid of constructor arguments and input layouts, for both
backward passes.
"""

import doctest
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import rnn_lib.rnn
from parity import DTYPE, MODES, TOL, assert_parity, feed, make_input, run_and_grad
from rnn_lib import RNN, RNNCell

BACKENDS = ["bptt", "autograd"]
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


# ---------------------------------------------------------------------------
# helpers


def make_pair(backend="autograd", device="cpu", seed=0, **kwargs):
    """(ours, torch's) with the same weights, copied from torch's into ours."""
    torch.manual_seed(seed)
    ref = nn.RNN(dtype=DTYPE, **kwargs)
    ours = RNN(backward=backend, dtype=DTYPE, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ours.to(device), ref


def random_h_0(mode, D_layers, N, H, device="cpu"):
    shape = (D_layers, H) if mode == "unbatched" else (D_layers, N, H)
    return torch.randn(shape, dtype=DTYPE, device=device, requires_grad=True)


# ---------------------------------------------------------------------------
# parity over the whole grid


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["Lfirst", "Nfirst"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
def test_parity_grid(
    num_layers, bidirectional, batch_first, bias, nonlinearity, mode, backend
):
    L, lengths, H_in, H = 5, [3, 5, 1, 5], 3, 4
    ours, ref = make_pair(
        backend,
        input_size=H_in,
        hidden_size=H,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    x, inp = make_input(mode, batch_first, L, lengths, H_in)
    D = 2 if bidirectional else 1
    h_0 = random_h_0(mode, D * num_layers, len(lengths), H)
    assert_parity(ours, ref, inp, h_0, x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_parity_default_h_0(bidirectional, mode, backend):
    ours, ref = make_pair(
        backend, input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional
    )
    x, inp = make_input(mode, False, 4, [4, 2, 3], 3)
    assert_parity(ours, ref, inp, None, x)


@settings(max_examples=25, deadline=None)
@given(
    L=st.integers(1, 5),
    N=st.integers(1, 3),
    H_in=st.integers(1, 4),
    H=st.integers(1, 4),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    nonlinearity=st.sampled_from(["tanh", "relu"]),
    mode=st.sampled_from(MODES),
    backend=st.sampled_from(BACKENDS),
    data=st.data(),
)
def test_parity_drawn_shapes(
    L,
    N,
    H_in,
    H,
    num_layers,
    bidirectional,
    batch_first,
    bias,
    nonlinearity,
    mode,
    backend,
    data,
):
    lengths = data.draw(st.lists(st.integers(1, L), min_size=N, max_size=N))
    lengths[data.draw(st.integers(0, N - 1))] = L  # the padded length is the longest
    ours, ref = make_pair(
        backend,
        seed=data.draw(st.integers(0, 2**16)),
        input_size=H_in,
        hidden_size=H,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    x, inp = make_input(mode, batch_first, L, lengths, H_in)
    D = 2 if bidirectional else 1
    h_0 = random_h_0(mode, D * num_layers, N, H) if data.draw(st.booleans()) else None
    assert_parity(ours, ref, inp, h_0, x)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_parity_length_1_batch_1(bidirectional, mode, backend):
    ours, ref = make_pair(
        backend, input_size=2, hidden_size=3, num_layers=2, bidirectional=bidirectional
    )
    x, inp = make_input(mode, False, 1, [1], 2)
    h_0 = random_h_0(mode, 4 if bidirectional else 2, 1, 3)
    assert_parity(ours, ref, inp, h_0, x)


def test_batch_first_output_layout():
    # batch_first changes input and output, never h_0 or h_n.
    ours, ref = make_pair(input_size=3, hidden_size=4, num_layers=2, batch_first=True)
    x, h_0 = torch.randn(6, 5, 3, dtype=DTYPE), torch.randn(2, 6, 4, dtype=DTYPE)
    output, h_n = ours(x, h_0)
    assert output.shape == (6, 5, 4) and h_n.shape == (2, 6, 4)
    torch.testing.assert_close(output[:, -1], h_n[-1], **TOL)


def test_bidirectional_h_n_holds_reverse_state_at_t0():
    ours, _ = make_pair(input_size=3, hidden_size=4, bidirectional=True)
    output, h_n = ours(torch.randn(5, 2, 3, dtype=DTYPE))
    torch.testing.assert_close(h_n[0], output[-1, :, :4], **TOL)
    torch.testing.assert_close(h_n[1], output[0, :, 4:], **TOL)


# ---------------------------------------------------------------------------
# parameters: names, shapes, order, initialisation, state_dict both ways


CONFIGS = [
    {"num_layers": k, "bidirectional": d, "bias": b}
    for k, d, b in itertools.product([1, 2, 3], [False, True], [False, True])
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_same_parameters_and_init_as_torch(config):
    torch.manual_seed(7)
    ref = nn.RNN(3, 5, **config)
    torch.manual_seed(7)
    ours = RNN(3, 5, **config)
    ref_state, our_state = ref.state_dict(), ours.state_dict()
    assert list(our_state) == list(ref_state)
    for name, value in ref_state.items():
        assert torch.equal(our_state[name], value), name
    assert [[p.shape for p in w] for w in ours.all_weights] == [
        [p.shape for p in w] for w in ref.all_weights
    ]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
def test_state_dict_from_ours_into_torch(config):
    torch.manual_seed(8)
    ours = RNN(3, 5, dtype=DTYPE, **config)
    ref = nn.RNN(3, 5, dtype=DTYPE, **config)
    ref.load_state_dict(ours.state_dict())  # strict: same keys, same shapes
    x = torch.randn(4, 2, 3, dtype=DTYPE)
    for a, b in zip(ours(x), ref(x)):
        torch.testing.assert_close(a, b, **TOL)


def test_init_bound_is_one_over_sqrt_hidden_size():
    rnn = RNN(3, 16, num_layers=2)
    for p in rnn.parameters():
        assert p.abs().max() <= 0.25
    # 2 * (48 + 256 + 32) draws from U(-0.25, 0.25): the extremes are reached.
    assert max(p.abs().max() for p in rnn.parameters()) > 0.24


def test_repr_matches_torch():
    kwargs = {
        "num_layers": 2,
        "bias": False,
        "batch_first": True,
        "bidirectional": True,
    }
    assert repr(RNN(3, 4, **kwargs)) == repr(nn.RNN(3, 4, **kwargs))
    assert repr(RNN(3, 4, nonlinearity="relu", backward="autograd")) == (
        "RNN(3, 4, nonlinearity='relu', backward='autograd')"
    )


def test_double_and_to():
    rnn = RNN(3, 4, num_layers=2).double()
    assert all(p.dtype == DTYPE for p in rnn.parameters())
    output, h_n = rnn(torch.randn(5, 2, 3, dtype=DTYPE))
    assert output.dtype == h_n.dtype == DTYPE
    rnn = rnn.to(torch.float32)
    assert rnn(torch.randn(5, 3))[0].dtype == torch.float32


def test_factory_kwargs():
    rnn = RNN(3, 4, bidirectional=True, device="cpu", dtype=DTYPE)
    cell = RNNCell(3, 4, device="cpu", dtype=DTYPE)
    for p in itertools.chain(rnn.parameters(), cell.parameters()):
        assert p.dtype == DTYPE and p.device.type == "cpu"


# ---------------------------------------------------------------------------
# dropout


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bidirectional", [False, True])
def test_dropout_eval_mode_is_exact(backend, bidirectional):
    torch.manual_seed(9)
    kwargs = {"num_layers": 3, "dropout": 0.5, "bidirectional": bidirectional}
    ref = nn.RNN(3, 4, dtype=DTYPE, **kwargs).eval()
    ours = RNN(3, 4, dtype=DTYPE, backward=backend, **kwargs).eval()
    ours.load_state_dict(ref.state_dict())
    x, inp = make_input("packed_unsorted", False, 5, [2, 5, 4], 3)
    assert_parity(ours, ref, inp, None, x)


def identity_stack(num_layers, H, dropout, backend):
    """ReLU layers with W_ih = I, W_hh = 0, b = 0: each layer passes on its
    (dropped-out) input, so the output is x times the product of the masks."""
    rnn = RNN(H, H, num_layers, "relu", dropout=dropout, backward=backend, dtype=DTYPE)
    with torch.no_grad():
        for name, p in rnn.named_parameters():
            p.copy_(
                torch.eye(H) if name.startswith("weight_ih") else torch.zeros_like(p)
            )
    return rnn


@pytest.mark.parametrize("backend", BACKENDS)
def test_dropout_train_mode_statistics(backend):
    # Three layers: dropout after layers 0 and 1, not after the last, so each
    # output element is 0 or x / (1 - p)^2, and 0 with probability 1 - (1 - p)^2.
    torch.manual_seed(10)
    p, L, N, H = 0.3, 50, 40, 10
    rnn = identity_stack(3, H, p, backend)
    x = (torch.rand(L, N, H, dtype=DTYPE) + 0.5).requires_grad_()
    output, h_n = rnn(x)
    ratio = output / x  # (L, N, H)
    kept = ratio != 0
    torch.testing.assert_close(
        ratio[kept], torch.full_like(ratio[kept], 1 / (1 - p) ** 2), atol=1e-12, rtol=0
    )
    n, q = ratio.numel(), 1 - (1 - p) ** 2
    zeroed = 1 - kept.double().mean().item()
    assert abs(zeroed - q) < 5 * (q * (1 - q) / n) ** 0.5  # 5 standard errors
    # h_n[0] is layer 0's own state, taken before dropout; h_n[2] is the output's.
    torch.testing.assert_close(h_n[0], x[-1], **TOL)
    torch.testing.assert_close(h_n[2], output[-1], **TOL)
    # The gradient flows through the same masks.
    (grad,) = torch.autograd.grad(output.sum(), x)
    torch.testing.assert_close(grad, ratio.detach(), **TOL)


def test_dropout_masks_differ_between_calls_and_vanish_in_eval():
    torch.manual_seed(11)
    rnn = identity_stack(2, 8, 0.5, "autograd")
    x = torch.rand(10, 4, 8, dtype=DTYPE) + 0.5
    first, second = rnn(x)[0], rnn(x)[0]
    assert not torch.equal(first, second)
    torch.testing.assert_close(rnn.eval()(x)[0], x, **TOL)


# ---------------------------------------------------------------------------
# RNNCell


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cell_parity(nonlinearity, bias, batched, with_hx):
    torch.manual_seed(12)
    ref = nn.RNNCell(3, 4, bias=bias, nonlinearity=nonlinearity, dtype=DTYPE)
    torch.manual_seed(12)
    ours = RNNCell(3, 4, bias=bias, nonlinearity=nonlinearity, dtype=DTYPE)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for name, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    x = torch.randn(*([5] if batched else []), 3, dtype=DTYPE, requires_grad=True)
    hx = None
    if with_hx:
        hx = torch.randn(*([5] if batched else []), 4, dtype=DTYPE, requires_grad=True)
    cot = torch.randn(*([5] if batched else []), 4, dtype=DTYPE)
    results = []
    for model in (ours, ref):
        h = model(x, hx)
        leaves = [x] + ([hx] if with_hx else []) + list(model.parameters())
        results.append((h, torch.autograd.grad((h * cot).sum(), leaves)))
    (h, grads), (h_ref, grads_ref) = results
    assert h.shape == h_ref.shape
    torch.testing.assert_close(h, h_ref, **TOL)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(g, g_ref, **TOL)


def test_cell_unrolled_equals_rnn():
    torch.manual_seed(13)
    rnn = RNN(3, 4, dtype=DTYPE)
    cell = RNNCell(3, 4, dtype=DTYPE)
    cell.load_state_dict(
        {k.removesuffix("_l0"): v for k, v in rnn.state_dict().items()}
    )
    x, h = torch.randn(6, 2, 3, dtype=DTYPE), torch.zeros(2, 4, dtype=DTYPE)
    output, h_n = rnn(x)
    for t in range(6):
        h = cell(x[t], h)
        torch.testing.assert_close(output[t], h, **TOL)
    torch.testing.assert_close(h_n[0], h, **TOL)


# ---------------------------------------------------------------------------
# the docstring example runs


def test_docstring_examples():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    tests = [t for t in finder.find(rnn_lib.rnn) if t.examples]
    assert tests, "no docstring examples found"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


# ---------------------------------------------------------------------------
# bad input: each case raises a clear error, before any computation


def rnn(**kwargs):
    defaults = {"input_size": 3, "hidden_size": 5, "num_layers": 2}
    return RNN(**{**defaults, **kwargs})


def x3(L=4, N=2, H_in=3, **kwargs):
    return torch.randn(L, N, H_in, **kwargs)


def bad_packed(batch_sizes, rows, H_in=3):
    return PackedSequence(torch.randn(rows, H_in), torch.tensor(batch_sizes))


ERROR_CASES = {
    # constructor arguments
    "input_size_not_int": (
        lambda: rnn(input_size=3.0),
        TypeError,
        r"input_size must be an int, got float",
    ),
    "input_size_zero": (
        lambda: rnn(input_size=0),
        ValueError,
        r"input_size must be >= 1, got 0",
    ),
    "hidden_size_zero": (
        lambda: rnn(hidden_size=0),
        ValueError,
        r"hidden_size must be >= 1, got 0",
    ),
    "hidden_size_bool": (
        lambda: rnn(hidden_size=True),
        TypeError,
        r"hidden_size must be an int, got bool",
    ),
    "num_layers_zero": (
        lambda: rnn(num_layers=0),
        ValueError,
        r"num_layers must be >= 1, got 0",
    ),
    "nonlinearity_unknown": (
        lambda: rnn(nonlinearity="sigmoid"),
        ValueError,
        r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'",
    ),
    "nonlinearity_not_str": (
        lambda: rnn(nonlinearity=None),
        TypeError,
        r"nonlinearity must be a str, got NoneType",
    ),
    "bias_not_bool": (
        lambda: rnn(bias="yes"),
        TypeError,
        r"bias must be a bool, got str",
    ),
    "batch_first_not_bool": (
        lambda: rnn(batch_first=1),
        TypeError,
        r"batch_first must be a bool, got int",
    ),
    "bidirectional_not_bool": (
        lambda: rnn(bidirectional=None),
        TypeError,
        r"bidirectional must be a bool, got NoneType",
    ),
    "dropout_above_one": (
        lambda: rnn(dropout=1.5),
        ValueError,
        r"dropout must be in \[0, 1\], got 1.5",
    ),
    "dropout_negative": (
        lambda: rnn(dropout=-0.1),
        ValueError,
        r"dropout must be in \[0, 1\], got -0.1",
    ),
    "dropout_not_number": (
        lambda: rnn(dropout="0.5"),
        TypeError,
        r"dropout must be a number, got str",
    ),
    "dropout_with_one_layer": (
        lambda: rnn(num_layers=1, dropout=0.5),
        ValueError,
        r"dropout=0.5 would have no effect with num_layers=1",
    ),
    "backward_unknown": (
        lambda: rnn(backward="manual"),
        ValueError,
        r"backward must be 'bptt' or 'autograd', got 'manual'",
    ),
    "backward_not_str": (
        lambda: rnn(backward=None),
        TypeError,
        r"backward must be a str, got NoneType",
    ),
    # input
    "input_not_tensor": (
        lambda: rnn()([[1.0, 2.0, 3.0]]),
        TypeError,
        r"input must be a torch.Tensor, got list",
    ),
    "input_rank_1": (
        lambda: rnn()(torch.randn(3)),
        ValueError,
        r"expected input with 2 \(unbatched\) or 3 \(batched\) dimensions, got 1",
    ),
    "input_rank_4": (
        lambda: rnn()(torch.randn(2, 4, 2, 3)),
        ValueError,
        r"expected input with 2 \(unbatched\) or 3 \(batched\) dimensions, got 4",
    ),
    "input_feature_size": (
        lambda: rnn()(x3(H_in=4)),
        ValueError,
        r"expected input with input_size=3 features in its last dimension, got 4",
    ),
    "input_dtype": (
        lambda: rnn()(x3(dtype=DTYPE)),
        TypeError,
        r"expected input of dtype torch.float32 \(the weights' dtype\), got torch.float64",
    ),
    "input_device": (
        lambda: rnn()(x3(device="meta")),
        ValueError,
        r"expected input on device cpu \(the weights' device\), got meta",
    ),
    "empty_sequence": (
        lambda: rnn()(x3(L=0)),
        ValueError,
        r"expected a sequence of length >= 1, got length 0",
    ),
    "empty_batch": (
        lambda: rnn()(x3(N=0)),
        ValueError,
        r"expected a batch of size >= 1, got 0",
    ),
    "empty_batch_batch_first": (
        lambda: rnn(batch_first=True)(torch.randn(0, 4, 3)),
        ValueError,
        r"expected a batch of size >= 1, got 0",
    ),
    # h_0
    "h_0_not_tensor": (
        lambda: rnn()(x3(), [0.0]),
        TypeError,
        r"h_0 must be a torch.Tensor, got list",
    ),
    "h_0_shape": (
        lambda: rnn()(x3(), torch.zeros(2, 2, 6)),
        ValueError,
        r"expected h_0 of shape \(2, 2, 5\), got \(2, 2, 6\)",
    ),
    "h_0_batch": (
        lambda: rnn()(x3(), torch.zeros(2, 3, 5)),
        ValueError,
        r"expected h_0 of shape \(2, 2, 5\), got \(2, 3, 5\)",
    ),
    "h_0_num_layers_times_directions": (
        lambda: rnn(bidirectional=True)(x3(), torch.zeros(2, 2, 5)),
        ValueError,
        r"expected h_0 of shape \(4, 2, 5\), got \(2, 2, 5\)",
    ),
    "h_0_batched_for_unbatched_input": (
        lambda: rnn()(torch.randn(4, 3), torch.zeros(2, 1, 5)),
        ValueError,
        r"expected h_0 with 2 dimensions for unbatched input, got 3 dimensions",
    ),
    "h_0_unbatched_for_batched_input": (
        lambda: rnn()(x3(), torch.zeros(2, 5)),
        ValueError,
        r"expected h_0 with 3 dimensions for batched input, got 2 dimensions",
    ),
    "h_0_dtype": (
        lambda: rnn()(x3(), torch.zeros(2, 2, 5, dtype=DTYPE)),
        TypeError,
        r"expected h_0 of dtype torch.float32 \(the weights' dtype\), got torch.float64",
    ),
    "h_0_device": (
        lambda: rnn()(x3(), torch.zeros(2, 2, 5, device="meta")),
        ValueError,
        r"expected h_0 on device cpu \(the weights' device\), got meta",
    ),
    # packed sequences
    "packed_unsorted_lengths_by_hand": (
        lambda: rnn()(bad_packed([1, 2, 2], 5)),
        ValueError,
        r"expected batch sizes in non-increasing order .*got \[1, 2, 2\]",
    ),
    "packed_feature_size": (
        lambda: rnn()(pack_padded_sequence(x3(H_in=2), [4, 3])),
        ValueError,
        r"expected PackedSequence data with input_size=3 features in its last "
        r"dimension, got 2",
    ),
    "packed_data_rows": (
        lambda: rnn()(bad_packed([2, 1], 4)),
        ValueError,
        r"expected PackedSequence data with sum\(batch_sizes\)=3 rows, got 4",
    ),
    "packed_data_rank": (
        lambda: rnn()(PackedSequence(torch.randn(3, 1, 3), torch.tensor([2, 1]))),
        ValueError,
        r"expected PackedSequence data with 2 dimensions",
    ),
    "packed_sorted_indices": (
        lambda: rnn()(
            PackedSequence(
                torch.randn(3, 3), torch.tensor([2, 1]), torch.tensor([0, 1, 2])
            )
        ),
        ValueError,
        r"expected PackedSequence sorted_indices of shape \(2,\), got \(3,\)",
    ),
    "packed_h_0_batch": (
        lambda: rnn()(pack_padded_sequence(x3(), [4, 3]), torch.zeros(2, 3, 5)),
        ValueError,
        r"expected h_0 of shape \(2, 2, 5\), got \(2, 3, 5\)",
    ),
    # RNNCell
    "cell_input_size_zero": (
        lambda: RNNCell(0, 5),
        ValueError,
        r"input_size must be >= 1, got 0",
    ),
    "cell_nonlinearity": (
        lambda: RNNCell(3, 5, nonlinearity="gelu"),
        ValueError,
        r"nonlinearity must be 'tanh' or 'relu', got 'gelu'",
    ),
    "cell_input_rank": (
        lambda: RNNCell(3, 5)(x3()),
        ValueError,
        r"expected input with 1 \(unbatched\) or 2 \(batched\) dimensions, got 3",
    ),
    "cell_input_feature_size": (
        lambda: RNNCell(3, 5)(torch.randn(2, 4)),
        ValueError,
        r"expected input with input_size=3 features in its last dimension, got 4",
    ),
    "cell_hx_shape": (
        lambda: RNNCell(3, 5)(torch.randn(2, 3), torch.zeros(2, 4)),
        ValueError,
        r"expected hx of shape \(2, 5\), got \(2, 4\)",
    ),
    "cell_hx_batched_for_unbatched_input": (
        lambda: RNNCell(3, 5)(torch.randn(3), torch.zeros(1, 5)),
        ValueError,
        r"expected hx with 1 dimension for unbatched input, got 2 dimensions",
    ),
    "cell_hx_dtype": (
        lambda: RNNCell(3, 5)(torch.randn(2, 3), torch.zeros(2, 5, dtype=DTYPE)),
        TypeError,
        r"expected hx of dtype torch.float32",
    ),
    "cell_empty_batch": (
        lambda: RNNCell(3, 5)(torch.randn(0, 3)),
        ValueError,
        r"expected a batch of size >= 1, got 0",
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_bad_input_raises(case):
    call, error, message = case
    with pytest.raises(error, match=message):
        call()


def test_torch_refuses_unsorted_lengths_when_enforce_sorted():
    # A PackedSequence with unsorted lengths and enforce_sorted=True cannot be
    # built with torch's packing functions; a hand-built one is refused above
    # ("packed_unsorted_lengths_by_hand"). enforce_sorted=False is the way.
    with pytest.raises(RuntimeError, match="must be sorted in decreasing order"):
        pack_padded_sequence(x3(), [2, 4], enforce_sorted=True)


def test_inputs_are_not_modified():
    ours, _ = make_pair(input_size=3, hidden_size=4, num_layers=2, bidirectional=True)
    x, h_0 = torch.randn(5, 2, 3, dtype=DTYPE), torch.randn(4, 2, 4, dtype=DTYPE)
    x_copy, h_0_copy = x.clone(), h_0.clone()
    ours(x, h_0)[0].sum().backward()
    assert torch.equal(x, x_copy) and torch.equal(h_0, h_0_copy)


# ---------------------------------------------------------------------------
# CUDA


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
def test_parity_cuda(bidirectional, mode, backend):
    # Ours on the GPU against torch on the CPU, both float64.
    ours, ref = make_pair(
        backend,
        "cuda",
        input_size=3,
        hidden_size=4,
        num_layers=2,
        bidirectional=bidirectional,
        batch_first=True,
    )
    assert all(p.is_cuda for p in ours.parameters())
    lengths = [3, 5, 1, 5]
    x_cpu, inp_cpu = make_input(mode, True, 5, lengths, 3)
    D = 2 if bidirectional else 1
    h_0_cpu = random_h_0(mode, 2 * D, 4, 4)
    out_ref, (h_n_ref,), grads_ref, cot = run_and_grad(
        ref, inp_cpu, h_0_cpu, x_cpu, None
    )
    x = x_cpu.detach().cuda().requires_grad_()
    h_0 = h_0_cpu.detach().cuda().requires_grad_()
    inp = feed(mode, x, lengths, True)
    out, (h_n,), grads, _ = run_and_grad(ours, inp, h_0, x, [c.cuda() for c in cot])
    if isinstance(out, PackedSequence):
        out, out_ref = out.data, out_ref.data
    torch.testing.assert_close(out.cpu(), out_ref, **TOL)
    torch.testing.assert_close(h_n.cpu(), h_n_ref, **TOL)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(g.cpu(), g_ref, **TOL)


@pytest.mark.cuda
@needs_cuda
def test_to_cuda_moves_everything():
    rnn = RNN(3, 4, num_layers=2, bidirectional=True).to("cuda")
    assert all(p.is_cuda for p in rnn.parameters())
    output, h_n = rnn(torch.randn(5, 2, 3, device="cuda"))
    assert output.is_cuda and h_n.is_cuda
    cell = RNNCell(3, 4).cuda()
    assert cell(torch.randn(2, 3, device="cuda")).is_cuda
    with pytest.raises(ValueError, match=r"expected input on device cuda:0"):
        rnn(torch.randn(5, 2, 3))
