"""Tests for rnn_lib/plotting/bptt.py, chapter 5's figures: the centred-difference
error, the benchmark and truncated BPTT."""

import math

import matplotlib.pyplot as plt
import pytest
import torch
from matplotlib.patches import Rectangle

from rnn_lib.bench import MODES, Case
from rnn_lib.plotting import (
    plot_bptt_benchmark,
    plot_centred_differences,
    plot_truncated_bptt,
)


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
    cases = {"loss at 5": (5, {"full": full, "truncated": truncated})}
    fig = plot_truncated_bptt(cases, chunk=2)
    (ax,) = fig.axes
    by_label = {line.get_label(): line for line in ax.get_lines()}
    assert list(by_label["full"].get_xdata()) == [1, 2, 3, 4, 5]
    assert list(by_label["truncated"].get_xdata()) == [4, 5]
    assert list(by_label["truncated: exactly 0"].get_xdata()) == [1, 2, 3]
    assert "full: exactly 0" not in by_label
    assert ax.get_yscale() == "log"
    assert ax.get_title() == "loss at 5"
    vertical = [
        line.get_xdata()[0]
        for line in ax.get_lines()
        if not line.get_label()[0].isalpha()
    ]
    assert 5 in vertical  # the loss's step
    assert {2.5, 4.5} <= set(vertical)  # the chunk starts
    plt.close(fig)


def test_truncated_draws_a_panel_per_case_and_the_reach_on_top():
    best = (4, {"full": [0.1, 0.2, 0.4, 0.8], "truncated": [0.0, 0.0, 0.4, 0.8]})
    worst = (3, {"full": [0.1, 0.2, 0.4], "truncated": [0.0, 0.0, 0.4]})
    reach = {"full": [0, 1, 2, 3], "truncated": [0, 1, 0, 1]}
    fig = plot_truncated_bptt({"best": best, "worst": worst}, chunk=2, reach=reach)
    by_title = {ax.get_title(): ax for ax in fig.axes}
    assert sorted(by_title) == ["best", "reach of every loss", "worst"]
    reach_ax, best_ax = by_title["reach of every loss"], by_title["best"]
    assert reach_ax.get_position().width > 1.5 * best_ax.get_position().width  # on top
    reach_lines = {line.get_label(): line for line in reach_ax.get_lines()}
    assert list(reach_lines["truncated"].get_ydata()) == [0, 1, 0, 1]
    worst_lines = {line.get_label(): line for line in by_title["worst"].get_lines()}
    assert list(worst_lines["truncated"].get_xdata()) == [3]
    assert worst_lines["truncated"].get_marker() == "o"  # a lone point still shows
    assert by_title["worst"].get_xlim() == (0.5, 4.5)  # panels span the longest case
    plt.close(fig)


def test_truncated_rejects_bad_arguments():
    with pytest.raises(ValueError, match="cases must hold at least one item, got none"):
        plot_truncated_bptt({}, chunk=2)
    with pytest.raises(TypeError, match="chunk must be an int, got float"):
        plot_truncated_bptt({"a": (2, {"full": [1.0, 2.0]})}, chunk=2.0)
    with pytest.raises(TypeError, match="loss_step must be an int, got float"):
        plot_truncated_bptt({"a": (2.0, {"full": [1.0, 2.0]})}, chunk=2)
    with pytest.raises(ValueError, match="reach must hold at least one item, got none"):
        plot_truncated_bptt({"a": (2, {"full": [1.0, 2.0]})}, chunk=2, reach={})


def test_centred_differences_draws_errors_and_models_and_skips_nans():
    steps = [1e-1, 1e-2, 1e-3]
    errors = {"float64": [1e-3, 1e-5, 1e-7], "float32": [1e-3, 1e-4, math.nan]}
    models = {"float64": [2e-3, 2e-5, 2e-7], "float32": [2e-3, 2e-4, 2e-2]}
    fig = plot_centred_differences(steps, errors, models)
    (ax,) = fig.axes
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    by_label = {line.get_label(): line for line in ax.get_lines()}
    assert set(by_label) == {"float64", "float64: model", "float32", "float32: model"}
    assert list(by_label["float64: model"].get_ydata()) == [2e-3, 2e-5, 2e-7]
    model_32 = list(by_label["float32: model"].get_ydata())
    assert model_32[:2] == [2e-3, 2e-4] and math.isnan(model_32[2])
    assert by_label["float32"].get_color() == by_label["float32: model"].get_color()
    plt.close(fig)


def test_centred_differences_rejects_a_model_without_errors():
    with pytest.raises(
        ValueError, match=r"expected model labels among the error labels, got \['b'\]"
    ):
        plot_centred_differences([0.1], {"a": [1.0]}, {"b": [1.0]})
    with pytest.raises(ValueError, match="steps must hold at least one item, got none"):
        plot_centred_differences([], {"a": []}, {})
