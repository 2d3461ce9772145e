"""Tests for rnn_lib.gated_bptt: the hand-derived backward passes of the LSTM
and the GRU against autograd's (the reference loops of rnn_lib.gated_functional)
and torch.nn, in float64, and torch.autograd.gradcheck over every configuration.
"""

import itertools

import pytest
import torch
from torch.nn.utils.rnn import pack_padded_sequence

from rnn_lib import GRU, LSTM, gated_bptt, gated_functional

DTYPE = torch.float64
TOL = {"atol": 1e-10, "rtol": 1e-10}
LENGTHS = [4, 3, 3, 1]  # a packed batch: N = 4 rows, L = 4 steps


def batch_sizes_of(lengths):
    if lengths is None:
        return None
    return [sum(n > t for n in lengths) for t in range(lengths[0])]


def lstm_inputs(bias, proj, seed, L=4, N=4, H_in=3, H=5, P=2):
    g = torch.Generator().manual_seed(seed)

    def leaf(*shape, scale=0.6):
        return (scale * torch.randn(*shape, generator=g, dtype=DTYPE)).requires_grad_()

    S = P if proj else H
    return [
        leaf(L, N, H_in, scale=1.0),
        leaf(N, S),
        leaf(N, H),
        leaf(4 * H, H_in),
        leaf(4 * H, S),
        leaf(4 * H) if bias else None,
        leaf(4 * H) if bias else None,
        leaf(P, H) if proj else None,
    ]


def gru_inputs(bias, seed, L=4, N=4, H_in=3, H=5):
    g = torch.Generator().manual_seed(seed)

    def leaf(*shape, scale=0.6):
        return (scale * torch.randn(*shape, generator=g, dtype=DTYPE)).requires_grad_()

    return [
        leaf(L, N, H_in, scale=1.0),
        leaf(N, H),
        leaf(3 * H, H_in),
        leaf(3 * H, H),
        leaf(3 * H) if bias else None,
        leaf(3 * H) if bias else None,
    ]


def flat_outputs(result):
    """(output, (h_n, c_n)) or (output, h_n) as a flat list."""
    output, state = result
    return [output, *state] if isinstance(state, tuple) else [output, state]


def outputs_and_grads(layer, inputs, reverse, lengths, seed=1):
    outputs = flat_outputs(
        layer(*inputs, reverse=reverse, batch_sizes=batch_sizes_of(lengths))
    )
    g = torch.Generator().manual_seed(seed)
    loss = sum(
        (o * torch.randn(o.shape, generator=g, dtype=DTYPE)).sum() for o in outputs
    )
    live = [t for t in inputs if t is not None]
    return outputs, torch.autograd.grad(loss, live)


LSTM_GRID = list(
    itertools.product([False, True], [None, LENGTHS], [True, False], [False, True])
)  # reverse, lengths, bias, proj
GRU_GRID = list(itertools.product([False, True], [None, LENGTHS], [True, False]))


@pytest.mark.parametrize("reverse,lengths,bias,proj", LSTM_GRID)
def test_lstm_matches_autograd(reverse, lengths, bias, proj):
    inputs = lstm_inputs(bias, proj, seed=0)
    ours = outputs_and_grads(gated_bptt.lstm_layer, inputs, reverse, lengths)
    theirs = outputs_and_grads(gated_functional.lstm_layer, inputs, reverse, lengths)
    for a, b in zip(ours[0] + list(ours[1]), theirs[0] + list(theirs[1])):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("reverse,lengths,bias", GRU_GRID)
def test_gru_matches_autograd(reverse, lengths, bias):
    inputs = gru_inputs(bias, seed=0)
    ours = outputs_and_grads(gated_bptt.gru_layer, inputs, reverse, lengths)
    theirs = outputs_and_grads(gated_functional.gru_layer, inputs, reverse, lengths)
    for a, b in zip(ours[0] + list(ours[1]), theirs[0] + list(theirs[1])):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("reverse,lengths,bias,proj", LSTM_GRID)
