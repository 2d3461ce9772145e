"""Text for a character-level language model (chapter 7).

Four small pieces, in the order a training run uses them:

1. :func:`load_corpus` reads one of the corpora shipped inside the package
   (no download, so Colab and offline readers get the same bytes as the tests).
2. :class:`Vocabulary` maps characters to integer ids and back, with an
   explicit policy for characters it has never seen.
3. :func:`split` keeps the last fraction of a text for validation.
4. :class:`TextStreams` cuts a long text into ``N`` parallel streams and serves
   them in chunks of ``L`` characters, so that chunk ``k + 1`` of stream ``i``
   continues chunk ``k`` of stream ``i``. That is what makes it correct to carry
   the hidden state from one batch to the next.

The corpora
-----------
``shakespeare``, ``tinyshakespeare.txt`` (1,115,394 characters, 65 distinct):
about 40,000 lines from Shakespeare's plays with the speakers' names, the
``input.txt`` file that Andrej Karpathy published with his char-rnn code
(MIT licence). The plays are in the public domain.

``tang``, ``tang_poems_5char.txt`` (18,136 poems, one per line): the Tang
poems of the *Complete Tang Poems* (全唐诗) whose lines all have five
characters, four-line quatrains (五言绝句) and eight-line regulated verse
(五言律诗), taken from the chinese-poetry/chinese-poetry collection (MIT
licence) and converted to simplified characters with OpenCC. The poems are in
the public domain.

Read next: :mod:`rnn_lib.models`, the character model trained on these corpora.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from importlib import resources

import torch

from rnn_lib.validation import check_choice, check_int

CORPORA = {
    "shakespeare": "tinyshakespeare.txt",
    "tang": "tang_poems_5char.txt",
}

UNKNOWN_POLICIES = ("error", "replace")

# U+FFFD REPLACEMENT CHARACTER, Unicode's own stand-in for an unknown character.
# One character, so decode(encode(text)) keeps the text's length.
UNK = "\N{REPLACEMENT CHARACTER}"


def load_corpus(name: str) -> str:
    """The text of a corpus shipped with ``rnn_lib``.

    Args:
        name: ``'shakespeare'`` or ``'tang'`` (see the module docstring).

    Returns:
        the whole file as one string.
    """
    check_choice("corpus", name, sorted(CORPORA))
    return (
        resources.files("rnn_lib.data")
        .joinpath(CORPORA[name])
        .read_text(encoding="utf-8")
    )


class Vocabulary:
    """A bijection between characters and the ids ``0 .. len(vocab) - 1``.

    Characters the vocabulary does not contain are handled by ``unknown``:

    - ``'error'`` (the default): :meth:`encode` raises a ``ValueError`` that lists
      the offending characters. Silent replacement hides bugs such as encoding
      a validation text with the wrong vocabulary.
    - ``'replace'``: id 0 is reserved for :data:`UNK` (``'\\ufffd'``, shown as �)
      and every unknown character encodes to it.

    Args:
        chars: the distinct characters, in id order.
        unknown: ``'error'`` or ``'replace'``.

    Attributes:
        chars: the characters in id order (with :data:`UNK` first if ``unknown``
            is ``'replace'``).
        unknown: the policy.
    """

    def __init__(self, chars: Iterable[str], unknown: str = "error"):
        check_choice("unknown", unknown, UNKNOWN_POLICIES)
        chars = list(chars)
        if not chars:
            raise ValueError("a vocabulary needs at least one character, got none")
        for c in chars:
            if not isinstance(c, str) or len(c) != 1:
                raise ValueError(
                    f"vocabulary entries must be single characters, got {c!r}"
                )
        if len(set(chars)) != len(chars):
            repeated = sorted({c for c in chars if chars.count(c) > 1})
            raise ValueError(
                f"vocabulary characters must be distinct, got {repeated} twice"
            )
        if unknown == "replace":
            chars = [UNK] + [c for c in chars if c != UNK]
        self.chars = chars
        self.unknown = unknown
        self._index = {c: i for i, c in enumerate(chars)}

    @classmethod
    def from_text(
        cls, text: str, unknown: str = "error", max_size: int | None = None
    ) -> Vocabulary:
        """The characters of ``text``, most frequent first (ties by code point).

        Args:
            text: the training text.
            unknown: the policy for unseen characters (see the class).
            max_size: keep only the most frequent characters, ``UNK`` included;
                needs ``unknown='replace'`` (the rest become ``UNK``).
        """
        if not text:
            raise ValueError("cannot build a vocabulary from an empty text")
        counts = Counter(text)
        chars = sorted(counts, key=lambda c: (-counts[c], c))
        if max_size is not None:
            if unknown != "replace":
                raise ValueError(
                    "max_size needs unknown='replace' for the characters it drops"
                )
            if max_size < 2:
                raise ValueError(
                    f"max_size must be at least 2 (UNK and one character), got {max_size}"
                )
            chars = [c for c in chars if c != UNK][: max_size - 1]
        return cls(chars, unknown=unknown)

    def __len__(self) -> int:
        return len(self.chars)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.chars == other.chars and self.unknown == other.unknown

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} characters, unknown={self.unknown!r})"

    def encode(self, text: str) -> torch.Tensor:
        """The ids of ``text``'s characters.

        Outputs:
            ids: (len(text),), int64.
        """
        if self.unknown == "replace":
            ids = [self._index.get(c, 0) for c in text]
        else:
            try:
                ids = [self._index[c] for c in text]
            except KeyError:
                missing = sorted({c for c in text if c not in self._index})
                shown = "".join(missing[:20]) + ("..." if len(missing) > 20 else "")
                raise ValueError(
                    f"characters not in the vocabulary: {shown!r}; build the "
                    "vocabulary from this text or use unknown='replace'"
                ) from None
        return torch.tensor(ids, dtype=torch.long)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> str:
        """The text that ``ids`` encode; inverse of :meth:`encode` on known text."""
        if isinstance(ids, torch.Tensor):
            ids = ids.reshape(-1).tolist()
        bad = [i for i in ids if not 0 <= i < len(self.chars)]
        if bad:
            raise ValueError(f"ids must lie in [0, {len(self.chars)}), got {bad[0]}")
        return "".join(self.chars[i] for i in ids)

    def state_dict(self) -> dict:
        """What a checkpoint stores to rebuild this vocabulary exactly."""
        return {"chars": "".join(self.chars), "unknown": self.unknown}

    @classmethod
    def from_state_dict(cls, state: dict) -> Vocabulary:
        """The inverse of :meth:`state_dict`."""
        return cls(state["chars"], unknown=state["unknown"])


def split(
    ids: torch.Tensor, val_fraction: float = 0.1
) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``1 - val_fraction`` of a text for training, the rest for validation.

    A contiguous tail rather than random chunks: the validation text is then
    one stretch that no training passage surrounds (only where it begins does
    it continue the training text), and the carried state sees it in order.

    Inputs:
        ids: (number of characters,)

    Outputs:
        train: (len(ids) - n_val,)
        val: (n_val,), with n_val = round(len(ids) * val_fraction).
    """
    if not 0 < val_fraction < 1:
        raise ValueError(
            f"val_fraction must lie strictly between 0 and 1, got {val_fraction}"
        )
    n_val = round(len(ids) * val_fraction)
    if n_val == 0 or n_val == len(ids):
        raise ValueError(
            f"a text of {len(ids)} characters is too short to split with val_fraction={val_fraction}"
        )
    return ids[: len(ids) - n_val], ids[len(ids) - n_val :]


