"""The bookkeeping of the time loop: step order, packed batches, where states go.

A layer visits the indices ``0 .. L-1`` forward, or ``L-1 .. 0`` for the
backward direction of a bidirectional layer (:func:`time_steps`). A packed
batch (``torch.nn.utils.rnn.PackedSequence``) sorts its rows by length,
longest first, and ``batch_sizes[i]`` says how many rows still run at index
i (time i + 1): rows only ever end, so the running rows are always a prefix.
Everything that follows from that is written here once, for the reference
loop :func:`rnn_lib.functional.unroll` and the hand-derived passes of
:mod:`rnn_lib.bptt` and :mod:`rnn_lib.gated_bptt`: where each step reads its
previous state from (:func:`state_sources`), where each row's final state is
written (:func:`final_positions`), and the tensor operations built on them.

Read next: :mod:`rnn_lib.functional`, the loop itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

Tensor = torch.Tensor


def time_steps(L: int, reverse: bool = False) -> range:
    """The indices ``0 .. L-1`` in the order the recurrence visits them."""
    return range(L - 1, -1, -1) if reverse else range(L)


def check_batch_sizes(batch_sizes: Sequence[int], length: int, batch: int) -> None:
    """Check that ``batch_sizes`` describes a packed batch of ``length`` steps.

    A packed batch orders its rows by length, longest first; ``batch_sizes[i]``
    is the number of rows still running at index ``i`` (time ``i + 1``). So
    there is one entry per step, every entry is between 1 and ``batch``, and no
    entry is larger than the one before.

    Raises:
        ValueError: any of these does not hold.
    """
    if len(batch_sizes) != length:
        raise ValueError(
            f"expected {length} batch sizes (one per time step), got {len(batch_sizes)}"
        )
    sizes = list(batch_sizes)
    if any(later > earlier for earlier, later in zip(sizes, sizes[1:])):
        raise ValueError(
            "expected batch sizes in non-increasing order (rows sorted by length, "
            f"longest first), got {sizes}"
        )
    if any(b < 1 or b > batch for b in sizes):
        raise ValueError(f"expected batch sizes between 1 and {batch}, got {sizes}")


def sequence_batch_sizes(
    L: int, N: int, batch_sizes: Sequence[int] | Tensor | None
) -> list[int] | None:
    """Check a sequence's length and its packed ``batch_sizes``; return them as ints.

    Args:
        L, N: the sequence length and the batch size.
        batch_sizes: None (every row runs every step), or L ints (a list or a
            CPU tensor), the rows running at each index.

    Returns:
        None, or ``batch_sizes`` as a list of Python ints.

    Raises:
        ValueError: ``L`` is 0, or ``batch_sizes`` is not a packed batch's.
    """
    if L == 0:
        raise ValueError("expected a sequence of length >= 1, got length 0")
    if batch_sizes is None:
        return None
    if isinstance(batch_sizes, Tensor):
        batch_sizes = batch_sizes.tolist()
    batch_sizes = [int(b) for b in batch_sizes]
    check_batch_sizes(batch_sizes, L, N)
    return batch_sizes


def state_sources(
    i: int, L: int, N: int, batch_sizes: Sequence[int] | None, reverse: bool
) -> list[tuple[int, int, int | None]]:
    """Where the rows that step at index i read their previous state from.

    Returns a list of ``(lo, hi, source)``: rows ``[lo:hi)`` read the state
    written at index ``source``, or the initial state when ``source`` is None.
    Going forward every running row goes on from index i-1 (rows only ever
    end). Going backward, rows ``[:batch_sizes[i+1]]`` go on from index i+1
    and the rows whose last index is i start there from the initial state.
    The hand-derived backward passes walk the same list the other way.
    """
    b = N if batch_sizes is None else batch_sizes[i]
    if not reverse:
        return [(0, b, i - 1 if i > 0 else None)]
    if i == L - 1:
        return [(0, b, None)]
    c = N if batch_sizes is None else batch_sizes[i + 1]  # rows that go on
    return [(0, c, i + 1)] + ([(c, b, None)] if c < b else [])


def final_positions(
    L: int, N: int, batch_sizes: Sequence[int] | None, reverse: bool
) -> list[tuple[int, int, int | None]]:
    """At which index each row's final state was written: ``(lo, hi, index)``.

    Going forward row n ends at its last index (``length_n - 1``), going
    backward at index 0; rows that never step (index None) keep the initial
    state.
    """
    if batch_sizes is None:
        return [(0, N, 0 if reverse else L - 1)]
    if reverse:
        ends = [(0, batch_sizes[0], 0)]
    else:
        nexts = list(batch_sizes[1:]) + [0]
        ends = [(c, b, i) for i, (b, c) in enumerate(zip(batch_sizes, nexts)) if c < b]
    return ends + ([(batch_sizes[0], N, None)] if batch_sizes[0] < N else [])


def previous_states(
    steps: Tensor, initial: Tensor, batch_sizes: Sequence[int] | None, reverse: bool
) -> Tensor:
    """The state each step read, for all steps at once: (L, N, S), zero where none.

    Args:
        steps: the states written at each index, (L, N, S).
        initial: the initial state, (N, S).
    """
    L, N = steps.shape[0], steps.shape[1]
    if batch_sizes is None:  # the states shifted by one step
        if reverse:
            return torch.cat([steps[1:], initial.unsqueeze(0)])
        return torch.cat([initial.unsqueeze(0), steps[:-1]])
    previous = torch.zeros_like(steps)
    for i in range(L):
        for lo, hi, src in state_sources(i, L, N, batch_sizes, reverse):
            previous[i, lo:hi] = (initial if src is None else steps[src])[lo:hi]
    return previous


def final_states(
    steps: Tensor, initial: Tensor, batch_sizes: Sequence[int] | None, reverse: bool
) -> Tensor:
    """Each row's state after its own last step, (N, S), from ``steps`` (L, N, S)."""
    L, N = steps.shape[0], steps.shape[1]
    if batch_sizes is None:
        return steps[0 if reverse else L - 1].clone()
    final = initial.clone()  # rows that never step keep the initial state
    for lo, hi, index in final_positions(L, N, batch_sizes, reverse):
        if index is not None:
            final[lo:hi] = steps[index, lo:hi]
    return final


def add_final_grads(
    grads: Tensor, grad_n: Tensor, batch_sizes: Sequence[int] | None, reverse: bool
) -> Tensor | None:
    """Add dL/d(final state) ``grad_n`` (N, S) where each row's final state was written.

    ``grads`` (L, N, S) is changed in place. Returns the part that reaches the
    initial state directly (rows that never step), (N, S), or None if none does.
    """
    L, N = grads.shape[0], grads.shape[1]
    direct = None
    for lo, hi, index in final_positions(L, N, batch_sizes, reverse):
        if index is None:
            direct = torch.zeros_like(grad_n)
            direct[lo:hi] = grad_n[lo:hi]
        else:
            grads[index, lo:hi] += grad_n[lo:hi]
    return direct


def zero_ended_rows(tensor: Tensor, batch_sizes: Sequence[int] | None) -> None:
    """Rows that have ended are padding: zero them at every index of (L, N, S), in place."""
    if batch_sizes is not None:
        for i, b in enumerate(batch_sizes):
            tensor[i, b:] = 0
