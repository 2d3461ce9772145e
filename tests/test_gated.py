"""Tests for rnn_lib.gated: LSTM, GRU and their cells against torch.nn, float64.

torch is the oracle: the same weights (moved with load_state_dict) must give
the same output, final states and gradients (input, every initial state,
every parameter) to 1e-10, over the grid of test_rnn.py (layers, directions,
batch_first, bias, unbatched / batched / packed input), for the GRU, the LSTM
and the LSTM with a projection. The step and layer functions are checked
against the cells and against hand-written gate equations.
"""

import doctest
import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.nn.utils.rnn import PackedSequence, pack_padded_sequence

import rnn_lib.gated
from parity import (
    DTYPE,
    MODES,
    TOL,
    as_tuple,
    assert_parity,
    feed,
    make_input,
    run_and_grad,
)
from rnn_lib import GRU, LSTM, RNN, GRUCell, LSTMCell
from rnn_lib.gated import gru_layer, gru_step, lstm_layer, lstm_step

# kind -> (our class, torch's class, extra constructor arguments)
KINDS = {
    "gru": (GRU, nn.GRU, {}),
    "lstm": (LSTM, nn.LSTM, {}),
    "lstm_proj": (LSTM, nn.LSTM, {"proj_size": 2}),
}
needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


# ---------------------------------------------------------------------------
# helpers


def make_pair(kind, device="cpu", seed=0, **kwargs):
    """(ours, torch's) with the same weights, copied from torch's into ours."""
    ours_class, ref_class, extra = KINDS[kind]
    kwargs = {**extra, **kwargs}
    torch.manual_seed(seed)
    ref = ref_class(dtype=DTYPE, **kwargs)
    ours = ours_class(dtype=DTYPE, **kwargs)
    ours.load_state_dict(ref.state_dict())
    return ours.to(device), ref


def random_state(model, mode, N, device="cpu"):
    """The initial state for model: h_0, or the pair (h_0, c_0) for an LSTM."""
    D = 2 if model.bidirectional else 1
    sizes = model._state_sizes()
    states = tuple(
        torch.randn(
            (D * model.num_layers,) + (() if mode == "unbatched" else (N,)) + (S,),
            dtype=DTYPE,
            device=device,
            requires_grad=True,
        )
        for S in sizes
    )
    return states if len(states) == 2 else states[0]


# ---------------------------------------------------------------------------
# parity over the whole grid


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
@pytest.mark.parametrize("batch_first", [False, True], ids=["Lfirst", "Nfirst"])
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("kind", KINDS)
def test_parity_grid(kind, num_layers, bidirectional, batch_first, bias, mode):
    L, lengths, H_in, H = 5, [3, 5, 1, 5], 3, 4
    ours, ref = make_pair(
        kind,
        input_size=H_in,
        hidden_size=H,
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
    )
    x, inp = make_input(mode, batch_first, L, lengths, H_in)
    assert_parity(ours, ref, inp, random_state(ours, mode, len(lengths)), x)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("bidirectional", [False, True], ids=["uni", "bi"])
@pytest.mark.parametrize("kind", KINDS)
def test_parity_default_state(kind, bidirectional, mode):
    ours, ref = make_pair(
        kind, input_size=3, hidden_size=4, num_layers=2, bidirectional=bidirectional
    )
    x, inp = make_input(mode, False, 4, [4, 2, 3], 3)
    assert_parity(ours, ref, inp, None, x)


