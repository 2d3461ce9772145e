"""Tests for rnn_lib.linear_rnn: minGRU and the LRU against their equations written
out step by step in float64, their initialisation, carried states, and their
argument checks."""

import math

import pytest
import torch

from rnn_lib import linear_rnn
from rnn_lib.linear_rnn import LRU, CharLinearRNN, LinearRNN, MinGRU
from rnn_lib.train import train

DTYPE = torch.float64
TOL = {"atol": 1e-10, "rtol": 1e-10}


def sequence(L=7, N=3, H_in=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(L, N, H_in, generator=g, dtype=DTYPE)


@pytest.mark.parametrize("negative", [False, True])
def test_mingru_is_the_gru_without_h_in_its_gates(negative):
    torch.manual_seed(0)
    layer = MinGRU(4, 5, negative=negative, dtype=DTYPE)
    x = sequence()
    h = torch.randn(3, 5, dtype=DTYPE)
    W_z, W_n = layer.weight_ih.chunk(2)
    b_z, b_n = layer.bias_ih.chunk(2)
    expected = []
    h_t = h
    for x_t in x:
        z = torch.sigmoid(x_t @ W_z.T + b_z)
        n = x_t @ W_n.T + b_n
        a = 2 * z - 1 if negative else z
        h_t = a * h_t + (1 - z) * n
        expected.append(h_t)
    output, h_n = layer(x, h)
    torch.testing.assert_close(output, torch.stack(expected), **TOL)
    torch.testing.assert_close(h_n, expected[-1], **TOL)
    a, _ = layer.coefficients(x)
    low = -1 if negative else 0
    assert bool(((a > low) & (a < 1)).all())


def test_lru_is_its_equations_written_out():
    torch.manual_seed(0)
    layer = LRU(4, 3, state_size=6, dtype=DTYPE)
    x = sequence()
    lam = layer.eigenvalues()  # (6,)
    B = torch.complex(layer.B_re, layer.B_im)
    C = torch.complex(layer.C_re, layer.C_im)
    kappa = torch.exp(layer.kappa_log)
    h = torch.zeros(3, 6, dtype=torch.complex128)
    outputs = []
    for x_t in x:
        h = lam * h + kappa * (x_t.to(B.dtype) @ B.T)
        outputs.append((h @ C.T).real)
    output, h_n = layer(x)
    assert output.dtype == DTYPE and h_n.dtype == torch.complex128
    torch.testing.assert_close(output, torch.stack(outputs), **TOL)
    torch.testing.assert_close(h_n, h, **TOL)


def test_lru_initialisation_draws_the_ring_and_normalises():
    torch.manual_seed(0)
    layer = LRU(2, 2, state_size=20000, r_min=0.5, r_max=0.9, max_phase=1.0)
    eigenvalues = layer.eigenvalues().detach()
    modulus = eigenvalues.abs()
    assert float(modulus.min()) >= 0.5 - 1e-6 and float(modulus.max()) <= 0.9 + 1e-6
    # |lambda|^2 uniform on [r_min^2, r_max^2]: uniform on the ring's area
    torch.testing.assert_close(
        (modulus**2).mean(), torch.tensor((0.25 + 0.81) / 2), atol=0.01, rtol=0
    )
    phase = eigenvalues.angle()
    assert float(phase.min()) >= 0 and float(phase.max()) <= 1.0 + 1e-6
    torch.testing.assert_close(
        torch.exp(layer.kappa_log).detach(),
        torch.sqrt(1 - modulus**2),
        atol=1e-6,
        rtol=1e-5,
    )


def test_the_normalisation_keeps_the_state_as_large_as_its_input():
    # White-noise inputs: E|h|^2 = kappa^2 E|Bx|^2 / (1 - |lambda|^2) = E|Bx|^2.
    torch.manual_seed(0)
    layer = LRU(8, 8, state_size=4, r_min=0.99, r_max=0.999, dtype=DTYPE)
    x = sequence(L=4000, N=64, H_in=8)
    with torch.no_grad():
        B = torch.complex(layer.B_re, layer.B_im)
        h = linear_rnn.linear_recurrence(
            layer.eigenvalues().expand(4000, 64, 4),
            torch.exp(layer.kappa_log) * (x.to(B.dtype) @ B.T),
        )
        drive = (x.to(B.dtype) @ B.T).abs().pow(2).mean((0, 1))  # (4,)
        state = h[2000:].abs().pow(2).mean((0, 1))  # the stationary part
    torch.testing.assert_close(state, drive, rtol=0.15, atol=0)


@pytest.mark.parametrize("cell", linear_rnn.CELLS)
def test_a_carried_state_continues_the_sequence(cell):
    torch.manual_seed(0)
    stack = LinearRNN(4, 6, num_layers=2, cell=cell).double()
    x = sequence(L=9)
    whole, h_whole = stack(x)
    first, h_mid = stack(x[:4])
    second, h_end = stack(x[4:], h_mid)
    torch.testing.assert_close(torch.cat([first, second]), whole, **TOL)
    torch.testing.assert_close(h_end, h_whole, **TOL)
    assert h_whole.shape == (2, 3, 6)


@pytest.mark.parametrize("cell", linear_rnn.CELLS)
def test_scan_and_loop_give_the_same_outputs_and_gradients(cell):
    x = sequence().requires_grad_()
    results = []
    for method in ("scan", "loop"):
        torch.manual_seed(0)
        stack = LinearRNN(4, 5, 2, cell, method=method).double()
        output, _ = stack(x)
        grads = torch.autograd.grad(output.sum(), [x, *stack.parameters()])
        results.append((output, grads))
    torch.testing.assert_close(results[0][0], results[1][0], **TOL)
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, **TOL)


