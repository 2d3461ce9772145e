"""Tests for rnn_lib/data/number_words.py: numbers in words, their splits and batches.

The writers are checked against hand-written examples and against readers
written here independently (words back to numbers), on random numbers.
"""

import random

import pytest
import torch

from rnn_lib.data import number_words as nw

ENGLISH = {
    0: "zero",
    7: "seven",
    15: "fifteen",
    20: "twenty",
    52: "fifty-two",
    100: "one hundred",
    101: "one hundred and one",
    999: "nine hundred and ninety-nine",
    1000: "one thousand",
    1001: "one thousand and one",
    3052: "three thousand and fifty-two",
    3200: "three thousand two hundred",
    10_052: "ten thousand and fifty-two",
    305_000: "three hundred and five thousand",
    1_000_005: "one million and five",
    1_005_000: "one million five thousand",
    2_050_000: "two million fifty thousand",
    nw.LARGEST: "ninety-nine million nine hundred and ninety-nine thousand "
    "nine hundred and ninety-nine",
}

CHINESE = {
    0: "零",
    7: "七",
    10: "十",
    15: "十五",
    52: "五十二",
    100: "一百",
    101: "一百零一",
    110: "一百一十",
    1010: "一千零一十",
    3002: "三千零二",
    3052: "三千零五十二",
    3200: "三千二百",
    10_000: "一万",
    10_052: "一万零五十二",
    15_000: "一万五千",
    100_500: "十万零五百",
    150_000: "十五万",
    1_020_000: "一百零二万",
    1_200_500: "一百二十万零五百",
    10_000_010: "一千万零一十",
    nw.LARGEST: "九千九百九十九万九千九百九十九",
}


@pytest.mark.parametrize("n, text", ENGLISH.items())
def test_english_examples(n, text):
    assert nw.english(n) == text
    assert nw.write(n, "en") == text


@pytest.mark.parametrize("n, text", CHINESE.items())
def test_chinese_examples(n, text):
    assert nw.chinese(n) == text
    assert nw.write(n, "zh") == text


def read_english(text: str) -> int:
    """Words back to a number, by the usual left-to-right accumulation."""
    small = {word: i for i, word in enumerate(nw._ONES)}
    small.update({word: 10 + i for i, word in enumerate(nw._TEENS.split())})
    small.update({word: 10 * i for i, word in enumerate(nw._TENS) if i >= 2})
    total, group = 0, 0
    for word in text.replace("-", " ").split():
        if word in small:
            group += small[word]
        elif word == "hundred":
            group *= 100
        elif word in ("thousand", "million"):
            total += group * (1000 if word == "thousand" else 1_000_000)
            group = 0
        else:
            assert word == "and", word
    return total + group


def read_chinese(text: str) -> int:
    """Chinese numerals back to a number: digit times unit, 万 closes a section."""
    digits = {c: i for i, c in enumerate("零一二三四五六七八九")}
    units = {"十": 10, "百": 100, "千": 1000}
    total, section, digit = 0, 0, 0
    for c in text:
        if c in digits:
            digit = digits[c]
        elif c in units:
            section += (digit or 1) * units[c]  # 十五: a bare 十 is one ten
            digit = 0
        else:
            assert c == "万", c
            total += (section + digit) * 10_000
            section, digit = 0, 0
    return total + section + digit


def test_writers_read_back_on_random_numbers():
    rng = random.Random(0)
    numbers = [nw.draw_number(rng) for _ in range(3000)]
    numbers += [rng.randint(0, nw.LARGEST) for _ in range(3000)]
    for n in numbers:
        assert read_english(nw.english(n)) == n, n
        assert read_chinese(nw.chinese(n)) == n, n


def test_chinese_says_one_zero_per_gap_and_none_at_the_end():
    rng = random.Random(1)
    for _ in range(3000):
        n = nw.draw_number(rng)
        text = nw.chinese(n)
        assert "零零" not in text, n
        assert n == 0 or not text.endswith("零"), n
        assert not text.startswith("一十"), n  # 十五, not 一十五
        # a zero digit between two non-zero ones is said; digits outnumber 零s
        assert text.count("零") <= str(n).count("0"), n


def test_longest_sources():
    rng = random.Random(2)
    for _ in range(5000):
        n = nw.draw_number(rng)
        for language in nw.LANGUAGES:
            tokens = nw.source_tokens(nw.write(n, language), language)
            assert len(tokens) <= nw.MAX_SOURCE_LENGTH[language]
            assert set(tokens) <= set(nw.SOURCE_VOCAB)
    for language in nw.LANGUAGES:
        longest = nw.source_tokens(nw.write(97_777_777, language), language)
        assert len(longest) == nw.MAX_SOURCE_LENGTH[language]


def test_source_tokens():
    assert nw.source_tokens("three thousand and fifty-two", "en") == [
        "three",
        "thousand",
        "and",
        "fifty",
        "two",
    ]
    assert nw.source_tokens("三千零五十二", "zh") == list("三千零五十二")


