"""Tests for rnn_lib.packing: the bookkeeping of the time loop, worked by hand."""

import pytest
import torch

from rnn_lib.packing import (
    add_final_grads,
    final_positions,
    final_states,
    previous_states,
    sequence_batch_sizes,
    state_sources,
    time_steps,
    zero_ended_rows,
)

# Three rows of lengths 3, 2, 2 and one of length 1: batch sizes 4, 3, 1.
SIZES = [4, 3, 1]


def test_time_steps():
    assert list(time_steps(3)) == [0, 1, 2]
    assert list(time_steps(3, reverse=True)) == [2, 1, 0]


def test_state_sources_forward():
    assert state_sources(0, 3, 4, SIZES, False) == [(0, 4, None)]
    assert state_sources(1, 3, 4, SIZES, False) == [(0, 3, 0)]
    assert state_sources(2, 3, 4, SIZES, False) == [(0, 1, 1)]
    assert state_sources(1, 3, 4, None, False) == [(0, 4, 0)]


def test_state_sources_backward():
    # Row 0 goes on from index 2 at index 1; rows 1, 2 start at index 1.
    assert state_sources(2, 3, 4, SIZES, True) == [(0, 1, None)]
    assert state_sources(1, 3, 4, SIZES, True) == [(0, 1, 2), (1, 3, None)]
    assert state_sources(0, 3, 4, SIZES, True) == [(0, 3, 1), (3, 4, None)]
    assert state_sources(0, 3, 4, None, True) == [(0, 4, 1)]


def test_final_positions():
    assert final_positions(3, 4, SIZES, False) == [(3, 4, 0), (1, 3, 1), (0, 1, 2)]
    assert final_positions(3, 4, SIZES, True) == [(0, 4, 0)]
    assert final_positions(3, 4, None, False) == [(0, 4, 2)]
    # A row that never steps (batch_sizes[0] < N) keeps the initial state.
    assert final_positions(2, 3, [2, 1], False) == [(1, 2, 0), (0, 1, 1), (2, 3, None)]


def test_tensors_follow_the_positions():
    steps = torch.arange(1.0, 13.0).view(3, 4, 1)  # value = 4 * index + row + 1
    initial = -torch.ones(4, 1)
    final = final_states(steps, initial, SIZES, False)
    assert final.flatten().tolist() == [9.0, 6.0, 7.0, 4.0]
    previous = previous_states(steps, initial, SIZES, False)
    assert previous[:, :, 0].tolist() == [[-1, -1, -1, -1], [1, 2, 3, 0], [5, 0, 0, 0]]
    grads = torch.zeros(3, 4, 1)
    assert add_final_grads(grads, torch.ones(4, 1), SIZES, False) is None
    assert grads[:, :, 0].tolist() == [[0, 0, 0, 1], [0, 1, 1, 0], [1, 0, 0, 0]]
    zero_ended_rows(steps, SIZES)
    assert steps[:, :, 0].tolist() == [[1, 2, 3, 4], [5, 6, 7, 0], [9, 0, 0, 0]]


def test_sequence_batch_sizes():
    assert sequence_batch_sizes(3, 4, None) is None
    assert sequence_batch_sizes(3, 4, torch.tensor(SIZES)) == SIZES
    with pytest.raises(ValueError, match="expected a sequence of length >= 1"):
        sequence_batch_sizes(0, 4, None)
    with pytest.raises(ValueError, match="non-increasing"):
        sequence_batch_sizes(3, 4, [1, 3, 1])
