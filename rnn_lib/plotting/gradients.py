"""Chapter 6's figures: gradients that vanish or explode, and what helps.

Chapter 6 (*Vanishing and exploding gradients*) measures ``||dh_L/dh_t||``
against the bound ``sigma_max(W_hh) ** (L - t)``
(:func:`plot_jacobian_norms`, :func:`plot_jacobian_norm_grid` and the
explorer :func:`gradient_norm_explorer`, all fed by
:func:`rnn_lib.diagnostics.jacobian_norms_at_radius`), shows why the bound
needs the largest singular value (:func:`plot_transient_growth`), compares
initialisations (:func:`plot_gradient_norms_through_time`,
:func:`plot_memory_results`, which chapter 8 reuses, with one run or several
seeds per length) and clipping
(:func:`plot_cliff`, :func:`plot_clipping_directions`).

Read next: :mod:`rnn_lib.plotting.lm`, chapter 7's figures.
"""

from __future__ import annotations

from itertools import cycle

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import torch
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from rnn_lib import clipping, diagnostics
from rnn_lib.plotting.style import COLOURS, SURFACE_MAP, SWEEP, new_figure
from rnn_lib.validation import check_int, check_nonempty, check_number, check_tensor

JACOBIAN_LABEL = r"$\|d h_L / d h_t\|_2$"  # a total derivative (notation page)

# ---------------------------------------------------------------------------
# The Jacobian's norm against its bound
# ---------------------------------------------------------------------------


def _jacobian_curve(ax, curve, colour, bound_colour, alpha, label=None) -> None:
    """The median over the batch, a band from its smallest to its largest, the bound dashed."""
    distance, norms, bound = curve
    d = distance.numpy()
    ax.plot(d, norms.median(dim=1).values.numpy(), color=colour, label=label)
    low, high = norms.min(1).values.numpy(), norms.max(1).values.numpy()
    ax.fill_between(d, low, high, color=colour, alpha=alpha, linewidth=0)
    ax.plot(d, bound.numpy(), color=bound_colour, linestyle="--", linewidth=1)


def plot_jacobian_norms(curves: dict, ax=None, *, title: str | None = None):
    """Measured ``||dh_L/dh_t||`` against the distance ``L - t``, log scale, with the bound.

    Args:
        curves: ``{label: (distance, norms, bound)}`` as returned by
            :func:`rnn_lib.diagnostics.jacobian_norms_at_radius`: the line is
            the median over the batch, the band spans the smallest to the
            largest sequence, the dashed line of the same colour is the bound.
        ax: an existing axes to draw into (small multiples); a new figure if
            omitted.
        title: the axes' title.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("curves", curves)
    fig, ax = new_figure(width=6.4, height=4.0) if ax is None else (ax.figure, ax)
    for colour, (label, curve) in zip(cycle(SWEEP), curves.items()):
        _jacobian_curve(ax, curve, colour, colour, alpha=0.2, label=label)
    ax.set_yscale("log")
    ax.set_xlabel("distance $L - t$ (steps)")
    ax.set_ylabel(JACOBIAN_LABEL)
    ax.set_ylim(1e-12, 1e8)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(
        fontsize=8,
        title="solid: median\nshaded: smallest to\nlargest sequence\ndashed: bound",
        title_fontsize=8,
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
    )
    return fig


def _grid_legend(ax) -> None:
    """What the small multiples draw, once, in the first panel."""
    handles = [
        Line2D([], [], color=COLOURS["rnn"], label="median"),
        Patch(color=COLOURS["rnn"], alpha=0.25, label="smallest to largest sequence"),
        Line2D([], [], color=COLOURS["bound"], linestyle="--", label="bound"),
    ]
    ax.legend(handles=handles, fontsize=6, loc="upper right")


def plot_jacobian_norm_grid(
    radii=(0.5, 0.9, 1.0, 1.1, 1.5),
    nonlinearities=("tanh", "relu"),
    length: int = 60,
    *,
    device: torch.device | str | None = None,
):
    """Small multiples: one panel per (nonlinearity, spectral radius), measured curve and bound.

    The static counterpart of :func:`gradient_norm_explorer` for the HTML book;
    each panel is :func:`rnn_lib.diagnostics.jacobian_norms_at_radius`.

    Args:
        radii: the spectral radii of ``W_hh``, one column each.
        nonlinearities: ``'tanh'`` and/or ``'relu'``, one row each.
        length: the sequence length L.
        device: where the RNNs run.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("radii", radii)
    check_nonempty("nonlinearities", nonlinearities)
    check_int("length", length)
    fig, axes = new_figure(
        ncols=len(radii),
        nrows=len(nonlinearities),
        width=2.3,
        height=2.1,
        sharex=True,
        sharey=True,
        squeeze=False,
    )
    for row, nonlinearity in zip(axes, nonlinearities):
        for ax, radius in zip(row, radii):
            curve = diagnostics.jacobian_norms_at_radius(
                radius, nonlinearity, length, device=device
            )
            _jacobian_curve(ax, curve, COLOURS["rnn"], COLOURS["bound"], alpha=0.25)
            ax.set_yscale("log")
            ax.set_ylim(1e-12, 1e8)
            ax.set_title(rf"{nonlinearity}, $\sigma_{{\max}} = {radius:g}$", fontsize=9)
    _grid_legend(axes[0][0])
    for ax in axes[-1]:
        ax.set_xlabel("distance $L - t$")
    for ax in axes[:, 0]:
        ax.set_ylabel(JACOBIAN_LABEL)
    return fig


