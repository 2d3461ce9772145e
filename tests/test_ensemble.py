"""Tests for rnn_lib.ensemble: S members trained as one wide block-diagonal
model are S independent models, step for step, in float64."""

import pytest
import torch
from torch import nn

import rnn_lib
from rnn_lib import clipping, ensemble

DT = torch.float64
KINDS = {
    "rnn": rnn_lib.RNN,
    "lstm": rnn_lib.LSTM,
    "gru": rnn_lib.GRU,
    "torch_lstm": nn.LSTM,
}


def members(kind, S=3, H_in=2, H=4):
    rnns, readouts = [], []
    for s in range(S):
        torch.manual_seed(s)
        rnns.append(KINDS[kind](H_in, H, dtype=DT))
        readouts.append(nn.Linear(H, 1, dtype=DT))
    return rnns, readouts


def data(S, L=6, N=5, H_in=2, seed=10):
    g = torch.Generator().manual_seed(seed)
    x = [torch.randn(L, N, H_in, generator=g, dtype=DT) for _ in range(S)]
    y = [torch.randn(N, 1, generator=g, dtype=DT) for _ in range(S)]
    return x, y


def train_alone(rnn, readout, xs, ys, steps, max_norm):
    params = list(rnn.parameters()) + list(readout.parameters())
    optimiser = torch.optim.Adam(params, lr=0.05)
    for x, y in zip(xs, ys):
        for _ in range(steps):
            output, _ = rnn(x)
            loss = nn.functional.mse_loss(readout(output[-1]), y)
            optimiser.zero_grad()
            loss.backward()
            clipping.clip_grad_norm_(params, max_norm)
            optimiser.step()


@pytest.mark.parametrize("kind", KINDS)
def test_members_trained_together_equal_members_trained_alone(kind):
    S, steps, max_norm = 3, 4, 0.3  # a small max_norm: clipping is active
    rnns, readouts = members(kind, S)
    wide_rnn, wide_readout = ensemble.stack(rnns), ensemble.stack(readouts)
    batches = [data(S, seed=10 + k) for k in range(2)]
    # together: member s reads its slice of the input, the loss is the sum
    params = list(wide_rnn.parameters()) + list(wide_readout.parameters())
    optimiser = torch.optim.Adam(params, lr=0.05)
    clipped = []
    for xs, ys in batches:
        for _ in range(steps):
            output, _ = wide_rnn(torch.cat(xs, dim=-1))
            predictions = wide_readout(output[-1])  # (N, S)
            loss = sum(
                nn.functional.mse_loss(predictions[:, s : s + 1], ys[s])
                for s in range(S)
            )
            optimiser.zero_grad()
            loss.backward()
            norms = ensemble.clip_grad_norm_per_member(
                [wide_rnn, wide_readout], S, max_norm
            )
            clipped.extend((norms > max_norm).tolist())
            optimiser.step()
    assert any(clipped) and not all(clipped)  # both branches of the clipping ran
    # alone
    for s in range(S):
        train_alone(
            rnns[s], readouts[s], [b[0][s] for b in batches], [b[1][s] for b in batches],
            steps, max_norm,
        )  # fmt: skip
    for template, wide, alone in [
        (rnns[0], wide_rnn, rnns),
        (readouts[0], wide_readout, readouts),
    ]:
        for s, member in enumerate(ensemble.unstack(wide, template, S)):
            for (name, a), b in zip(member.named_parameters(), alone[s].parameters()):
                torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-10, msg=name)
    # nothing grew between members
    for p in params:
        assert torch.all(p[p.member_index < 0] == 0)


def test_stack_then_unstack_gives_the_members_back():
    rnns, _ = members("lstm")
    wide = ensemble.stack(rnns)
    assert wide.weight_hh_l0.shape == (4 * 12, 12)
    assert wide.input_size == 6 and wide.hidden_size == 12
    for a, b in zip(ensemble.unstack(wide, rnns[0], 3), rnns):
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.equal(p, q)


def test_the_wide_output_is_the_members_outputs_side_by_side():
    rnns, _ = members("gru")
    wide = ensemble.stack(rnns)
    xs, _ = data(3)
    output, h_n = wide(torch.cat(xs, dim=-1))
    for s, (rnn, x) in enumerate(zip(rnns, xs)):
        out_s, h_s = rnn(x)
        torch.testing.assert_close(output[..., 4 * s : 4 * (s + 1)], out_s)
        torch.testing.assert_close(h_n[..., 4 * s : 4 * (s + 1)], h_s)


def test_bad_members_are_refused():
    with pytest.raises(ValueError, match="members must hold at least one item"):
        ensemble.stack([])
    with pytest.raises(
        TypeError, match="expected members of one type, got RNN and GRU"
    ):
        ensemble.stack([rnn_lib.RNN(2, 3), rnn_lib.GRU(2, 3)])
    with pytest.raises(ValueError, match="same parameter shapes"):
        ensemble.stack([rnn_lib.RNN(2, 3), rnn_lib.RNN(2, 4)])
    with pytest.raises(ValueError, match="one-layer, one-direction"):
        ensemble.stack([rnn_lib.RNN(2, 3, num_layers=2)] * 2)
