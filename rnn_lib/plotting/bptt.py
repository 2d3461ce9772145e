"""Chapter 5's figures: what the hand-derived backward pass costs and reaches.

Chapter 5 (*Backpropagation through time*) times :class:`rnn_lib.RNN`, whose
backward pass is :mod:`rnn_lib.bptt`, against ``torch.nn.RNN``
(:func:`plot_bptt_benchmark`, rows from :func:`rnn_lib.bench.run_benchmark`),
then shows how far back a truncated gradient reaches
(:func:`plot_truncated_bptt`).

Read next: :mod:`rnn_lib.plotting.gradients`, chapter 6's figures.
"""

from __future__ import annotations

from itertools import cycle

from rnn_lib.plotting.style import COLOURS, MODELS, new_figure
from rnn_lib.validation import check_int, check_nonempty


def _case_label(row: dict) -> str:
    """A benchmark case as a tick label: its sizes, and its layers if not one plain."""
    label = f"L={row['L']} N={row['N']}\nH_in={row['H_in']} H={row['H']}"
    if row["num_layers"] > 1 or row["bidirectional"]:
        label += f"\n{row['num_layers']} layers"
        label += ", bi" if row["bidirectional"] else ""
    return label


def _benchmark_panel(ax, rows: list[dict], mode: str, width: float = 0.38) -> None:
    """One mode: a pair of bars per case, the ratio rnn_lib / torch above each pair."""
    xs = range(len(rows))
    ours = [r["rnn_lib_ms"] for r in rows]
    theirs = [r["torch_ms"] for r in rows]
    left, right = [x - width / 2 for x in xs], [x + width / 2 for x in xs]
    ax.bar(left, ours, width, color=COLOURS["rnn_lib"], label="rnn_lib.RNN")
    ax.bar(right, theirs, width, color=COLOURS["torch"], label="torch.nn.RNN")
    for x, r in zip(xs, rows):
        top = max(r["rnn_lib_ms"], r["torch_ms"])
        ax.annotate(
            f"{r['ratio']:.2f}x",
            (x, top),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
    ax.set_xticks(list(xs), [_case_label(r) for r in rows], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(min(ours + theirs) / 2, max(ours + theirs) * 6)  # room for the legend
    ax.set_ylabel("median time (ms)")
    ax.set_title(mode, fontsize=10)


def plot_bptt_benchmark(
    results: list[dict], modes: tuple[str, ...] = ("forward", "forward+backward")
):
    """Median times of rnn_lib.RNN and torch.nn.RNN per case, one panel per mode.

    Args:
        results: rows as returned by :func:`rnn_lib.bench.run_benchmark`.
        modes: which modes to draw, one panel each.

    Returns:
        the matplotlib ``Figure``; each pair of bars carries the ratio
        rnn_lib / torch above it.
    """
    check_nonempty("modes", modes)
    rows = {mode: [r for r in results if r["mode"] == mode] for mode in modes}
    missing = [mode for mode, found in rows.items() if not found]
    if missing:
        raise ValueError(f"expected results for every mode, got none for {missing}")
    fig, axes = new_figure(ncols=len(modes), width=4.4, height=3.6, squeeze=False)
    for ax, mode in zip(axes[0], modes):
        _benchmark_panel(ax, rows[mode], mode)
    axes[0][0].legend(fontsize=8, loc="upper left")
    return fig


def _truncated_curve(ax, norms, colour: str, label: str, first: bool) -> None:
    """One curve of norms on a log scale, its exact zeros as a band along the bottom."""
    values = [float(v) for v in norms]
    steps = range(1, len(values) + 1)
    shown = [(t, v) for t, v in zip(steps, values) if v > 0]
    zeros = [t for t, v in zip(steps, values) if v == 0]
    # Later curves thinner and dashed, so that where they coincide both show.
    line = (
        {"linewidth": 3.0, "linestyle": "-"}
        if first
        else {"linewidth": 1.4, "linestyle": "--"}
    )
    ax.plot(*zip(*shown), color=colour, label=label, **line)
    if zeros:
        band = {"linewidth": 4, "solid_capstyle": "butt"}
        ax.plot(
            zeros,
            [0.02] * len(zeros),
            color=colour,
            label=f"{label}: exactly 0",
            transform=ax.get_xaxis_transform(),
            **band,
        )


def plot_truncated_bptt(curves: dict, chunk: int):
    """Gradient norm per input step, full BPTT against truncated BPTT.

    Args:
        curves: ``{label: norms}``, each a 1-D tensor (or sequence) of length L
            holding ``||dL/dx_t||`` for t = 1..L. Exact zeros (steps the truncated
            gradient never reaches) cannot sit on a log scale; they are drawn
            as a band along the bottom of the axes.
        chunk: the truncation length k; a dotted line marks each chunk start.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("curves", curves)
    check_int("chunk", chunk)
    fig, ax = new_figure(width=6.4, height=3.4)
    length = max(len(norms) for norms in curves.values())
    for start in range(chunk, length, chunk):
        ax.axvline(
            start + 0.5, color=COLOURS["guide"], linestyle=":", linewidth=1, zorder=0
        )
    for i, (colour, (label, norms)) in enumerate(zip(cycle(MODELS), curves.items())):
        _truncated_curve(ax, norms, colour, label, first=i == 0)
    ax.set_yscale("log")
    ax.set_xlabel("input step $t$")
    ax.set_ylabel(r"$\|d\mathcal{L} / d x_t\|$")
    ax.legend(fontsize=8, loc="upper left")
    return fig