@settings(max_examples=25, deadline=None)
@given(
    kind=st.sampled_from(list(KINDS)),
    L=st.integers(1, 5),
    N=st.integers(1, 3),
    H_in=st.integers(1, 4),
    H=st.integers(2, 5),
    num_layers=st.integers(1, 2),
    bidirectional=st.booleans(),
    batch_first=st.booleans(),
    bias=st.booleans(),
    mode=st.sampled_from(MODES),
    data=st.data(),
)
def test_parity_drawn_shapes(
    kind, L, N, H_in, H, num_layers, bidirectional, batch_first, bias, mode, data
):
    lengths = data.draw(st.lists(st.integers(1, L), min_size=N, max_size=N))
    lengths[data.draw(st.integers(0, N - 1))] = L  # the padded length is the longest
    kwargs = {}
    if kind == "lstm_proj":
        kwargs["proj_size"] = data.draw(st.integers(1, H - 1))
    ours, ref = make_pair(
        kind,
        seed=data.draw(st.integers(0, 2**16)),
        input_size=H_in,
        hidden_size=H,
        num_layers=num_layers,
        bias=bias,
        batch_first=batch_first,
        bidirectional=bidirectional,
        **kwargs,
    )
    x, inp = make_input(mode, batch_first, L, lengths, H_in)
    hx = random_state(ours, mode, N) if data.draw(st.booleans()) else None
    assert_parity(ours, ref, inp, hx, x)


@pytest.mark.parametrize("kind", KINDS)
def test_dropout_matches_torch_with_the_same_seed(kind):
    # Same generator state, same masks: dropout draws in the same order.
    ours, ref = make_pair(kind, input_size=3, hidden_size=4, num_layers=3, dropout=0.4)
    x = torch.randn(6, 2, 3, dtype=DTYPE)
    torch.manual_seed(5)
    out_ref, _ = ref(x)
    torch.manual_seed(5)
    out, _ = ours(x)
    torch.testing.assert_close(out, out_ref, **TOL)
    torch.testing.assert_close(ours.eval()(x)[0], ref.eval()(x)[0], **TOL)


def test_lstm_shapes_with_projection():
    lstm = LSTM(3, 6, num_layers=2, bidirectional=True, proj_size=2, batch_first=True)
    output, (h_n, c_n) = lstm(torch.randn(5, 7, 3))
    assert output.shape == (5, 7, 4)  # (N, L, D * proj_size)
    assert h_n.shape == (4, 5, 2) and c_n.shape == (4, 5, 6)
    assert lstm.weight_ih_l1.shape == (24, 4)  # layer 1 reads D * proj_size
    assert lstm.weight_hh_l0.shape == (24, 2)
    assert lstm.weight_hr_l0_reverse.shape == (2, 6)


# ---------------------------------------------------------------------------
# parameters: names, shapes, order, initialisation, state_dict both ways


CONFIGS = [
    {"num_layers": k, "bidirectional": d, "bias": b}
    for k, d, b in itertools.product([1, 2], [False, True], [False, True])
]


@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("kind", KINDS)
def test_same_parameters_and_init_as_torch(kind, config):
    ours_class, ref_class, extra = KINDS[kind]
    torch.manual_seed(7)
    ref = ref_class(3, 5, **extra, **config)
    torch.manual_seed(7)
    ours = ours_class(3, 5, **extra, **config)
    ref_state, our_state = ref.state_dict(), ours.state_dict()
    assert list(our_state) == list(ref_state)
    for name, value in ref_state.items():
        assert torch.equal(our_state[name], value), name
    assert [[p.shape for p in w] for w in ours.all_weights] == [
        [p.shape for p in w] for w in ref.all_weights
    ]
    # and back: torch's module accepts ours
    ref.load_state_dict(ours.state_dict())


def test_repr():
    assert repr(LSTM(3, 5, proj_size=2)) == "LSTM(3, 5, proj_size=2)"
    assert repr(GRU(3, 5, num_layers=2)) == "GRU(3, 5, num_layers=2)"
    assert repr(LSTMCell(3, 5, bias=False)) == "LSTMCell(3, 5, bias=False)"


# ---------------------------------------------------------------------------
# cells


CELLS = {"lstm": (LSTMCell, nn.LSTMCell), "gru": (GRUCell, nn.GRUCell)}