def gradient_norm_explorer(device: torch.device | str | None = None):
    """An ipywidgets explorer: spectral radius, nonlinearity and length in, the curve out.

    Draws :func:`plot_jacobian_norms` for a random RNN
    (:func:`rnn_lib.diagnostics.jacobian_norms_at_radius`) each time a slider
    moves. Uses only ``interact`` and sliders, common to ipywidgets 7 and 8. In
    the static HTML book the widgets render empty; a static figure follows it
    there.

    Returns:
        what ``ipywidgets.interact`` returns; the widgets and the first figure
        are displayed as a side effect.
    """
    import ipywidgets as widgets

    def draw(radius=1.0, nonlinearity="tanh", length=60):
        curve = diagnostics.jacobian_norms_at_radius(
            radius, nonlinearity, length, device=device
        )
        title = f"{nonlinearity}, L = {length}"
        fig = plot_jacobian_norms({f"radius {radius:.2f}": curve}, title=title)
        plt.show()
        plt.close(fig)

    settled = {"continuous_update": False}  # redraw when the slider is let go
    return widgets.interact(
        draw,
        radius=widgets.FloatSlider(
            value=1.0, min=0.5, max=1.5, step=0.05, description="radius", **settled
        ),
        nonlinearity=widgets.Dropdown(
            options=["tanh", "relu"], value="tanh", description="phi"
        ),
        length=widgets.IntSlider(
            value=60, min=5, max=200, step=5, description="length L", **settled
        ),
    )


def _power_norms(W: torch.Tensor, steps: int):
    """``||W^m||_2`` for m = 0..steps, as a NumPy array."""
    powers = [torch.eye(W.shape[0], dtype=W.dtype)]
    for _ in range(steps):
        powers.append(powers[-1] @ W)
    return torch.linalg.matrix_norm(torch.stack(powers), ord=2).numpy()


def plot_transient_growth(W: torch.Tensor, steps: int = 40):
    """``||W^m||_2`` against m, next to ``rho(W)^m`` and ``sigma_max(W)^m``.

    Shows why the gradient bound needs the largest singular value: a
    non-normal matrix can have spectral radius below 1 and still amplify for
    many steps before ``rho^m`` takes over.

    Args:
        W: a square matrix.
        steps: the largest power m drawn.

    Returns:
        the matplotlib ``Figure``.
    """
    check_tensor("W", W)
    check_int("steps", steps)
    W = W.detach().to(torch.float64).cpu()
    m = torch.arange(steps + 1).numpy()
    norms = _power_norms(W, steps)  # (steps + 1,)
    rho = diagnostics.spectral_radius(W).item()
    sigma = diagnostics.singular_values(W)[0].item()
    fig, ax = new_figure(width=6.0, height=3.6)
    measured = r"$\|W^m\|_2$ (measured)"
    ax.plot(m, norms, color=COLOURS["rnn"], marker="o", markersize=3, label=measured)
    bound = rf"$\sigma_{{\max}}^m$, $\sigma_{{\max}} = {sigma:.2f}$ (bound)"
    ax.plot(m, sigma**m, color=COLOURS["bound"], linestyle="--", label=bound)
    not_a_bound = rf"$\rho^m$, $\rho = {rho:.2f}$ (not a bound)"
    ax.plot(m, rho**m, color=COLOURS["torch"], linestyle=":", label=not_a_bound)
    ax.set_yscale("log")
    ax.set_ylim(min(norms.min(), rho**steps) / 2, norms.max() * 20)
    ax.set_xlabel("power $m$")
    ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# Initialisations compared
