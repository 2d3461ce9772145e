"""Tests for rnn_lib.bptt: the hand-derived backward pass against torch, autograd
and centred differences, in float64."""

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from rnn_lib import bptt, functional
from rnn_lib.rnn import RNN

DTYPE = torch.float64
TOL = {"atol": 1e-10, "rtol": 1e-10}
LAYER_GRID = list(
    itertools.product(
        ["tanh", "relu"], [False, True], [True, False], [None, [4, 3, 3, 1]]
    )
)  # nonlinearity, reverse, bias, lengths


def layer_inputs(L, N, H_in, H, bias, seed=0, dtype=DTYPE, device="cpu"):
    """x, h_0, w_ih, w_hh, b_ih, b_hh, all requiring grad (biases None if not bias)."""
    g = torch.Generator().manual_seed(seed)

    def leaf(*shape, scale=1.0):
        t = torch.randn(*shape, generator=g, dtype=DTYPE) * scale
        return t.to(device=device, dtype=dtype).requires_grad_()

    return [
        leaf(L, N, H_in),
        leaf(N, H),
        leaf(H, H_in, scale=0.5),
        leaf(H, H, scale=0.5),
        leaf(H) if bias else None,
        leaf(H) if bias else None,
    ]


def batch_sizes_of(lengths):
    return (
        None
        if lengths is None
        else [sum(n > t for n in lengths) for t in range(lengths[0])]
    )


def torch_layer(x, h_0, w_ih, w_hh, b_ih, b_hh, nonlinearity, reverse, lengths):
    """The oracle: one direction of a bidirectional torch.nn.RNN (packed if lengths)."""
    L, N, H_in = x.shape
    H = w_hh.shape[0]
    ref = torch.nn.RNN(
        H_in, H, nonlinearity=nonlinearity, bias=b_ih is not None, bidirectional=True
    ).to(x)
    suffix = "_reverse" if reverse else ""
    params = dict(ref.named_parameters())
    for name, value in zip(
        ["weight_ih", "weight_hh", "bias_ih", "bias_hh"], [w_ih, w_hh, b_ih, b_hh]
    ):
        if value is not None:
            params[f"{name}_l0{suffix}"] = value
    d = int(reverse)
    h_both = torch.stack(
        [torch.zeros_like(h_0), h_0] if reverse else [h_0, torch.zeros_like(h_0)]
    )
    inputs = x if lengths is None else pack_padded_sequence(x, lengths)
    out, h_n = torch.func.functional_call(ref, params, (inputs, h_both))
    if lengths is not None:
        out, _ = pad_packed_sequence(out, total_length=L)
    return out[..., d * H : (d + 1) * H], h_n[d]


def outputs_and_grads(layer, inputs, cotangents, **kwargs):
    output, h_n = layer(*inputs, **kwargs)
    live = [t for t in inputs if t is not None]
    loss = (output * cotangents[0]).sum() + (h_n * cotangents[1]).sum()
    return output, h_n, torch.autograd.grad(loss, live)


def assert_same(a, b, **tol):
    for u, v in zip(a[:2], b[:2]):
        torch.testing.assert_close(u, v, **tol)
    assert len(a[2]) == len(b[2])
    for u, v in zip(a[2], b[2]):
        torch.testing.assert_close(u, v, **tol)


# ---------------------------------------------------------------------------
# Against torch and against autograd


@pytest.mark.parametrize("nonlinearity,reverse,bias,lengths", LAYER_GRID)
def test_matches_torch_and_autograd(nonlinearity, reverse, bias, lengths):
    L, N, H_in, H = 4, 4, 3, 5
    inputs = layer_inputs(L, N, H_in, H, bias)
    cot = (torch.randn(L, N, H, dtype=DTYPE), torch.randn(N, H, dtype=DTYPE))
    ours = outputs_and_grads(
        bptt.rnn_layer,
        inputs,
        cot,
        nonlinearity=nonlinearity,
        reverse=reverse,
        batch_sizes=batch_sizes_of(lengths),
    )
    oracle = outputs_and_grads(
        lambda *a: torch_layer(*a, nonlinearity, reverse, lengths), inputs, cot
    )
    autograd = outputs_and_grads(
        functional.rnn_layer,
        inputs,
        cot,
        nonlinearity=nonlinearity,
        reverse=reverse,
        batch_sizes=batch_sizes_of(lengths),
    )
    assert_same(ours, oracle, **TOL)
    assert_same(ours, autograd, **TOL)


