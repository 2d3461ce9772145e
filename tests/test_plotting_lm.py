"""Tests for rnn_lib/plotting/lm.py, chapter 7's figures."""

import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

from rnn_lib.plotting import plot_lm_curves, plot_temperatures  # noqa: E402
from rnn_lib.train import History  # noqa: E402


def test_lm_curves_draw_validation_points_baseline_and_perplexity_axis():
    history = History(
        train_loss=[3.0 - 0.01 * i for i in range(100)],
        train_seconds=[0.1 * i for i in range(1, 101)],
        val_step=[50, 100],
        val_loss=[2.5, 2.2],
    )
    fig = plot_lm_curves({"carried": history}, baseline=3.3, smooth=10)
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["carried: validation"].get_xdata()) == [50, 100]
    assert list(lines["carried: validation"].get_ydata()) == [2.5, 2.2]
    assert list(lines["unigram baseline"].get_ydata()) == [3.3, 3.3]
    smoothed = next(line for line in ax.get_lines() if len(line.get_xdata()) == 91)
    assert smoothed.get_ydata()[0] == pytest.approx(
        3.0 - 0.01 * 4.5
    )  # mean of steps 1..10
    (perplexity_axis,) = ax.child_axes
    assert perplexity_axis.get_ylabel() == "perplexity"


def test_temperatures_show_the_softmax_of_the_scaled_logits():
    logits = torch.tensor([2.0, 0.0, 1.0])
    fig = plot_temperatures(logits, ["a", "b", "c"], [0.5, 2.0], top=2)
    for ax, temperature in zip(fig.axes, [0.5, 2.0]):
        heights = [bar.get_height() for bar in ax.patches]
        probs = torch.softmax(logits / temperature, dim=0)
        assert heights == pytest.approx([probs[0].item(), probs[2].item()])
        assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "c"]
        assert ax.get_title() == f"T = {temperature}"
    assert math.isclose(sum(torch.softmax(logits / 0.5, 0)).item(), 1.0, rel_tol=1e-6)


def test_temperatures_draw_one_panel_and_refuse_a_zero_temperature():
    fig = plot_temperatures(
        torch.tensor([2.0, 0.0, 1.0]), ["a", "b", "c"], [1.0], top=3
    )
    assert [ax.get_title() for ax in fig.axes] == ["T = 1.0"]
    with pytest.raises(ValueError, match=r"temperatures\[1\] must be positive, got 0"):
        plot_temperatures(torch.tensor([2.0, 0.0]), ["a", "b"], [1.0, 0])
    with pytest.raises(TypeError, match="logits must be a torch.Tensor, got list"):
        plot_temperatures([2.0, 0.0], ["a", "b"], [1.0])
