"""Tests for rnn_lib/plotting/lm.py, chapter 7's figures."""

import math

import matplotlib
import pytest
import torch

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402

from rnn_lib.lm_diagnostics import ContextCurve  # noqa: E402
from rnn_lib.plotting import (  # noqa: E402
    plot_context_curve,
    plot_lm_curves,
    plot_temperatures,
    plot_unit_correlations,
    plot_unit_text,
)
from rnn_lib.plotting.lm import ACTIVATION_MAP  # noqa: E402
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


def test_lm_curves_draw_the_training_text_loss_and_need_no_batch_losses():
    history = History(
        val_step=[10, 20], val_loss=[2.5, 2.4], train_eval_loss=[2.3, 2.0]
    )
    fig = plot_lm_curves({"small": history}, baseline=3.3)
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["small: training text"].get_ydata()) == [2.3, 2.0]
    assert not any("batches" in label for label in lines)
    plt.close(fig)


def test_temperatures_show_a_space_and_a_newline_visibly():
    fig = plot_temperatures(
        torch.tensor([2.0, 1.0, 0.0]), [" ", "\n", "a"], [1.0], top=3
    )
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == [
        "\u2423",
        "\u21b5",
        "a",
    ]
    plt.close(fig)


def curve(M=6, carried=2.0):
    gap = torch.tensor([1.0 / m for m in range(1, M + 1)], dtype=torch.float64)
    carried_loss = torch.full((M,), carried, dtype=torch.float64) + 0.1 * (
        -1
    ) ** torch.arange(M)
    return ContextCurve(
        context=torch.arange(1, M + 1),
        reset_loss=carried_loss + gap,
        carried_loss=carried_loss,
        gap_error=torch.full((M,), 0.01, dtype=torch.float64),
        windows=100,
    )


def test_context_curve_draws_the_cut_loss_the_carried_line_and_the_ngrams():
    fig = plot_context_curve({"RNN": curve()}, {"n-gram": {1: 3.3, 2: 2.5, 3: 2.0}})
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    cut = lines["RNN: state cut m characters back"]
    assert list(cut.get_xdata()) == [1, 2, 3, 4, 5, 6]
    expected = [2.0 + 1.0 / m for m in range(1, 7)]  # the carried mean plus the gap
    assert list(cut.get_ydata()) == pytest.approx(expected)
    assert list(lines["RNN: state carried"].get_ydata()) == pytest.approx([2.0, 2.0])
    orders = lines["n-gram (order n at n - 1)"]
    assert list(orders.get_xdata()) == [1, 2] and list(orders.get_ydata()) == [2.5, 2.0]
    assert list(lines["n-gram: n = 1"].get_ydata()) == [3.3, 3.3]
    assert ax.get_xscale() == "log"
    (band,) = ax.collections
    assert band.get_paths()[0].vertices[:, 1].max() == pytest.approx(3.0 + 0.02)
    plt.close(fig)


def test_unit_correlations_are_drawn_strongest_first():
    r = torch.tensor([0.1, -0.9, 0.5], dtype=torch.float64)
    fig = plot_unit_correlations(
        {"name": {"RNN": r, "RNN, untrained": r / 2}}, {"name": 0.05}
    )
    lines = {line.get_label(): line for line in fig.axes[0].get_lines()}
    assert list(lines["RNN"].get_ydata()) == pytest.approx([0.9, 0.5, 0.1])
    assert list(lines["RNN, untrained"].get_ydata()) == pytest.approx(
        [0.45, 0.25, 0.05]
    )
    assert list(lines["shuffled feature: largest"].get_ydata()) == [0.05, 0.05]
    plt.close(fig)


def test_unit_text_colours_each_character_by_its_activation(recwarn):
    text = "AB:\n ab\n床前明月光，疑是地上霜。"
    activation = torch.linspace(-1, 1, len(text))
    fig = plot_unit_text([("a unit", text, activation)], width=8)
    ax = fig.axes[0]
    (image,) = ax.images
    cells = image.get_array()  # (rows, columns, RGBA)
    # rows: "AB:↵", " ab↵", then the poem wrapped at 8 cells
    rows = [[0, 1, 2, 3], [4, 5, 6, 7], list(range(8, 16)), list(range(16, 20))]
    colours = matplotlib.colormaps[ACTIVATION_MAP]
    assert cells.shape == (4, 8, 4)
    for y, row in enumerate(rows):
        for x, i in enumerate(row):
            expected = colours((activation[i].item() + 1) / 2)
            assert tuple(cells[y, x]) == pytest.approx(expected)
    assert tuple(cells[0, 5]) == (1, 1, 1, 1)  # no character: white
    drawn = [t.get_text() for t in ax.texts]
    assert drawn[3] == "\u21b5" and drawn[4] == " " and drawn[8] == "床"
    positions = [t.get_position() for t in ax.texts]
    assert positions[3] == (3.5, -0.5) and positions[8] == (0.5, -2.5)
    fig.canvas.draw()
    assert not [w for w in recwarn if "missing from font" in str(w.message)]
    plt.close(fig)


def test_unit_text_rejects_an_activation_of_the_wrong_length():
    with pytest.raises(
        ValueError, match=r"expected the activation of 'x' of shape \(3,\)"
    ):
        plot_unit_text([("x", "abc", torch.zeros(4))])
    with pytest.raises(TypeError, match="activation of 'x' must be a torch.Tensor"):
        plot_unit_text([("x", "abc", [0.0, 0.0, 0.0])])
