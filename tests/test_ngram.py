"""Tests for rnn_lib.ngram: interpolated Kneser-Ney against a dictionary
implementation of the textbook formula, on small texts."""

from collections import Counter

import numpy as np
import pytest
import torch

from rnn_lib import ngram


def kneser_ney_by_hand(train, order, V, discounts, context, w):
    """P(w | context) by the formula of the module docstring, with dictionaries."""
    p = 1.0 / V
    for k in range(1, order + 1):
        if k == order:  # the highest order counts occurrences
            counts = Counter(
                tuple(train[i - k + 1 : i + 1]) for i in range(k - 1, len(train))
            )
        else:  # the lower ones count distinct left neighbours
            longer = {tuple(train[i - k : i + 1]) for i in range(k, len(train))}
            counts = Counter(g[1:] for g in longer)
        h = tuple(context[len(context) - (k - 1) :]) if k > 1 else ()
        if len(h) < k - 1:
            break
        total = sum(v for g, v in counts.items() if g[:-1] == h)
        types = sum(1 for g in counts if g[:-1] == h)
        if total:
            D = discounts[k - 1]
            p = max(counts.get(h + (w,), 0) - D, 0) / total + D * types / total * p
    return p


@pytest.fixture(scope="module")
def text():
    rng = np.random.default_rng(0)
    return [int(c) for c in rng.integers(0, 4, 300)] + [
        0,
        1,
        2,
        3,
    ] * 20  # V = 5: 4 unseen


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_the_formula_by_hand(text, order):
    model = ngram.fit(torch.tensor(text), order, vocab_size=5)
    for context in ([0, 1, 2], [3, 3, 3], [4, 4, 4], [2, 4, 1], []):
        p = model.next_distribution(torch.tensor(context, dtype=torch.long))
        by_hand = [
            kneser_ney_by_hand(text, order, 5, model.discounts, context, w)
            for w in range(5)
        ]
        torch.testing.assert_close(
            p, torch.tensor(by_hand, dtype=p.dtype), atol=1e-12, rtol=0
        )
        assert p.sum().item() == pytest.approx(1.0, abs=1e-12)
        assert p[4] > 0  # a character never seen still has probability


@pytest.mark.parametrize("order", [1, 3])
def test_scoring_a_text_is_asking_each_position(text, order):
    model = ngram.fit(torch.tensor(text), order, vocab_size=5)
    ids = torch.tensor(np.random.default_rng(1).integers(0, 5, 40))
    p = model.probabilities(ids)
    assert p.shape == (40 - order + 1,)
    one_by_one = torch.stack(
        [model.next_distribution(ids[:i])[ids[i]] for i in range(order - 1, 40)]
    )
    torch.testing.assert_close(p, one_by_one)
    assert model.cross_entropy(ids) == pytest.approx(-p.log().mean().item())


def test_a_longer_context_helps_on_a_text_that_repeats():
    ids = torch.tensor([0, 1, 2, 3, 4, 5] * 200)
    losses = [ngram.fit(ids[:900], n, 6).cross_entropy(ids[900:]) for n in (1, 2, 3)]
    assert losses[0] == pytest.approx(np.log(6), abs=0.05)  # unigram: uniform
    assert losses[1] < 0.2 and losses[2] < 0.2  # the next character is determined


def test_sampling_is_reproducible_and_follows_the_model():
    ids = torch.tensor([0, 1, 2] * 100)
    model = ngram.fit(ids, 2, 3)
    a, b = (
        model.sample(torch.tensor([0]), 30, seed=3),
        model.sample(torch.tensor([0]), 30, seed=3),
    )
    assert torch.equal(a, b) and a.shape == (30,)
    assert (a == torch.tensor([1, 2, 0] * 10)).float().mean() > 0.9


def test_bad_input():
    with pytest.raises(
        ValueError, match=r"expected ids in \[0, 3\), got one of 0 .. 7"
    ):
        ngram.fit(torch.tensor([0, 7]), 2, 3)
    with pytest.raises(TypeError, match="ids must be a torch.Tensor, got list"):
        ngram.fit([0, 1], 2, 3)
    with pytest.raises(ValueError, match="order must be >= 1, got 0"):
        ngram.fit(torch.tensor([0, 1]), 0, 3)
    model = ngram.fit(torch.tensor([0, 1, 2] * 10), 3, 3)
    with pytest.raises(
        ValueError, match="expected at least 3 ids for a 3-gram model, got 2"
    ):
        model.probabilities(torch.tensor([0, 1]))
