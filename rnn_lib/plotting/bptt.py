"""Chapter 5's figures: what the hand-derived backward pass costs and reaches.

Chapter 5 (*Backpropagation through time*) draws the error of a centred
difference against its step beside the chapter's error model
(:func:`plot_centred_differences`), times :class:`rnn_lib.RNN`, whose
backward pass is :mod:`rnn_lib.bptt`, against ``torch.nn.RNN``
(:func:`plot_bptt_benchmark`, rows from :func:`rnn_lib.bench.run_benchmark`),
then shows how far back a truncated gradient reaches, for the best and the
worst placed loss (:func:`plot_truncated_bptt`).

Read next: :mod:`rnn_lib.plotting.gradients`, chapter 6's figures.
"""

from __future__ import annotations

import math
from itertools import cycle

from matplotlib.ticker import NullFormatter

from rnn_lib.plotting.style import COLOURS, MODELS, SWEEP, new_figure
from rnn_lib.validation import check_int, check_nonempty


def plot_centred_differences(steps, errors: dict, models: dict):
    """The error of a centred difference against its step, measured beside its model.

    Args:
        steps: the steps epsilon, one per point (any order).
        errors: ``{label: [|centred difference - exact| for each step]}``, one
            line with markers per label (a precision, say); ``NaN`` leaves a
            point out, and the model's point at the same step with it.
        models: ``{label: [modelled error for each step]}``, drawn dashed in the
            colour of the same label in ``errors``.

    Returns:
        the matplotlib ``Figure``, log-log.
    """
    check_nonempty("steps", steps)
    check_nonempty("errors", errors)
    unknown = sorted(set(models) - set(errors))
    if unknown:
        raise ValueError(f"expected model labels among the error labels, got {unknown}")
    eps = [float(e) for e in steps]
    fig, ax = new_figure(width=6.0, height=3.6)
    for colour, (label, values) in zip(cycle(SWEEP), errors.items()):
        measured = [float(v) for v in values]
        ax.plot(eps, measured, color=colour, marker="o", label=label)
        if label in models:
            model = [
                math.nan if math.isnan(m) else float(v)
                for m, v in zip(measured, models[label])
            ]
            ax.plot(eps, model, color=colour, linestyle="--", label=f"{label}: model")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(r"step $\varepsilon$")
    ax.set_ylabel("|centred difference - exact|")
    ax.legend(fontsize=8)
    return fig


def _case_label(row: dict) -> str:
    """A benchmark case as a tick label: its sizes, and its layers if not one plain."""
    label = f"L={row['L']} N={row['N']}\nH_in={row['H_in']}\nH_out={row['H']}"
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
    ax.yaxis.set_minor_formatter(NullFormatter())  # ticks, but no 2x10^0, 3x10^0, ...
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
        else {"linewidth": 1.4, "linestyle": "--", "marker": "o", "markersize": 3}
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


def _chunk_marks(ax, chunk: int, length: int) -> None:
    """A dotted line before the first step of every chunk but the first."""
    for start in range(chunk, length, chunk):
        ax.axvline(
            start + 0.5, color=COLOURS["guide"], linestyle=":", linewidth=1, zorder=0
        )


def _reach_panel(ax, reach: dict, chunk: int) -> None:
    """How many steps back the gradient of a loss at step s reaches, for every s."""
    length = max(len(r) for r in reach.values())
    _chunk_marks(ax, chunk, length)
    for i, (colour, (label, values)) in enumerate(zip(cycle(MODELS), reach.items())):
        steps = range(1, len(values) + 1)
        style = {"linewidth": 2.4} if i == 0 else {"linewidth": 1.4, "marker": "."}
        ax.plot(steps, [float(v) for v in values], color=colour, label=label, **style)
    ax.set_xlabel("step $s$ of the loss")
    ax.set_ylabel("steps back its gradient reaches")
    ax.set_title("reach of every loss", fontsize=10)
    ax.legend(fontsize=8, loc="upper left")


def plot_truncated_bptt(cases: dict, chunk: int, reach: dict | None = None):
    """Gradient norm per input step for a loss at one step, full against truncated BPTT.

    Args:
        cases: ``{title: (loss_step, {label: norms})}``, one panel each: the loss
            sits at ``loss_step`` (1-based, marked by a grey line) and each
            ``norms`` is a 1-D tensor (or sequence) holding ``||dL/dx_t||`` for
            t = 1, 2, ...; pass at most ``loss_step`` values, since later inputs
            cannot reach the loss. Exact zeros (steps the truncated gradient
            never reaches) cannot sit on a log scale; they are drawn as a band
            along the bottom of the axes.
        chunk: the truncation length; a dotted line marks each chunk start.
        reach: optional ``{label: [steps back, for a loss at s = 1, 2, ...]}``,
            drawn in a panel across the top, the cases in a row below it.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("cases", cases)
    check_int("chunk", chunk)
    if reach is None:
        fig, grid = new_figure(ncols=len(cases), width=4.0, height=3.4, squeeze=False)
        axes = list(grid[0])
    else:  # the reach across the top, the cases side by side below it
        check_nonempty("reach", reach)
        columns = max(2, len(cases))
        fig, grid = new_figure(
            ncols=columns, nrows=2, width=7.2 / columns, height=2.9, squeeze=False
        )
        spec = grid[0][0].get_gridspec()
        for ax in grid[0]:
            ax.remove()
        _reach_panel(fig.add_subplot(spec[0, :]), reach, chunk)
        axes = list(grid[1])
    length = max(len(n) for _, curves in cases.values() for n in curves.values())
    for ax, (title, (loss_step, curves)) in zip(axes, cases.items()):
        check_int("loss_step", loss_step)
        check_nonempty("curves", curves)
        _chunk_marks(ax, chunk, length)
        ax.axvline(loss_step, color=COLOURS["baseline"], linewidth=1, zorder=0)
        pairs = zip(cycle(MODELS), curves.items())
        for i, (colour, (label, norms)) in enumerate(pairs):
            _truncated_curve(ax, norms, colour, label, first=i == 0)
        ax.set_xlim(0.5, length + 0.5)
        ax.set_yscale("log")
        ax.set_xlabel("input step $t$")
        ax.set_ylabel(r"$\|d\mathcal{L} / d x_t\|$")
        ax.set_title(title, fontsize=10)
        ax.legend(fontsize=7, loc="upper left")
    return fig