@pytest.mark.parametrize("kind", CELLS)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_hx", [True, False])
def test_cell_parity(kind, bias, batched, with_hx):
    ours_class, ref_class = CELLS[kind]
    torch.manual_seed(12)
    ref = ref_class(3, 4, bias=bias, dtype=DTYPE)
    torch.manual_seed(12)
    ours = ours_class(3, 4, bias=bias, dtype=DTYPE)
    assert list(ours.state_dict()) == list(ref.state_dict())
    for name, value in ref.state_dict().items():
        assert torch.equal(ours.state_dict()[name], value), name
    batch = [5] if batched else []
    x = torch.randn(*batch, 3, dtype=DTYPE, requires_grad=True)
    n_states = 2 if kind == "lstm" else 1
    hx = None
    if with_hx:
        hx = tuple(
            torch.randn(*batch, 4, dtype=DTYPE, requires_grad=True)
            for _ in range(n_states)
        )
    cot = [torch.randn(*batch, 4, dtype=DTYPE) for _ in range(n_states)]
    results = []
    for model in (ours, ref):
        out = as_tuple(model(x, hx if hx is None or kind == "lstm" else hx[0]))
        loss = sum((o * c).sum() for o, c in zip(out, cot, strict=True))
        leaves = [x] + list(hx or []) + list(model.parameters())
        results.append((out, torch.autograd.grad(loss, leaves)))
    (out, grads), (out_ref, grads_ref) = results
    for o, o_ref in zip(out, out_ref, strict=True):
        assert o.shape == o_ref.shape
        torch.testing.assert_close(o, o_ref, **TOL)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(g, g_ref, **TOL)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_cell_unrolled_equals_module(kind):
    torch.manual_seed(13)
    model = (LSTM if kind == "lstm" else GRU)(3, 4, dtype=DTYPE)
    cell = (LSTMCell if kind == "lstm" else GRUCell)(3, 4, dtype=DTYPE)
    cell.load_state_dict(
        {k.removesuffix("_l0"): v for k, v in model.state_dict().items()}
    )
    x = torch.randn(6, 2, 3, dtype=DTYPE)
    state = (torch.zeros(2, 4, dtype=DTYPE),) * (2 if kind == "lstm" else 1)
    output, state_n = model(x)
    for t in range(6):
        state = as_tuple(cell(x[t], state if kind == "lstm" else state[0]))
        torch.testing.assert_close(output[t], state[0], **TOL)
    for s_n, s in zip(as_tuple(state_n), state, strict=True):
        torch.testing.assert_close(s_n[0], s, **TOL)


# ---------------------------------------------------------------------------
# the pure functions, against the gate equations written out by hand


def test_lstm_step_gate_order_by_hand():
    torch.manual_seed(14)
    N, H_in, H, P = 3, 4, 5, 2
    x, h, c = (torch.randn(N, s, dtype=DTYPE) for s in (H_in, P, H))
    w_ih, w_hh = (
        torch.randn(4 * H, H_in, dtype=DTYPE),
        torch.randn(4 * H, P, dtype=DTYPE),
    )
    b_ih, b_hh = torch.randn(4 * H, dtype=DTYPE), torch.randn(4 * H, dtype=DTYPE)
    w_hr = torch.randn(P, H, dtype=DTYPE)
    Wi, Wf, Wg, Wo = w_ih.chunk(4)
    Ui, Uf, Ug, Uo = w_hh.chunk(4)
    bi, bf, bg, bo = (b_ih + b_hh).chunk(4)
    i = torch.sigmoid(x @ Wi.T + h @ Ui.T + bi)
    f = torch.sigmoid(x @ Wf.T + h @ Uf.T + bf)
    g = torch.tanh(x @ Wg.T + h @ Ug.T + bg)
    o = torch.sigmoid(x @ Wo.T + h @ Uo.T + bo)
    c_expected = f * c + i * g
    h_expected = (o * torch.tanh(c_expected)) @ w_hr.T
    h_new, c_new = lstm_step(x, h, c, w_ih, w_hh, b_ih, b_hh, w_hr)
    torch.testing.assert_close(c_new, c_expected, **TOL)
    torch.testing.assert_close(h_new, h_expected, **TOL)


