"""Tests for rnn_lib/data/order_tasks.py: the temporal-order task of chapter 1."""

import doctest

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from rnn_lib.data import order_tasks
from rnn_lib.data.order_tasks import MARKER_A, MARKER_B, swap_markers, temporal_order


def draw(length=12, batch_size=64, n_distractors=4, seed=0, **kwargs):
    generator = torch.Generator().manual_seed(seed)
    return temporal_order(
        length, batch_size, n_distractors, generator=generator, **kwargs
    )


def test_docstring_examples_run():
    result = doctest.testmod(order_tasks)
    assert result.attempted > 0 and result.failed == 0


@settings(max_examples=25, deadline=None)
@given(
    length=st.integers(3, 20),
    batch_size=st.integers(1, 16),
    n_distractors=st.integers(1, 6),
    seed=st.integers(0, 2**31),
)
def test_shapes_dtypes_and_targets(length, batch_size, n_distractors, seed):
    inputs, targets = draw(length, batch_size, n_distractors, seed)
    vocab = 2 + n_distractors
    assert inputs.shape == (length, batch_size, vocab)
    assert targets.shape == (batch_size,)
    assert inputs.dtype == torch.float32 and targets.dtype == torch.int64
    # One-hot: every step is exactly one token.
    assert set(inputs.unique().tolist()) <= {0.0, 1.0}
    torch.testing.assert_close(inputs.sum(-1), torch.ones(length, batch_size))
    tokens = inputs.argmax(-1)  # (L, N)
    for n in range(batch_size):
        sequence = tokens[:, n].tolist()
        assert sequence.count(MARKER_A) == 1 and sequence.count(MARKER_B) == 1
        # The last step is a distractor.
        assert sequence[-1] >= 2
        expected = int(sequence.index(MARKER_A) < sequence.index(MARKER_B))
        assert targets[n].item() == expected


def test_batch_first_is_the_transpose():
    inputs, targets = draw(seed=3)
    inputs_bf, targets_bf = draw(seed=3, batch_first=True)
    assert inputs_bf.shape == (64, 12, 6)
    torch.testing.assert_close(inputs_bf, inputs.transpose(0, 1))
    torch.testing.assert_close(targets_bf, targets)


def test_same_seed_same_batch_other_seed_other_batch():
    first, second, other = draw(seed=7), draw(seed=7), draw(seed=8)
    torch.testing.assert_close(first[0], second[0])
    torch.testing.assert_close(first[1], second[1])
    assert not torch.equal(first[0], other[0])


def test_positions_and_targets_are_balanced():
    # Every ordered pair of positions among the first L - 1 steps is equally
    # likely, so each marker is uniform there and A comes first half the time.
    length, batch_size = 6, 20_000
    inputs, targets = draw(length, batch_size, seed=11)
    assert abs(targets.float().mean().item() - 0.5) < 0.02
    for marker in (MARKER_A, MARKER_B):
        positions = inputs[..., marker].argmax(0)  # (N,)
        counts = torch.bincount(positions, minlength=length).float() / batch_size
        torch.testing.assert_close(
            counts[:-1], torch.full((length - 1,), 0.2), atol=0.015, rtol=0
        )
        assert counts[-1] == 0
    # The distractors are uniform over the n_distractors symbols.
    tokens = inputs.argmax(-1)
    distractors = tokens[tokens >= 2] - 2
    frequencies = torch.bincount(distractors, minlength=4).float() / distractors.numel()
    torch.testing.assert_close(frequencies, torch.full((4,), 0.25), atol=0.01, rtol=0)


def test_device_argument():
    inputs, targets = draw(device="cpu")
    assert inputs.device.type == "cpu" and targets.device.type == "cpu"


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_on_cuda_same_batch_as_on_cpu():
    inputs, targets = draw(seed=5, device="cuda")
    assert inputs.is_cuda and targets.is_cuda
    cpu_inputs, cpu_targets = draw(seed=5)
    torch.testing.assert_close(inputs.cpu(), cpu_inputs)
    torch.testing.assert_close(targets.cpu(), cpu_targets)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"length": 2}, ValueError, r"length must be >= 3, got 2"),
        ({"length": 5.0}, TypeError, r"length must be an int, got float"),
        ({"batch_size": 0}, ValueError, r"batch_size must be >= 1, got 0"),
        ({"batch_size": True}, TypeError, r"batch_size must be an int, got bool"),
        ({"n_distractors": 0}, ValueError, r"n_distractors must be >= 1, got 0"),
    ],
)
def test_argument_validation(kwargs, error, message):
    arguments = {"length": 10, "batch_size": 4, "n_distractors": 3} | kwargs
    with pytest.raises(error, match=message):
        temporal_order(**arguments)


def test_swap_markers_keeps_bag_and_last_step_and_flips_target():
    inputs, targets = draw(seed=2)
    swapped = swap_markers(inputs)
    assert swapped.shape == inputs.shape
    tokens, swapped_tokens = inputs.argmax(-1), swapped.argmax(-1)
    # A became B, B became A, every distractor stayed where it was.
    torch.testing.assert_close(swapped_tokens == MARKER_B, tokens == MARKER_A)
    torch.testing.assert_close(swapped_tokens == MARKER_A, tokens == MARKER_B)
    torch.testing.assert_close(swapped_tokens[tokens >= 2], tokens[tokens >= 2])
    # Same bag, same last step, opposite target.
    torch.testing.assert_close(swapped.sum(0), inputs.sum(0))
    torch.testing.assert_close(swapped[-1], inputs[-1])
    swapped_targets = (
        swapped[..., MARKER_A].argmax(0) < swapped[..., MARKER_B].argmax(0)
    ).long()
    torch.testing.assert_close(swapped_targets, 1 - targets)
    # Swapping twice gives the original back; the input is left untouched.
    torch.testing.assert_close(swap_markers(swapped), inputs)
    assert not torch.equal(swapped, inputs)


def test_swap_markers_works_batch_first():
    inputs, _ = draw(seed=4)
    inputs_bf, _ = draw(seed=4, batch_first=True)
    torch.testing.assert_close(
        swap_markers(inputs_bf), swap_markers(inputs).transpose(0, 1)
    )


def test_swap_markers_validation():
    with pytest.raises(
        ValueError,
        match=r"expected one-hot tokens with at least 3 channels, got shape \(4, 2\)",
    ):
        swap_markers(torch.zeros(4, 2))
