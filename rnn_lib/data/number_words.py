"""Numbers written in words, to be read back as digits: a translation task (chapter 9).

Chapter 9 (``book/09_sequence_to_sequence``) trains encoder-decoder models
on it. A source is a number in English or Chinese words, a target its
digits::

    three thousand and fifty-two    ->  3052
    三千零五十二                     ->  3052

The task needs no download, is generated from a seed, and has what makes
translation hard in miniature: the source and the target have different
lengths, and the alignment between them is not monotone word by word. A
zero digit is silent in English ("three thousand and fifty-two" never says
the hundreds); in Chinese the zeros that end a four-digit group are silent
too (三千), and any other run of zeros is said once as 零, however long
(一千零五); "fifty-two" and 五十二 spend two or three tokens on two digits;
"thousand" and 万 say where the digits go.

The rules. English is British English with "and" before the last part under
a hundred when something comes before it ("one hundred and one", "one
million and five"), and hyphens between tens and units ("fifty-two").
Chinese is the standard reading with 二 throughout (never 两), 十 alone for
10 to 19 at the start (十五, but 一百一十五). Zeros at the end of a
four-digit group are not said (三千 is 3,000, 一千万五千 is 10,005,000,
二千万一千二百三十四 is 20,001,234); any other run of zeros is said as one 零,
including zeros that open the lower group (一千零五 is 1,005, 一万零五十二 is
10,052). Both cover 0 to :data:`LARGEST`.

Tokens. An English source is cut at spaces and hyphens into words
(``fifty-two`` becomes ``fifty``, ``two``), a Chinese one into characters; a
target is its digits. :data:`SOURCE_VOCAB` and :data:`TARGET_VOCAB` list every
token, with ``<pad>`` first (id 0) and, in the target, ``<bos>`` and
``<eos>`` that open and close a sequence for the decoder.

The splits. :func:`make_splits` draws training, validation and test examples
that share no number (whichever the language), and keeps the long sources
for the test set only, so that the test measures accuracy at source lengths
that training never showed. :func:`batch` pads a list of examples into
tensors, time-major as torch's recurrent layers expect.

Read next: :mod:`rnn_lib.seq2seq`, the models that learn this task.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Sequence
from typing import NamedTuple

import torch

from rnn_lib.validation import check_choice, check_int, check_nonempty, check_number

#: The largest number the task writes: eight digits.
LARGEST = 99_999_999

#: The longest source in each language, in tokens: 97,777,777 is "ninety-seven
#: million seven hundred and seventy-seven thousand seven hundred and
#: seventy-seven" (14 words) and 九千七百七十七万七千七百七十七 (15 characters).
MAX_SOURCE_LENGTH = {"en": 14, "zh": 15}

LANGUAGES = ("en", "zh")

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"

_ONES = "zero one two three four five six seven eight nine".split()
_TEENS = (
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen"
)
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_UNITS = ("", "十", "百", "千")

#: Every source token: ``<pad>``, the English words, the Chinese characters.
SOURCE_VOCAB: tuple[str, ...] = (
    PAD,
    *_ONES,
    *_TEENS.split(),
    *_TENS[2:],
    "hundred",
    "thousand",
    "million",
    "and",
    *_ZH_DIGITS,
    *_ZH_UNITS[1:],
    "万",
)

#: Every target token: ``<pad>``, ``<bos>``, ``<eos>``, the ten digits.
TARGET_VOCAB: tuple[str, ...] = (PAD, BOS, EOS, *"0123456789")

SOURCE_ID = {token: i for i, token in enumerate(SOURCE_VOCAB)}
TARGET_ID = {token: i for i, token in enumerate(TARGET_VOCAB)}


def _check_number(n) -> int:
    check_int("n", n, minimum=0)
    if n > LARGEST:
        raise ValueError(f"n must be <= {LARGEST:,}, got {n:,}")
    return n


# ---------------------------------------------------------------------------
# Writing numbers


def _english_below_100(n: int) -> str:
    if n < 10:
        return _ONES[n]
    if n < 20:
        return _TEENS.split()[n - 10]
    tens, ones = divmod(n, 10)
    return _TENS[tens] + (f"-{_ONES[ones]}" if ones else "")


def english(n: int) -> str:
    """``n`` in British English words: ``english(3052) == 'three thousand and fifty-two'``.

    Groups of three digits are named with "million" and "thousand"; inside a
    group, hundreds come first. "and" goes before the last part under a
    hundred whenever something precedes it, in its own group ("one hundred
    and one") or in a higher one ("one million and five").
    """
    _check_number(n)
    if n == 0:
        return _ONES[0]
    words = []
    for size, name in ((1_000_000, "million"), (1000, "thousand"), (1, "")):
        group, n = divmod(n, size)
        if group == 0:
            continue
        hundreds, rest = divmod(group, 100)
        if hundreds:
            words += [_ONES[hundreds], "hundred"]
        if rest:
            if hundreds or (size == 1 and words):  # "and" before the part under 100
                words.append("and")
            words.append(_english_below_100(rest))
        if name:
            words.append(name)
    return " ".join(words)


def _chinese_group(n: int, leading: bool) -> str:
    """A number 1..9999 in Chinese; ``leading``: nothing is written before it."""
    digits = [int(d) for d in f"{n:04d}"]  # thousands, hundreds, tens, ones
    text, zeros = "", False
    for position, digit in enumerate(digits):
        unit = _ZH_UNITS[3 - position]
        if digit == 0:
            zeros = zeros or bool(text)  # a zero after a digit: say 零 before the next
            continue
        if zeros:
            text += "零"
            zeros = False
        if digit == 1 and unit == "十" and leading and not text:
            text += "十"  # 十五, not 一十五, when nothing comes before it
        else:
            text += _ZH_DIGITS[digit] + unit
    return text


def chinese(n: int) -> str:
    """``n`` in Chinese numerals: ``chinese(3052) == '三千零五十二'``.

    Four-digit groups, the higher one closed by 万; inside a group 千, 百,
    十. Zeros at the end of a group are not said (一万五千 is 15,000;
    二千万一千二百三十四 is 20,001,234); any other run of zeros is said as one
    零, including zeros that open the lower group (一万零五十二 is 10,052).
    """
    _check_number(n)
    if n == 0:
        return _ZH_DIGITS[0]
    high, low = divmod(n, 10_000)
    text = _chinese_group(high, leading=True) + "万" if high else ""
    if low:
        # A zero between the groups: the low group has fewer than four digits
        # (10,052), and something was written before it.
        gap = high and low < 1000
        text += ("零" if gap else "") + _chinese_group(low, leading=not high)
    return text


def write(n: int, language: str) -> str:
    """``n`` written in ``language``: ``'en'`` (:func:`english`) or ``'zh'`` (:func:`chinese`)."""
    check_choice("language", language, LANGUAGES)
    return english(n) if language == "en" else chinese(n)


def source_tokens(text: str, language: str) -> list[str]:
    """A written number cut into tokens: English words (split at hyphens too), or characters."""
    check_choice("language", language, LANGUAGES)
    return text.replace("-", " ").split() if language == "en" else list(text)


# ---------------------------------------------------------------------------
# Examples and splits


@dataclasses.dataclass(frozen=True)
class Example:
    """One source and its target.

    Attributes:
        number: the number, 0 to :data:`LARGEST`.
        language: ``'en'`` or ``'zh'``.
        text: the number written out, e.g. ``'three thousand and fifty-two'``.
        source: its tokens, e.g. ``('three', 'thousand', 'and', 'fifty', 'two')``.
        target: the digits, e.g. ``('3', '0', '5', '2')``.
    """

    number: int
    language: str
    text: str
    source: tuple[str, ...]
    target: tuple[str, ...]

    @classmethod
    def of(cls, number: int, language: str) -> Example:
        text = write(number, language)
        source = tuple(source_tokens(text, language))
        return cls(number, language, text, source, tuple(str(number)))


def draw_number(rng: random.Random, p_zero: float = 1 / 3) -> int:
    """A random number with 1 to 8 digits, each count of digits equally likely.

    One digit: 0 to 9. More: the first digit is 1 to 9 and each further digit
    is 0 with probability ``p_zero``, else 1 to 9. Zeros are what make the
    alignment interesting (silent in English, 零 in Chinese), so they come
    more often than among uniformly drawn numbers.
    """
    digits = rng.randint(1, 8)
    if digits == 1:
        return rng.randint(0, 9)
    number = rng.randint(1, 9)
    for _ in range(digits - 1):
        number = 10 * number + (0 if rng.random() < p_zero else rng.randint(1, 9))
    return number


@dataclasses.dataclass(frozen=True)
class Splits:
    """Training, validation and test examples that share no number.

    Attributes:
        train, val: sources of at most ``max_train_length`` tokens.
        test: up to ``test_per_length`` examples of each source length, sorted
            by length; the lengths above ``max_train_length`` never occur in
            training.
        max_train_length: the longest source in ``train`` and ``val``.
    """

    train: list[Example]
    val: list[Example]
    test: list[Example]
    max_train_length: int


#: How many numbers :func:`make_splits` draws at most while it fills the test set.
MAX_DRAWS = 60_000


def make_splits(
    n_train: int,
    n_val: int,
    test_per_length: int,
    max_train_length: int,
    seed: int = 0,
    test_share: float = 0.2,
    languages: Sequence[str] = LANGUAGES,
) -> Splits:
    """Draw the three splits from a seed; the same seed gives the same splits.

    Each number drawn (:func:`draw_number`, in a language drawn uniformly) is
    set aside for testing with probability ``test_share`` the first time it
    comes up, and for good: a number appears in one split only, in one
    language only. Sources longer than ``max_train_length`` tokens always go
    to the test set. Training and validation fill with the other numbers; the
    test set keeps at most ``test_per_length`` examples of each source length
    (the shortest lengths have few numbers to offer). Drawing stops once
    training and validation are full and every test length is full, or after
    :data:`MAX_DRAWS` numbers.

    Args:
        n_train, n_val: the sizes of the training and validation sets.
        test_per_length: the most test examples of each source length.
        max_train_length: the longest source training and validation may hold.
        seed: seeds a generator of its own (the global ones are untouched).
        test_share: the probability that a number is kept for testing.
        languages: the languages to draw from, each equally likely.

    Returns:
        a :class:`Splits`.
    """
    check_int("n_train", n_train)
    check_int("n_val", n_val)
    check_int("test_per_length", test_per_length)
    check_int("max_train_length", max_train_length)
    check_int("seed", seed, minimum=0)
    check_number("test_share", test_share, minimum=0, maximum=1)
    check_nonempty("languages", languages)
    for language in languages:
        check_choice("language", language, LANGUAGES)
    rng = random.Random(seed)
    longest = max(MAX_SOURCE_LENGTH[language] for language in languages)
    seen: set[int] = set()  # every number drawn so far: each is used once at most
    kept: list[Example] = []
    by_length = {length: [] for length in range(1, longest + 1)}
    open_lengths = set(by_length)  # the test lengths not yet full
    for _ in range(MAX_DRAWS):
        if len(kept) == n_train + n_val and not open_lengths:
            break
        number, language = draw_number(rng), rng.choice(languages)
        if number in seen:
            continue
        seen.add(number)
        example = Example.of(number, language)
        length = len(example.source)
        if length > max_train_length or rng.random() < test_share:
            if length in open_lengths:
                by_length[length].append(example)
                if len(by_length[length]) == test_per_length:
                    open_lengths.remove(length)
        elif len(kept) < n_train + n_val:
            kept.append(example)
    if len(kept) < n_train + n_val:
        raise ValueError(
            f"expected room for {n_train + n_val:,} training and validation examples "
            f"of at most {max_train_length} tokens, found {len(kept):,}"
        )
    test = [example for length in sorted(by_length) for example in by_length[length]]
    return Splits(kept[:n_train], kept[n_train:], test, max_train_length)


# ---------------------------------------------------------------------------
# Batches


class Batch(NamedTuple):
    """Examples padded into time-major tensors (``<pad>`` is id 0 in both vocabularies).

    A named tuple, so that ``source, lengths, target_in, target_out = batch``
    unpacks it (what :func:`rnn_lib.seq2seq.fit` takes).

    Attributes:
        source: (L_src, N) source token ids, padded after each source's end.
        source_lengths: (N,) int64 on the CPU (``pack_padded_sequence`` wants
            it there), the number of tokens of each source.
        target_in: (L_tgt, N): ``<bos>`` then the digits, what the decoder reads.
        target_out: (L_tgt, N): the digits then ``<eos>``, what it must predict.

    where L_src is the longest source and L_tgt the longest target plus one.
    """

    source: torch.Tensor
    source_lengths: torch.Tensor
    target_in: torch.Tensor
    target_out: torch.Tensor

    def select(self, index: torch.Tensor) -> Batch:
        """The examples at ``index`` (a 1-D tensor of column indices), padding trimmed."""
        source_length = int(self.source_lengths[index].max())
        target_length = int((self.target_out[:, index] != 0).sum(0).max())
        return Batch(
            self.source[:source_length, index],
            self.source_lengths[index],
            self.target_in[:target_length, index],
            self.target_out[:target_length, index],
        )

    def sampler(self, batch_size: int, seed: int) -> Callable[[int], Batch]:
        """Random batches for training: ``sampler(step)`` draws ``batch_size`` examples.

        Each call draws from a generator of its own, seeded with ``seed``
        (with replacement, every example equally likely), so a run's batches
        depend on its seed only; the step number is not used.
        """
        check_int("batch_size", batch_size)
        check_int("seed", seed, minimum=0)
        generator = torch.Generator().manual_seed(seed)
        size = self.source.shape[1]

        def draw(step: int) -> Batch:
            return self.select(torch.randint(size, (batch_size,), generator=generator))

        return draw

    def to(self, device) -> Batch:
        """The same batch with its token tensors on ``device`` (the lengths stay on the CPU)."""
        return Batch(
            self.source.to(device),
            self.source_lengths,
            self.target_in.to(device),
            self.target_out.to(device),
        )


def _padded(rows: list[list[int]]) -> torch.Tensor:
    """Lists of ids as an (L, N) tensor, each column padded with id 0."""
    out = torch.zeros(max(map(len, rows)), len(rows), dtype=torch.long)  # (L, N)
    for n, row in enumerate(rows):
        out[: len(row), n] = torch.tensor(row)
    return out


def batch(examples: Sequence[Example]) -> Batch:
    """Pad ``examples`` into a :class:`Batch`."""
    if not examples:
        raise ValueError("a batch needs at least one example, got none")
    sources = [[SOURCE_ID[token] for token in e.source] for e in examples]
    digits = [[TARGET_ID[token] for token in e.target] for e in examples]
    return Batch(
        _padded(sources),  # (L_src, N)
        torch.tensor([len(s) for s in sources]),  # (N,)
        _padded([[TARGET_ID[BOS], *d] for d in digits]),  # (L_tgt, N)
        _padded([[*d, TARGET_ID[EOS]] for d in digits]),  # (L_tgt, N)
    )


def decode_target(ids: Sequence[int]) -> str:
    """Target ids back to digits, up to the first ``<eos>`` (``<pad>`` and ``<bos>`` dropped)."""
    digits = []
    for i in ids:
        token = TARGET_VOCAB[int(i)]
        if token == EOS:
            break
        if token not in (PAD, BOS):
            digits.append(token)
    return "".join(digits)
