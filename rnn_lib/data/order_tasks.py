"""Synthetic tasks where the order of the steps carries the answer (chapter 1).

Chapter 1 ("Why sequence models?") uses :func:`temporal_order` to show that a
model which sees one step, or the steps as an unordered bag, cannot beat
chance, while a model with a recurrent state can. The task follows the
"temporal order" problem of Hochreiter and Schmidhuber (1997), in a short
version that a small RNN learns on a CPU in seconds.

A sequence of ``length`` tokens holds two markers, ``A`` and ``B``, at two
distinct random positions; every other step is a distractor drawn uniformly
from ``n_distractors`` symbols. The target says which marker came first.
Tokens are one-hot vectors of size ``V = 2 + n_distractors``: index
:data:`MARKER_A` is ``A``, index :data:`MARKER_B` is ``B``, indices ``2`` to
``V - 1`` are the distractors.

Two facts make the chapter's claims exact rather than approximate:

* the markers never sit at the last step, so the last step is a distractor
  drawn independently of the target;
* swapping ``A`` and ``B`` in a sequence gives a sequence that is exactly as
  likely, has the same bag (multiset) of tokens and the same last step, and
  the opposite target.

Read next: :mod:`rnn_lib.diagnostics`, which measures why these tasks are hard.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from rnn_lib.validation import check_int

MARKER_A = 0
"""Index of marker ``A`` in the one-hot token vectors."""

MARKER_B = 1
"""Index of marker ``B`` in the one-hot token vectors."""


def temporal_order(
    length: int,
    batch_size: int,
    n_distractors: int = 4,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    batch_first: bool = False,
) -> tuple[Tensor, Tensor]:
    """A batch of the temporal-order task: which of two markers comes first?

    The two markers take two distinct positions drawn uniformly from the first
    ``length - 1`` steps (every ordered pair equally likely); every other step,
    the last one included, is a distractor drawn uniformly.

    Args:
        length: the sequence length L (at least 3).
        batch_size: the number of sequences N.
        n_distractors: how many distractor symbols there are (at least 1).
        generator: an optional ``torch.Generator`` (on the CPU) for the draws.
        device: where the tensors go.
        batch_first: return ``(N, L, V)`` instead of ``(L, N, V)``.

    Outputs:
        inputs: ``(L, N, V)``, or ``(N, L, V)`` if ``batch_first``: float32
            one-hot tokens, ``V = 2 + n_distractors``.
        targets: ``(N,)`` int64, 1 where ``A`` comes before ``B``, else 0.

    Example:
        >>> g = torch.Generator().manual_seed(0)
        >>> inputs, targets = temporal_order(10, 8, generator=g)
        >>> inputs.shape, targets.shape
        (torch.Size([10, 8, 6]), torch.Size([8]))
    """
    check_int("length", length, 3)
    check_int("batch_size", batch_size, 1)
    check_int("n_distractors", n_distractors, 1)
    vocab = 2 + n_distractors
    shape = (length, batch_size)
    tokens = torch.randint(2, vocab, shape, generator=generator)  # (L, N)
    # A random permutation of the first L - 1 steps for each sequence; its first
    # two entries are two distinct positions, uniform over the ordered pairs.
    keys = torch.rand(batch_size, length - 1, generator=generator)  # (N, L-1)
    order = keys.argsort(dim=1)  # (N, L-1)
    position_a, position_b = order[:, 0], order[:, 1]  # (N,), (N,)
    columns = torch.arange(batch_size)
    tokens[position_a, columns] = MARKER_A
    tokens[position_b, columns] = MARKER_B
    inputs = F.one_hot(tokens, vocab).float()  # (L, N, V)
    targets = (position_a < position_b).long()  # (N,)
    if batch_first:
        inputs = inputs.transpose(0, 1)  # (N, L, V)
    return inputs.to(device), targets.to(device)


def swap_markers(inputs: Tensor) -> Tensor:
    """The same sequences with markers ``A`` and ``B`` exchanged.

    Each swapped sequence is as likely as the original, has the same bag of
    tokens and the same last step, and the opposite target (``1 - targets``).

    Inputs:
        inputs: ``(..., V)`` one-hot tokens from :func:`temporal_order`, any
            layout (``(L, N, V)`` or ``(N, L, V)``).

    Outputs:
        a new tensor of the same shape, with channels ``A`` and ``B`` exchanged.
    """
    if inputs.dim() < 1 or inputs.shape[-1] < 3:
        raise ValueError(
            f"expected one-hot tokens with at least 3 channels, got shape {tuple(inputs.shape)}"
        )
    index = torch.arange(inputs.shape[-1], device=inputs.device)  # (V,)
    index[[MARKER_A, MARKER_B]] = index[[MARKER_B, MARKER_A]]
    return inputs.index_select(-1, index)
