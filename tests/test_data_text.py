"""Tests for rnn_lib/data/text.py: corpora, vocabulary, split, stream batching."""

import hashlib
from importlib import resources

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_lib.data.text import UNK, TextStreams, Vocabulary, load_corpus, split

# --- corpora -----------------------------------------------------------------


@pytest.mark.parametrize(
    "name, file, sha256",
    [
        ("shakespeare", "tinyshakespeare.txt",
         "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"),
        ("tang", "tang_poems_5char.txt",
         "a3c5ddba553209f09049f14d394bda6828af6217c08fdbc2a33e509362d3f2cd"),
    ],
)  # fmt: skip
def test_corpus_ships_with_the_package(name, file, sha256):
    raw = resources.files("rnn_lib.data").joinpath(file).read_bytes()
    assert hashlib.sha256(raw).hexdigest() == sha256
    assert load_corpus(name) == raw.decode("utf-8")


def test_corpora_look_as_documented():
    shakespeare = load_corpus("shakespeare")
    assert len(shakespeare) == 1_115_394
    assert len(set(shakespeare)) == 65
    assert shakespeare.startswith("First Citizen:\n")
    poems = load_corpus("tang").splitlines()
    assert len(poems) == 18_136
    assert poems[0].startswith("秦川雄帝宅，函谷壮皇居。")
    # Lines of five characters, each closed by a punctuation mark: 3,740
    # quatrains of 24 characters and 14,323 regulated poems of 48 (the other
    # 73 carry a doubled final mark).
    assert sum(len(poem) == 24 for poem in poems) == 3_740
    assert sum(len(poem) == 48 for poem in poems) == 14_323


def test_unknown_corpus_raises():
    with pytest.raises(
        ValueError, match=r"corpus must be 'shakespeare' or 'tang', got 'x'"
    ):
        load_corpus("x")


# --- vocabulary ----------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_vocabulary_round_trip(text):
    vocab = Vocabulary.from_text(text)
    ids = vocab.encode(text)
    assert ids.dtype == torch.long and ids.shape == (len(text),)
    assert vocab.decode(ids) == text
    assert sorted(vocab.chars) == sorted(set(text))
    assert ids.min() >= 0 and ids.max() < len(vocab)


def test_vocabulary_is_ordered_by_frequency_then_code_point():
    vocab = Vocabulary.from_text("banana bread")
    assert vocab.chars == ["a", "b", "n", " ", "d", "e", "r"]
    assert vocab.encode("ab").tolist() == [0, 1]


def test_unknown_characters_raise_by_default_and_are_listed():
    vocab = Vocabulary.from_text("hello")
    with pytest.raises(ValueError, match=r"characters not in the vocabulary: 'HW'"):
        vocab.encode("HelloW")


def test_unknown_characters_become_unk_when_asked():
    vocab = Vocabulary.from_text("hello", unknown="replace")
    assert vocab.chars[0] == UNK == "\ufffd"
    ids = vocab.encode("hex")
    assert ids[2].item() == 0
    assert vocab.decode(ids) == "he" + UNK


def test_max_size_keeps_the_most_frequent_characters():
    vocab = Vocabulary.from_text("aaabbc", unknown="replace", max_size=3)
    assert vocab.chars == [UNK, "a", "b"]
    assert vocab.decode(vocab.encode("abc")) == "ab" + UNK
    with pytest.raises(ValueError, match="max_size needs unknown='replace'"):
        Vocabulary.from_text("aab", max_size=2)
    with pytest.raises(ValueError, match="max_size must be at least 2"):
        Vocabulary.from_text("aab", unknown="replace", max_size=1)


def test_vocabulary_state_dict_round_trip():
    for unknown in ("error", "replace"):
        vocab = Vocabulary.from_text("to be or not", unknown=unknown)
        again = Vocabulary.from_state_dict(vocab.state_dict())
        assert again == vocab and again.chars == vocab.chars
    assert Vocabulary("ab") != Vocabulary("ba")


def test_vocabulary_rejects_bad_arguments():
    with pytest.raises(
        ValueError, match="cannot build a vocabulary from an empty text"
    ):
        Vocabulary.from_text("")
    with pytest.raises(
        ValueError, match="unknown must be 'error' or 'replace', got 'skip'"
    ):
        Vocabulary("ab", unknown="skip")
    with pytest.raises(ValueError, match="a vocabulary needs at least one character"):
        Vocabulary([])
    with pytest.raises(ValueError, match="single characters, got 'ab'"):
        Vocabulary(["ab"])
    with pytest.raises(ValueError, match=r"distinct, got \['a'\] twice"):
        Vocabulary("aba")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 2\), got 5"):
        Vocabulary("ab").decode([0, 5])


# --- split ---------------------------------------------------------------------


def test_split_keeps_the_tail_for_validation():
    ids = torch.arange(1000)
    train, val = split(ids, 0.1)
    assert train.tolist() == list(range(900)) and val.tolist() == list(range(900, 1000))


def test_split_rejects_bad_fractions():
    with pytest.raises(
        ValueError, match="val_fraction must lie strictly between 0 and 1, got 1.5"
    ):
        split(torch.arange(10), 1.5)
    with pytest.raises(ValueError, match="a text of 3 characters is too short"):
        split(torch.arange(3), 0.1)


# --- stream batching -------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(T=st.integers(2, 300), N=st.integers(1, 8), L=st.integers(1, 20))
def test_consecutive_batches_continue_each_stream(T, N, L):
    if T // N < L + 1:
        return
    ids = torch.arange(T)
    streams = TextStreams(ids, N, L)
    batches = list(streams)
    assert len(batches) == len(streams)
    S = T // N
    inputs = torch.cat([x for x, _ in batches])  # (S - 1, N)
    targets = torch.cat([y for _, y in batches])  # (S - 1, N)
    for i in range(N):
        # Column i, read across batches, is one contiguous piece of the text.
        assert inputs[:, i].tolist() == list(range(i * S, (i + 1) * S - 1))
        assert targets[:, i].tolist() == list(range(i * S + 1, (i + 1) * S))
    assert all(x.shape == (L, N) for x, _ in batches[:-1])
    assert 1 <= batches[-1][0].shape[0] <= L


def test_stream_layout_on_a_small_example():
    streams = TextStreams(torch.arange(10), batch_size=2, seq_len=2)
    # Streams 0..4 and 5..9; inputs stop one before each stream's end.
    assert [(x.tolist(), y.tolist()) for x, y in streams] == [
        ([[0, 5], [1, 6]], [[1, 6], [2, 7]]),
        ([[2, 7], [3, 8]], [[3, 8], [4, 9]]),
    ]


def test_streams_reject_bad_input():
    with pytest.raises(ValueError, match="the text is empty"):
        TextStreams(torch.zeros(0, dtype=torch.long), 2, 3)
    with pytest.raises(
        ValueError,
        match=r"seq_len=10 is longer than the data allows: 40 characters in 4 streams",
    ):
        TextStreams(torch.arange(40), 4, 10)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        TextStreams(torch.arange(40), 0, 3)
    with pytest.raises(TypeError, match="seq_len must be an int, got float"):
        TextStreams(torch.arange(40), 2, 3.0)
    with pytest.raises(
        ValueError,
        match=r"expected ids of shape \(number of characters,\), got \(2, 20\)",
    ):
        TextStreams(torch.zeros(2, 20, dtype=torch.long), 2, 3)
    assert len(TextStreams(torch.arange(41), 4, 9)) == 1  # just long enough
