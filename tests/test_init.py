"""Tests for rnn_lib/init.py: the initialisers hit the spectral radius they promise."""

import pytest
import torch
from torch import nn

import rnn_lib
from rnn_lib.diagnostics import singular_values, spectral_radius
from rnn_lib.init import identity_, scaled_gaussian_, scaled_orthogonal_

DT = torch.float64


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5])
def test_scaled_orthogonal_tensor(radius):
    W = torch.empty(6, 6, dtype=DT)
    out = scaled_orthogonal_(W, radius, generator=torch.Generator().manual_seed(0))
    assert out is W
    torch.testing.assert_close(W @ W.T, radius**2 * torch.eye(6, dtype=DT))
    torch.testing.assert_close(singular_values(W), torch.full((6,), radius, dtype=DT))
    torch.testing.assert_close(spectral_radius(W), torch.tensor(radius, dtype=DT))


@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5])
def test_scaled_gaussian_hits_spectral_radius(radius):
    W = scaled_gaussian_(
        torch.empty(40, 40, dtype=DT), radius, torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(spectral_radius(W), torch.tensor(radius, dtype=DT))
    # Non-normal: the largest singular value is well above the radius (about 2x).
    assert 1.5 * radius < singular_values(W)[0] < 2.5 * radius


def test_generator_makes_draws_reproducible_and_distinct():
    a = scaled_orthogonal_(torch.empty(4, 4), 1.0, torch.Generator().manual_seed(3))
    b = scaled_orthogonal_(torch.empty(4, 4), 1.0, torch.Generator().manual_seed(3))
    c = scaled_orthogonal_(torch.empty(4, 4), 1.0, torch.Generator().manual_seed(4))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


@pytest.mark.parametrize("module", [nn.RNN, rnn_lib.RNN])
def test_module_every_recurrent_weight_by_torch_names(module):
    rnn = module(3, 5, num_layers=2, bidirectional=True).to(DT)
    before = {name: p.clone() for name, p in rnn.named_parameters()}
    assert scaled_orthogonal_(rnn, 0.9) is rnn
    for name, p in rnn.named_parameters():
        if name.startswith("weight_hh"):
            torch.testing.assert_close(
                singular_values(p), torch.full((5,), 0.9, dtype=DT)
            )
        else:  # input weights and biases untouched
            torch.testing.assert_close(p, before[name])


def test_gated_module_blocks_each_initialised():
    gru = nn.GRU(2, 4).to(DT)  # weight_hh_l0: (3 * 4, 4)
    scaled_gaussian_(gru, 0.7)
    for block in gru.weight_hh_l0.split(4):
        torch.testing.assert_close(spectral_radius(block), torch.tensor(0.7, dtype=DT))
    cell = nn.RNNCell(2, 3).to(DT)
    scaled_orthogonal_(cell, 1.2)
    torch.testing.assert_close(
        singular_values(cell.weight_hh), torch.full((3,), 1.2, dtype=DT)
    )


def test_identity_for_relu_rnn():
    rnn = nn.RNN(2, 4, nonlinearity="relu").to(DT)
    w_ih = rnn.weight_ih_l0.clone()
    identity_(rnn)
    torch.testing.assert_close(rnn.weight_hh_l0, torch.eye(4, dtype=DT))
    assert torch.all(rnn.bias_ih_l0 == 0) and torch.all(rnn.bias_hh_l0 == 0)
    torch.testing.assert_close(rnn.weight_ih_l0, w_ih)
    # With zero input, a positive state is carried forward unchanged.
    h_0 = torch.rand(1, 1, 4, dtype=DT)
    out, _ = rnn(torch.zeros(5, 1, 2, dtype=DT), h_0)
    torch.testing.assert_close(out[-1], h_0[0])
    W = identity_(torch.empty(3, 3), scale=0.5)
    torch.testing.assert_close(W, 0.5 * torch.eye(3))


def test_validation_messages():
    with pytest.raises(ValueError, match="radius must be positive, got -1"):
        scaled_orthogonal_(torch.empty(3, 3), -1)
    with pytest.raises(ValueError, match="radius must be positive, got 0"):
        scaled_gaussian_(torch.empty(3, 3), 0)
    with pytest.raises(TypeError, match="scale must be a number, got bool"):
        identity_(torch.empty(3, 3), True)
    with pytest.raises(
        ValueError, match="Linear has no recurrent weight named weight_hh_l"
    ):
        scaled_orthogonal_(nn.Linear(3, 3))
    with pytest.raises(
        ValueError,
        match=r"expected a recurrent weight of shape \(gates \* H, H\), got \(3, 2\)",
    ):
        scaled_orthogonal_(torch.empty(3, 2))
    with pytest.raises(TypeError, match="expected a tensor or a module, got list"):
        identity_([torch.empty(3, 3)])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_weights_with_cpu_generator():
    rnn = nn.RNN(2, 4).cuda()
    scaled_orthogonal_(rnn, 0.8, torch.Generator().manual_seed(0))
    scaled_gaussian_(rnn, 0.8, torch.Generator().manual_seed(0))
    identity_(rnn)
    assert rnn.weight_hh_l0.device.type == "cuda"
