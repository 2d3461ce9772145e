"""Tests for rnn_lib/plotting/seq2seq.py, chapter 9's figures."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib import plotting  # noqa: E402
from rnn_lib.plotting.seq2seq import MODEL_COLOURS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _curves(K, seeds=3):
    g = torch.Generator().manual_seed(0)
    return {
        "without attention": torch.rand(seeds, K, generator=g),
        "with attention": torch.rand(seeds, K, generator=g),
    }


def _mean_line(ax, label):
    (line,) = [line for line in ax.get_lines() if line.get_label() == label]
    return line


def test_accuracy_by_length_one_line_per_seed_and_the_mean():
    lengths = list(range(1, 8))
    curves = _curves(len(lengths))
    fig = plotting.plot_accuracy_by_length(lengths, curves, max_train_length=5)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 2 * (3 + 1)
    for colour, (label, values) in zip(MODEL_COLOURS, curves.items()):
        mean = _mean_line(ax, label)
        assert mean.get_color() == colour
        np.testing.assert_allclose(mean.get_ydata(), values.double().mean(0).numpy())
    (shade,) = ax.patches
    assert shade.get_label() == "longer than any training source"
    assert shade.get_x() == pytest.approx(5.5)  # the lengths after the longest trained


def test_no_shade_when_every_length_was_trained():
    fig = plotting.plot_accuracy_by_length([1, 2, 3], _curves(3), max_train_length=3)
    assert not fig.axes[0].patches


def test_training_curves_and_beam_search_two_panels():
    curves = _curves(4)
    fig = plotting.plot_training_curves([0, 10, 20, 30], curves, curves)
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    fig = plotting.plot_beam_search([1, 2, 4, 8], curves, curves)
    assert len(fig.axes) == 2
    gained = _mean_line(fig.axes[1], "with attention")
    assert list(gained.get_xdata()) == [1, 2, 4, 8]
    values = curves["with attention"].double()
    expected = (100 * (values - values[:, :1])).mean(0).numpy()
    np.testing.assert_allclose(gained.get_ydata(), expected)  # points over greedy
    assert gained.get_ydata()[0] == 0


def test_exposure_bias_dashed_when_free_running():
    curves = _curves(5)
    fig = plotting.plot_exposure_bias(range(1, 6), curves, curves)
    ax = fig.axes[0]
    assert _mean_line(ax, "with attention, teacher-forced").get_linestyle() == "-"
    assert _mean_line(ax, "with attention, free-running").get_linestyle() == "--"


def test_attention_maps_draw_chinese_without_missing_glyphs():
    weights = torch.softmax(torch.randn(5, 6), dim=1)  # (L_tgt, L_src)
    maps = [
        {
            "source": list("三千零五十二"),
            "output": ["3", "0", "5", "2", "<eos>"],
            "weights": weights,
            "title": "三千零五十二 -> 3052",
        },
        {
            "source": "three thousand and fifty two".split(),
            "output": ["3", "0", "5", "2", "<eos>"],
            "weights": weights[:, :5],
            "title": "3,052 in English",
        },
        {
            "source": ["七"],
            "output": ["7", "<eos>"],
            "weights": torch.ones(2, 1),
            "title": "七",
        },
    ]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig = plotting.plot_attention_maps(maps, ncols=2)
        fig.canvas.draw()
    assert not [w for w in caught if "missing from font" in str(w.message)]
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 3
    assert [t.get_text() for t in panels[0].get_xticklabels()] == list("三千零五十二")
    np.testing.assert_allclose(panels[0].images[0].get_array(), weights.numpy())
    assert not fig.axes[3].axison  # the empty fourth cell of the 2 x 2 grid


@pytest.mark.parametrize(
    "call, error, message",
    [
        (
            lambda: plotting.plot_accuracy_by_length([1, 2], {}, 2),
            ValueError,
            "accuracy must hold at least one item",
        ),
        (
            lambda: plotting.plot_accuracy_by_length([1, 2], _curves(3), 2),
            ValueError,
            r"expected accuracy\['without attention'\] of shape \(seeds, 2\), got \(3, 3\)",
        ),
        (
            lambda: plotting.plot_accuracy_by_length(
                [1], {"a": [[0.5]]}, max_train_length=1
            ),
            TypeError,
            r"accuracy\['a'\] must be a torch.Tensor, got list",
        ),
        (
            lambda: plotting.plot_beam_search(
                [1], {str(i): torch.ones(1, 1) for i in range(3)}, {}
            ),
            ValueError,
            "log_prob must hold at most 2 models, got 3",
        ),
        (
            lambda: plotting.plot_attention_maps(
                [{"source": ["a"], "output": ["1", "2"], "weights": torch.ones(1, 1)}]
            ),
            ValueError,
            r"expected maps\[0\]\['weights'\] of shape \(2, 1\)",
        ),
    ],
)
def test_arguments_are_checked(call, error, message):
    with pytest.raises(error, match=message):
        call()
