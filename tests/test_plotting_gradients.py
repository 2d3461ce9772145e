"""Tests for rnn_lib/plotting/gradients.py, chapter 6's figures and explorer.

The curves they draw come from rnn_lib.diagnostics.jacobian_norms_at_radius,
tested in tests/test_diagnostics.py.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib import diagnostics, plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _surface(fig):
    """The cliff figure's map: the axes whose x axis is the recurrent weight."""
    (ax,) = [ax for ax in fig.axes if ax.get_xlabel() == "recurrent weight $w$"]
    return ax


def test_figures_draw():
    curves = {
        "r": diagnostics.jacobian_norms_at_radius(
            1.0, length=10, hidden_size=4, batch_size=2
        )
    }
    assert plotting.plot_jacobian_norms(curves).axes[0].get_yscale() == "log"
    grid = plotting.plot_jacobian_norm_grid(radii=(0.5, 1.5), length=5)
    assert len(grid.axes) == 4
    fig = plotting.plot_transient_growth(
        torch.tensor([[0.5, 2.0], [0.0, 0.5]]), steps=5
    )
    assert len(fig.axes[0].lines) == 3
    fig = plotting.plot_gradient_norms_through_time({"a": torch.rand(6, 3)})
    assert fig.axes[0].lines[0].get_xdata().tolist() == list(range(6))
    fig = plotting.plot_memory_results([5, 10], {"a": [0.01, 1.0]}, threshold=0.1)
    assert fig.axes[0].get_yscale() == "log"
    assert fig.axes[0].get_legend().get_title().get_text() == ""  # one run: no seeds
    run = {
        "w": [1.0, 9.0],
        "b": [0.0, 9.0],
        "loss": [0.1, 0.2],
        "grad_norm": [1.0, 2.0],
    }
    grid_w, grid_b = torch.linspace(0, 2, 5), torch.linspace(-1, 1, 4)
    fig = plotting.plot_cliff(grid_w, grid_b, torch.rand(4, 5) + 0.01, {"plain": run})
    assert "thrown to" in _surface(fig).texts[0].get_text()


def test_jacobian_figures_say_what_the_bands_span():
    curves = {
        "r": diagnostics.jacobian_norms_at_radius(
            1.0, length=10, hidden_size=4, batch_size=2
        )
    }
    legend = plotting.plot_jacobian_norms(curves).axes[0].get_legend()
    assert "smallest to" in legend.get_title().get_text()
    grid = plotting.plot_jacobian_norm_grid(radii=(0.5, 1.5), length=5)
    labels = [t.get_text() for t in grid.axes[0].get_legend().get_texts()]
    assert labels == ["median", "smallest to largest sequence", "bound"]
    assert grid.axes[0].get_ylabel() == r"$\|d h_L / d h_t\|_2$"  # total derivative


def test_memory_results_with_seeds_draw_means_dots_and_bands():
    seeds = {"a": [[0.01, 0.03], [0.5, 1.5]], "b": [0.2, 0.4]}
    fig = plotting.plot_memory_results([5, 10], seeds, threshold=0.1)
    (ax,) = fig.axes
    lines = [line for line in ax.get_lines() if line.get_label() == "a"]
    assert list(lines[0].get_ydata()) == pytest.approx([0.02, 1.0])  # the means
    dots = [line for line in ax.get_lines() if line.get_linestyle() == "None"]
    assert sorted(dots[0].get_ydata()) == [0.01, 0.03, 0.5, 1.5]  # every seed
    assert len(ax.collections) == 1  # one band, for the start with several seeds
    assert "smallest to largest" in ax.get_legend().get_title().get_text()
    with pytest.raises(
        ValueError, match="expected one value per length \\(2\\) for 'a', got 1"
    ):
        plotting.plot_memory_results([5, 10], {"a": [0.1]}, threshold=0.1)