@settings(max_examples=30, deadline=None)
@given(
    L=st.integers(1, 6),
    N=st.integers(1, 4),
    H_in=st.integers(1, 4),
    H=st.integers(1, 5),
    nonlinearity=st.sampled_from(["tanh", "relu"]),
    reverse=st.booleans(),
    bias=st.booleans(),
    data=st.data(),
)
def test_matches_autograd_property(L, N, H_in, H, nonlinearity, reverse, bias, data):
    packed = data.draw(st.booleans(), label="packed")
    batch_sizes = None
    if packed:
        sizes = data.draw(
            st.lists(st.integers(1, N), min_size=L, max_size=L), label="sizes"
        )
        batch_sizes = sorted(sizes, reverse=True)
    inputs = layer_inputs(L, N, H_in, H, bias, seed=L * 100 + N)
    cot = (torch.randn(L, N, H, dtype=DTYPE), torch.randn(N, H, dtype=DTYPE))
    kwargs = {
        "nonlinearity": nonlinearity,
        "reverse": reverse,
        "batch_sizes": batch_sizes,
    }
    assert_same(
        outputs_and_grads(bptt.rnn_layer, inputs, cot, **kwargs),
        outputs_and_grads(functional.rnn_layer, inputs, cot, **kwargs),
        **TOL,
    )


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_float32_error_is_torchs(nonlinearity):
    """In float32 (tanh runs through a sigmoid), the error against the float64
    truth stays within a small factor of torch.nn.RNN's own float32 error."""
    L, N, H_in, H = 30, 8, 16, 32
    g = torch.Generator().manual_seed(0)
    scales = [1, 1, H**-0.5, H**-0.5, 1, 1]
    shapes = [(L, N, H_in), (N, H), (H, H_in), (H, H), (H,), (H,)]
    exact = [
        (torch.randn(*shape, generator=g, dtype=DTYPE) * s).requires_grad_()
        for shape, s in zip(shapes, scales)
    ]
    single = [t.detach().float().requires_grad_() for t in exact]
    cot = (torch.randn(L, N, H, dtype=DTYPE), torch.randn(N, H, dtype=DTYPE))

    def torch_rnn(*a):
        return torch_layer(*a, nonlinearity, False, None)

    truth = outputs_and_grads(torch_rnn, exact, cot)
    cot32 = tuple(c.float() for c in cot)
    ours = outputs_and_grads(bptt.rnn_layer, single, cot32, nonlinearity=nonlinearity)
    theirs = outputs_and_grads(torch_rnn, single, cot32)

    def errors(result):
        tensors = [*result[:2], *result[2]]
        return [
            bptt.relative_error(a.double(), b)
            for a, b in zip(tensors, [*truth[:2], *truth[2]])
        ]

    for mine, torchs in zip(errors(ours), errors(theirs)):
        assert mine < 4 * torchs + 1e-7


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_autocast_runs_in_the_autocast_dtype(nonlinearity):
    """Under torch.autocast the layer computes in the autocast dtype, as torch does,
    and the float32 parameters get float32 gradients."""
    torch.manual_seed(0)
    ours = RNN(3, 8, nonlinearity=nonlinearity, bidirectional=True)
    ref = torch.nn.RNN(3, 8, nonlinearity=nonlinearity, bidirectional=True)
    ref.load_state_dict(ours.state_dict())
    x = torch.randn(6, 2, 3)
    results = []
    for model in (ours, ref):
        with torch.autocast("cpu", dtype=torch.bfloat16):
            output, h_n = model(x)
        output.float().pow(2).sum().backward()
        assert output.dtype == h_n.dtype == torch.bfloat16
        assert model.weight_hh_l0.grad.dtype == torch.float32
        results.append((output.float(), model.weight_hh_l0.grad))
    # bfloat16 keeps 8 bits: agree to a few units in its last place
    torch.testing.assert_close(results[0][0], results[1][0], atol=0.03, rtol=0.02)
    torch.testing.assert_close(results[0][1], results[1][1], atol=0.1, rtol=0.05)


