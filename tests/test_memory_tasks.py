"""Tests for rnn_lib/data/memory_tasks.py: the adding problem and the copy task."""

import math

import pytest
import torch

from rnn_lib.data.memory_tasks import (
    ADDING_BASELINE_MSE,
    adding_problem,
    copy_task,
    copy_task_baseline,
)


@pytest.mark.parametrize("length", [2, 3, 10, 51])
def test_adding_problem_structure(length):
    inputs, targets = adding_problem(length, 64, torch.Generator().manual_seed(0))
    assert inputs.shape == (length, 64, 2) and targets.shape == (64, 1)
    values, markers = inputs[..., 0], inputs[..., 1]
    assert torch.all((values >= 0) & (values < 1))
    assert torch.all(markers.sum(0) == 2)  # exactly two markers per sequence
    half = length // 2
    assert torch.all(markers[:half].sum(0) == 1) and torch.all(
        markers[half:].sum(0) == 1
    )
    torch.testing.assert_close(targets[:, 0], (values * markers).sum(0))


def test_adding_problem_options_and_reproducibility():
    a, ta = adding_problem(
        8, 5, torch.Generator().manual_seed(1), dtype=torch.float64, batch_first=True
    )
    b, tb = adding_problem(8, 5, torch.Generator().manual_seed(1), dtype=torch.float64)
    assert a.shape == (5, 8, 2) and a.dtype == torch.float64
    torch.testing.assert_close(a, b.transpose(0, 1))
    torch.testing.assert_close(ta, tb)
    c, _ = adding_problem(8, 5, torch.Generator().manual_seed(2), dtype=torch.float64)
    assert not torch.equal(b, c)


def test_adding_problem_markers_cover_both_halves():
    # The first marker can be as far back as step 0, the second as late as L - 1.
    inputs, _ = adding_problem(6, 2000, torch.Generator().manual_seed(0))
    hit = inputs[..., 1].sum(1)  # (L,) how often each step is marked
    assert torch.all(hit > 0)


def test_adding_baseline_is_the_trivial_predictors_mse():
    _, targets = adding_problem(
        20, 200_000, torch.Generator().manual_seed(0), dtype=torch.float64
    )
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    assert ((targets - 1) ** 2).mean().item() == pytest.approx(
        ADDING_BASELINE_MSE, rel=0.01
    )


@pytest.mark.parametrize("batch_first", [False, True])
def test_copy_task_structure(batch_first):
    delay, n_copy, n_symbols = 7, 4, 5
    inputs, targets = copy_task(
        delay,
        16,
        n_copy,
        n_symbols,
        torch.Generator().manual_seed(0),
        batch_first=batch_first,
    )
    L = delay + 2 * n_copy
    assert inputs.shape == targets.shape == ((16, L) if batch_first else (L, 16))
    assert inputs.dtype == targets.dtype == torch.long
    if batch_first:
        inputs, targets = inputs.T, targets.T
    symbols = inputs[:n_copy]
    assert torch.all((symbols >= 1) & (symbols <= n_symbols))
    assert torch.all(inputs[n_copy : n_copy + delay - 1] == 0)
    assert torch.all(inputs[n_copy + delay - 1] == n_symbols + 1)  # the cue
    assert torch.all(inputs[n_copy + delay :] == 0)
    assert torch.all(targets[:-n_copy] == 0)
    torch.testing.assert_close(targets[-n_copy:], symbols)


def test_copy_task_baseline_is_uniform_guessing():
    delay, n_copy, n_symbols = 5, 3, 4
    _, targets = copy_task(
        delay, 8, n_copy, n_symbols, torch.Generator().manual_seed(0)
    )
    logits = torch.full((*targets.shape, n_symbols + 2), -1e9)
    logits[:-n_copy, :, 0] = 0  # certain blanks
    logits[-n_copy:, :, 1 : n_symbols + 1] = 0  # uniform over the symbols
    loss = torch.nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())
    assert copy_task_baseline(delay, n_copy, n_symbols) == pytest.approx(loss.item())
    assert copy_task_baseline(delay, n_copy, n_symbols) == pytest.approx(
        3 * math.log(4) / 11
    )


def test_validation_messages():
    with pytest.raises(ValueError, match="length must be >= 2, got 1"):
        adding_problem(1, 4)
    with pytest.raises(ValueError, match="batch_size must be >= 1, got 0"):
        adding_problem(5, 0)
    with pytest.raises(TypeError, match="delay must be an int, got float"):
        copy_task(2.5, 4)
    with pytest.raises(ValueError, match="n_symbols must be >= 1, got 0"):
        copy_task_baseline(3, 2, 0)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_device():
    x, y = adding_problem(5, 3, device="cuda")
    assert x.is_cuda and y.is_cuda
    x, y = copy_task(5, 3, device="cuda")
    assert x.is_cuda and y.is_cuda
