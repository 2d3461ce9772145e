"""Tests for rnn_lib/plotting/order.py, chapter 1's figures: plot_model_comparison
and plot_twin_differences."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib.plotting import plot_model_comparison, plot_twin_differences  # noqa: E402

HISTORIES = {
    "one step": {"step": [0, 10, 20], "loss": [0.7, 0.69, 0.7], "accuracy": [0.5] * 3},
    "recurrent": {
        "step": [0, 10, 20],
        "loss": [0.7, 0.3, 0.1],
        "accuracy": [0.5, 0.8, 1.0],
    },
}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_model_comparison_draws_every_history_in_both_panels():
    fig = plot_model_comparison(
        HISTORIES,
        chance_loss=0.693,
        chance_accuracy=0.5,
        styles={"recurrent": {"color": "#0072B2", "linewidth": 3}},
    )
    loss_ax, accuracy_ax = fig.axes
    for ax, key in ((loss_ax, "loss"), (accuracy_ax, "accuracy")):
        curves = {
            line.get_label(): line
            for line in ax.get_lines()
            if not line.get_label().startswith("_")
        }
        assert set(curves) == set(HISTORIES)
        for label, line in curves.items():
            assert list(line.get_xdata()) == HISTORIES[label]["step"]
            assert list(line.get_ydata()) == HISTORIES[label][key]
        # The chance line is the only horizontal line besides the curves.
        flat = [line for line in ax.get_lines() if line.get_label().startswith("_")]
        assert [list(line.get_ydata()) for line in flat] == [
            [{"loss": 0.693, "accuracy": 0.5}[key]] * 2
        ]
    recurrent = next(
        line for line in loss_ax.get_lines() if line.get_label() == "recurrent"
    )
    assert mcolors.to_hex(recurrent.get_color()) == "#0072b2"
    assert recurrent.get_linewidth() == 3
    one_step = next(
        line for line in loss_ax.get_lines() if line.get_label() == "one step"
    )
    assert (
        mcolors.to_hex(one_step.get_color()) == "#e69f00"
    )  # the first Okabe-Ito colour


def test_model_comparison_draws_every_run_with_one_legend_entry():
    runs = [HISTORIES["recurrent"], {**HISTORIES["recurrent"], "loss": [0.7, 0.4, 0.2]}]
    fig = plot_model_comparison(
        {"one step": HISTORIES["one step"], "recurrent": runs},
        styles={"recurrent": {"color": "#0072B2"}},
    )
    loss_ax, accuracy_ax = fig.axes
    lines = [
        line
        for line in loss_ax.get_lines()
        if mcolors.to_hex(line.get_color()) == "#0072b2"
    ]
    assert [list(line.get_ydata()) for line in lines] == [
        HISTORIES["recurrent"]["loss"],
        [0.7, 0.4, 0.2],
    ]
    legend = [text.get_text() for text in accuracy_ax.get_legend().get_texts()]
    assert legend == ["one step", "recurrent (2 runs)"]


def test_model_comparison_draws_a_dotted_solved_line_on_accuracy_only():
    fig = plot_model_comparison(HISTORIES, chance_accuracy=0.5, solved_accuracy=0.99)
    loss_ax, accuracy_ax = fig.axes
    flat = [
        line for line in accuracy_ax.get_lines() if line.get_label().startswith("_")
    ]
    levels = {line.get_linestyle(): list(line.get_ydata()) for line in flat}
    assert levels == {"--": [0.5, 0.5], ":": [0.99, 0.99]}
    assert "solved: 99%" in [text.get_text() for text in accuracy_ax.texts]
    assert len(loss_ax.get_lines()) == len(HISTORIES)  # no level on the loss
    with pytest.raises(
        ValueError, match=r"solved_accuracy must be in \[0, 1\], got 99"
    ):
        plot_model_comparison(HISTORIES, solved_accuracy=99)


def test_model_comparison_without_chance_lines():
    fig = plot_model_comparison(HISTORIES)
    assert all(len(ax.get_lines()) == len(HISTORIES) for ax in fig.axes)


def test_model_comparison_validation():
    with pytest.raises(
        ValueError, match="histories must hold at least one item, got none"
    ):
        plot_model_comparison({})
    with pytest.raises(ValueError, match=r"history 'bad' lacks \['accuracy'\]"):
        plot_model_comparison({"bad": {"step": [0], "loss": [1.0]}})
    with pytest.raises(
        ValueError, match=r"histories\['none'\] must hold at least one item"
    ):
        plot_model_comparison({"none": []})
    with pytest.raises(TypeError, match="chance_loss must be a number, got str"):
        plot_model_comparison(HISTORIES, chance_loss="0.69")


def test_twin_differences_one_row_per_model_with_the_values_as_bars():
    differences = {
        "one step": torch.tensor([0.0, 1.4, 0.0, 1.4]),
        "recurrent": [0.0, 2.0, 3.0, 2.5],
    }
    fig = plot_twin_differences(differences, (2, 4), colours={"one step": "#999999"})
    assert len(fig.axes) == 2
    for ax, (label, values) in zip(fig.axes, differences.items()):
        heights = [patch.get_height() for patch in ax.patches]
        assert heights == pytest.approx([float(v) for v in values])
        assert [
            patch.get_x() + patch.get_width() / 2 for patch in ax.patches
        ] == pytest.approx([1, 2, 3, 4])
        assert sorted(line.get_xdata()[0] for line in ax.get_lines()) == [2, 4]
        # each row names its model and has a y axis with ticks and a label
        assert ax.get_title(loc="left") == label
        assert ax.get_ylabel() == "distance"
        assert ax.spines["left"].get_visible()
        assert len(ax.get_yticks()) >= 2
    assert mcolors.to_hex(fig.axes[0].patches[0].get_facecolor()) == "#999999"


def test_twin_differences_validation():
    with pytest.raises(
        ValueError, match="differences must hold at least one item, got none"
    ):
        plot_twin_differences({}, (1, 2))
    with pytest.raises(ValueError, match=r"same length, got \[2, 3\]"):
        plot_twin_differences({"a": [0, 1], "b": [0, 1, 2]}, (1, 2))
    with pytest.raises(TypeError, match=r"marker_steps\[1\] must be an int, got float"):
        plot_twin_differences({"a": [0, 1]}, (1, 2.0))