def test_only_some_inputs_require_grad():
    x, h_0, w_ih, w_hh, b_ih, b_hh = layer_inputs(5, 3, 2, 4, True)
    x_plain, h_plain = x.detach(), h_0.detach()
    output, _ = bptt.rnn_layer(x_plain, h_plain, w_ih, w_hh, b_ih, b_hh)
    ours = torch.autograd.grad(output.sum(), [w_hh, b_hh])
    output, _ = functional.rnn_layer(x_plain, h_plain, w_ih, w_hh, b_ih, b_hh)
    expected = torch.autograd.grad(output.sum(), [w_hh, b_hh])
    for a, b in zip(ours, expected):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("which", ["output", "h_n"])
def test_loss_on_one_output_only(which):
    inputs = layer_inputs(5, 3, 2, 4, True)
    grads = []
    for layer in (bptt.rnn_layer, functional.rnn_layer):
        output, h_n = layer(*inputs, reverse=True)
        loss = (output**2).sum() if which == "output" else (h_n**2).sum()
        grads.append(torch.autograd.grad(loss, inputs))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, **TOL)


def test_packed_rows_that_never_step_pass_gradient_to_h_0():
    """batch_sizes[0] < N: rows beyond it keep h_0, so dL/dh_0 = dL/dh_n there."""
    inputs = layer_inputs(3, 4, 2, 3, True)
    cot = (torch.randn(3, 4, 3, dtype=DTYPE), torch.randn(4, 3, dtype=DTYPE))
    for reverse in (False, True):
        kwargs = {"reverse": reverse, "batch_sizes": [2, 2, 1]}
        ours = outputs_and_grads(bptt.rnn_layer, inputs, cot, **kwargs)
        torch.testing.assert_close(ours[2][1][2:], cot[1][2:], **TOL)
        assert_same(
            ours, outputs_and_grads(functional.rnn_layer, inputs, cot, **kwargs), **TOL
        )


def test_output_is_independent_of_the_input_buffer():
    """The forward pass writes into its own buffer, never into x or h_0."""
    x, h_0, w_ih, w_hh, b_ih, b_hh = (
        t.detach() for t in layer_inputs(4, 2, 3, 3, True)
    )
    x_copy, h_copy = x.clone(), h_0.clone()
    bptt.rnn_layer(x, h_0, w_ih, w_hh, b_ih, b_hh)
    assert torch.equal(x, x_copy) and torch.equal(h_0, h_copy)


def test_batch_sizes_as_tensor():
    inputs = layer_inputs(3, 3, 2, 2, True)
    a = bptt.rnn_layer(*inputs, batch_sizes=torch.tensor([3, 2, 1]))
    b = bptt.rnn_layer(*inputs, batch_sizes=[3, 2, 1])
    torch.testing.assert_close(a, b, **TOL)


# ---------------------------------------------------------------------------
# Gradient checks: centred differences and torch.autograd.gradcheck


@pytest.mark.parametrize("nonlinearity,reverse,bias,lengths", LAYER_GRID)
def test_gradcheck_layer(nonlinearity, reverse, bias, lengths):
    inputs = layer_inputs(4, 4, 2, 3, bias, seed=1)
    live = [t for t in inputs if t is not None]

    def f(*tensors):
        it = iter(tensors)
        args = [next(it) if t is not None else None for t in inputs]
        return bptt.rnn_layer(
            *args,
            nonlinearity=nonlinearity,
            reverse=reverse,
            batch_sizes=batch_sizes_of(lengths),
        )

    assert torch.autograd.gradcheck(f, live)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_centred_differences(nonlinearity):
    inputs = layer_inputs(5, 3, 2, 4, True, seed=2)
    cot = (torch.randn(5, 3, 4, dtype=DTYPE), torch.randn(3, 4, dtype=DTYPE))

    def loss():
        output, h_n = bptt.rnn_layer(*inputs, nonlinearity=nonlinearity)
        return (output * cot[0]).sum() + (h_n * cot[1]).sum()

    grads = torch.autograd.grad(loss(), inputs)
    for tensor, grad in zip(inputs, grads):
        estimate = bptt.numerical_gradient(loss, tensor)
        assert bptt.relative_error(grad, estimate) < 1e-7