def test_gru_step_reset_gate_inside_by_hand():
    torch.manual_seed(15)
    N, H_in, H = 3, 4, 5
    x, h = torch.randn(N, H_in, dtype=DTYPE), torch.randn(N, H, dtype=DTYPE)
    w_ih, w_hh = (
        torch.randn(3 * H, H_in, dtype=DTYPE),
        torch.randn(3 * H, H, dtype=DTYPE),
    )
    b_ih, b_hh = torch.randn(3 * H, dtype=DTYPE), torch.randn(3 * H, dtype=DTYPE)
    Wr, Wz, Wn = w_ih.chunk(3)
    Ur, Uz, Un = w_hh.chunk(3)
    (bir, biz, bin_), (bhr, bhz, bhn) = b_ih.chunk(3), b_hh.chunk(3)
    r = torch.sigmoid(x @ Wr.T + bir + h @ Ur.T + bhr)
    z = torch.sigmoid(x @ Wz.T + biz + h @ Uz.T + bhz)
    n = torch.tanh(x @ Wn.T + bin_ + r * (h @ Un.T + bhn))
    expected = (1 - z) * n + z * h
    torch.testing.assert_close(gru_step(x, h, w_ih, w_hh, b_ih, b_hh), expected, **TOL)
    # The reset gate outside the bracket (a common variant) gives another answer.
    n_outside = torch.tanh(x @ Wn.T + bin_ + r * (h @ Un.T) + bhn)
    assert not torch.allclose((1 - z) * n_outside + z * h, expected)


@pytest.mark.parametrize("reverse", [False, True])
def test_layers_are_steps_in_a_loop_packed(reverse):
    # Rows sorted by length; each row's outputs are its own steps, zeros after.
    torch.manual_seed(16)
    L, H_in, H, batch_sizes = 4, 2, 3, [3, 3, 2, 1]
    x = torch.randn(L, 3, H_in, dtype=DTYPE)
    h_0, c_0 = torch.randn(3, H, dtype=DTYPE), torch.randn(3, H, dtype=DTYPE)
    w = {
        "lstm": (
            torch.randn(4 * H, H_in, dtype=DTYPE),
            torch.randn(4 * H, H, dtype=DTYPE),
        ),
        "gru": (
            torch.randn(3 * H, H_in, dtype=DTYPE),
            torch.randn(3 * H, H, dtype=DTYPE),
        ),
    }
    out_lstm, (h_n, c_n) = lstm_layer(
        x, h_0, c_0, *w["lstm"], reverse=reverse, batch_sizes=batch_sizes
    )
    out_gru, g_n = gru_layer(
        x, h_0, *w["gru"], reverse=reverse, batch_sizes=torch.tensor(batch_sizes)
    )
    for row, length in enumerate([4, 3, 2]):
        h, c, g = h_0[row : row + 1], c_0[row : row + 1], h_0[row : row + 1]
        for t in range(length - 1, -1, -1) if reverse else range(length):
            h, c = lstm_step(x[t, row : row + 1], h, c, *w["lstm"])
            g = gru_step(x[t, row : row + 1], g, *w["gru"])
            torch.testing.assert_close(out_lstm[t, row], h[0], **TOL)
            torch.testing.assert_close(out_gru[t, row], g[0], **TOL)
        assert not out_lstm[length:, row].any() and not out_gru[length:, row].any()
        torch.testing.assert_close(h_n[row], h[0], **TOL)
        torch.testing.assert_close(c_n[row], c[0], **TOL)
        torch.testing.assert_close(g_n[row], g[0], **TOL)


def test_layer_functions_refuse_bad_batch_sizes_and_empty_sequences():
    x, h = torch.randn(3, 2, 2), torch.randn(2, 3)
    w_ih, w_hh = torch.randn(9, 2), torch.randn(9, 3)
    with pytest.raises(ValueError, match=r"expected 3 batch sizes"):
        gru_layer(x, h, w_ih, w_hh, batch_sizes=[2, 1])
    with pytest.raises(ValueError, match=r"non-increasing order"):
        gru_layer(x, h, w_ih, w_hh, batch_sizes=[1, 2, 2])
    with pytest.raises(ValueError, match=r"got length 0"):
        gru_layer(x[:0], h, w_ih, w_hh)


