"""Tests for rnn_lib/plotting/scan.py, chapter 10's figures."""

import math

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import FancyArrowPatch, Rectangle  # noqa: E402

from rnn_lib import plotting  # noqa: E402
from rnn_lib.plotting.scan import MODEL_COLOURS  # noqa: E402
from rnn_lib.scan import linear_recurrence  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("L", [1, 2, 3, 5, 6, 7, 8, 11, 12, 64, 100])
def test_the_schedule_run_on_numbers_is_the_scan(L):
    # The states the up-sweep leaves known are h_e = F_{1:e}(h_0), one per
    # level; then the down-sweep's rounds of work, with the maps they name:
    # every state is computed once, from a state known before, and equals the
    # loop's.
    g = torch.Generator().manual_seed(L)
    a = torch.rand(L, generator=g, dtype=torch.float64)
    b = torch.randn(L, generator=g, dtype=torch.float64)
    h_0 = 0.7
    schedule = plotting.scan_schedule(L)

    def apply(h, s, e):  # the map of the steps s..e
        for t in range(s, e + 1):
            h = a[t - 1] * h + b[t - 1]
        return h

    sizes = [len(level) for level in schedule["up"]]
    assert schedule["free"] == [level[0][1] for level in schedule["up"][::-1]]
    assert schedule["free"] == [2**k for k in reversed(range(len(sizes)))]
    known = {0: h_0} | {e: apply(h_0, 1, e) for e in schedule["free"]}
    for round_ in schedule["down"]:
        assert round_, "a round of the down-sweep with nothing to compute"
        for target, source, (s, e) in round_:
            assert source in known and target not in known and source == s - 1
            known[target] = apply(known[source], s, e)
    assert sorted(known) == list(range(L + 1))
    expected = linear_recurrence(
        a[:, None, None], b[:, None, None], torch.full((1, 1), h_0, dtype=torch.float64)
    )
    torch.testing.assert_close(
        torch.stack([known[t] for t in range(1, L + 1)]), expected.flatten()
    )
    # the up-sweep composes neighbours: each level half as many maps (rounded
    # down), floor(log2 L) rounds of work
    assert sizes[0] == L and all(n // 2 == m for n, m in zip(sizes, sizes[1:]))
    assert len(sizes) - 1 == math.floor(math.log2(L))
    # the down-sweep works only at the levels of three maps or more (the code's
    # h[2::2] is empty below): floor(log2(L / 3)) + 1 rounds, never more than up
    rounds = math.floor(math.log2(L / 3)) + 1 if L >= 3 else 0
    assert len(schedule["down"]) == rounds <= len(sizes) - 1


def test_schedule_of_seven_steps_has_two_rounds_each_way():
    # The chapter's figure: L = 7, two rounds up (F_1:2, F_3:4, F_5:6, then
    # F_1:4) and two down (h_6; then h_3, h_5, h_7); h_1, h_2, h_4 are copies.
    schedule = plotting.scan_schedule(7)
    assert len(schedule["up"]) - 1 == 2
    assert schedule["free"] == [4, 2, 1]
    assert [[target for target, _, _ in r] for r in schedule["down"]] == [
        [6],
        [3, 5, 7],
    ]


def test_schedule_figure_draws_both_sweeps():
    fig = plotting.plot_scan_schedule(7)
    assert [ax.get_title() for ax in fig.axes] == [
        "up-sweep: compose neighbours",
        "down-sweep: one map from a known state",
    ]
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert {"$F_{1:4}$", "$F_{5:6}$", "$F_{7}$"} <= labels
    states = [t.get_text() for t in fig.axes[1].texts if t.get_text()]
    assert sorted(states) == sorted(["$h_0$", *(f"$h_{{{t}}}$" for t in range(1, 8))])
    # one arrow (and one bar) per state computed with work: h_3, h_5, h_6, h_7;
    # the copies h_1, h_2, h_4 are open dots in the top row, with no arrow
    right = fig.axes[1]
    arrows = [p for p in right.patches if isinstance(p, FancyArrowPatch)]
    bars = [p for p in right.patches if isinstance(p, Rectangle)]
    assert len(arrows) == len(bars) == 4
    rows = {round(line.get_ydata()[0], 6) for line in right.get_lines()}
    assert len(rows) == 3  # the top row and two rounds of work
    open_dots = [
        line.get_xdata()[0]
        for line in right.get_lines()
        if line.get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0))
    ]
    assert sorted(open_dots) == [1, 2, 4]
    with pytest.raises(ValueError, match=r"length must be >= 1, got 0"):
        plotting.scan_schedule(0)