def test_lstm_layer_gradcheck(reverse, lengths, bias, proj):
    inputs = [
        t for t in lstm_inputs(bias, proj, seed=2, L=3, N=4, H=3) if t is not None
    ]
    sizes = batch_sizes_of(None if lengths is None else [3, 2, 2, 1])

    def f(*tensors):
        it = iter(tensors)
        args = [next(it) for _ in range(5)]
        b = [next(it), next(it)] if bias else [None, None]
        w_hr = next(it) if proj else None
        output, (h_n, c_n) = gated_bptt.lstm_layer(
            *args, *b, w_hr, reverse=reverse, batch_sizes=sizes
        )
        return output, h_n, c_n

    assert torch.autograd.gradcheck(f, inputs, check_batched_grad=True)


@pytest.mark.parametrize("reverse,lengths,bias", GRU_GRID)
def test_gru_layer_gradcheck(reverse, lengths, bias):
    inputs = [t for t in gru_inputs(bias, seed=2, L=3, N=4, H=3) if t is not None]
    sizes = batch_sizes_of(None if lengths is None else [3, 2, 2, 1])

    def f(*tensors):
        args = list(tensors[:4]) + (list(tensors[4:]) if bias else [None, None])
        return gated_bptt.gru_layer(*args, reverse=reverse, batch_sizes=sizes)

    assert torch.autograd.gradcheck(f, inputs, check_batched_grad=True)


MODULE_CONFIGS = [
    # kind, num_layers, bidirectional, bias, packed, proj_size, batch_first
    ("lstm", 1, False, True, False, 0, False),
    ("lstm", 2, True, True, True, 0, False),
    ("lstm", 2, True, False, False, 2, True),
    ("lstm", 1, True, True, True, 2, False),
    ("lstm", 2, False, False, True, 0, True),
    ("gru", 1, False, True, False, 0, False),
    ("gru", 2, True, True, True, 0, False),
    ("gru", 2, True, False, False, 0, True),
    ("gru", 1, True, False, True, 0, False),
]


@pytest.mark.slow
@pytest.mark.parametrize("config", MODULE_CONFIGS, ids=str)
def test_module_gradcheck(config):
    """gradcheck through every configuration of the modules, batched grads included."""
    kind, num_layers, bidirectional, bias, packed, proj_size, batch_first = config
    torch.manual_seed(0)
    extra = {"proj_size": proj_size} if kind == "lstm" else {}
    module = (LSTM if kind == "lstm" else GRU)(
        2, 3, num_layers, bias, batch_first, 0.0, bidirectional, dtype=DTYPE, **extra
    )
    names = [name for name, _ in module.named_parameters()]
    D = 2 if bidirectional else 1
    N, L = 3, 4
    x = torch.randn((N, L, 2) if batch_first else (L, N, 2), dtype=DTYPE)
    S = proj_size or 3
    h_0 = torch.randn(D * num_layers, N, S, dtype=DTYPE)
    state = (
        [h_0, torch.randn(D * num_layers, N, 3, dtype=DTYPE)]
        if kind == "lstm"
        else [h_0]
    )
    weights = [p.detach().clone() for p in module.parameters()]
    leaves = [t.requires_grad_() for t in [x, *state, *weights]]

    def run(x, *rest):
        states, params = rest[: len(state)], rest[len(state) :]
        inp = (
            pack_padded_sequence(x, [4, 3, 1], batch_first=batch_first) if packed else x
        )
        hx = tuple(states) if kind == "lstm" else states[0]
        output, state_n = torch.func.functional_call(
            module, dict(zip(names, params)), (inp, hx)
        )
        out = output.data if packed else output
        return (out, *state_n) if kind == "lstm" else (out, state_n)

    assert torch.autograd.gradcheck(run, leaves, check_batched_grad=True)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_modules_use_the_hand_derived_backward(kind):
    module = (LSTM if kind == "lstm" else GRU)(2, 3, dtype=DTYPE)
    output, _ = module(torch.randn(4, 2, 2, dtype=DTYPE))
    assert type(output.grad_fn).__name__ == (
        "LSTMLayerFunctionBackward" if kind == "lstm" else "GRULayerFunctionBackward"
    )
    autograd = (LSTM if kind == "lstm" else GRU)(2, 3, dtype=DTYPE, backward="autograd")
    output, _ = autograd(torch.randn(4, 2, 2, dtype=DTYPE))
    assert "LayerFunction" not in type(output.grad_fn).__name__