# ---------------------------------------------------------------------------


def plot_gradient_norms_through_time(curves: dict, *, xlabel: str = "step $t$"):
    """``||dL/dh_t||`` (the total derivative) against the step t, log scale, one line per model.

    Args:
        curves: ``{label: norms}``, each ``(L + 1, N)`` as returned by
            :func:`rnn_lib.diagnostics.gradient_norms_through_time`; the line is
            the median over the batch.
        xlabel: the x axis' label.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("curves", curves)
    fig, ax = new_figure(width=6.4, height=3.6)
    for colour, (label, norms) in zip(cycle(SWEEP), curves.items()):
        ax.plot(norms.median(dim=1).values.cpu().numpy(), color=colour, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"median $\|d \mathcal{L} / d h_t\|$")
    ax.legend(fontsize=8)
    return fig


def _runs_per_length(label: str, values, lengths) -> list[list[float]]:
    """``values`` as one list of runs per length: a number is one run, a sequence several."""
    if len(values) != len(lengths):
        raise ValueError(
            f"expected one value per length ({len(lengths)}) for {label!r}, got {len(values)}"
        )
    return [
        [float(v) for v in value] if hasattr(value, "__len__") else [float(value)]
        for value in values
    ]


def plot_memory_results(
    lengths, ratios: dict, threshold: float, *, xlabel: str = "sequence length $L$"
):
    """Test loss relative to the trivial predictor against sequence length, one line per model.

    Chapters 6 and 8 draw their adding-problem results with it.

    Args:
        lengths: the lengths trained on.
        ratios: ``{label: values}``, one value per length: a number (one run)
            or a sequence of numbers (one per seed). With several seeds the
            line joins their means, a dot marks each seed and a band spans the
            smallest to the largest.
        threshold: the ratio below which a run counts as a success (shaded).
        xlabel: the x axis' label.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("lengths", lengths)
    check_nonempty("ratios", ratios)
    check_number("threshold", threshold, positive=True)
    runs_of = {
        label: _runs_per_length(label, values, lengths)
        for label, values in ratios.items()
    }
    several = any(len(r) > 1 for runs in runs_of.values() for r in runs)
    fig, ax = new_figure(width=7.2 if several else 6.0, height=3.6)
    for colour, (label, runs) in zip(cycle(SWEEP), runs_of.items()):
        means = [sum(r) / len(r) for r in runs]
        ax.plot(lengths, means, color=colour, marker="o", label=label)
        if any(len(r) > 1 for r in runs):
            low, high = [min(r) for r in runs], [max(r) for r in runs]
            ax.fill_between(lengths, low, high, color=colour, alpha=0.15, linewidth=0)
            xs = [x for x, r in zip(lengths, runs) for _ in r]
            ys = [v for r in runs for v in r]
            ax.plot(xs, ys, color=colour, marker=".", linestyle="none", alpha=0.7)
    trivial, success = COLOURS["baseline"], COLOURS["gru"]
    ax.axhline(1.0, color=trivial, linestyle="--", linewidth=1)
    note = {"textcoords": "offset points", "fontsize": 8}
    ax.annotate(
        "trivial predictor", (lengths[0], 1.0), xytext=(0, 4), color=trivial, **note
    )
    ax.annotate(
        "success", (lengths[0], threshold), xytext=(0, -11), color=success, **note
    )
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(lengths), [str(v) for v in lengths])
    ax.set_yscale("log")
    bottom = ax.get_ylim()[0]  # shade down to the data: a log scale cannot show 0
    ax.axhspan(bottom, threshold, color=success, alpha=0.12, linewidth=0)
    ax.set_ylim(bottom=bottom)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test MSE / trivial MSE")
    if several:  # the legend outside, saying what the marks mean
        ax.legend(
            fontsize=8,
            title="line: mean over seeds\ndots: each seed\nshaded: smallest to largest",
            title_fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
        )
    else:
        ax.legend(fontsize=8)
    return fig


