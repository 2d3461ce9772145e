"""Training recurrent models on the adding problem, several seeds at once (chapters 6, 8).

The adding problem (:func:`rnn_lib.data.memory_tasks.adding_problem`) asks a
model to add two numbers marked somewhere in a sequence of length L; the
trivial answer 1 scores the MSE :data:`ADDING_BASELINE_MSE`, and a run counts
as *solved* when its test MSE falls below ``success`` times that. An
:class:`Adder` is a one-layer recurrent module and a linear read-out of its
last output. :func:`train_adders` trains one Adder per seed, all at once as
one block-diagonal model (:mod:`rnn_lib.ensemble`): each seed keeps its own
initialisation, its own stream of training batches and its own gradient
clipping, exactly as if it were trained alone.

Read next: :mod:`rnn_lib.diagnostics`, which measures why long lengths fail.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence

import torch
from torch import nn

from rnn_lib import ensemble
from rnn_lib.data.memory_tasks import ADDING_BASELINE_MSE, adding_problem
from rnn_lib.validation import check_int, check_nonempty, check_number

#: The test set every run is scored on: its seed and size.
TEST_SEED, TEST_SIZE = 1234, 1000


class Adder(nn.Module):
    """A recurrent layer and a linear read-out of its last output: (L, N, 2) -> (N, 1).

    Args:
        rnn: a one-layer recurrent module with torch's interface whose
            ``input_size`` is 2 (a value and a marker per step).
    """

    def __init__(self, rnn: nn.Module):
        super().__init__()
        self.rnn = rnn
        self.readout = nn.Linear(rnn.hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        output, _ = self.rnn(x)  # (L, N, H)
        return self.readout(output[-1])  # (N, 1)


@dataclasses.dataclass
class Runs:
    """What :func:`train_adders` returns, one entry per seed.

    Attributes:
        seeds: the seeds, in order.
        ratios: test MSE / trivial MSE of each seed's model.
        steps: the optimiser steps taken (the same for all: they train together).
        models: each seed's trained :class:`Adder`, on the CPU.
    """

    seeds: list[int]
    ratios: list[float]
    steps: int
    models: list[Adder]

    def solved(self, success: float) -> int:
        """How many seeds' models reached test MSE below ``success`` times trivial."""
        return sum(ratio < success for ratio in self.ratios)


def train_adders(
    make_rnn: Callable[[], nn.Module],
    length: int,
    seeds: Sequence[int] = (0, 1, 2),
    *,
    steps: int = 600,
    lr: float = 1e-2,
    batch_size: int = 64,
    max_norm: float = 1.0,
    success: float = 0.1,
    device: torch.device | str = "cpu",
) -> Runs:
    """Train one :class:`Adder` per seed on sequences of one length, all at once.

    Each seed s seeds torch's global generator before ``make_rnn()`` and the
    read-out are built (so its initialisation is the one a model built alone
    after ``torch.manual_seed(s)`` gets) and draws its training batches from
    ``torch.Generator().manual_seed(s)``. Adam at ``lr``, each seed's
    gradient clipped to norm ``max_norm``; training stops early once every
    seed's mean loss over the last 25 steps is below half the success
    threshold.

    Args:
        make_rnn: builds a one-layer recurrent module with input size 2.
        length: the sequence length L.
        seeds: one model per seed.

    Returns:
        the :class:`Runs`, scored on the same test set (:data:`TEST_SEED`).
    """
    check_int("length", length, minimum=2)
    check_nonempty("seeds", seeds)
    check_int("steps", steps)
    check_number("success", success, positive=True)
    adders = []
    for seed in seeds:
        torch.manual_seed(seed)
        adders.append(Adder(make_rnn()))
    S = len(seeds)
    rnn = ensemble.stack([a.rnn for a in adders]).to(device)
    readout = ensemble.stack([a.readout for a in adders]).to(device)
    generators = [torch.Generator().manual_seed(seed) for seed in seeds]
    optimiser = torch.optim.Adam([*rnn.parameters(), *readout.parameters()], lr=lr)
    recent = []
    for step in range(1, steps + 1):
        batches = [
            adding_problem(length, batch_size, g, device=device) for g in generators
        ]
        x = torch.cat([b[0] for b in batches], dim=-1)  # (L, N, 2 S)
        y = torch.cat([b[1] for b in batches], dim=-1)  # (N, S)
        output, _ = rnn(x)
        losses = (readout(output[-1]) - y).square().mean(dim=0)  # (S,), each seed's MSE
        optimiser.zero_grad()
        losses.sum().backward()  # the sum: each seed gets its own loss's gradient
        ensemble.clip_grad_norm_per_member([rnn, readout], S, max_norm)
        optimiser.step()
        recent.append(losses.detach())
        if step >= 25:
            if (
                torch.stack(recent[-25:]).mean(0) < success / 2 * ADDING_BASELINE_MSE
            ).all():
                break
    ratios = _test_ratios(rnn, readout, length, S, device)
    models = []
    for adder, member_rnn, member_readout in zip(
        adders,
        ensemble.unstack(rnn.cpu(), adders[0].rnn, S),
        ensemble.unstack(readout.cpu(), adders[0].readout, S),
    ):
        adder.rnn, adder.readout = member_rnn, member_readout
        models.append(adder)
    return Runs(list(seeds), ratios, step, models)


def _test_ratios(rnn, readout, length: int, S: int, device) -> list[float]:
    """Each member's test MSE / trivial MSE, on the one test set."""
    generator = torch.Generator().manual_seed(TEST_SEED)
    x, y = adding_problem(length, TEST_SIZE, generator, device=device)
    with torch.no_grad():
        output, _ = rnn(x.repeat(1, 1, S))  # every member reads the same test set
        mse = (readout(output[-1]) - y).square().mean(dim=0)  # (S,)
    return (mse / ADDING_BASELINE_MSE).tolist()


def score(model: Adder, length: int, device: torch.device | str = "cpu") -> float:
    """One Adder's test MSE / trivial MSE on the test set of :func:`train_adders`."""
    generator = torch.Generator().manual_seed(TEST_SEED)
    x, y = adding_problem(length, TEST_SIZE, generator, device=device)
    with torch.no_grad():
        return (
            nn.functional.mse_loss(model.to(device)(x), y).item() / ADDING_BASELINE_MSE
        )