def test_vocabularies_start_with_padding_and_hold_distinct_tokens():
    for vocab in (nw.SOURCE_VOCAB, nw.TARGET_VOCAB):
        assert vocab[0] == nw.PAD
        assert len(set(vocab)) == len(vocab)
    assert nw.TARGET_VOCAB[3:] == tuple("0123456789")


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: nw.english(-1), ValueError, "n must be >= 0, got -1"),
        (lambda: nw.chinese(10**8), ValueError, "n must be <= 99,999,999"),
        (lambda: nw.english(3.0), TypeError, "n must be an int, got float"),
        (lambda: nw.write(3, "fr"), ValueError, "language must be 'en' or 'zh'"),
        (
            lambda: nw.make_splits(10, 10, 5, 3, test_share=1.5),
            ValueError,
            r"test_share must be in \[0, 1\], got 1.5",
        ),
        (
            lambda: nw.make_splits(10, 10, 5, 3, languages=["de"]),
            ValueError,
            "language must be",
        ),
        (lambda: nw.batch([]), ValueError, "at least one example"),
    ],
)
def test_errors(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_a_split_that_cannot_be_filled_says_so():
    # Sources of at most one token: fewer than 50 numbers have one.
    with pytest.raises(ValueError, match="found"):
        nw.make_splits(500, 10, 5, max_train_length=1)


@pytest.fixture(scope="module")
def splits():
    return nw.make_splits(2000, 200, 20, max_train_length=8, seed=3)


def test_splits_share_no_number_and_keep_long_sources_for_testing(splits):
    train, val, test = (
        {e.number for e in part} for part in (splits.train, splits.val, splits.test)
    )
    assert len(train) == 2000 and len(val) == 200  # distinct numbers
    assert not (train & val) and not (train & test) and not (val & test)
    assert max(len(e.source) for e in splits.train + splits.val) <= 8
    lengths = [len(e.source) for e in splits.test]
    assert lengths == sorted(lengths)
    assert max(lengths) == max(nw.MAX_SOURCE_LENGTH.values())
    counts = {length: lengths.count(length) for length in set(lengths)}
    assert max(counts.values()) == 20
    assert all(counts[length] == 20 for length in range(9, 16))
    assert {e.language for e in splits.train} == {"en", "zh"}


def test_splits_are_reproducible_and_seeded(splits):
    again = nw.make_splits(2000, 200, 20, max_train_length=8, seed=3)
    assert again == splits
    other = nw.make_splits(2000, 200, 20, max_train_length=8, seed=4)
    assert other.train != splits.train


def test_splits_in_one_language():
    only = nw.make_splits(100, 10, 5, max_train_length=8, languages=["zh"])
    assert {e.language for e in only.train + only.val + only.test} == {"zh"}


def test_batch_pads_time_major():
    examples = [nw.Example.of(n, lang) for n, lang in [(3052, "en"), (7, "zh")]]
    b = nw.batch(examples)
    assert b.source.shape == (5, 2) and b.source_lengths.tolist() == [5, 1]
    assert b.source[:, 0].tolist() == [
        nw.SOURCE_ID[w] for w in ("three", "thousand", "and", "fifty", "two")
    ]
    assert b.source[:, 1].tolist() == [nw.SOURCE_ID["七"], 0, 0, 0, 0]
    bos, eos = nw.TARGET_ID[nw.BOS], nw.TARGET_ID[nw.EOS]
    digit = [nw.TARGET_ID[d] for d in "3052"]
    assert b.target_in[:, 0].tolist() == [bos, *digit]
    assert b.target_out[:, 0].tolist() == [*digit, eos]
    assert b.target_in[:, 1].tolist() == [bos, nw.TARGET_ID["7"], 0, 0, 0]
    assert b.target_out[:, 1].tolist() == [nw.TARGET_ID["7"], eos, 0, 0, 0]
    assert nw.decode_target(b.target_out[:, 0]) == "3052"
    assert nw.decode_target(b.target_in[:, 1]) == "7"


def test_select_takes_columns_and_trims_the_padding():
    examples = [nw.Example.of(n, "en") for n in (3052, 7, 15)]
    whole = nw.batch(examples)
    part = whole.select(torch.tensor([2, 1]))
    alone = nw.batch([examples[2], examples[1]])
    for name in ("source", "source_lengths", "target_in", "target_out"):
        assert torch.equal(getattr(part, name), getattr(alone, name)), name


def test_sampler_draws_reproducible_batches_of_the_examples():
    examples = [nw.Example.of(n, "zh") for n in range(40)]
    whole = nw.batch(examples)
    first, again = whole.sampler(8, seed=1), whole.sampler(8, seed=1)
    batches = [first(step) for step in range(3)]
    for step, b in enumerate(batches):
        assert b.source.shape[1] == 8
        assert torch.equal(b.source, again(step).source)
        numbers = {int(nw.decode_target(b.target_out[:, n])) for n in range(8)}
        assert numbers <= set(range(40))
    assert not torch.equal(batches[0].target_out, batches[1].target_out)