def test_forget_gate_path():
    # With i = 0 (input gate shut) and f = sigmoid(b_f), the cell state decays
    # exactly as f^t: dc_T/dc_0 along the cell path is the product of f.
    H = 3
    w_ih, w_hh = torch.zeros(4 * H, 1, dtype=DTYPE), torch.zeros(4 * H, H, dtype=DTYPE)
    b = torch.zeros(4 * H, dtype=DTYPE)
    b[:H] = -1e3  # input gate 0
    b[H : 2 * H] = torch.tensor([0.0, 2.0, 5.0])  # forget gates
    c_0 = torch.ones(1, H, dtype=DTYPE, requires_grad=True)
    x = torch.zeros(10, 1, 1, dtype=DTYPE)
    _, (_, c_n) = lstm_layer(x, torch.zeros(1, H, dtype=DTYPE), c_0, w_ih, w_hh, b)
    (grad,) = torch.autograd.grad(c_n.sum(), c_0)
    expected = torch.sigmoid(b[H : 2 * H]) ** 10
    torch.testing.assert_close(c_n[0], expected, **TOL)
    torch.testing.assert_close(grad[0], expected, **TOL)


# ---------------------------------------------------------------------------
# the docstring examples run


def test_docstring_examples():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    tests = [t for t in finder.find(rnn_lib.gated) if t.examples]
    assert len(tests) >= 2, "no docstring examples found"
    for test in tests:
        runner.run(test)
    assert runner.failures == 0


# ---------------------------------------------------------------------------
# bad input: the machinery's checks apply; the gated-specific ones here


def x3(L=4, N=2, H_in=3, **kwargs):
    return torch.randn(L, N, H_in, **kwargs)


