"""Tests for rnn_lib/lm_diagnostics.py: context curves, units against features, quatrains."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from rnn_lib import lm_diagnostics as lmd
from rnn_lib.data.text import TextStreams, Vocabulary
from rnn_lib.models import CharRNN
from rnn_lib.train import evaluate

TEXT = "the cat sat on the mat, and the dog sat on the log.\n" * 60
VOCAB = Vocabulary.from_text(TEXT)
IDS = VOCAB.encode(TEXT)


def model(cell="rnn", seed=0) -> CharRNN:
    torch.manual_seed(seed)
    return CharRNN(len(VOCAB), embedding_dim=4, hidden_size=8, cell=cell).double()


# --- the context curve ------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_context_curve_matches_each_window_read_by_hand(cell):
    net, M, ids = model(cell), 50, IDS[:2000]  # 2 streams of 1,000
    curve = lmd.context_curve(net, ids, max_context=M, batch_size=2)
    data = TextStreams(ids, 2, 1).data  # (S, 2): the streams the curve reads
    S = data.shape[0]
    K = (S - 1 - M) // M
    assert curve.windows == 2 * K
    assert curve.context.tolist() == list(range(1, M + 1))
    reset, carried = [], []
    with torch.no_grad():
        for n in range(2):
            stream = data[:, n]
            logits, _ = net(stream[:-1, None])  # (S - 1, 1, V): the whole stream
            whole = F.cross_entropy(logits[:, 0], stream[1:], reduction="none")
            for k in range(K):
                start = M + k * M  # the window reads stream[start : start + M]
                window = stream[start : start + M + 1]
                logits, _ = net(window[:-1, None])  # from a zero state
                reset.append(
                    F.cross_entropy(logits[:, 0], window[1:], reduction="none")
                )
                carried.append(whole[start : start + M])
    reset, carried = torch.stack(reset, 1), torch.stack(carried, 1)  # (M, windows)
    torch.testing.assert_close(curve.reset_loss, reset.mean(1))
    torch.testing.assert_close(curve.carried_loss, carried.mean(1))
    gap = reset - carried
    torch.testing.assert_close(curve.gap, gap.mean(1))
    torch.testing.assert_close(curve.gap_error, gap.std(1) / math.sqrt(2 * K))
    torch.testing.assert_close(curve.cut_loss, carried.mean() + gap.mean(1))


def test_a_model_without_recurrence_loses_nothing_to_a_cut():
    net = model()
    with torch.no_grad():
        net.rnn.weight_hh_l0.zero_()  # the state is a function of the last input
    curve = lmd.context_curve(net, IDS[:2000], max_context=5, batch_size=2)
    torch.testing.assert_close(curve.gap, torch.zeros(5, dtype=torch.float64))


def test_a_trained_model_loses_most_at_the_first_characters_after_a_cut():
    torch.manual_seed(0)
    net = CharRNN(len(VOCAB), embedding_dim=8, hidden_size=16)
    opt = torch.optim.Adam(net.parameters(), lr=2e-2)
    for _ in range(2):
        h = None
        for x, y in TextStreams(IDS, 16, 16):
            logits, h = net(x, None if h is None else h.detach())
            loss = F.cross_entropy(logits.reshape(-1, len(VOCAB)), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
    ids = IDS[:1000]
    curve = lmd.context_curve(net, ids, max_context=20, batch_size=1)
    assert curve.gap[0] > 0.5 > curve.gap[-1].abs()
    assert curve.carried_loss.mean() == pytest.approx(evaluate(net, ids), abs=0.05)


def test_context_curve_rejects_bad_arguments():
    with pytest.raises(ValueError, match="max_context=2000 needs streams of at least"):
        lmd.context_curve(model(), IDS, max_context=2000, batch_size=2)
    with pytest.raises(TypeError, match="max_context must be an int, got float"):
        lmd.context_curve(model(), IDS, max_context=2.0)
    with pytest.raises(TypeError, match="ids must be a torch.Tensor, got list"):
        lmd.context_curve(model(), IDS.tolist())


# --- units and features -------------------------------------------------------------


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_hidden_states_are_the_states_after_each_character_in_text_order(cell):
    net = model(cell)
    ids = IDS[:103]  # 3 streams of 34, one character left over
    states = lmd.hidden_states(net, ids, batch_size=3)
    assert states.shape == (102, 8)
    with torch.no_grad():
        for n in range(3):
            piece = ids[34 * n : 34 * (n + 1)]
            output = net.rnn(net.embedding(piece[:, None]))[0][:, 0]  # (34, H_out)
            torch.testing.assert_close(states[34 * n : 34 * (n + 1)], output)


def test_correlations_are_pearsons_r_without_the_undefined_positions():
    g = torch.Generator().manual_seed(0)
    states = torch.randn(200, 4, generator=g)
    feature = states[:, 1] * 2 + 0.5 * torch.randn(200, generator=g)
    feature[::7] = math.nan
    r = lmd.correlations(states, feature)
    keep = ~feature.isnan()
    expected = [
        np.corrcoef(states[keep, j].numpy(), feature[keep].numpy())[0, 1]
        for j in range(4)
    ]
    torch.testing.assert_close(r, torch.tensor(expected, dtype=torch.float64))
    assert r[1] > 0.9
    states[:, 2] = 3.0  # a unit that never changes
    assert lmd.correlations(states, feature)[2] == 0


def test_a_shuffled_feature_correlates_with_nothing():
    g = torch.Generator().manual_seed(1)
    states = torch.randn(5000, 16, generator=g)
    feature = states[:, 3].clone()  # unit 3 is the feature itself
    assert lmd.correlations(states, feature)[3] == pytest.approx(1.0)
    shuffled = lmd.shuffled_correlations(states, feature, shuffles=5, seed=2)
    assert shuffled.shape == (5, 16)
    assert shuffled.abs().max() < 0.1
    torch.testing.assert_close(
        shuffled, lmd.shuffled_correlations(states, feature, shuffles=5, seed=2)
    )
    # Each shuffle keeps the feature's values: a shuffle of a 0/1 feature
    # against itself as a unit correlates as chance does, never as -1 or 1.
    assert not torch.equal(shuffled[0], shuffled[1])


def test_correlations_reject_bad_input():
    states = torch.randn(10, 3)
    with pytest.raises(ValueError, match=r"expected states \(T, H_out\) and feature"):
        lmd.correlations(states, torch.randn(9))
    with pytest.raises(ValueError, match="at least two values where defined"):
        lmd.correlations(states, torch.ones(10))
    with pytest.raises(TypeError, match="feature must be a torch.Tensor, got list"):
        lmd.correlations(states, [0.0] * 10)


def test_shakespeare_features_by_hand():
    text = "First Citizen:\nSpeak.\n\nAll:\nSpeak, speak.\n"
    features = lmd.shakespeare_features(text)
    positions = features["position in the line"].tolist()
    assert positions[:16] == list(range(1, 16)) + [1]  # the newline is 15th
    assert positions[text.index("All")] == 1
    name = "".join(c for c, f in zip(text, features["speaker's name"]) if f == 1)
    assert name == "First Citizen:All:"


def test_quatrain_features_by_hand():
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。\n"
    features = lmd.quatrain_features(poem * 2)
    positions = features["position in the line"][:25]
    assert positions[:24].tolist() == [1, 2, 3, 4, 5, 6] * 4
    assert math.isnan(positions[24])  # the newline belongs to no line
    assert features["line end"][:24].tolist() == ([0.0] * 5 + [1.0]) * 4
    assert features["line of the poem"][:24].tolist() == sum(
        ([float(line)] * 6 for line in range(1, 5)), []
    )
    assert features["line of the poem"][25].item() == 1.0  # the next poem


def test_quatrain_form_and_repeats():
    poem = "床前明月光，疑是地上霜。举头望明月，低头思故乡。"
    assert lmd.is_quatrain(poem)
    assert lmd.repeats(poem) == 3  # 明, 月, 头
    assert not lmd.is_quatrain(poem[:-1])  # too short
    assert not lmd.is_quatrain(poem.replace("光，", "光光"))  # a line of six
    assert not lmd.is_quatrain(poem[:6] + "疑是地\n上霜。" + poem[12:])
    assert lmd.repeats("春风。春风，") == 2
