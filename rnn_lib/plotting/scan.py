"""Chapter 10's figures: linear recurrences, the parallel scan, and what they learn.

Chapter 10 (*Linear recurrences and the parallel scan*) draws the Jacobian of a
linear diagonal recurrence on chapter 6's bound (:func:`plot_jacobian_panels`),
the rounds of the parallel scan of :mod:`rnn_lib.scan`
(:func:`scan_schedule`, :func:`plot_scan_schedule`), the loop against the
scan as L grows (:func:`plot_scan_timings`, rows from
:func:`rnn_lib.bench.scan_timings`), the LRU's ring and normalisation
(:func:`plot_lru_initialisation`), and the seeded comparisons of
``tools/linear_rnn_experiments.py`` (:func:`plot_adding_seeds`,
:func:`plot_equal_time_curves`, :func:`plot_parity_bands`).

It comes after :mod:`rnn_lib.plotting.gated` (chapter 8); read next
:mod:`rnn_lib.plotting.style`, which all figure modules share.
"""

from __future__ import annotations

import math
from itertools import cycle

import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, Rectangle

from rnn_lib.plotting.style import (
    BLUE,
    COLOURS,
    ORANGE,
    PURPLE,
    SKY_BLUE,
    SWEEP,
    canvas,
    new_figure,
)
from rnn_lib.validation import check_int, check_nonempty, check_number

#: The linear models' colours beside chapter 8's RNN, LSTM and GRU.
MODEL_COLOURS = {
    "RNN": COLOURS["rnn"],
    "LSTM": COLOURS["lstm"],
    "GRU": COLOURS["gru"],
    "minGRU": PURPLE,
    "LRU": SKY_BLUE,
}
#: The loop and the scan in the timing figure.
METHOD_COLOURS = {"loop": BLUE, "scan": ORANGE}


def _model_colour(label: str, index: int) -> str:
    return MODEL_COLOURS.get(label.split(",")[0], SWEEP[index % len(SWEEP)])


# ---------------------------------------------------------------------------
# The Jacobian on its bound