@pytest.mark.parametrize("layer_class", [MinGRU, LRU])
def test_gradcheck_of_a_layer(layer_class):
    torch.manual_seed(0)
    layer = layer_class(3, 2, dtype=DTYPE)
    x = sequence(L=5, N=2, H_in=3).requires_grad_()
    params = list(layer.parameters())

    def run(x, *values):
        output, _ = torch.func.functional_call(
            layer, dict(zip([n for n, _ in layer.named_parameters()], values)), (x,)
        )
        return output

    assert torch.autograd.gradcheck(run, (x, *params))


def test_a_mingru_with_negative_coefficients_can_hold_parity():
    # a = -1 and b = 1 on a one, a = 1 and b = 0 on a zero: h_t = parity of x_1..x_t.
    layer = MinGRU(2, 1, negative=True, dtype=DTYPE)
    big = 40.0
    with torch.no_grad():
        # input one-hot (zero, one); rows: z, then n
        layer.weight_ih.copy_(torch.tensor([[big, -big], [0.0, 1.0]], dtype=DTYPE))
        layer.bias_ih.zero_()
    bits = torch.randint(0, 2, (500, 8), generator=torch.Generator().manual_seed(0))
    x = torch.nn.functional.one_hot(bits, 2).to(DTYPE)  # (L, N, 2)
    output, _ = layer(x)
    torch.testing.assert_close(
        output[..., 0], (bits.cumsum(0) % 2).to(DTYPE), atol=1e-9, rtol=0
    )


def test_the_character_model_trains_with_the_course_loop():
    torch.manual_seed(0)
    ids = torch.randint(0, 11, (3000,), generator=torch.Generator().manual_seed(0))
    model = CharLinearRNN(11, embedding_dim=8, hidden_size=16, num_layers=2)
    history = train(
        model, ids, ids[:1500], steps=3, batch_size=4, seq_len=16, progress=False
    )
    assert history.steps == 3 and math.isfinite(history.val_loss[-1])
    logits, h_n = model(ids[:10, None])
    assert logits.shape == (10, 1, 11) and h_n.shape == (2, 1, 16)


def test_wrong_arguments_raise():
    with pytest.raises(
        ValueError, match=r"expected input of shape \(L, N, 4\), got \(3, 5\)"
    ):
        MinGRU(4, 2)(torch.zeros(3, 5))
    with pytest.raises(
        ValueError, match=r"expected 0 <= r_min < r_max < 1, got r_min=0.9, r_max=0.5"
    ):
        LRU(2, 2, r_min=0.9, r_max=0.5)
    with pytest.raises(ValueError, match=r"max_phase must be <= 6.28"):
        LRU(2, 2, max_phase=7.0)
    with pytest.raises(ValueError, match=r"cell must be 'mingru' or 'lru', got 'gru'"):
        LinearRNN(2, 2, cell="gru")
    with pytest.raises(
        ValueError, match=r"expected h_0 with 2 layers in dim 0, got shape \(1, 3, 4\)"
    ):
        LinearRNN(2, 4, num_layers=2)(torch.zeros(5, 3, 2), torch.zeros(1, 3, 4))
    with pytest.raises(TypeError, match=r"negative must be a bool, got int"):
        MinGRU(2, 2, negative=1)
    with pytest.raises(
        ValueError, match=r"expected input of shape \(L, N\), got \(2, 3, 4\)"
    ):
        CharLinearRNN(5)(torch.zeros(2, 3, 4, dtype=torch.long))
