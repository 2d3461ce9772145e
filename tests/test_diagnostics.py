"""Tests for rnn_lib/diagnostics.py: Jacobians through time against autograd."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

import rnn_lib
from rnn_lib import diagnostics
from rnn_lib.diagnostics import (
    GAMMA,
    activation_derivative,
    gradient_norms_through_time,
    jacobian_bound,
    jacobian_products,
    recurrent_weight,
    singular_values,
    spectral_radius,
    state_jacobian_norms,
    step_jacobians,
)

DT = torch.float64


def _manual_states(x, W_ih, W_hh, b, nonlinearity, h_0):
    """The recurrence h_t = phi(W_ih x_t + W_hh h_{t-1} + b), one sequence."""
    phi = {"tanh": torch.tanh, "relu": torch.relu, "sigmoid": torch.sigmoid}[
        nonlinearity
    ]
    h, states = h_0, []
    for x_t in x:
        h = phi(W_ih @ x_t + W_hh @ h + b)
        states.append(h)
    return torch.stack(states)


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu", "sigmoid"])
@pytest.mark.parametrize("t", [0, 1, 3, 5])
def test_jacobian_products_match_autograd(nonlinearity, t):
    g = torch.Generator().manual_seed(1)
    L, H, H_in = 5, 4, 3
    x = torch.randn(L, H_in, generator=g, dtype=DT)
    W_ih = torch.randn(H, H_in, generator=g, dtype=DT)
    W_hh = torch.randn(H, H, generator=g, dtype=DT) * 0.8
    b = torch.randn(H, generator=g, dtype=DT) * 0.3
    h_0 = torch.randn(H, generator=g, dtype=DT)
    states = _manual_states(x, W_ih, W_hh, b, nonlinearity, h_0)  # (L, H)
    h_t = h_0 if t == 0 else states[t - 1]

    def h_L_from_h_t(h):
        return _manual_states(x[t:], W_ih, W_hh, b, nonlinearity, h)[-1] if t < L else h

    expected = torch.autograd.functional.jacobian(h_L_from_h_t, h_t)  # (H, H)
    P = jacobian_products(states, W_hh, nonlinearity)  # (L + 1, H, H)
    assert P.shape == (L + 1, H, H)
    torch.testing.assert_close(P[t], expected)


@pytest.mark.parametrize("module", [nn.RNN, rnn_lib.RNN])
@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_on_rnn_modules_batched(module, nonlinearity, batch_first):
    torch.manual_seed(0)
    rnn = module(3, 4, nonlinearity=nonlinearity, batch_first=batch_first).to(DT)
    x = (
        torch.randn(2, 6, 3, dtype=DT)
        if batch_first
        else torch.randn(6, 2, 3, dtype=DT)
    )
    h_0 = torch.randn(1, 2, 4, dtype=DT)
    output, _ = rnn(x, h_0)
    states = output.transpose(0, 1) if batch_first else output  # (L, N, H)
    P = jacobian_products(states.detach(), rnn.weight_hh_l0.detach(), nonlinearity)
    assert P.shape == (7, 2, 4, 4)
    for n in range(2):
        xs = x[n] if batch_first else x[:, n]  # (L, H_in)

        def h_L(h, xs=xs):
            _, h_n = rnn(xs[2:].unsqueeze(0 if batch_first else 1), h.view(1, 1, 4))
            return h_n[0, 0]

        torch.testing.assert_close(
            P[2, n], torch.autograd.functional.jacobian(h_L, states[1, n].detach())
        )
    norms = state_jacobian_norms(rnn, x, h_0)
    torch.testing.assert_close(norms, torch.linalg.matrix_norm(P, ord=2))


def test_step_jacobians_order_and_shape():
    W = torch.randn(3, 3, dtype=DT)
    states = torch.rand(4, 2, 3, dtype=DT)
    J = step_jacobians(states, W, "tanh")
    assert J.shape == (4, 2, 3, 3)
    torch.testing.assert_close(J[1, 0], torch.diag(1 - states[1, 0] ** 2) @ W)
    P = jacobian_products(states, W, "tanh")
    torch.testing.assert_close(P[4], torch.eye(3, dtype=DT).expand(2, 3, 3))
    torch.testing.assert_close(P[1, 1], J[3, 1] @ J[2, 1] @ J[1, 1])


def test_activation_derivative():
    h = torch.tensor([-0.5, 0.0, 0.25], dtype=DT)
    torch.testing.assert_close(activation_derivative(h, "tanh"), 1 - h**2)
    torch.testing.assert_close(
        activation_derivative(h, "relu"), torch.tensor([0.0, 0.0, 1.0], dtype=DT)
    )
    torch.testing.assert_close(activation_derivative(h, "sigmoid"), h * (1 - h))
    assert GAMMA == {"tanh": 1.0, "relu": 1.0, "sigmoid": 0.25}


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    nonlinearity=st.sampled_from(["tanh", "relu", "sigmoid"]),
    H=st.integers(1, 6),
    L=st.integers(1, 12),
    scale=st.floats(0.1, 3.0),
)
def test_bound_holds_on_random_draws(seed, nonlinearity, H, L, scale):
    g = torch.Generator().manual_seed(seed)
    W_hh = torch.randn(H, H, generator=g, dtype=DT) * scale
    W_ih = torch.randn(H, 2, generator=g, dtype=DT)
    b = torch.randn(H, generator=g, dtype=DT)
    x = torch.randn(L, 2, generator=g, dtype=DT)
    states = _manual_states(x, W_ih, W_hh, b, nonlinearity, torch.zeros(H, dtype=DT))
    norms = torch.linalg.matrix_norm(
        jacobian_products(states, W_hh, nonlinearity), ord=2
    )
    bound = jacobian_bound(
        W_hh, torch.arange(L, -1, -1), nonlinearity
    )  # distance L - t
    assert torch.all(norms <= bound * (1 + 1e-9) + 1e-12)


def test_bound_uses_largest_singular_value_not_spectral_radius():
    # A non-normal matrix: spectral radius 0.5, largest singular value > 1.
    W = torch.tensor([[0.5, 2.0], [0.0, 0.5]], dtype=DT)
    assert spectral_radius(W).item() == pytest.approx(0.5)
    sigma = singular_values(W)
    assert sigma[0] > 1 > sigma[1]
    torch.testing.assert_close(sigma, torch.linalg.svdvals(W))
    torch.testing.assert_close(
        jacobian_bound(W, torch.tensor([0, 2]), "tanh"),
        torch.stack([sigma[0] ** 0, sigma[0] ** 2]),
    )
    # W^2 has norm above rho^2, so a bound with the spectral radius would fail.
    assert torch.linalg.matrix_norm(W @ W, ord=2) > 0.5**2
    torch.testing.assert_close(
        jacobian_bound(W, torch.tensor(3), "sigmoid"), (0.25 * sigma[0]) ** 3
    )


@pytest.mark.parametrize("module", [nn.RNN, rnn_lib.RNN])
def test_gradient_norms_through_time_matches_jacobians(module):
    torch.manual_seed(0)
    rnn = module(2, 5).to(DT)
    x = torch.randn(7, 3, 2, dtype=DT)
    norms = gradient_norms_through_time(rnn, x, lambda out, h_n: (h_n**2).sum())
    out, _ = rnn(x)
    P = jacobian_products(
        out.detach(), rnn.weight_hh_l0.detach(), "tanh"
    )  # (8, 3, 5, 5)
    dL_dhL = 2 * out[-1].detach()  # (3, 5)
    expected = torch.linalg.vector_norm(torch.einsum("tnij,ni->tnj", P, dL_dhL), dim=-1)
    torch.testing.assert_close(norms, expected)


def test_gradient_norms_count_the_outputs_at_every_step():
    # The loss reads every output: dL/dh_t is the direct term plus what flows back.
    torch.manual_seed(0)
    rnn = nn.RNN(2, 4, num_layers=2, batch_first=True).to(DT)
    x = torch.randn(3, 5, 2, dtype=DT)
    norms = gradient_norms_through_time(rnn, x, lambda out, h_n: out.sum())
    assert norms.shape == (6, 3)
    # Oracle: perturb the state at t = 2 by running the rest by hand.
    out_a, h_a = rnn(x[:, :2])
    h_2 = h_a.detach().requires_grad_(True)
    out_b, _ = rnn(x[:, 2:], h_2)
    loss = (
        out_a[:, :-1].sum() + h_2[-1].sum() + out_b.sum()
    )  # output at t=2 is h_2's top layer
    (grad,) = torch.autograd.grad(loss, h_2)
    torch.testing.assert_close(
        norms[2], torch.linalg.vector_norm(grad.transpose(0, 1).flatten(1), dim=1)
    )


def test_recurrent_weight_finds_torch_names():
    rnn = nn.RNN(2, 3, num_layers=2, bidirectional=True)
    assert recurrent_weight(rnn, 1, reverse=True) is rnn.weight_hh_l1_reverse
    cell = nn.RNNCell(2, 3)
    assert recurrent_weight(cell) is cell.weight_hh
    with pytest.raises(ValueError, match="RNN has no parameter named 'weight_hh_l2'"):
        recurrent_weight(rnn, 2)


def test_validation_messages():
    W = torch.eye(3)
    with pytest.raises(
        ValueError, match="nonlinearity must be 'tanh', 'relu' or 'sigmoid', got 'gelu'"
    ):
        step_jacobians(torch.rand(2, 3), W, "gelu")
    with pytest.raises(
        ValueError, match=r"expected a square matrix W_hh, got shape \(3, 2\)"
    ):
        jacobian_products(torch.rand(2, 3), torch.rand(3, 2))
    with pytest.raises(
        ValueError, match=r"expected states of hidden size 3, got shape \(2, 4\)"
    ):
        step_jacobians(torch.rand(2, 4), W)
    with pytest.raises(ValueError, match=r"expected a matrix, got shape \(3,\)"):
        singular_values(torch.rand(3))
    with pytest.raises(ValueError, match="expected a unidirectional RNN"):
        state_jacobian_norms(nn.RNN(2, 3, bidirectional=True), torch.rand(4, 1, 2))
    with pytest.raises(ValueError, match="expected a one-layer RNN, got num_layers=2"):
        state_jacobian_norms(nn.RNN(2, 3, num_layers=2), torch.rand(4, 1, 2))
    with pytest.raises(ValueError, match="GRU has no attribute 'nonlinearity'"):
        state_jacobian_norms(nn.GRU(2, 3), torch.rand(4, 1, 2))
    with pytest.raises(ValueError, match="expected an RNN or GRU"):
        gradient_norms_through_time(
            nn.LSTM(2, 3), torch.rand(4, 1, 2), lambda o, h: o.sum()
        )


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    torch.manual_seed(0)
    rnn = nn.RNN(2, 4).to(DT)
    x = torch.randn(5, 3, 2, dtype=DT)
    cpu = state_jacobian_norms(rnn, x)
    gpu = state_jacobian_norms(rnn.cuda(), x.cuda())
    torch.testing.assert_close(gpu.cpu(), cpu)
    assert diagnostics.spectral_radius(rnn.weight_hh_l0).device.type == "cuda"


# ---------------------------------------------------------------------------
# jacobian_norms_at_radius: chapter 6's random RNN at a chosen spectral radius
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
@pytest.mark.parametrize("radius", [0.5, 1.0, 1.5])
def test_jacobian_norms_at_radius_lie_under_the_bound(nonlinearity, radius):
    distance, norms, bound = diagnostics.jacobian_norms_at_radius(
        radius, nonlinearity, length=20, hidden_size=8, batch_size=4
    )
    assert distance.tolist() == list(range(21))
    assert norms.shape == (21, 4) and bound.shape == (21,)
    torch.testing.assert_close(
        bound,
        torch.tensor(radius).double() ** distance,
        check_dtype=False,
        rtol=1e-5,  # float32 weights
        atol=0,
    )
    torch.testing.assert_close(norms[0], torch.ones(4))  # dh_L/dh_L = I
    assert torch.all(norms <= bound[:, None] * (1 + 1e-4))


SMALL = {"length": 6, "hidden_size": 5, "batch_size": 3, "seed": 7}


def test_jacobian_norms_at_radius_leave_the_global_generator_alone():
    torch.manual_seed(123)
    state = torch.get_rng_state()
    first = diagnostics.jacobian_norms_at_radius(1.2, **SMALL)
    assert torch.equal(torch.get_rng_state(), state)  # neither reset nor drawn from
    torch.manual_seed(456)  # whatever the global generator holds: the same network
    second = diagnostics.jacobian_norms_at_radius(1.2, **SMALL)
    for a, b in zip(first, second):
        assert torch.equal(a, b)
    other = diagnostics.jacobian_norms_at_radius(1.2, **(SMALL | {"seed": 8}))
    assert not torch.equal(first[1], other[1])


def test_jacobian_norms_at_radius_match_autograd_on_the_network_it_describes():
    import math

    from rnn_lib.init import scaled_orthogonal_

    L, H, N, seed, radius = 6, 5, 3, 7, 1.2
    # torch's default weights, drawn in torch's order from a generator of their own
    weights, bound = torch.Generator().manual_seed(seed), 1 / math.sqrt(H)
    shapes = [(H, H), (H, H), (H,), (H,)]  # W_ih, W_hh (replaced below), b_ih, b_hh
    W_ih, _, b_ih, b_hh = [
        torch.empty(shape).uniform_(-bound, bound, generator=weights).double()
        for shape in shapes
    ]
    draws = torch.Generator().manual_seed(seed)
    W_hh = scaled_orthogonal_(torch.empty(H, H), radius, draws).double()
    x = torch.randn(L, N, H, generator=draws).double()  # (L, N, H)

    def step(h, x_t):  # torch.nn.RNN's recurrence
        return torch.tanh(W_ih @ x_t + b_ih + W_hh @ h + b_hh)

    def run(h, n, t):  # h_t -> h_L along sequence n
        for x_k in x[t:, n]:
            h = step(h, x_k)
        return h

    torch.manual_seed(seed + 1)  # a network drawn from the global generator differs
    _, norms, _ = diagnostics.jacobian_norms_at_radius(radius, **SMALL)
    for n in range(N):
        states = [torch.zeros(H, dtype=DT)]  # h_0 .. h_L
        for x_t in x[:, n]:
            states.append(step(states[-1], x_t))
        for distance in range(L + 1):
            t = L - distance
            J = torch.autograd.functional.jacobian(
                lambda h, n=n, t=t: run(h, n, t), states[t]
            )  # (H, H): dh_L/dh_t
            expected = torch.linalg.matrix_norm(J, ord=2).item()
            assert norms[distance, n].item() == pytest.approx(expected, rel=1e-4)
    # the numbers chapter 6's figures were drawn with before the function moved
    # out of rnn_lib.plotting, where it seeded torch's global generator
    before = [1.0, 1.1972995, 1.3203232, 1.01185, 0.7558551, 0.6121335, 0.563957]
    assert norms[:, 0].tolist() == pytest.approx(before, rel=1e-5)


@pytest.mark.parametrize("lstm", [torch.nn.LSTM(2, 3), rnn_lib.LSTM(2, 3)])
def test_gradient_norms_through_time_refuses_an_lstm(lstm):
    """Two state tensors: the caller must present them as one (chapter 8 does)."""
    with pytest.raises(ValueError, match="expected an RNN or GRU"):
        diagnostics.gradient_norms_through_time(
            lstm, torch.randn(4, 1, 2), lambda output, h_n: output.sum()
        )