def test_numerical_gradient_of_a_known_function():
    w = torch.tensor([0.5, -1.0, 2.0], dtype=DTYPE)
    estimate = bptt.numerical_gradient(lambda: (w**3).sum(), w)
    torch.testing.assert_close(estimate, 3 * w**2, atol=1e-9, rtol=0)
    assert torch.equal(w, torch.tensor([0.5, -1.0, 2.0], dtype=DTYPE))


def test_relative_error():
    a = torch.tensor([3.0, 4.0], dtype=DTYPE)
    assert bptt.relative_error(a, a) == 0
    assert bptt.relative_error(a, torch.zeros(2, dtype=DTYPE)) == 1
    assert bptt.relative_error(torch.zeros(2), torch.zeros(2)) == 0
    assert bptt.relative_error(a, 2 * a) == pytest.approx(0.5)


RNN_GRID = list(
    itertools.product(
        [1, 2], [False, True], [True, False], ["tanh", "relu"], [False, True]
    )
)  # num_layers, bidirectional, bias, nonlinearity, packed


@pytest.mark.parametrize("num_layers,bidirectional,bias,nonlinearity,packed", RNN_GRID)
def test_gradcheck_rnn(num_layers, bidirectional, bias, nonlinearity, packed):
    """rnn_lib.RNN's default backward (bptt) passes gradcheck in every configuration."""
    torch.manual_seed(0)
    rnn = RNN(
        2,
        3,
        num_layers=num_layers,
        nonlinearity=nonlinearity,
        bias=bias,
        bidirectional=bidirectional,
        dtype=DTYPE,
    )
    assert rnn.backward_pass == "bptt"
    D = 2 if bidirectional else 1
    x = torch.randn(4, 3, 2, dtype=DTYPE, requires_grad=True)
    h_0 = torch.randn(D * num_layers, 3, 3, dtype=DTYPE, requires_grad=True)
    names = [name for name, _ in rnn.named_parameters()]
    params = [p.detach().clone().requires_grad_() for p in rnn.parameters()]

    def f(x, h_0, *weights):
        inputs = (
            pack_padded_sequence(x, [4, 2, 1], enforce_sorted=False) if packed else x
        )
        output, h_n = torch.func.functional_call(
            rnn, dict(zip(names, weights)), (inputs, h_0)
        )
        return (output.data if packed else output), h_n

    assert torch.autograd.gradcheck(f, [x, h_0, *params])


def test_rnn_uses_the_hand_derived_backward():
    rnn = RNN(2, 3, dtype=DTYPE)
    output, _ = rnn(torch.randn(4, 1, 2, dtype=DTYPE))
    assert output.grad_fn.name() == "RNNLayerFunctionBackward"
    output, _ = RNN(2, 3, dtype=DTYPE, backward="autograd")(
        torch.randn(4, 1, 2, dtype=DTYPE)
    )
    assert output.grad_fn.name() != "RNNLayerFunctionBackward"


# ---------------------------------------------------------------------------
# Double backward, validation


@pytest.mark.parametrize("reverse,lengths", [(False, None), (True, [4, 3, 3, 1])])
def test_gradgradcheck(reverse, lengths):
    """A double backward works (create_graph=True replays the autograd loop)."""
    inputs = layer_inputs(4, 4, 2, 3, True, seed=3)

    def f(*tensors):
        return bptt.rnn_layer(
            *tensors, reverse=reverse, batch_sizes=batch_sizes_of(lengths)
        )

    assert torch.autograd.gradgradcheck(f, inputs)