def plot_jacobian_panels(panels: dict):
    """``||dh_L/dh_t||_2`` against the distance ``L - t``, one panel per model.

    Args:
        panels: ``{title: {label: (distance, norms, bound)}}``, each curve as
            :func:`rnn_lib.diagnostics.jacobian_norms_at_radius` returns it:
            ``distance`` ``(L + 1,)``, ``norms`` ``(L + 1, N)``, ``bound``
            ``(L + 1,)``. The line is the median over the N sequences, the band
            spans the smallest to the largest, the wide pale line is the bound
            (a measurement on its bound lies on top of it).
            The panels share the y axis.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("panels", panels)
    fig, axes = new_figure(
        ncols=len(panels), width=4.2, height=3.4, sharey=True, squeeze=False
    )
    for ax, (title, curves) in zip(axes[0], panels.items()):
        check_nonempty("curves", curves)
        for colour, (label, (distance, norms, bound)) in zip(
            cycle(SWEEP), curves.items()
        ):
            d = distance.numpy()
            ax.plot(d, bound.numpy(), color=colour, linewidth=5, alpha=0.3)  # the bound
            low, high = norms.min(1).values.numpy(), norms.max(1).values.numpy()
            ax.fill_between(d, low, high, color=colour, alpha=0.2, linewidth=0)
            ax.plot(d, norms.median(dim=1).values.numpy(), color=colour, label=label)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("distance $m = L - t$ (steps)")
        ax.legend(
            fontsize=8, loc="lower left", title="wide, pale: bound", title_fontsize=8
        )
    axes[0, 0].set_ylabel(r"$\|d h_L / d h_t\|_2$")
    return fig


# ---------------------------------------------------------------------------
# The rounds of the scan


def scan_schedule(length: int) -> dict:
    """The rounds of :func:`rnn_lib.scan.linear_recurrence`'s scan, as steps t = 1..L.

    The same recursion as ``rnn_lib.scan._states``, on intervals of steps
    instead of tensors (a test runs it on numbers and checks it against the
    loop).

    With h_0 folded into the first input, the first map of every level of the
    up-sweep, ``F_{1:e}``, already is the state ``h_e``: the code copies it
    (``h[0] = b[0]``, and ``b`` itself when one map is left), with no
    arithmetic. So the down-sweep has work to do only at the levels of three
    maps or more: ``floor(log2(L / 3)) + 1`` rounds for L >= 3, none below,
    never more than the ``floor(log2 L)`` rounds of the up-sweep.

    Returns:
        ``{"up": levels, "free": states, "down": rounds}``. ``levels[k]``
        lists the maps of round k of the up-sweep as intervals ``(s, e)``: the
        composition of the steps s..e (level 0 holds ``(t, t)`` for every t).
        ``states`` lists the steps e whose state ``h_e`` the up-sweep leaves
        known (the e of each level's first map, from the top). ``rounds``
        lists the down-sweep's rounds of work, from the top: each round is a
        list of ``(target, source, (s, e))``, the state ``h_target`` computed
        from ``h_source`` by the map of the steps s..e.
    """
    check_int("length", length)
    up, free, down = [], [], []

    def sweep(maps):
        up.append(maps)
        if len(maps) > 1:
            sweep([(maps[i][0], maps[i + 1][1]) for i in range(0, len(maps) - 1, 2)])
        free.append(maps[0][1])  # h_e = beta_{1:e}, the first map's input: a copy
        work = [(e, s - 1, (s, e)) for s, e in maps[2::2]]
        if work:
            down.append(work)

    sweep([(t, t) for t in range(1, length + 1)])
    return {"up": up, "free": free, "down": down}


def _map_label(s: int, e: int) -> str:
    return f"$F_{{{s}}}$" if s == e else f"$F_{{{s}:{e}}}$"


def _bar(ax, s, e, y, label, colour, height=0.5) -> None:
    ax.add_patch(
        Rectangle(
            (s - 0.42, y - height / 2),
            e - s + 0.84,
            height,
            facecolor=colour,
            edgecolor=COLOURS["edge"],
            linewidth=0.8,
        )
    )
    ax.text((s + e) / 2, y, label, ha="center", va="center", fontsize=8)


def _arrow(ax, start, end, colour) -> None:
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle="-|>", mutation_scale=9, linewidth=1, color=colour
        )
    )


def plot_scan_schedule(length: int = 8):
    """The up-sweep and the down-sweep of the scan over ``length`` steps.

    Left, the up-sweep: the maps ``F_t`` (bottom row) composed pairwise, round
    after round, each bar the composition ``F_{s:e}`` of the steps it spans;
    a map left without a neighbour is not composed further: its state is
    computed on the way down, at its own round. Right, from the top: the
    states the up-sweep leaves known (open dots: the first map of each level,
    ``F_{1:e}``, is ``h_e`` once h_0 is folded into the first input), then
    each round of the down-sweep, which computes the states ``h_e`` of its
    bars (dots), each from a state already known (``h_{s-1}``) by one bar's
    map (arrow); grey dots are states known from the rows above. The right
    panel has one row per round of work, plus the top row.

    Returns:
        the matplotlib ``Figure``.
    """
    schedule = scan_schedule(length)
    levels, free, rounds = schedule["up"], schedule["free"], schedule["down"]
    depth = max(len(levels), len(rounds) + 1)
    fig, (left, right) = new_figure(
        ncols=2, width=0.55 * length + 1.6, height=0.6 * depth + 0.8
    )
    for ax in (left, right):
        canvas(ax, (-0.8, length + 0.8), (-0.75, depth - 0.3))
    for k, maps in enumerate(levels):
        for s, e in maps:
            _bar(
                left,
                s,
                e,
                k,
                _map_label(s, e),
                COLOURS["given"] if k == 0 else COLOURS["output"],
            )
        if k > 0:
            for s, e in maps:
                for child in levels[k - 1]:
                    if s <= child[0] and child[1] <= e:
                        _arrow(
                            left,
                            ((child[0] + child[1]) / 2, k - 0.75),
                            ((s + e) / 2, k - 0.25),
                            COLOURS["copy"],
                        )
    left.set_title("up-sweep: compose neighbours", fontsize=10)
    top = depth - 1
    right.plot(0, top, "o", color=COLOURS["guide"], markersize=7)
    right.text(0, top - 0.42, "$h_0$", ha="center", fontsize=8)
    for t in free:  # known from the up-sweep, no work: open dots
        right.plot(
            t,
            top,
            "o",
            markerfacecolor=COLOURS["paper"],
            markeredgecolor=COLOURS["gru"],
            markersize=7,
        )
        right.text(t, top - 0.42, f"$h_{{{t}}}$", ha="center", fontsize=8)
    known = {0, *free}
    for r, computed in enumerate(rounds):
        y = top - 1 - r
        for t in sorted(known):
            right.plot(t, y, "o", color=COLOURS["guide"], markersize=7)
        for target, source, (s, e) in computed:
            _bar(right, s, e, y, "", COLOURS["output"], height=0.28)
            _arrow(right, (source, y + 0.08), (target, y + 0.08), COLOURS["gru"])
            right.plot(target, y, "o", color=COLOURS["gru"], markersize=7)
            right.text(target, y - 0.42, f"$h_{{{target}}}$", ha="center", fontsize=8)
            known.add(target)
    right.set_title("down-sweep: one map from a known state", fontsize=10)
    return fig


# ---------------------------------------------------------------------------
# The loop against the scan


def plot_scan_timings(rows):
    """Median time of the loop and the scan against L, one panel per state size.

    Args:
        rows: dicts as :func:`rnn_lib.bench.scan_timings` returns them
            (``L, N, H, mode, loop_ms, scan_ms``); solid lines are the forward
            pass, dashed the forward and backward passes.

    Returns:
        the matplotlib ``Figure``, log-log.
    """
    check_nonempty("rows", rows)
    sizes = sorted({(r["N"], r["H"]) for r in rows})
    fig, axes = new_figure(ncols=len(sizes), width=4.2, height=3.4, squeeze=False)
    styles = {"forward": "-", "forward+backward": "--"}
    for ax, (N, H) in zip(axes[0], sizes):
        for mode, style in styles.items():
            chosen = [
                r for r in rows if (r["N"], r["H"]) == (N, H) and r["mode"] == mode
            ]
            if not chosen:
                continue
            lengths = [r["L"] for r in chosen]
            for method, colour in METHOD_COLOURS.items():
                ax.plot(
                    lengths,
                    [r[f"{method}_ms"] for r in chosen],
                    style,
                    marker="o",
                    markersize=3,
                    color=colour,
                    label=f"{method}, {mode}",
                )
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_title(f"N = {N}, H = {H}", fontsize=10)
        ax.set_xlabel("sequence length $L$")
    axes[0, 0].set_ylabel("median time (ms)")
    axes[0, 0].legend(fontsize=7)
    return fig


# ---------------------------------------------------------------------------
# The LRU


def plot_lru_initialisation(eigenvalues, r_min: float, r_max: float, gains: dict):
    """The LRU's eigenvalues on their ring, and what the normalisation does.

    Args:
        eigenvalues: lambda at initialisation, a complex tensor (state_size,).
        r_min, r_max: the ring's radii, shaded.
        gains: ``{label: (modulus, gain)}``: for each curve, tensors of
            ``|lambda|`` and of the measured ``E|h_t|^2 / E|input|^2`` of a
            long run; a label starting with "theory" is drawn dashed.

    Returns:
        the matplotlib ``Figure``.
    """
    check_number("r_min", r_min, minimum=0.0)
    check_number("r_max", r_max, positive=True)
    check_nonempty("gains", gains)
    fig, (ring, gain) = new_figure(ncols=2, width=3.8, height=3.4)
    angle = np.linspace(0, 2 * math.pi, 400)
    ring.fill_between(
        np.cos(angle) * r_max,
        np.sin(angle) * r_max,
        color=COLOURS["guide"],
        linewidth=0,
    )
    ring.fill(
        np.cos(angle) * r_min,
        np.sin(angle) * r_min,
        color=COLOURS["paper"],
        linewidth=0,
    )
    ring.plot(np.cos(angle), np.sin(angle), color=COLOURS["bound"], linewidth=0.8)
    lam = eigenvalues.detach().cpu()
    ring.plot(lam.real.numpy(), lam.imag.numpy(), ".", color=SKY_BLUE, markersize=4)
    ring.set_aspect("equal")
    ring.set_xlim(-1.1, 1.1)
    ring.set_ylim(-1.1, 1.1)
    ring.set_xlabel(r"$\mathrm{Re}\,\lambda$")
    ring.set_ylabel(r"$\mathrm{Im}\,\lambda$")
    ring.set_title("eigenvalues at initialisation", fontsize=10)
    for colour, (label, (modulus, values)) in zip(cycle(SWEEP), gains.items()):
        style = "--" if label.startswith("theory") else "o"
        gain.plot(
            modulus.cpu().numpy(),
            values.cpu().numpy(),
            style,
            color=colour,
            label=label,
            markersize=4,
        )
    gain.set_yscale("log")
    gain.set_xlabel(r"$|\lambda|$")
    gain.set_ylabel(r"$E|h_t|^2 \,/\, E|x_t B^\top|^2$")
    gain.set_title("the state's size", fontsize=10)
    gain.legend(fontsize=7)
    return fig


# ---------------------------------------------------------------------------
# The seeded comparisons of the long runs (book/results/)


def plot_adding_seeds(tables: dict, success: float):
    """Test MSE over the trivial predictor's against L, every seed of every model.

    Args:
        tables: ``{model: rows}``, each row ``{"length", "ratios"}`` with one
            ratio per seed, as ``tools/gated_experiments.py`` and
            ``tools/linear_rnn_experiments.py`` write them: each seed a dot,
            the median over the seeds a line.
        success: the ratio below which a run counts as solved (shaded).

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("tables", tables)
    check_number("success", success, positive=True)
    lengths = sorted({row["length"] for rows in tables.values() for row in rows})
    fig, ax = new_figure(width=6.4, height=3.8)
    lowest = 1.0
    for k, (model, rows) in enumerate(tables.items()):
        colour = _model_colour(model, k)
        shift = 1 + 0.05 * (k - (len(tables) - 1) / 2)  # side by side on a log axis
        for row in rows:
            x = [row["length"] * shift] * len(row["ratios"])
            ax.plot(x, row["ratios"], "o", color=colour, alpha=0.5, markersize=3.5)
            lowest = min(lowest, *row["ratios"])
        ax.plot(
            [row["length"] * shift for row in rows],
            [float(np.median(row["ratios"])) for row in rows],
            color=colour,
            label=model,
        )
    ax.axhline(1.0, color=COLOURS["baseline"], linestyle="--", linewidth=1)
    bottom = max(1e-4, lowest / 2)
    ax.axhspan(bottom, success, color=COLOURS["gru"], alpha=0.1, linewidth=0)
    ax.set_xscale("log", base=2)
    ax.set_xticks(lengths, [str(L) for L in lengths])
    ax.set_yscale("log")
    ax.set_ylim(bottom=bottom)
    ax.set_xlabel("sequence length $L$")
    ax.set_ylabel("test MSE / trivial MSE")
    ax.legend(fontsize=8, loc="lower right")
    return fig


def plot_equal_time_curves(runs: dict, *, smooth: int = 25):
    """Training loss against training seconds, one thin line per seed.

    Args:
        runs: ``{model: [run, ...]}``, each run with ``train_loss``,
            ``train_seconds`` (one per step), ``seconds`` and ``val_loss``
            (its final validation loss, a dot at its last second).
        smooth: the steps each point of the running mean spans.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("runs", runs)
    check_int("smooth", smooth)
    fig, ax = new_figure(width=6.0, height=3.6)
    for k, (model, model_runs) in enumerate(runs.items()):
        colour = _model_colour(model, k)
        for i, run in enumerate(model_runs):
            loss = torch.tensor(run["train_loss"])
            w = max(1, min(smooth, len(loss)))
            running = loss.unfold(0, w, 1).mean(1)  # (steps - w + 1,)
            first = i == 0
            ax.plot(
                run["train_seconds"][w - 1 :],
                running.tolist(),
                color=colour,
                linewidth=1,
                alpha=0.7,
                label=f"{model}: training, mean of {w} steps" if first else None,
            )
            ax.plot(
                run["seconds"],
                run["val_loss"],
                "o",
                color=colour,
                label=f"{model}: validation" if first else None,
            )
    ax.set_xlabel("training time (s)")
    ax.set_ylabel("cross-entropy (nats per character)")
    ax.legend(fontsize=8)
    return fig


def plot_parity_bands(runs: dict, bands):
    """Parity accuracy in each band of steps, one group of bars per model.

    Args:
        runs: ``{model: [run, ...]}``, each run's ``accuracy`` one number per
            band: bars are the mean over the runs (seeds), dots the runs.
        bands: ``[(first, last), ...]``, the steps t of each band; chance is 1/2.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("runs", runs)
    check_nonempty("bands", bands)
    fig, ax = new_figure(width=6.4, height=3.6)
    width = 0.8 / len(runs)
    for k, (model, model_runs) in enumerate(runs.items()):
        accuracy = np.array([run["accuracy"] for run in model_runs])  # (runs, bands)
        x = np.arange(len(bands)) + (k - (len(runs) - 1) / 2) * width
        colour = SWEEP[k % len(SWEEP)]
        ax.bar(x, accuracy.mean(0), width * 0.9, color=colour, alpha=0.7, label=model)
        for seed in accuracy:
            ax.plot(x, seed, "o", color=COLOURS["text"], markersize=3)
    ax.axhline(0.5, color=COLOURS["baseline"], linestyle="--", linewidth=1)
    ax.set_xticks(range(len(bands)), [f"steps {lo} to {hi}" for lo, hi in bands])
    ax.set_ylim(0, 1.02)  # from 0: chance, 1/2, is halfway up
    ax.set_ylabel("accuracy of the parity at step $t$")
    ax.legend(
        fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=len(runs)
    )
    return fig
