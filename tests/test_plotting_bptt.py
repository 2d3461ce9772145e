"""Tests for rnn_lib/plotting/bptt.py, chapter 5's figures: the benchmark and truncated BPTT."""

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.patches import Rectangle

from rnn_lib.bench import MODES, Case
from rnn_lib.plotting import plot_bptt_benchmark, plot_truncated_bptt


def fake_results(cases, modes=MODES):
    rows = []
    for i, case in enumerate(cases):
        for mode in modes:
            ours, theirs = 1.0 + i, 2.0 + 3 * i
            rows.append(
                {
                    "L": case.L,
                    "N": case.N,
                    "H_in": case.H_in,
                    "H": case.H,
                    "num_layers": case.num_layers,
                    "bidirectional": case.bidirectional,
                    "mode": mode,
                    "rnn_lib_ms": ours,
                    "torch_ms": theirs,
                    "ratio": ours / theirs,
                }
            )
    return rows


def test_benchmark_one_panel_per_mode_two_bars_per_case():
    cases = [Case(5, 2, 3, 4), Case(6, 1, 2, 3, num_layers=2, bidirectional=True)]
    fig = plot_bptt_benchmark(fake_results(cases))
    assert [ax.get_title() for ax in fig.axes] == ["forward", "forward+backward"]
    for ax in fig.axes:
        bars = [
            p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() > 0
        ]
        assert sorted(b.get_height() for b in bars) == [1.0, 2.0, 2.0, 5.0]
        assert [t.get_text() for t in ax.texts] == ["0.50x", "0.40x"]
        labels = [t.get_text() for t in ax.get_xticklabels()]
        assert labels[1].endswith("2 layers, bi")
    plt.close(fig)


def test_benchmark_rejects_missing_mode():
    rows = fake_results([Case(5, 2, 3, 4)], modes=["forward"])
    with pytest.raises(
        ValueError,
        match=r"expected results for every mode, got none for \['forward\+backward'\]",
    ):
        plot_bptt_benchmark(rows)


def test_truncated_draws_nonzero_steps_and_a_band_for_zeros():
    full = torch.tensor([0.1, 0.2, 0.4, 0.8, 1.6])
    truncated = torch.tensor([0.0, 0.0, 0.0, 0.8, 1.6])
    fig = plot_truncated_bptt({"full": full, "truncated": truncated}, chunk=2)
    ax = fig.axes[0]
    by_label = {line.get_label(): line for line in ax.get_lines()}
    assert list(by_label["full"].get_xdata()) == [1, 2, 3, 4, 5]
    assert list(by_label["truncated"].get_xdata()) == [4, 5]
    assert list(by_label["truncated: exactly 0"].get_xdata()) == [1, 2, 3]
    assert "full: exactly 0" not in by_label
    assert ax.get_yscale() == "log"
    plt.close(fig)


def test_truncated_rejects_bad_arguments():
    with pytest.raises(
        ValueError, match="curves must hold at least one item, got none"
    ):
        plot_truncated_bptt({}, chunk=2)
    with pytest.raises(TypeError, match="chunk must be an int, got float"):
        plot_truncated_bptt({"full": [1.0, 2.0]}, chunk=2.0)