ERROR_CASES = {
    "proj_size_negative": (
        lambda: LSTM(3, 5, proj_size=-1),
        ValueError,
        r"proj_size must be >= 0, got -1",
    ),
    "proj_size_not_int": (
        lambda: LSTM(3, 5, proj_size=2.0),
        TypeError,
        r"proj_size must be an int, got float",
    ),
    "proj_size_equal_hidden": (
        lambda: LSTM(3, 5, proj_size=5),
        ValueError,
        r"proj_size must be smaller than hidden_size=5, got 5",
    ),
    "proj_size_above_hidden": (
        lambda: LSTM(3, 5, proj_size=8),
        ValueError,
        r"proj_size must be smaller than hidden_size=5, got 8",
    ),
    "gru_with_proj_size": (
        lambda: GRU(3, 5, proj_size=2),
        ValueError,
        r"proj_size argument is only supported for LSTM, not RNN or GRU, got proj_size=2",
    ),
    "gru_with_proj_size_zero": (  # torch refuses even 0
        lambda: GRU(3, 5, proj_size=0),
        ValueError,
        r"proj_size argument is only supported for LSTM, not RNN or GRU, got proj_size=0",
    ),
    "rnn_with_proj_size": (
        lambda: RNN(3, 5, proj_size=1),
        ValueError,
        r"proj_size argument is only supported for LSTM, not RNN or GRU, got proj_size=1",
    ),
    "lstm_unknown_backward": (
        lambda: LSTM(3, 5, backward="numeric"),
        ValueError,
        r"backward must be 'bptt' or 'autograd', got 'numeric'",
    ),
    "gru_hidden_size_zero": (
        lambda: GRU(3, 0),
        ValueError,
        r"hidden_size must be >= 1, got 0",
    ),
    "lstm_dropout_with_one_layer": (
        lambda: LSTM(3, 5, dropout=0.5),
        ValueError,
        r"dropout=0.5 would have no effect with num_layers=1",
    ),
    "lstm_h_0_without_c_0": (
        lambda: LSTM(3, 5)(x3(), torch.zeros(1, 2, 5)),
        TypeError,
        r"expected hx as a tuple \(h_0, c_0\), got a Tensor",
    ),
    "lstm_tuple_of_one": (
        lambda: LSTM(3, 5)(x3(), (torch.zeros(1, 2, 5),)),
        TypeError,
        r"expected hx as a tuple \(h_0, c_0\), got a tuple of length 1",
    ),
    "lstm_c_0_shape": (
        lambda: LSTM(3, 5)(x3(), (torch.zeros(1, 2, 5), torch.zeros(1, 2, 4))),
        ValueError,
        r"expected c_0 of shape \(1, 2, 5\), got \(1, 2, 4\)",
    ),
    "lstm_c_0_not_tensor": (
        lambda: LSTM(3, 5)(x3(), (torch.zeros(1, 2, 5), None)),
        TypeError,
        r"c_0 must be a torch.Tensor, got NoneType",
    ),
    "lstm_h_0_shape_with_proj": (
        lambda: LSTM(3, 5, proj_size=2)(
            x3(), (torch.zeros(1, 2, 5), torch.zeros(1, 2, 5))
        ),
        ValueError,
        r"expected h_0 of shape \(1, 2, 2\), got \(1, 2, 5\)",
    ),
    "lstm_c_0_shape_with_proj": (
        lambda: LSTM(3, 5, proj_size=2)(
            x3(), (torch.zeros(1, 2, 2), torch.zeros(1, 2, 2))
        ),
        ValueError,
        r"expected c_0 of shape \(1, 2, 5\), got \(1, 2, 2\)",
    ),
    "lstm_c_0_dtype": (
        lambda: LSTM(3, 5)(
            x3(), (torch.zeros(1, 2, 5), torch.zeros(1, 2, 5, dtype=DTYPE))
        ),
        TypeError,
        r"expected c_0 of dtype torch.float32 \(the weights' dtype\), got torch.float64",
    ),
    "lstm_c_0_unbatched_for_batched": (
        lambda: LSTM(3, 5)(x3(), (torch.zeros(1, 2, 5), torch.zeros(1, 5))),
        ValueError,
        r"expected c_0 with 3 dimensions for batched input, got 2 dimensions",
    ),
    "gru_h_0_shape": (
        lambda: GRU(3, 5, bidirectional=True)(x3(), torch.zeros(1, 2, 5)),
        ValueError,
        r"expected h_0 of shape \(2, 2, 5\), got \(1, 2, 5\)",
    ),
    "gru_input_feature_size": (
        lambda: GRU(3, 5)(x3(H_in=4)),
        ValueError,
        r"expected input with input_size=3 features in its last dimension, got 4",
    ),
    "lstm_input_rank": (
        lambda: LSTM(3, 5)(torch.randn(3)),
        ValueError,
        r"expected input with 2 \(unbatched\) or 3 \(batched\) dimensions, got 1",
    ),
    "lstm_empty_batch": (
        lambda: LSTM(3, 5)(x3(N=0)),
        ValueError,
        r"expected a batch of size >= 1, got 0",
    ),
    "lstm_packed_h_0_batch": (
        lambda: LSTM(3, 5)(
            pack_padded_sequence(x3(), [4, 3]),
            (torch.zeros(1, 3, 5), torch.zeros(1, 3, 5)),
        ),
        ValueError,
        r"expected h_0 of shape \(1, 2, 5\), got \(1, 3, 5\)",
    ),
    # cells
    "lstm_cell_h_without_c": (
        lambda: LSTMCell(3, 5)(torch.randn(2, 3), torch.zeros(2, 5)),
        TypeError,
        r"expected hx as a tuple \(h_0, c_0\), got a Tensor",
    ),
    "lstm_cell_c_shape": (
        lambda: LSTMCell(3, 5)(
            torch.randn(2, 3), (torch.zeros(2, 5), torch.zeros(2, 4))
        ),
        ValueError,
        r"expected c_0 of shape \(2, 5\), got \(2, 4\)",
    ),
    "lstm_cell_input_rank": (
        lambda: LSTMCell(3, 5)(x3()),
        ValueError,
        r"expected input with 1 \(unbatched\) or 2 \(batched\) dimensions, got 3",
    ),
    "gru_cell_hx_shape": (
        lambda: GRUCell(3, 5)(torch.randn(2, 3), torch.zeros(2, 4)),
        ValueError,
        r"expected hx of shape \(2, 5\), got \(2, 4\)",
    ),
    "gru_cell_bias_not_bool": (
        lambda: GRUCell(3, 5, bias=1),
        TypeError,
        r"bias must be a bool, got int",
    ),
}


