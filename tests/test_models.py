"""Tests for rnn_lib/models.py: CharRNN, the unigram baseline, sampling (of n-grams too)."""

import math

import pytest
import torch
from torch import nn

from rnn_lib import ngram
from rnn_lib.data.text import UNK, Vocabulary
from rnn_lib.models import CharRNN, generate, generate_ngram, unigram_cross_entropy

VOCAB = Vocabulary("abcdefgh \n")


def small_model(**kwargs) -> CharRNN:
    torch.manual_seed(0)
    return CharRNN(len(VOCAB), embedding_dim=5, hidden_size=7, **kwargs)


# --- CharRNN -----------------------------------------------------------------


@pytest.mark.parametrize("num_layers, nonlinearity", [(1, "tanh"), (2, "relu")])
def test_charrnn_matches_torch_layers(num_layers, nonlinearity):
    model = small_model(num_layers=num_layers, nonlinearity=nonlinearity).double()
    embedding = nn.Embedding(len(VOCAB), 5).double()
    rnn = nn.RNN(5, 7, num_layers, nonlinearity=nonlinearity).double()
    head = nn.Linear(7, len(VOCAB)).double()
    embedding.load_state_dict(model.embedding.state_dict())
    rnn.load_state_dict(model.rnn.state_dict())
    head.load_state_dict(model.head.state_dict())
    x = torch.randint(len(VOCAB), (6, 3))
    h_0 = torch.randn(num_layers, 3, 7, dtype=torch.float64)
    logits, h_n = model(x, h_0)
    expected_out, expected_h = rnn(embedding(x), h_0)
    assert logits.shape == (6, 3, len(VOCAB)) and h_n.shape == (num_layers, 3, 7)
    torch.testing.assert_close(logits, head(expected_out))
    torch.testing.assert_close(h_n, expected_h)


def test_charrnn_starts_from_zeros_without_h_0():
    model = small_model()
    x = torch.randint(len(VOCAB), (4, 2))
    torch.testing.assert_close(model(x)[0], model(x, torch.zeros(1, 2, 7))[0])


def test_charrnn_runs_in_two_chunks_as_in_one():
    # What carrying the state across batches relies on.
    model = small_model()
    x = torch.randint(len(VOCAB), (10, 3))
    whole, h_whole = model(x)
    first, h = model(x[:4])
    second, h = model(x[4:], h)
    torch.testing.assert_close(torch.cat([first, second]), whole)
    torch.testing.assert_close(h, h_whole)


def test_charrnn_records_its_architecture():
    model = CharRNN(30, embedding_dim=8, hidden_size=16, num_layers=2, dropout=0.1)
    assert model.config == {
        "vocab_size": 30,
        "embedding_dim": 8,
        "hidden_size": 16,
        "num_layers": 2,
        "nonlinearity": "tanh",
        "dropout": 0.1,
        "cell": "rnn",
    }
    assert CharRNN(**model.config).state_dict().keys() == model.state_dict().keys()


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_charrnn_gated_cells_match_torch_layers(cell):
    # An LSTM's state travels as one tensor: h and c stacked, (2 * layers, N, H).
    model = small_model(num_layers=2, cell=cell).double()
    assert model.config["cell"] == cell
    rnn = (nn.LSTM if cell == "lstm" else nn.GRU)(5, 7, 2).double()
    rnn.load_state_dict(model.rnn.state_dict())
    x = torch.randint(len(VOCAB), (6, 3))
    S = 2 if cell == "lstm" else 1
    h_0 = torch.randn(S * 2, 3, 7, dtype=torch.float64)
    logits, h_n = model(x, h_0)
    state = tuple(h_0.chunk(2)) if cell == "lstm" else h_0
    expected_out, expected_state = rnn(model.embedding(x), state)
    if cell == "lstm":
        expected_state = torch.cat(expected_state)
    assert h_n.shape == (S * 2, 3, 7)
    torch.testing.assert_close(logits, model.head(expected_out))
    torch.testing.assert_close(h_n, expected_state)
    # carried in two chunks as in one, as the training loop does
    first, h = model(x[:4])
    second, h = model(x[4:], h)
    torch.testing.assert_close(torch.cat([first, second]), model(x)[0])


def test_charrnn_rejects_bad_input():
    with pytest.raises(
        ValueError, match="cell must be 'rnn', 'lstm' or 'gru', got 'tcn'"
    ):
        CharRNN(10, cell="tcn")
    with pytest.raises(
        ValueError,
        match="nonlinearity applies to cell='rnn' only, got 'relu' with cell='gru'",
    ):
        CharRNN(10, cell="gru", nonlinearity="relu")
    with pytest.raises(ValueError, match="vocab_size must be >= 1, got 0"):
        CharRNN(0)
    with pytest.raises(TypeError, match="vocab_size must be an int, got float"):
        CharRNN(10.0)
    with pytest.raises(TypeError, match="cell must be a str, got NoneType"):
        CharRNN(10, cell=None)
    with pytest.raises(
        ValueError, match=r"expected input of shape \(L, N\), got \(2, 3, 4\)"
    ):
        small_model()(torch.zeros(2, 3, 4, dtype=torch.long))


