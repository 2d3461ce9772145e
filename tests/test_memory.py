"""Tests for rnn_lib.memory: seeds trained together are the models trained alone."""

import pytest
import torch
from torch import nn

import rnn_lib
from rnn_lib import clipping, memory
from rnn_lib.data.memory_tasks import adding_problem


def train_alone(seed, length, steps, lr=1e-2, max_norm=1.0):
    torch.manual_seed(seed)
    model = memory.Adder(rnn_lib.GRU(2, 8))
    generator = torch.Generator().manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        x, y = adding_problem(length, 64, generator)
        loss = nn.functional.mse_loss(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        clipping.clip_grad_norm_(model.parameters(), max_norm)
        optimiser.step()
    return model


def test_seeds_trained_together_equal_seeds_trained_alone():
    runs = memory.train_adders(lambda: rnn_lib.GRU(2, 8), 6, seeds=(3, 4), steps=5)
    assert runs.steps == 5 and runs.seeds == [3, 4]
    for seed, model, ratio in zip(runs.seeds, runs.models, runs.ratios):
        alone = train_alone(seed, 6, steps=5)
        for (name, a), b in zip(model.named_parameters(), alone.parameters()):
            torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4, msg=name)
        assert ratio == pytest.approx(memory.score(model, 6), rel=1e-5)


def test_training_stops_once_every_seed_is_below_half_the_threshold():
    # A huge threshold: every seed counts as solved after the 25 steps looked at.
    runs = memory.train_adders(lambda: rnn_lib.RNN(2, 4), 4, seeds=(0,), success=100.0)
    assert runs.steps == 25
    assert runs.solved(100.0) == 1 and runs.solved(1e-9) == 0


def test_bad_arguments():
    with pytest.raises(ValueError, match="seeds must hold at least one item"):
        memory.train_adders(lambda: rnn_lib.RNN(2, 4), 4, seeds=())
    with pytest.raises(ValueError, match="length must be >= 2, got 1"):
        memory.train_adders(lambda: rnn_lib.RNN(2, 4), 1)