# ---------------------------------------------------------------------------
# Clipping
# ---------------------------------------------------------------------------


def _loss_map(fig, ax, w_grid, b_grid, loss_grid):
    """The loss over (w, b) as a colour map on a log scale; returns the map's limits."""
    low = max(loss_grid.min(), 1e-4)
    norm = mcolors.LogNorm(vmin=low, vmax=loss_grid.max())
    mesh = ax.pcolormesh(
        w_grid, b_grid, loss_grid, shading="auto", cmap=SURFACE_MAP, norm=norm
    )
    fig.colorbar(mesh, ax=ax, label="loss")
    limits = (
        (float(w_grid[0]), float(w_grid[-1])),
        (float(b_grid[0]), float(b_grid[-1])),
    )
    ax.set_xlim(*limits[0])
    ax.set_ylim(*limits[1])
    ax.set_xlabel("recurrent weight $w$")
    ax.set_ylabel("bias $b$")
    return limits


def _path_on_map(ax, limits, run, label, colour, width) -> None:
    """A run's (w, b) steps on the map; where it is thrown off the map, say where to."""
    (w_lo, w_hi), (b_lo, b_hi) = limits
    w, b = list(run["w"]), list(run["b"])
    inside = [i for i in range(len(w)) if w_lo <= w[i] <= w_hi and b_lo <= b[i] <= b_hi]
    path_colour = COLOURS["on_map"] if colour == COLOURS["rnn"] else colour
    ax.plot(
        [w[i] for i in inside],
        [b[i] for i in inside],
        color=path_colour,
        marker=".",
        markersize=4,
        linewidth=width,
        label=label,
    )
    if len(inside) < len(w):
        last = inside[-1]
        ax.annotate(
            f"thrown to\n$w$={w[last + 1]:.1f}, $b$={b[last + 1]:.1f}",
            (w[last], b[last]),
            xytext=(0.04, 0.05),  # the lower left corner: the legend sits top right
            textcoords="axes fraction",
            ha="left",
            va="bottom",
            fontsize=8,
            color=colour,
            arrowprops={"arrowstyle": "->", "color": colour},
            bbox={
                "boxstyle": "round",
                "facecolor": COLOURS["paper"],
                "alpha": 0.85,
                "linewidth": 0,
            },
        )


def plot_cliff(w_grid, b_grid, loss_grid, runs: dict, *, edge=None):
    """The loss surface of a one-unit RNN with its cliff, the paths of two runs, and their losses.

    Args:
        w_grid, b_grid: 1-D tensors of the recurrent weight and bias values.
        loss_grid: ``(len(b_grid), len(w_grid))`` loss values.
        runs: ``{label: {"w": [...], "b": [...], "loss": [...], "grad_norm": [...]}}``,
            at most two runs; the first is drawn wide, the second thin on top.
        edge: optional ``(w, b)``, two 1-D sequences: where the cliff should
            be, drawn dashed on the map. The surface panel's legend sits top
            right, the note on a run thrown off the map bottom left.

    The two lower panels count training steps from 1, as the book does
    (:func:`rnn_lib.train.train` and chapter 1's figures): entry ``i`` of a run's
    ``"loss"`` and ``"grad_norm"`` is drawn at training step ``i + 1``.

    Returns:
        the matplotlib ``Figure``.
    """
    if not 1 <= len(runs) <= 2:
        raise ValueError(f"runs must hold one or two runs, got {len(runs)}")
    grids = (torch.as_tensor(v).cpu().numpy() for v in (w_grid, b_grid, loss_grid))
    # the map across the top, the two curves side by side below it
    fig, grid = new_figure(ncols=2, nrows=2, width=3.6, height=2.9, squeeze=False)
    spec = grid[0][0].get_gridspec()
    for ax in grid[0]:
        ax.remove()
    ax_surface = fig.add_subplot(spec[0, :])
    ax_loss, ax_norm = grid[1]
    limits = _loss_map(fig, ax_surface, *grids)
    if edge is not None:
        edge_w, edge_b = (torch.as_tensor(v).cpu().numpy() for v in edge)
        ax_surface.plot(
            edge_w,
            edge_b,
            color=COLOURS["on_map"],
            linestyle="--",
            linewidth=1,
            label="edge",
        )
        ax_surface.set_xlim(*limits[0])  # the line may run past the map
        ax_surface.set_ylim(*limits[1])
    styles = [(COLOURS["lstm"], 2.4), (COLOURS["rnn"], 1.2)]  # (colour, line width)
    for (colour, width), (label, run) in zip(styles, runs.items()):
        _path_on_map(ax_surface, limits, run, label, colour, width)
        steps = range(1, len(run["loss"]) + 1)  # training steps, from 1
        ax_loss.plot(steps, run["loss"], color=colour, linewidth=width, label=label)
        ax_norm.plot(
            steps, run["grad_norm"], color=colour, linewidth=width, label=label
        )
    ax_surface.legend(fontsize=7, loc="upper right")
    for ax, name in ((ax_loss, "loss"), (ax_norm, "gradient norm (before clipping)")):
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel(name)
    ax_loss.legend(fontsize=8, loc="upper right")
    return fig


