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
    run = {
        "w": [1.0, 9.0],
        "b": [0.0, 9.0],
        "loss": [0.1, 0.2],
        "grad_norm": [1.0, 2.0],
    }
    grid_w, grid_b = torch.linspace(0, 2, 5), torch.linspace(-1, 1, 4)
    fig = plotting.plot_cliff(grid_w, grid_b, torch.rand(4, 5) + 0.01, {"plain": run})
    assert "thrown to" in fig.axes[0].texts[0].get_text()


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