def test_lstm_gradgradcheck():
    """A double backward works (create_graph=True replays the autograd loop)."""
    inputs = [
        t for t in lstm_inputs(True, False, seed=3, L=3, N=2, H=2) if t is not None
    ]

    def f(*tensors):
        output, (h_n, c_n) = gated_bptt.lstm_layer(
            *tensors, reverse=True, batch_sizes=[2, 2, 1]
        )
        return output, h_n, c_n

    assert torch.autograd.gradgradcheck(f, inputs)


def test_gru_gradgradcheck():
    inputs = [t for t in gru_inputs(True, seed=3, L=3, N=2, H=2) if t is not None]

    def f(*tensors):
        return gated_bptt.gru_layer(*tensors, batch_sizes=[2, 2, 1])

    assert torch.autograd.gradgradcheck(f, inputs)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
@pytest.mark.parametrize("which", [0, 1])  # a gradient on output, or on h_n only
def test_batched_gradients_match_torch(kind, which):
    """is_grads_batched=True, as PyTorch's own RNN tests check it."""
    torch.manual_seed(0)
    ours = (LSTM if kind == "lstm" else GRU)(2, 3, dtype=DTYPE)
    ref = (torch.nn.LSTM if kind == "lstm" else torch.nn.GRU)(2, 3, dtype=DTYPE)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(4, 2, 2, dtype=DTYPE, requires_grad=True)
    grads = []
    for module in (ours, ref):
        output, state = module(x)
        target = output if which == 0 else (state[0] if kind == "lstm" else state)
        v = torch.randn(
            5, *target.shape, dtype=DTYPE, generator=torch.Generator().manual_seed(1)
        )
        grads.append(torch.autograd.grad(target, x, v, is_grads_batched=True)[0])
    assert grads[0].shape == (5, 4, 2, 2)
    torch.testing.assert_close(grads[0], grads[1], **TOL)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_only_some_inputs_require_grad(kind):
    """Frozen weights, an input that needs no gradient: only the rest is computed."""
    torch.manual_seed(0)
    module = (LSTM if kind == "lstm" else GRU)(2, 3, dtype=DTYPE)
    reference = (LSTM if kind == "lstm" else GRU)(
        2, 3, dtype=DTYPE, backward="autograd"
    )
    reference.load_state_dict(module.state_dict())
    for m in (module, reference):
        m.weight_ih_l0.requires_grad_(False)
    x = torch.randn(5, 2, 2, dtype=DTYPE)
    grads = []
    for m in (module, reference):
        output, _ = m(x)
        grads.append(torch.autograd.grad(output.sum(), [m.weight_hh_l0, m.bias_ih_l0]))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("kind", ["lstm", "gru"])
def test_autocast_runs_in_the_autocast_dtype(kind):
    module = (LSTM if kind == "lstm" else GRU)(3, 4)
    x = torch.randn(5, 2, 3)
    expected, _ = module(x)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        output, _ = module(x)
    assert output.dtype == torch.bfloat16
    torch.testing.assert_close(output.float(), expected, atol=0.05, rtol=0.05)
    output.float().sum().backward()  # the backward runs in bfloat16 too
    assert module.weight_hh_l0.grad.dtype == torch.float32