def _clipped(g: torch.Tensor, max_norm: float, clip_value: float):
    """``g`` clipped by :mod:`rnn_lib.clipping`: to norm ``max_norm``, to ``±clip_value``."""
    by_norm, by_value = torch.zeros(2, dtype=g.dtype), torch.zeros(2, dtype=g.dtype)
    by_norm.grad, by_value.grad = g.clone(), g.clone()
    clipping.clip_grad_norm_(by_norm, max_norm)
    clipping.clip_grad_value_(by_value, clip_value)
    return by_norm.grad, by_value.grad


def _vector_arrow(ax, vector, colour, label) -> None:
    """An arrow from the origin to ``vector``, with a legend entry."""
    tip = (vector[0].item(), vector[1].item())
    style = {"arrowstyle": "-|>", "color": colour, "linewidth": 2}
    ax.annotate("", xy=tip, xytext=(0, 0), arrowprops=style)
    ax.plot([], [], color=colour, linewidth=2, label=label)


def _clip_regions(ax, max_norm: float, clip_value: float) -> None:
    """Dotted: the circle norm clipping projects onto, the square value clipping clamps to."""
    edge = {"fill": False, "linestyle": ":"}
    ax.add_patch(plt.Circle((0, 0), max_norm, color=COLOURS["rnn"], **edge))
    corner, side = (-clip_value, -clip_value), 2 * clip_value
    ax.add_patch(plt.Rectangle(corner, side, side, color=COLOURS["lstm"], **edge))


def plot_clipping_directions(grad, max_norm: float, clip_value: float):
    """A 2-D gradient, its norm-clipped and its value-clipped versions, as arrows.

    Args:
        grad: a gradient with two entries.
        max_norm: the norm clipping threshold.
        clip_value: the value clipping threshold.

    Returns:
        the matplotlib ``Figure``.
    """
    check_number("max_norm", max_norm, positive=True)
    check_number("clip_value", clip_value, positive=True)
    g = torch.as_tensor(grad, dtype=torch.float64).flatten().cpu()
    if g.numel() != 2:
        raise ValueError(f"expected a gradient with 2 entries, got {g.numel()}")
    by_norm, by_value = _clipped(g, max_norm, clip_value)
    fig, ax = new_figure(width=4.6, height=4.2)
    _vector_arrow(ax, g, COLOURS["baseline"], "gradient")
    _vector_arrow(ax, by_norm, COLOURS["rnn"], f"norm-clipped to {max_norm:g}")
    _vector_arrow(
        ax, by_value, COLOURS["lstm"], f"value-clipped to $\\pm${clip_value:g}"
    )
    _clip_regions(ax, max_norm, clip_value)
    reach = max(g.abs().max().item(), max_norm, clip_value) * 1.15
    ax.set_xlim(-reach * 0.25, reach)
    ax.set_ylim(-reach * 0.25, reach)
    ax.set_aspect("equal")
    for line in (ax.axhline, ax.axvline):
        line(0, color=COLOURS["guide"], linewidth=0.8, zorder=0)
    ax.set_xlabel("$G_1$")
    ax.set_ylabel("$G_2$")
    ax.legend(fontsize=8, loc="upper left")
    return fig