def test_cliff_note_stays_clear_of_the_legend_and_the_edge_is_drawn():
    w_grid, b_grid = torch.linspace(0.8, 2.4, 50), torch.linspace(-0.6, 0.5, 40)
    run = {  # thrown off the map from (1.7, -0.33), as in chapter 6
        "w": [2.0, 1.7, 8.9],
        "b": [0.0, -0.33, 14.7],
        "loss": [0.1, 2.0, 0.16],
        "grad_norm": [0.3, 80.0, 0.0],
    }
    clipped = {**run, "w": [2.0, 1.7, 1.6], "b": [0.0, -0.33, -0.2]}
    edge = (w_grid, 0.55 - 0.5 * w_grid)
    fig = plotting.plot_cliff(
        w_grid,
        b_grid,
        torch.rand(40, 50) + 0.01,
        {"plain": run, "clipped": clipped},
        edge=edge,
    )
    ax = _surface(fig)
    renderer = fig.canvas.get_renderer()
    note = ax.texts[0].get_window_extent(renderer)
    legend = ax.get_legend().get_window_extent(renderer)
    assert not note.overlaps(legend)
    assert "edge" in [line.get_label() for line in ax.get_lines()]
    (loss_ax,) = [
        a
        for a in fig.axes
        if a.get_ylabel() == "loss" and a.get_xlabel() == "training step"
    ]
    assert ax.get_position().width > 1.5 * loss_ax.get_position().width  # map on top
    assert ax.get_xlim() == pytest.approx((0.8, 2.4))  # the map's, not the edge's
    # training steps are counted from 1, as rnn_lib.train and the book count them
    (norm_ax,) = [a for a in fig.axes if a.get_ylabel().startswith("gradient norm")]
    for panel in (loss_ax, norm_ax):
        for line in panel.get_lines():
            assert list(line.get_xdata()) == [1, 2, 3]


def test_clipping_directions_uses_both_clippers():
    fig = plotting.plot_clipping_directions([6.0, 1.5], max_norm=2.0, clip_value=1.0)
    tips = [
        text.xy for text in fig.axes[0].texts
    ]  # gradient, norm-clipped, value-clipped
    assert tips[0] == pytest.approx((6.0, 1.5))
    norm_tip = torch.tensor(tips[1])
    assert norm_tip.norm().item() == pytest.approx(2.0, rel=1e-5)
    assert (norm_tip[1] / norm_tip[0]).item() == pytest.approx(
        1.5 / 6.0
    )  # same direction
    assert tips[2] == pytest.approx((1.0, 1.0))  # clamped entry by entry
    with pytest.raises(ValueError, match="expected a gradient with 2 entries, got 3"):
        plotting.plot_clipping_directions([1.0, 2.0, 3.0], 1.0, 1.0)


def test_explorer_draws_once():
    pytest.importorskip("ipywidgets")
    plotting.gradient_norm_explorer()  # displays the widgets and one figure


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (
            lambda: plotting.plot_jacobian_norms({}),
            ValueError,
            "curves must hold at least one item, got none",
        ),
        (
            lambda: plotting.plot_gradient_norms_through_time({}),
            ValueError,
            "curves must hold at least one item, got none",
        ),
        (
            lambda: plotting.plot_cliff(
                torch.zeros(2), torch.zeros(2), torch.ones(2, 2), {}
            ),
            ValueError,
            "runs must hold one or two runs, got 0",
        ),
        (
            lambda: plotting.plot_jacobian_norm_grid(radii=(1.0,), length=5.0),
            TypeError,
            "length must be an int, got float",
        ),
        (
            lambda: plotting.plot_transient_growth([[0.5]], steps=3),
            TypeError,
            "W must be a torch.Tensor, got list",
        ),
        (
            lambda: plotting.plot_memory_results([5], {"a": [0.5]}, threshold=0),
            ValueError,
            "threshold must be positive, got 0",
        ),
        (
            lambda: plotting.plot_clipping_directions([1.0, 2.0], "2", 1.0),
            TypeError,
            "max_norm must be a number, got str",
        ),
    ],
)
def test_validation_messages(call, error, message):
    with pytest.raises(error, match=message):
        call()
