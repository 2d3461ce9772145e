"""Synthetic long-memory tasks: the adding problem and the copy task.

Built in chapter 6 (*Vanishing and exploding gradients*) and used again for
the gated RNNs of chapter 8. Both tasks put the information the answer needs
far from the step where the answer is asked for, at a distance the caller
chooses, and both have a trivial predictor that ignores that information,
whose loss is the bar a model must beat.

Every builder takes a ``torch.Generator`` (reproducible batches, independent
of the global seed), a ``device`` and a ``batch_first`` flag with torch's
meaning: tensors are ``(L, N, ...)`` unless ``batch_first``, then
``(N, L, ...)``.

Read next: :mod:`rnn_lib.data.order_tasks`, a task that needs the order of events.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from rnn_lib.validation import check_int

#: MSE of the trivial adding-problem predictor that always answers 1: the
#: variance of the sum of two independent U(0, 1) numbers, 2 / 12.
ADDING_BASELINE_MSE = 1 / 6


def adding_problem(
    length: int,
    batch_size: int,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    dtype: torch.dtype = torch.float32,
    batch_first: bool = False,
) -> tuple[Tensor, Tensor]:
    """A batch of the adding problem (Hochreiter and Schmidhuber, 1997; Le et al., 2015).

    Each step carries two numbers: a value drawn from U(0, 1) and a marker. The
    marker is 1 at exactly two steps, one drawn from the first half of the
    sequence and one from the second half, and 0 elsewhere. The target is the
    sum of the two marked values. Always answering 1 scores an MSE of
    :data:`ADDING_BASELINE_MSE` (1/6); the first marker can sit at step 0, so
    the answer may depend on an input ``length - 1`` steps back.

    Args:
        length: the sequence length L (at least 2).
        batch_size: the number of sequences N.
        generator: an optional ``torch.Generator`` (on the CPU) for the draws.
        device: where the tensors go.
        dtype: their floating-point type.
        batch_first: return ``(N, L, 2)`` instead of ``(L, N, 2)``.

    Outputs:
        inputs: ``(L, N, 2)``, or ``(N, L, 2)`` if ``batch_first``; channel 0
            holds the values, channel 1 the markers.
        targets: ``(N, 1)``, the sums.
    """
    check_int("length", length, 2)
    check_int("batch_size", batch_size, 1)
    values = torch.rand(length, batch_size, generator=generator, dtype=dtype)  # (L, N)
    half = length // 2
    first = torch.randint(0, half, (batch_size,), generator=generator)  # (N,)
    second = torch.randint(half, length, (batch_size,), generator=generator)  # (N,)
    markers = torch.zeros(length, batch_size, dtype=dtype)  # (L, N)
    columns = torch.arange(batch_size)
    markers[first, columns] = 1
    markers[second, columns] = 1
    inputs = torch.stack([values, markers], dim=-1)  # (L, N, 2)
    targets = (values * markers).sum(0).unsqueeze(1)  # (N, 1)
    if batch_first:
        inputs = inputs.transpose(0, 1)  # (N, L, 2)
    return inputs.to(device), targets.to(device)


def copy_task(
    delay: int,
    batch_size: int,
    n_copy: int = 10,
    n_symbols: int = 8,
    generator: torch.Generator | None = None,
    device: torch.device | str | None = None,
    batch_first: bool = False,
) -> tuple[Tensor, Tensor]:
    """A batch of the copy task (Hochreiter and Schmidhuber, 1997; Arjovsky et al., 2016).

    Tokens: 0 is the blank, ``1 .. n_symbols`` are the symbols to remember and
    ``n_symbols + 1`` is the "now repeat" cue, so the vocabulary has
    ``n_symbols + 2`` tokens. A sequence is ``n_copy`` random symbols, then
    ``delay - 1`` blanks, then the cue, then ``n_copy`` blanks:
    ``L = delay + 2 * n_copy``. The target is blank everywhere except the last
    ``n_copy`` steps, which must repeat the symbols; each symbol is recalled
    ``delay + n_copy`` steps after it was seen. The trivial predictor that
    answers blanks and then uniform guesses scores a mean cross-entropy of
    :func:`copy_task_baseline`.

    Args:
        delay: the steps from the end of the symbols to the end of the cue
            (at least 1).
        batch_size: the number of sequences N.
        n_copy: how many symbols to remember.
        n_symbols: the size of the alphabet to remember.
        generator: an optional ``torch.Generator`` (on the CPU) for the draws.
        device: where the tensors go.
        batch_first: return ``(N, L)`` instead of ``(L, N)``.

    Outputs:
        inputs: ``(L, N)`` token ids (int64), or ``(N, L)`` if ``batch_first``.
        targets: ``(L, N)`` token ids, or ``(N, L)`` if ``batch_first``.
    """
    check_int("delay", delay, 1)
    check_int("batch_size", batch_size, 1)
    check_int("n_copy", n_copy, 1)
    check_int("n_symbols", n_symbols, 1)
    length = delay + 2 * n_copy
    symbols = torch.randint(1, n_symbols + 1, (n_copy, batch_size), generator=generator)
    inputs = torch.zeros(length, batch_size, dtype=torch.long)  # (L, N)
    inputs[:n_copy] = symbols
    inputs[n_copy + delay - 1] = n_symbols + 1  # the cue
    targets = torch.zeros(length, batch_size, dtype=torch.long)  # (L, N)
    targets[-n_copy:] = symbols
    if batch_first:
        inputs, targets = inputs.T, targets.T  # (N, L)
    return inputs.to(device), targets.to(device)


def copy_task_baseline(delay: int, n_copy: int = 10, n_symbols: int = 8) -> float:
    """Mean per-step cross-entropy (nats) of the best predictor that remembers nothing.

    It predicts blank with certainty until the recall phase, then each symbol
    uniformly: ``n_copy * log(n_symbols) / (delay + 2 * n_copy)``.
    """
    check_int("delay", delay, 1)
    check_int("n_copy", n_copy, 1)
    check_int("n_symbols", n_symbols, 1)
    return n_copy * math.log(n_symbols) / (delay + 2 * n_copy)