def test_gradient_penalty_matches_autograd():
    """A loss on a gradient (create_graph=True) gets the same second-order terms."""
    grads = []
    for layer in (bptt.rnn_layer, functional.rnn_layer):
        inputs = layer_inputs(5, 3, 2, 4, True, seed=4)
        output, h_n = layer(*inputs, nonlinearity="tanh")
        (g_w_hh,) = torch.autograd.grad((output**2).sum(), inputs[3], create_graph=True)
        penalty = (g_w_hh**2).sum() + h_n.sum()
        grads.append(torch.autograd.grad(penalty, inputs))
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("reverse,lengths", [(False, None), (True, [4, 3, 3, 1])])
@pytest.mark.parametrize("which", ["output", "h_n"])
def test_batched_gradients_match_torch(reverse, lengths, which):
    """is_grads_batched=True (the backward under vmap), as PyTorch's own tests use.

    A gradient on h_n alone once failed: the in-place add of dL/dh_n into an
    unbatched dL/doutput is impossible under vmap.
    """
    inputs = layer_inputs(4, 4, 2, 3, True, seed=5)
    g = torch.Generator().manual_seed(6)
    grads = []
    for layer in (bptt.rnn_layer, torch_layer):
        kwargs = {"reverse": reverse}
        if layer is bptt.rnn_layer:
            kwargs["batch_sizes"] = batch_sizes_of(lengths)
        else:
            kwargs.update(nonlinearity="tanh", lengths=lengths)
        output, h_n = layer(*inputs, **kwargs)
        target = output if which == "output" else h_n
        v = torch.randn(3, *target.shape, generator=g, dtype=DTYPE)
        g.manual_seed(6)
        grads.append(torch.autograd.grad(target, inputs, v, is_grads_batched=True))
    for a, b in zip(*grads):
        assert a.shape[0] == 3  # one gradient per row of v
        torch.testing.assert_close(a, b, **TOL)


def test_rejects_unknown_nonlinearity():
    inputs = layer_inputs(3, 2, 2, 3, True)
    with pytest.raises(
        ValueError, match=r"nonlinearity must be 'tanh' or 'relu', got 'sigmoid'"
    ):
        bptt.rnn_layer(*inputs, nonlinearity="sigmoid")


def test_rejects_empty_sequence():
    _, h_0, w_ih, w_hh, _, _ = layer_inputs(3, 2, 2, 3, False)
    with pytest.raises(
        ValueError, match=r"expected a sequence of length >= 1, got length 0"
    ):
        bptt.rnn_layer(torch.zeros(0, 2, 2, dtype=DTYPE), h_0, w_ih, w_hh)


def test_rejects_bad_batch_sizes():
    inputs = layer_inputs(3, 2, 2, 3, True)
    with pytest.raises(
        ValueError, match=r"expected 3 batch sizes \(one per time step\), got 2"
    ):
        bptt.rnn_layer(*inputs, batch_sizes=[2, 1])
    with pytest.raises(ValueError, match=r"non-increasing order .* got \[1, 2, 2\]"):
        bptt.rnn_layer(*inputs, batch_sizes=[1, 2, 2])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("nonlinearity,reverse,bias,lengths", LAYER_GRID)
def test_cuda_matches_cpu(nonlinearity, reverse, bias, lengths):
    kwargs = {
        "nonlinearity": nonlinearity,
        "reverse": reverse,
        "batch_sizes": batch_sizes_of(lengths),
    }
    cpu = layer_inputs(4, 4, 3, 5, bias)
    gpu = layer_inputs(4, 4, 3, 5, bias, device="cuda")
    cot = (torch.randn(4, 4, 5, dtype=DTYPE), torch.randn(4, 5, dtype=DTYPE))
    on_cpu = outputs_and_grads(bptt.rnn_layer, cpu, cot, **kwargs)
    on_gpu = outputs_and_grads(bptt.rnn_layer, gpu, [c.cuda() for c in cot], **kwargs)
    assert on_gpu[0].device.type == "cuda"
    moved = (on_gpu[0].cpu(), on_gpu[1].cpu(), [g.cpu() for g in on_gpu[2]])
    assert_same(moved, on_cpu, atol=1e-9, rtol=1e-9)
