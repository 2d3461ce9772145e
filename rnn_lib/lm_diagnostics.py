"""What a trained character model uses and what its units track (chapter 7).

Three measurements of a :class:`rnn_lib.models.CharRNN` after training, for
any of its cells (``'rnn'``, ``'lstm'``, ``'gru'``):

1. **Context.** :func:`context_curve` cuts the state ``m`` characters before
   each predicted character, for every ``m`` up to a few hundred, and compares
   the loss with the loss of the same characters predicted with the state
   carried through the whole text. Where the two meet, more context no longer
   helps this model. An n-gram model of order n sees ``n - 1`` characters.
2. **Units.** :func:`hidden_states` collects the state after every character;
   :func:`correlations` correlates each unit's activation with a feature of
   the text that a reader can name (:func:`shakespeare_features`,
   :func:`quatrain_features`), and :func:`shuffled_correlations` gives the
   same correlations with the feature shuffled over the text, the baseline a
   correlation must beat.
3. **Form.** :func:`is_quatrain` and :func:`repeats` measure samples of Tang
   poems: is the form right, and how many characters repeat within a poem.

Read next: :mod:`rnn_lib.plotting.lm`, which draws these measurements.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import torch

from rnn_lib.data.text import TextStreams
from rnn_lib.models import CharRNN
from rnn_lib.train import character_losses
from rnn_lib.validation import check_int, check_tensor

# -- 1. How much context the model uses --------------------------------------------


@dataclass
class ContextCurve:
    """The loss after the state is cut ``m`` characters back, for m = 1 .. M.

    Attributes:
        context: (M,), ``m = 1 .. M``, the characters read since the cut.
        reset_loss: (M,), the mean loss of the characters predicted after
            reading ``m`` characters from a zero state.
        carried_loss: (M,), the mean loss of the same characters predicted
            with the state carried from the start of the text.
        gap_error: (M,), the standard error of the mean of
            ``reset - carried`` over the windows.
        windows: how many characters each mean is over.
    """

    context: torch.Tensor
    reset_loss: torch.Tensor
    carried_loss: torch.Tensor
    gap_error: torch.Tensor
    windows: int

    @property
    def gap(self) -> torch.Tensor:
        """(M,), ``reset_loss - carried_loss``: what the cut costs, in nats per character."""
        return self.reset_loss - self.carried_loss

    @property
    def cut_loss(self) -> torch.Tensor:
        """(M,), the carried loss over all the windows' characters plus the gap at ``m``.

        The loss after a cut ``m`` characters back, estimated from the gap on
        the same characters: ``reset_loss[m - 1]`` averages other characters
        at each ``m`` (some easier to predict than others), and that noise,
        which the carried loss shares, cancels in the gap.
        """
        return self.carried_loss.mean() + self.gap


@torch.no_grad()
def context_curve(
    model: CharRNN, ids: torch.Tensor, max_context: int = 256, batch_size: int = 16
) -> ContextCurve:
    """The loss at each position after the state is reset, beside the carried loss.

    The text runs as ``batch_size`` streams with the state carried, as
    :func:`rnn_lib.train.evaluate` runs it, which gives the loss of every
    character predicted from all of its stream before it. Then each stream,
    after its first M = ``max_context`` characters, is cut into windows of M
    characters that do not overlap, and the model reads every window again
    from a zero state. The character after the ``m``-th of a window is then
    predicted from ``m`` characters of context: the state was cut ``m``
    characters back. The same character, with the state carried, was
    predicted from more than M characters.

    Args:
        model: a :class:`rnn_lib.models.CharRNN` of any cell.
        ids: (number of characters,), the encoded text, usually the validation text.
        max_context: M, the longest context measured.
        batch_size: the number of streams (as in :func:`rnn_lib.train.evaluate`).

    Returns:
        a :class:`ContextCurve`, its means over ``windows`` characters each.
    """
    check_tensor("ids", ids)
    check_int("max_context", max_context)
    check_int("batch_size", batch_size)
    carried = character_losses(model, ids, batch_size)  # (S - 1, N)
    N = carried.shape[1]
    data = TextStreams(ids, N, 1).data  # (S, N), the same streams
    M = max_context
    K = (data.shape[0] - 1 - M) // M  # windows per stream
    if K < 1:
        raise ValueError(
            f"max_context={M} needs streams of at least {2 * M + 1} characters; "
            f"{len(ids)} characters in {N} streams give {data.shape[0]}"
        )
    rows = slice(M, M + K * M)  # the windows, after each stream's first M

    def windows(x: torch.Tensor) -> torch.Tensor:  # (K * M, N) -> (M, K * N)
        return x.reshape(K, M, N).permute(1, 0, 2).reshape(M, K * N)

    inputs = windows(data[rows])  # (M, K * N)
    targets = windows(data[M + 1 : M + 1 + K * M])  # (M, K * N)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    logits, _ = model(inputs.to(device))  # (M, K * N, V), from a zero state
    model.train(was_training)
    reset = torch.nn.functional.cross_entropy(
        logits.permute(0, 2, 1), targets.to(device), reduction="none"
    )  # (M, K * N)
    reset = reset.double().cpu()
    kept = windows(carried[rows])  # (M, K * N), the same targets, carried
    gap = reset - kept  # (M, K * N)
    return ContextCurve(
        context=torch.arange(1, M + 1),
        reset_loss=reset.mean(1),
        carried_loss=kept.mean(1),
        gap_error=gap.std(1) / math.sqrt(K * N),
        windows=K * N,
    )


# -- 2. What the units track ----------------------------------------------------------


@torch.no_grad()
def hidden_states(
    model: CharRNN, ids: torch.Tensor, batch_size: int = 16
) -> torch.Tensor:
    """The top layer's state after every character, in the order of the text.

    The text runs as ``batch_size`` streams, each from a zero state (as
    :class:`rnn_lib.data.text.TextStreams` lays them out), in one call; the
    states come back in the text's order, so row ``t`` is the state after
    reading ``ids[t]``. For an LSTM it is ``h_t``, not the cell ``c_t``.

    Inputs:
        ids: (number of characters,), the encoded text.

    Outputs:
        states: (N * (len(ids) // N), H_out), N = ``batch_size``: the last
        ``len(ids) mod N`` characters have no state.
    """
    check_tensor("ids", ids)
    data = TextStreams(ids, batch_size, 1).data  # (S, N)
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    output = model.rnn(model.embedding(data.to(device)))[0]  # (S, N, H_out)
    model.train(was_training)
    return output.permute(1, 0, 2).reshape(-1, output.shape[-1]).cpu()  # (N * S, H_out)


def _centred(
    states: torch.Tensor, feature: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """The states (centred, float64) and the feature where the feature is defined."""
    check_tensor("states", states)
    check_tensor("feature", feature)
    if states.dim() != 2 or feature.shape != states.shape[:1]:
        raise ValueError(
            f"expected states (T, H_out) and feature (T,), got "
            f"{tuple(states.shape)} and {tuple(feature.shape)}"
        )
    defined = ~feature.isnan()
    f = feature[defined].double()  # (T',)
    if len(f) < 2 or f.std() == 0:
        raise ValueError("the feature must take at least two values where defined")
    x = states if defined.all() else states[defined]
    x = x.to(torch.float64, copy=True)  # (T', H_out), ours to centre in place
    return x.sub_(x.mean(0)), f


def _pearson(x: torch.Tensor, x_norms: torch.Tensor, f: torch.Tensor) -> torch.Tensor:
    """r of each column of the centred ``x`` (characters where defined, H_out)
    with each row of ``f`` (..., characters where defined): (..., H_out); 0 for
    a constant column."""
    f = f - f.mean(-1, keepdim=True)
    norms = x_norms * f.norm(dim=-1, keepdim=True)  # (..., H_out)
    return (f @ x) / torch.where(norms > 0, norms, 1.0)  # (..., H_out)


def correlations(states: torch.Tensor, feature: torch.Tensor) -> torch.Tensor:
    """The correlation (Pearson's r) of every unit's activation with a feature.

    Positions where the feature is NaN (undefined there) are left out. A unit
    that never changes has r = 0.

    Inputs:
        states: (number of characters, H_out), e.g. from :func:`hidden_states`.
        feature: (number of characters,), one number per character.

    Outputs:
        r: (H_out,), float64, each in [-1, 1].
    """
    x, f = _centred(states, feature)
    return _pearson(x, x.square().sum(0).sqrt(), f)


def shuffled_correlations(
    states: torch.Tensor, feature: torch.Tensor, shuffles: int = 20, seed: int = 0
) -> torch.Tensor:
    """:func:`correlations` with the feature's values shuffled over the text.

    A shuffle keeps what values the feature takes and how often (where it is
    defined), and breaks any link with what the network read: the largest
    ``|r|`` over units and shuffles is what chance alone reaches with this
    many characters and units.

    Outputs:
        r: (shuffles, H_out), one row per shuffle.
    """
    check_int("shuffles", shuffles)
    x, f = _centred(states, feature)
    x_norms = x.square().sum(0).sqrt()  # (H_out,)
    generator = torch.Generator().manual_seed(seed)
    orders = torch.stack(
        [torch.randperm(len(f), generator=generator) for _ in range(shuffles)]
    )  # (shuffles, T')
    return _pearson(x, x_norms, f[orders])  # (shuffles, H_out)


def _line_positions(text: str, ends: str) -> list[int]:
    """The 1-based position of each character in its line; a character of
    ``ends`` closes its line (and has the position after the last)."""
    positions, position = [], 0
    for c in text:
        position += 1
        positions.append(position)
        if c in ends:
            position = 0
    return positions


#: A speaker's name in Tiny Shakespeare: a line after an empty one, ending in ':'.
SPEAKER = re.compile(r"(?:^|(?<=\n\n))[^\n]+:(?=\n)")


def shakespeare_features(text: str) -> dict[str, torch.Tensor]:
    """Features of each character of Tiny Shakespeare that a reader can name.

    * ``'position in the line'``: 1 for a line's first character, and so on;
      the newline has the position after the line's last character.
    * ``"speaker's name"``: 1 for the characters of a speaker's name and its
      colon (a line after an empty line that ends in ``:``), else 0.

    Outputs:
        a dict of (len(text),) float64 tensors.
    """
    name = torch.zeros(len(text), dtype=torch.float64)
    for match in SPEAKER.finditer(text):
        name[match.start() : match.end()] = 1.0
    return {
        "position in the line": torch.tensor(
            _line_positions(text, "\n"), dtype=torch.float64
        ),
        "speaker's name": name,
    }


#: The marks that close a line of a Tang poem in the course's corpus.
PUNCTUATION = "，。？！"


def quatrain_features(text: str) -> dict[str, torch.Tensor]:
    """Features of each character of Tang quatrains, one poem per line.

    * ``'position in the line'``: 1 to 5 for the five characters of a line, 6
      for the punctuation mark that closes it;
    * ``'line end'``: 1 for that mark, else 0;
    * ``'line of the poem'``: 1 to 4.

    The newline between poems belongs to no line: NaN in every feature
    (:func:`correlations` leaves it out).

    Outputs:
        a dict of (len(text),) float64 tensors.
    """
    positions = _line_positions(text, PUNCTUATION + "\n")
    line, lines = 1, []
    for c in text:
        lines.append(line)
        line = 1 if c == "\n" else line + (c in PUNCTUATION)
    newline = torch.tensor([c == "\n" for c in text])
    features = {
        "position in the line": torch.tensor(positions, dtype=torch.float64),
        "line end": torch.tensor([c in PUNCTUATION for c in text], dtype=torch.float64),
        "line of the poem": torch.tensor(lines, dtype=torch.float64),
    }
    for feature in features.values():
        feature[newline] = math.nan
    return features


# -- 3. The form of a sampled poem ----------------------------------------------------


def is_quatrain(poem: str) -> bool:
    """True for four lines of five characters, each closed by a punctuation mark.

    ``poem`` is the 24 characters without a newline, as the corpus stores a
    quatrain: ``床前明月光，疑是地上霜。举头望明月，低头思故乡。``.
    """
    return len(poem) == 24 and all(
        poem[6 * i + 5] in PUNCTUATION
        and not any(c in PUNCTUATION + "\n" for c in poem[6 * i : 6 * i + 5])
        for i in range(4)
    )


def repeats(poem: str) -> int:
    """How many characters of a poem repeat one before them (marks and newlines aside).

    ``床前明月光，疑是地上霜。举头望明月，低头思故乡。`` has 3: 明, 月 and 头.
    """
    chars = [c for c in poem if c not in PUNCTUATION + "\n"]
    return len(chars) - len(set(chars))