@pytest.mark.parametrize("case", ERROR_CASES.values(), ids=ERROR_CASES.keys())
def test_bad_input_raises(case):
    call, error, message = case
    with pytest.raises(error, match=message):
        call()


def test_inputs_are_not_modified():
    ours, _ = make_pair("lstm", input_size=3, hidden_size=4, num_layers=2)
    x = torch.randn(5, 2, 3, dtype=DTYPE)
    h_0, c_0 = torch.randn(2, 2, 4, dtype=DTYPE), torch.randn(2, 2, 4, dtype=DTYPE)
    copies = [t.clone() for t in (x, h_0, c_0)]
    ours(x, (h_0, c_0))[0].sum().backward()
    assert all(torch.equal(a, b) for a, b in zip((x, h_0, c_0), copies))


# ---------------------------------------------------------------------------
# CUDA


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_parity_cuda(kind, mode):
    # Ours on the GPU against torch on the CPU, both float64.
    ours, ref = make_pair(
        kind, "cuda", input_size=3, hidden_size=4, num_layers=2, bidirectional=True
    )
    assert all(p.is_cuda for p in ours.parameters())
    lengths = [3, 5, 1, 5]
    x_cpu, inp_cpu = make_input(mode, False, 5, lengths, 3)
    hx_cpu = random_state(ours, mode, 4)  # on the CPU
    out_ref, state_ref, grads_ref, cot = run_and_grad(ref, inp_cpu, hx_cpu, x_cpu, None)
    x = x_cpu.detach().cuda().requires_grad_()
    inp = feed(mode, x, lengths, False)
    hx = tuple(h.detach().cuda().requires_grad_() for h in as_tuple(hx_cpu))
    hx = hx if len(hx) == 2 else hx[0]
    out, state, grads, _ = run_and_grad(ours, inp, hx, x, [c.cuda() for c in cot])
    if isinstance(out, PackedSequence):
        out, out_ref = out.data, out_ref.data
    torch.testing.assert_close(out.cpu(), out_ref, **TOL)
    for s, s_ref in zip(state, state_ref, strict=True):
        torch.testing.assert_close(s.cpu(), s_ref, **TOL)
    for g, g_ref in zip(grads, grads_ref, strict=True):
        torch.testing.assert_close(g.cpu(), g_ref, **TOL)


@pytest.mark.cuda
@needs_cuda
def test_to_cuda_moves_everything():
    lstm = LSTM(3, 4, num_layers=2, proj_size=2).to("cuda")
    output, (h_n, c_n) = lstm(torch.randn(5, 2, 3, device="cuda"))
    assert output.is_cuda and h_n.is_cuda and c_n.is_cuda
    assert GRUCell(3, 4).cuda()(torch.randn(2, 3, device="cuda")).is_cuda
    with pytest.raises(ValueError, match=r"expected input on device cuda:0"):
        lstm(torch.randn(5, 2, 3))


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_cells_accept_hidden_size_zero_as_torch_does(kind):
    """torch's cells return (N, 0) states for hidden_size=0; so do ours."""
    ours = {"rnn": rnn_lib.RNNCell, "lstm": LSTMCell, "gru": GRUCell}[kind](3, 0)
    theirs = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}[kind](3, 0)
    x = torch.randn(2, 3)
    for a, b in zip(as_tuple(ours(x)), as_tuple(theirs(x))):
        assert a.shape == b.shape == (2, 0)


@pytest.mark.parametrize("kind", KINDS)
def test_flatten_parameters_is_a_no_op(kind):
    """Code written for torch.nn calls flatten_parameters(); it changes nothing here."""
    ours = KINDS[kind][0](4, 4, 2)
    before = {name: p.clone() for name, p in ours.state_dict().items()}
    assert ours.flatten_parameters() is None
    for name, p in ours.state_dict().items():
        assert torch.equal(p, before[name])
