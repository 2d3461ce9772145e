"""Tests for rnn_lib/plotting/gated.py, chapter 8's figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from rnn_lib import plotting  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_gradient_norm_panels_draw_one_median_per_model():
    norms = torch.rand(11, 5) + 0.1  # (L + 1, N)
    panels = {"before": {"RNN": norms, "LSTM": norms * 2}, "after": {"GRU": norms}}
    fig = plotting.plot_gradient_norm_panels(panels)
    assert [ax.get_title() for ax in fig.axes] == ["before", "after"]
    first = fig.axes[0].get_lines()
    assert len(first) == 2 and first[0].get_color() == plotting.COLOURS["rnn"]
    torch.testing.assert_close(
        torch.tensor(first[1].get_ydata()), (norms * 2).double().median(dim=1).values
    )
    assert all(ax.get_yscale() == "log" for ax in fig.axes)


def test_forget_gate_products_one_line_per_unit_highlighting_the_longest_memory():
    T, N, H = 6, 3, 4
    f = torch.full((T, N, H), 0.5)
    f[:, :, 2] = 0.99  # unit 2 remembers
    P = torch.cat([f.flip(0).cumprod(0).flip(0), torch.ones(1, N, H)])  # (T + 1, N, H)
    fig = plotting.plot_forget_gate_products({"a": P, "b": P})
    lines = fig.axes[0].get_lines()
    assert len(fig.axes) == 2 and len(lines) == H
    assert [line.get_color() == plotting.COLOURS["lstm"] for line in lines] == [
        False,
        False,
        True,
        False,
    ]
    assert list(lines[2].get_xdata()) == list(range(T, -1, -1))  # distance T - t
    assert lines[2].get_ydata()[0] == pytest.approx(0.99**T)


@pytest.mark.parametrize(
    "call",
    [
        lambda: plotting.plot_gradient_norm_panels({}),
        lambda: plotting.plot_forget_gate_products({}),
    ],
)
def test_empty_input_is_refused(call):
    with pytest.raises(ValueError, match="must hold at least one item, got none"):
        call()


def test_highlight_must_be_a_count():
    P = torch.ones(3, 2, 2)
    with pytest.raises(TypeError, match="highlight must be an int, got float"):
        plotting.plot_forget_gate_products({"a": P}, highlight=1.0)
    with pytest.raises(ValueError, match="highlight must be >= 0, got -1"):
        plotting.plot_forget_gate_products({"a": P}, highlight=-1)


def test_labels_use_the_books_letters():
    """L is the sequence length (T is the sampling temperature), d a total derivative."""
    import torch

    from rnn_lib import plotting

    fig = plotting.plot_forget_gate_products({"a": torch.rand(6, 2, 3)})
    ax = fig.axes[0]
    assert "L - t" in ax.get_xlabel() and "f_L" in ax.get_ylabel()
    assert "T" not in ax.get_xlabel() + ax.get_ylabel()
    fig = plotting.plot_gradient_norm_panels({"a": {"RNN": torch.rand(6, 2)}})
    assert r"d\mathcal{L} / dh_t" in fig.axes[0].get_ylabel()
    assert r"\partial" not in fig.axes[0].get_ylabel()