class TextStreams:
    """A text as ``N`` parallel streams, served in consecutive chunks of ``L``.

    The text of ``T`` characters is cut into ``N`` contiguous pieces of
    ``S = T // N`` characters (the last ``T mod N`` characters are dropped);
    piece ``i`` is stream ``i``, column ``i`` of every batch. Batch ``k`` holds
    characters ``[kL, (k+1)L)`` of every stream as input and the same window
    shifted by one as target, so batch ``k + 1`` continues batch ``k`` column by
    column, and the state an RNN ends batch ``k`` with is the right start for
    batch ``k + 1``. The last batch may be shorter than ``L``.

    Args:
        ids: the encoded text, (T,).
        batch_size: N, the number of streams.
        seq_len: L, the characters per chunk (the truncated-BPTT length).

    Attributes:
        data: (S, N), the streams side by side, time-major.

    Iterating yields ``(input, target)`` pairs:
        input: (L', N), L' = L except perhaps in the last batch.
        target: (L', N), ``target[t] = `` the character after ``input[t]``.
    """

    def __init__(self, ids: torch.Tensor, batch_size: int, seq_len: int):
        if ids.dim() != 1:
            raise ValueError(
                f"expected ids of shape (number of characters,), got {tuple(ids.shape)}"
            )
        check_int("batch_size", batch_size)
        check_int("seq_len", seq_len)
        if len(ids) == 0:
            raise ValueError("the text is empty")
        per_stream = len(ids) // batch_size
        if per_stream < seq_len + 1:
            raise ValueError(
                f"seq_len={seq_len} is longer than the data allows: {len(ids)} characters "
                f"in {batch_size} streams leave {per_stream} per stream, and a chunk "
                f"needs seq_len + 1 = {seq_len + 1}; use a smaller seq_len or batch_size"
            )
        self.batch_size = batch_size
        self.seq_len = seq_len
        self.data = (
            ids[: per_stream * batch_size].view(batch_size, per_stream).t().contiguous()
        )  # (S, N)

    def __len__(self) -> int:
        """The number of batches in one pass."""
        return -(-(self.data.shape[0] - 1) // self.seq_len)  # ceil((S - 1) / L)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        S = self.data.shape[0]
        for start in range(0, S - 1, self.seq_len):
            stop = min(start + self.seq_len, S - 1)
            yield self.data[start:stop], self.data[start + 1 : stop + 1]  # (L', N) each