# --- unigram baseline ------------------------------------------------------------


def test_unigram_cross_entropy_by_hand():
    train = torch.tensor([0, 0, 0, 1])  # counts 3, 1, 0 -> smoothed 4, 2, 1 of 7
    val = torch.tensor([0, 1, 2])
    expected = -(math.log(4 / 7) + math.log(2 / 7) + math.log(1 / 7)) / 3
    assert unigram_cross_entropy(train, val, 3) == pytest.approx(expected)


def test_unigram_of_a_uniform_text_is_log_v():
    ids = torch.arange(10).repeat(100)
    assert unigram_cross_entropy(ids, ids, 10) == pytest.approx(math.log(10))


# --- sampling ----------------------------------------------------------------


def test_generate_is_deterministic_under_a_seed():
    model = small_model()
    a = generate(model, VOCAB, "abc", 40, temperature=1.0, seed=3)
    b = generate(model, VOCAB, "abc", 40, temperature=1.0, seed=3)
    c = generate(model, VOCAB, "abc", 40, temperature=1.0, seed=4)
    assert a == b != c
    assert a.startswith("abc") and len(a) == 43
    assert set(a) <= set(VOCAB.chars)


def test_low_temperature_is_greedy():
    model = small_model()
    text = generate(model, VOCAB, "ab", 8, temperature=1e-4, seed=0)
    # The greedy chain computed by hand: always the most likely next character.
    ids = VOCAB.encode("ab")[:, None]
    logits, h = model(ids)
    greedy = []
    for _ in range(8):
        next_id = logits[-1, 0].argmax().reshape(1, 1)
        greedy.append(next_id.item())
        logits, h = model(next_id, h)
    assert text == "ab" + VOCAB.decode(greedy)


def test_generate_never_samples_unk():
    vocab = Vocabulary("ab", unknown="replace")
    torch.manual_seed(0)
    model = CharRNN(len(vocab), embedding_dim=3, hidden_size=4)
    with torch.no_grad():
        model.head.bias[0] = 50.0  # UNK would win every draw
    text = generate(model, vocab, "a", 50, seed=0)
    assert UNK not in text


def test_generate_restores_training_mode():
    model = small_model()
    generate(model, VOCAB, "a", 3, seed=0)
    assert model.training


def test_generate_rejects_bad_arguments():
    model = small_model()
    with pytest.raises(ValueError, match="prime must hold at least one character"):
        generate(model, VOCAB, "", 5)
    with pytest.raises(ValueError, match="temperature must be positive, got 0"):
        generate(model, VOCAB, "a", 5, temperature=0)
    with pytest.raises(ValueError, match="length must be >= 0, got -1"):
        generate(model, VOCAB, "a", -1)
    with pytest.raises(TypeError, match="length must be an int, got float"):
        generate(model, VOCAB, "a", 5.0)
    with pytest.raises(TypeError, match="temperature must be a number, got str"):
        generate(model, VOCAB, "a", 5, temperature="hot")
    with pytest.raises(ValueError, match="characters not in the vocabulary: 'Z'"):
        generate(model, VOCAB, "aZ", 5)


# --- sampling an n-gram model ---------------------------------------------------

CYCLE = VOCAB.encode("abcabcabc abc\n" * 20)


def test_ngram_samples_follow_the_counts_and_repeat_under_a_seed():
    model = ngram.fit(CYCLE, 3, len(VOCAB))
    a = generate_ngram(model, VOCAB, "ab", 30, seed=1)
    assert a == generate_ngram(model, VOCAB, "ab", 30, seed=1)
    assert a != generate_ngram(model, VOCAB, "ab", 30, seed=2)
    assert a.startswith("ab") and len(a) == 32
    # At a low temperature the likeliest continuation of the cycle wins.
    assert generate_ngram(model, VOCAB, "ab", 6, temperature=1e-3, seed=0) == (
        "abcabcab"
    )


def test_ngram_draws_have_the_models_probabilities_at_temperature_one():
    model = ngram.fit(CYCLE, 2, len(VOCAB))
    p = model.next_distribution(VOCAB.encode("c"))  # (V,)
    draws = [generate_ngram(model, VOCAB, "c", 1, seed=s)[-1] for s in range(2000)]
    for char in "a \n":
        share = draws.count(char) / len(draws)
        expected = p[VOCAB.encode(char)].item()
        assert share == pytest.approx(expected, abs=4 * math.sqrt(expected / 2000))


def test_ngram_sampling_never_draws_unk_and_checks_its_vocabulary():
    vocab = Vocabulary("ab", unknown="replace")
    ids = vocab.encode("\N{REPLACEMENT CHARACTER}" * 50 + "ab")
    model = ngram.fit(ids, 1, len(vocab))  # UNK is by far the most frequent
    assert UNK not in generate_ngram(model, vocab, "a", 50, seed=0)
    with pytest.raises(ValueError, match="the model has 3 characters but the vocab"):
        generate_ngram(model, VOCAB, "a", 5)
    with pytest.raises(ValueError, match="prime must hold at least one character"):
        generate_ngram(model, vocab, "", 5)