def test_jacobian_panels_draw_median_and_bound_per_curve():
    distance = torch.arange(6)
    norms = torch.rand(6, 4) + 0.5
    bound = 0.9 ** distance.double()
    fig = plotting.plot_jacobian_panels(
        {
            "tanh": {"r = 0.9": (distance, norms, bound)},
            "linear": {"r": (distance, norms, bound)},
        }
    )
    assert len(fig.axes) == 2 and fig.axes[0].get_yscale() == "log"
    bound_line, median = fig.axes[0].get_lines()
    torch.testing.assert_close(
        torch.tensor(median.get_ydata()).float(), norms.median(dim=1).values
    )
    assert bound_line.get_linewidth() > median.get_linewidth()
    assert list(bound_line.get_ydata()) == pytest.approx(bound.tolist())


def test_timings_one_panel_per_size_and_a_line_per_method_and_mode():
    rows = [
        {"L": L, "N": N, "H": H, "mode": mode, "loop_ms": L * 0.01, "scan_ms": 1.0}
        for N, H in [(2, 4), (8, 16)]
        for L in (4, 16)
        for mode in ("forward", "forward+backward")
    ]
    fig = plotting.plot_scan_timings(rows)
    assert [ax.get_title() for ax in fig.axes] == ["N = 2, H = 4", "N = 8, H = 16"]
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4 and list(lines[0].get_ydata()) == [0.04, 0.16]


def test_lru_initialisation_shows_the_ring_and_the_gains():
    lam = torch.polar(torch.tensor([0.5, 0.9]), torch.tensor([0.1, 2.0]))
    modulus = torch.tensor([0.5, 0.9])
    fig = plotting.plot_lru_initialisation(
        lam,
        0.4,
        0.95,
        {"measured": (modulus, 1 / (1 - modulus**2)), "theory": (modulus, modulus)},
    )
    ring, gain = fig.axes
    points = ring.get_lines()[-1]
    assert list(points.get_xdata()) == pytest.approx(lam.real.tolist())
    assert gain.get_lines()[1].get_linestyle() == "--"


def test_adding_seeds_dots_every_seed_and_a_median_line():
    tables = {
        "RNN": [
            {"length": 10, "ratios": [0.01, 0.02, 0.5]},
            {"length": 20, "ratios": [1.0, 1.0, 1.0]},
        ],
        "minGRU": [{"length": 10, "ratios": [0.01, 0.01, 0.01]}],
    }
    fig = plotting.plot_adding_seeds(tables, success=0.1)
    lines = fig.axes[0].get_lines()
    medians = [line for line in lines if line.get_label() in tables]
    assert [line.get_color() for line in medians] == [
        MODEL_COLOURS["RNN"],
        MODEL_COLOURS["minGRU"],
    ]
    assert list(medians[0].get_ydata()) == [0.02, 1.0]


def test_equal_time_curves_and_parity_bands():
    run = {
        "train_loss": [3.0, 2.0, 1.5, 1.2],
        "train_seconds": [1, 2, 3, 4],
        "seconds": 4,
        "val_loss": 1.4,
    }
    fig = plotting.plot_equal_time_curves(
        {"GRU": [run], "minGRU": [run, run]}, smooth=2
    )
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert labels.count("minGRU: validation") == 1 and len(labels) == 6
    runs = {
        "a": [{"accuracy": [1.0, 0.5]}],
        "b": [{"accuracy": [0.6, 0.5]}, {"accuracy": [0.8, 0.5]}],
    }
    fig = plotting.plot_parity_bands(runs, [(1, 40), (41, 80)])
    heights = [bar.get_height() for bar in fig.axes[0].patches]
    assert heights == pytest.approx([1.0, 0.5, 0.7, 0.5])
    assert fig.axes[0].get_ylim()[0] == 0  # bars from 0: chance is halfway up
    with pytest.raises(ValueError, match=r"runs must hold at least one item"):
        plotting.plot_parity_bands({}, [(1, 2)])
