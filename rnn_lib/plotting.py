"""Figures and ipywidgets explorers for the book's chapters.

One helper, one place: a chapter that draws a figure calls a function from
here rather than defining its own. Every function returns the matplotlib
``Figure`` it drew, so a notebook can show it and a test can inspect it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from rnn_lib import clipping, diagnostics, init

# Colours used consistently across chapters (colour-blind-safe Okabe-Ito).
COLOURS = {
    "rnn": "#0072B2",
    "lstm": "#D55E00",
    "gru": "#009E73",
    "baseline": "#999999",
    "bound": "#000000",
    "torch": "#E69F00",
    "rnn_lib": "#0072B2",
}


def new_figure(ncols: int = 1, nrows: int = 1, width: float = 6.0, height: float = 3.6, **kwargs):
    """A figure with the course's size and a grid of axes; returns ``(fig, axes)``."""
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(width * ncols, height * nrows), layout="constrained", **kwargs
    )
    return fig, axes


def plot_unrolled_rnn(
    steps: int = 4,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    show_output: bool = False,
    readout: bool = False,
    folded: bool = False,
):
    """Draw an RNN unrolled through time: one box per state, one arrow per use of a weight.

    Every box in a row applies the same weights; an arrow's colour names the
    weight it multiplies by (blue input-to-hidden, green hidden-to-hidden,
    orange readout). The states that ``nn.RNN`` returns in ``h_n`` get a thick
    orange edge and their index in ``h_n``: a forward chain ends at the last
    step, a backward chain at the first. Time steps are numbered from 1 as in
    the book's equations (``x_1`` is ``input[0]`` in code).

    Args:
        steps: number of time steps L drawn, at least 1.
        num_layers: stacked layers, drawn bottom to top.
        bidirectional: also draw each layer's backward chain (right to left).
        show_output: draw the top layer's output ``o_t`` (both directions
            concatenated), which is what ``nn.RNN`` returns as ``output``.
        readout: draw the output layer ``y_t = W_hy h_t + b_y`` on top.
        folded: add a panel on the left with the folded (looped) network.

    Returns:
        the matplotlib ``Figure``.
    """
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    from matplotlib.path import Path

    for name, value in (("steps", steps), ("num_layers", num_layers)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, got {value!r}")
    directions = 2 if bidirectional else 1
    colours = {
        "ih": COLOURS["rnn"],
        "hh": COLOURS["gru"],
        "hy": COLOURS["lstm"],
        "copy": "#555555",
    }
    box_w, box_h, dx, dy = 0.9, 0.55, 1.7, 1.1
    single = num_layers == 1 and not bidirectional  # label the arrows with W_ih, W_hh

    def box(ax, x, y, text, face="white", h_n=None):
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0.04,rounding_size=0.12",
                facecolor=face,
                edgecolor="#333333" if h_n is None else COLOURS["torch"],
                linewidth=1.2 if h_n is None else 2.6,
            )
        )
        ax.text(x, y, text, ha="center", va="center", fontsize=11)
        if h_n is not None:  # the state's index in h_n
            ax.text(
                x + box_w / 2 - 0.02,
                y + box_h / 2 - 0.02,
                str(h_n),
                color=COLOURS["torch"],
                fontsize=7,
                ha="right",
                va="top",
                fontweight="bold",
            )

    def arrow(ax, points, kind, label=None):
        ax.add_patch(
            FancyArrowPatch(
                path=Path(points),
                arrowstyle="-|>",
                mutation_scale=12,
                linewidth=1.3,
                color=colours[kind],
            )
        )
        if label:
            (x0, y0), (x1, y1) = points[0], points[-1]
            vertical = abs(x1 - x0) < abs(y1 - y0)
            ax.text(
                (x0 + x1) / 2 + (0.06 if vertical else 0),
                (y0 + y1) / 2 + (0 if vertical else 0.04),
                label,
                color=colours[kind],
                fontsize=9,
                ha="left" if vertical else "center",
                va="center" if vertical else "bottom",
            )

    def up(ax, x, y_from, y_to, kind, lane=None, label=None):
        """A vertical arrow in column x; with a lane, routed through the gap beside the column."""
        if lane is None:
            arrow(ax, [(x, y_from + box_h / 2), (x, y_to - box_h / 2)], kind, label)
            return
        side = x + box_w / 2 + 0.1 + 0.1 * lane
        arrow(
            ax,
            [
                (x + box_w / 2 - 0.06, y_from + box_h / 2),
                (side, y_from + box_h / 2 + 0.12),
                (side, y_to - box_h / 2 - 0.2),
                (x + 0.15 * (lane + 1), y_to - box_h / 2),
            ],
            kind,
            label,
        )

    panels = 2 if folded else 1
    rows = 1 + num_layers * directions + show_output + readout
    fig, axes = new_figure(
        ncols=panels,
        width=(1.05 * (steps + 2 * directions) + (1.6 if folded else 0)) / panels,
        height=0.4 + 0.75 * rows,
        gridspec_kw={"width_ratios": [1.6, 1.05 * (steps + 2 * directions)]}
        if folded
        else None,
    )
    ax = axes[-1] if folded else axes
    xs = [dx * t for t in range(steps + 1)]  # xs[t] for t = 1..steps

    def feed(t, sources, row, kind, label=None):
        """Arrows into (row, t) from the same column of each source row."""
        lane = 0
        for source in sorted(sources, reverse=True):
            if source == row - 1:
                up(ax, xs[t], source * dy, row * dy, kind, label=label)
            else:
                up(ax, xs[t], source * dy, row * dy, kind, lane, label)
                lane += 1

    for t in range(1, steps + 1):
        box(ax, xs[t], 0, f"$x_{{{t}}}$", face="#f2f2f2")
    below, row = [0], 0  # the rows that feed the next layer, the row drawn last
    for layer in range(num_layers):
        rows_here = []
        for direction in range(directions):
            row += 1
            rows_here.append(row)
            y = row * dy
            index = layer * directions + direction
            upper = f"^{{({layer + 1})}}" if num_layers > 1 else ""
            time = range(1, steps + 1) if direction == 0 else range(steps, 0, -1)
            sign = 1 if direction == 0 else -1
            previous = xs[time[0]] - sign * dx
            box(
                ax,
                previous,
                y,
                "$h_0$" if single else f"$h_0[{index}]$",
                face="#f2f2f2",
            )
            for t in time:
                arrowhead = r"\overleftarrow{h}" if direction else "h"
                text = f"${arrowhead}{upper}_{{{t}}}$"
                box(ax, xs[t], y, text, h_n=index if t == time[-1] else None)
                arrow(
                    ax,
                    [(previous + sign * box_w / 2, y), (xs[t] - sign * box_w / 2, y)],
                    "hh",
                    "$W_{hh}$" if single and t == 1 else None,
                )
                previous = xs[t]
                feed(t, below, row, "ih", "$W_{ih}$" if single and t == 1 else None)
        below = rows_here
    if show_output:  # o_t concatenates the top layer's directions: a copy, no weight
        row += 1
        for t in range(1, steps + 1):
            box(ax, xs[t], row * dy, f"$o_{{{t}}}$", face="#eef4fa")
            feed(t, below, row, "copy")
        below = [row]
    if readout:
        row += 1
        for t in range(1, steps + 1):
            box(ax, xs[t], row * dy, f"$y_{{{t}}}$", face="#fbeee6")
            feed(t, below, row, "hy", "$W_{hy}$" if t == 1 else None)
    y = row * dy
    ax.set_xlim(xs[1] - dx - 0.6, xs[steps] + (dx if bidirectional else 0) + 0.9)
    ax.set_ylim(-0.45, y + 0.6)
    ax.set_aspect("equal")
    ax.axis("off")

    if folded:
        fax = axes[0]
        box(fax, 0, 0, "$x_t$", face="#f2f2f2")
        box(fax, 0, dy, "$h_t$")
        up(fax, 0, 0, dy, "ih", label="$W_{ih}$")
        arrow(
            fax,
            [
                (box_w / 2, dy + 0.12),
                (box_w / 2 + 0.45, dy + 0.5),
                (box_w / 2 + 0.45, dy - 0.5),
                (box_w / 2, dy - 0.12),
            ],
            "hh",
        )
        fax.text(
            box_w / 2 + 0.5,
            dy,
            "$W_{hh}$",
            color=colours["hh"],
            fontsize=9,
            va="center",
        )
        if readout:
            box(fax, 0, 2 * dy, "$y_t$", face="#fbeee6")
            up(fax, 0, dy, 2 * dy, "hy", label="$W_{hy}$")
        fax.set_xlim(-0.6, 1.6)
        fax.set_ylim(-0.45, y + 0.6)
        fax.set_aspect("equal")
        fax.axis("off")
    return fig


def plot_model_comparison(
    histories: dict,
    *,
    chance_loss: float | None = None,
    chance_accuracy: float | None = None,
    styles: dict | None = None,
):
    """Loss and accuracy of several models against training steps, side by side.

    Chapter 1 draws its one-step, bag-of-steps and recurrent models with it.

    Args:
        histories: ``{label: {"step": [...], "loss": [...], "accuracy": [...]}}``,
            one entry per model, the three lists of equal length.
        chance_loss: if given, a dashed line at the loss of guessing.
        chance_accuracy: if given, a dashed line at the accuracy of guessing.
        styles: an optional ``{label: {keyword: value}}`` of matplotlib line
            styles, e.g. ``{"recurrent": {"color": "#0072B2"}}``; a label
            without a colour takes the next Okabe-Ito colour. Curves that lie
            on top of each other stay visible if the first drawn is wider.

    Returns:
        the matplotlib ``Figure``.
    """
    if not histories:
        raise ValueError("histories must hold at least one model, got none")
    for label, history in histories.items():
        missing = {"step", "loss", "accuracy"} - set(history)
        if missing:
            raise ValueError(f"history {label!r} lacks {sorted(missing)}")
    palette = iter(["#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#D55E00", "#0072B2"])
    styles = styles or {}
    fig, (loss_ax, accuracy_ax) = new_figure(ncols=2, width=4.6, height=3.4)
    for label, history in histories.items():
        style = {"linewidth": 1.6} | styles.get(label, {})
        style.setdefault("color", next(palette))
        steps = history["step"]
        loss_ax.plot(steps, history["loss"], label=label, **style)
        accuracy_ax.plot(steps, history["accuracy"], label=label, **style)
    for ax, chance, name in (
        (loss_ax, chance_loss, "loss"),
        (accuracy_ax, chance_accuracy, "accuracy"),
    ):
        if chance is not None:
            line = {"color": COLOURS["bound"], "linestyle": "--", "linewidth": 0.8}
            ax.axhline(chance, zorder=1.5, **line)  # under the curves
            ax.annotate(
                "chance",
                (1, chance),
                xycoords=("axes fraction", "data"),
                xytext=(-4, -4),
                textcoords="offset points",
                ha="right",
                va="top",
                fontsize=8,
            )
        ax.set_xlabel("training step")
        ax.set_ylabel(f"test {name}")
    accuracy_ax.set_ylim(0.4, 1.02)
    accuracy_ax.legend(loc="center right", fontsize=8)
    return fig


def plot_twin_differences(
    differences: dict,
    marker_steps: tuple[int, int],
    *,
    colours: dict | None = None,
):
    """Per step, how far apart two inputs leave each model's view: one row per model.

    Chapter 1 feeds a sequence and its twin (the same sequence with markers
    ``A`` and ``B`` swapped) to each model and plots, at every step, the
    distance between what the model holds for the two; where a bar is zero the
    model cannot tell them apart.

    Args:
        differences: ``{label: values}``, each ``values`` of shape ``(L,)``: the
            distance at steps ``1 .. L``.
        marker_steps: the steps (counted from 1) where the two markers sit.
        colours: an optional ``{label: colour}``.

    Returns:
        the matplotlib ``Figure``.
    """
    if not differences:
        raise ValueError("differences must hold at least one model, got none")
    lengths = {len(values) for values in differences.values()}
    if len(lengths) != 1:
        raise ValueError(
            "every entry of differences must have the same length, "
            f"got {sorted(lengths)}"
        )
    (length,) = lengths
    colours = dict(colours or {})
    fig, axes = new_figure(
        nrows=len(differences), width=7.0, height=1.5, sharex=True, squeeze=False
    )
    steps = list(range(1, length + 1))
    for ax, (label, values) in zip(axes[:, 0], differences.items()):
        values = [float(v) for v in values]
        ax.bar(steps, values, color=colours.get(label, COLOURS["rnn"]), width=0.7)
        for step in marker_steps:
            ax.axvline(step, color=COLOURS["bound"], linestyle=":", linewidth=0.8)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_ylim(0, max(values) * 1.15 or 1)
        ax.set_yticks([])
        ax.spines[["top", "right", "left"]].set_visible(False)
    axes[-1, 0].set_xticks(steps)
    axes[-1, 0].set_xlabel("step $t$ (dotted: the two markers)")
    return fig


# ---------------------------------------------------------------------------
# Chapter 6: vanishing and exploding gradients
# ---------------------------------------------------------------------------

#: One colour per spectral radius or initialisation, dark to light.
_SEQUENTIAL = ["#0072B2", "#56B4E9", "#009E73", "#E69F00", "#D55E00", "#CC79A7"]


def jacobian_norms_at_radius(
    radius: float,
    nonlinearity: str = "tanh",
    length: int = 60,
    *,
    hidden_size: int = 32,
    batch_size: int = 16,
    seed: int = 0,
    device: torch.device | str | None = None,
):
    """``||dh_L/dh_t||_2`` of a random one-layer RNN whose ``W_hh`` is ``radius`` times orthogonal.

    The RNN is ``torch.nn.RNN(hidden_size, hidden_size)`` with torch's default
    input weights, fed N(0, 1) inputs from a zero state; its ``W_hh`` comes
    from :func:`rnn_lib.init.scaled_orthogonal_`, so ``sigma_max(W_hh)`` equals
    ``radius`` and the bound is ``radius ** distance``.

    Returns:
        ``(distance, norms, bound)``: ``distance`` is ``(L + 1,)`` (0 .. L),
        ``norms`` is ``(L + 1, N)`` (``norms[d]`` is ``||dh_L/dh_{L-d}||``) and
        ``bound`` is ``(L + 1,)``, all on the CPU.
    """
    generator = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)  # torch's default input weights
    rnn = torch.nn.RNN(hidden_size, hidden_size, nonlinearity=nonlinearity)
    rnn = init.scaled_orthogonal_(rnn, radius, generator).to(device)
    x = torch.randn(length, batch_size, hidden_size, generator=generator).to(device)
    norms = diagnostics.state_jacobian_norms(rnn, x).flip(0).cpu()  # (L + 1, N)
    distance = torch.arange(length + 1)
    bound = diagnostics.jacobian_bound(rnn.weight_hh_l0, distance, nonlinearity).cpu()
    return distance, norms, bound


def plot_jacobian_norms(curves: dict, ax=None, *, title: str | None = None):
    """Measured ``||dh_L/dh_t||`` against the distance ``L - t``, log scale, with the bound.

    Args:
        curves: ``{label: (distance, norms, bound)}`` as returned by
            :func:`jacobian_norms_at_radius`: the line is the median over the
            batch, the band spans the smallest to the largest sequence, the
            dashed line of the same colour is the bound.
        ax: an existing axes to draw into (small multiples); a new figure if
            omitted.
        title: the axes' title.

    Returns:
        the matplotlib ``Figure``.
    """
    if not curves:
        raise ValueError("curves must hold at least one curve, got none")
    if ax is None:
        fig, ax = new_figure(width=6.4, height=4.0)
    else:
        fig = ax.figure
    for colour, (label, (distance, norms, bound)) in zip(_SEQUENTIAL * 2, curves.items()):
        d = distance.numpy()
        ax.plot(d, norms.median(dim=1).values.numpy(), color=colour, label=label)
        ax.fill_between(d, norms.min(1).values.numpy(), norms.max(1).values.numpy(),
                        color=colour, alpha=0.2, linewidth=0)
        ax.plot(d, bound.numpy(), color=colour, linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("distance $L - t$ (steps)")
    ax.set_ylabel(r"$\|\partial h_L / \partial h_t\|_2$")
    ax.set_ylim(1e-12, 1e8)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8, title="solid: measured\ndashed: bound", title_fontsize=8,
              loc="upper left", bbox_to_anchor=(1.01, 1))
    return fig


def plot_jacobian_norm_grid(
    radii=(0.5, 0.9, 1.0, 1.1, 1.5),
    nonlinearities=("tanh", "relu"),
    length: int = 60,
    *,
    device: torch.device | str | None = None,
):
    """Small multiples: one panel per (nonlinearity, spectral radius), measured curve and bound.

    The static counterpart of :func:`gradient_norm_explorer` for the HTML book.

    Returns:
        the matplotlib ``Figure``.
    """
    fig, axes = new_figure(
        ncols=len(radii), nrows=len(nonlinearities), width=2.3, height=2.1,
        sharex=True, sharey=True, squeeze=False,
    )
    for row, nonlinearity in zip(axes, nonlinearities):
        for ax, radius in zip(row, radii):
            distance, norms, bound = jacobian_norms_at_radius(
                radius, nonlinearity, length, device=device
            )
            colour, d = COLOURS["rnn"], distance.numpy()
            ax.plot(d, norms.median(dim=1).values.numpy(), color=colour)
            ax.fill_between(d, norms.min(1).values.numpy(), norms.max(1).values.numpy(),
                            color=colour, alpha=0.25, linewidth=0)
            ax.plot(d, bound.numpy(), color=COLOURS["bound"], linestyle="--", linewidth=1)
            ax.set_yscale("log")
            ax.set_ylim(1e-12, 1e8)
            ax.set_title(rf"{nonlinearity}, $\sigma_{{\max}} = {radius:g}$", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("distance $L - t$")
    for ax in axes[:, 0]:
        ax.set_ylabel(r"$\|\partial h_L / \partial h_t\|_2$")
    return fig


def gradient_norm_explorer(device: torch.device | str | None = None):
    """An ipywidgets explorer: spectral radius, nonlinearity and length in, the curve out.

    Draws :func:`plot_jacobian_norms` for a random RNN
    (:func:`jacobian_norms_at_radius`) each time a slider moves. Uses only
    ``interact`` and sliders, common to ipywidgets 7 and 8. In the static HTML
    book the widgets render empty; a static figure follows it there.

    Returns:
        what ``ipywidgets.interact`` returns; the widgets and the first figure
        are displayed as a side effect.
    """
    import ipywidgets as widgets

    def draw(radius=1.0, nonlinearity="tanh", length=60):
        curves = {
            f"radius {radius:.2f}": jacobian_norms_at_radius(
                radius, nonlinearity, length, device=device
            )
        }
        fig = plot_jacobian_norms(curves, title=f"{nonlinearity}, L = {length}")
        plt.show()
        plt.close(fig)

    return widgets.interact(
        draw,
        radius=widgets.FloatSlider(value=1.0, min=0.5, max=1.5, step=0.05,
                                   description="radius", continuous_update=False),
        nonlinearity=widgets.Dropdown(options=["tanh", "relu"], value="tanh",
                                      description="phi"),
        length=widgets.IntSlider(value=60, min=5, max=200, step=5,
                                 description="length L", continuous_update=False),
    )


def plot_gradient_norms_through_time(curves: dict, *, xlabel: str = "step $t$"):
    """``||dL/dh_t||`` against the step t, log scale, one line per model.

    Args:
        curves: ``{label: norms}``, each ``(L + 1, N)`` as returned by
            :func:`rnn_lib.diagnostics.gradient_norms_through_time`; the line is
            the median over the batch.
        xlabel: the x axis' label.

    Returns:
        the matplotlib ``Figure``.
    """
    if not curves:
        raise ValueError("curves must hold at least one curve, got none")
    fig, ax = new_figure(width=6.4, height=3.6)
    for colour, (label, norms) in zip(_SEQUENTIAL, curves.items()):
        ax.plot(norms.median(dim=1).values.cpu().numpy(), color=colour, label=label)
    ax.set_yscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(r"median $\|\partial \mathcal{L} / \partial h_t\|$")
    ax.legend(fontsize=8)
    return fig


def plot_transient_growth(W: torch.Tensor, steps: int = 40):
    """``||W^k||_2`` against k, next to ``rho(W)^k`` and ``sigma_max(W)^k``.

    Shows why the gradient bound needs the largest singular value: a
    non-normal matrix can have spectral radius below 1 and still amplify for
    many steps before ``rho^k`` takes over.

    Returns:
        the matplotlib ``Figure``.
    """
    W = W.detach().to(torch.float64).cpu()
    k = torch.arange(steps + 1).numpy()
    powers = [torch.eye(W.shape[0], dtype=W.dtype)]
    for _ in range(steps):
        powers.append(powers[-1] @ W)
    norms = torch.linalg.matrix_norm(torch.stack(powers), ord=2).numpy()  # (steps + 1,)
    rho = diagnostics.spectral_radius(W).item()
    sigma = diagnostics.singular_values(W)[0].item()
    fig, ax = new_figure(width=6.0, height=3.6)
    ax.plot(k, norms, color=COLOURS["rnn"], marker="o", markersize=3,
            label=r"$\|W^k\|_2$ (measured)")
    ax.plot(k, sigma**k, color=COLOURS["bound"], linestyle="--",
            label=rf"$\sigma_{{\max}}^k$, $\sigma_{{\max}} = {sigma:.2f}$ (bound)")
    ax.plot(k, rho**k, color=COLOURS["torch"], linestyle=":",
            label=rf"$\rho^k$, $\rho = {rho:.2f}$ (not a bound)")
    ax.set_yscale("log")
    ax.set_ylim(min(norms.min(), rho**steps) / 2, norms.max() * 20)
    ax.set_xlabel("$k$")
    ax.legend(fontsize=8)
    return fig


def plot_memory_results(
    lengths, ratios: dict, threshold: float, *, xlabel: str = "sequence length $L$"
):
    """Test loss relative to the trivial predictor against sequence length, one line per model.

    Args:
        lengths: the lengths trained on.
        ratios: ``{label: [test loss / trivial loss for each length]}``.
        threshold: the ratio below which a run counts as a success (shaded).

    Returns:
        the matplotlib ``Figure``.
    """
    fig, ax = new_figure(width=6.0, height=3.6)
    for colour, (label, values) in zip(_SEQUENTIAL, ratios.items()):
        ax.plot(lengths, values, color=colour, marker="o", label=label)
    ax.axhline(1.0, color=COLOURS["baseline"], linestyle="--", linewidth=1)
    ax.annotate("trivial predictor", (lengths[0], 1.0), xytext=(0, 4),
                textcoords="offset points", fontsize=8, color=COLOURS["baseline"])
    ax.annotate("success", (lengths[0], threshold), xytext=(0, -11),
                textcoords="offset points", fontsize=8, color=COLOURS["gru"])
    ax.set_xscale("log", base=2)
    ax.set_xticks(list(lengths), [str(v) for v in lengths])
    ax.set_yscale("log")
    bottom = ax.get_ylim()[0]  # shade down to the data, not to 0 (which log scale cannot show)
    ax.axhspan(bottom, threshold, color=COLOURS["gru"], alpha=0.12, linewidth=0)
    ax.set_ylim(bottom=bottom)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("test MSE / trivial MSE")
    ax.legend(fontsize=8)
    return fig


def plot_cliff(w_grid, b_grid, loss_grid, runs: dict):
    """The loss surface of a one-unit RNN with its cliff, the paths of two runs, and their losses.

    Args:
        w_grid, b_grid: 1-D tensors of the recurrent weight and bias values.
        loss_grid: ``(len(b_grid), len(w_grid))`` loss values.
        runs: ``{label: {"w": [...], "b": [...], "loss": [...], "grad_norm": [...]}}``,
            at most two runs; the first is drawn wide, the second thin on top.

    Returns:
        the matplotlib ``Figure``.
    """
    import matplotlib.colors as mcolors

    if not 1 <= len(runs) <= 2:
        raise ValueError(f"runs must hold one or two runs, got {len(runs)}")
    w_grid, b_grid, loss_grid = (torch.as_tensor(v).cpu().numpy() for v in (w_grid, b_grid, loss_grid))
    fig, (ax_surface, ax_loss, ax_norm) = new_figure(ncols=3, width=4.2, height=3.6)
    mesh = ax_surface.pcolormesh(
        w_grid, b_grid, loss_grid, shading="auto", cmap="viridis",
        norm=mcolors.LogNorm(vmin=max(loss_grid.min(), 1e-4), vmax=loss_grid.max()),
    )
    fig.colorbar(mesh, ax=ax_surface, label="loss")
    w_lo, w_hi = float(w_grid[0]), float(w_grid[-1])
    b_lo, b_hi = float(b_grid[0]), float(b_grid[-1])
    styles = [(COLOURS["lstm"], 2.4), (COLOURS["rnn"], 1.2)]
    for (colour, width), (label, run) in zip(styles, runs.items()):
        w, b = list(run["w"]), list(run["b"])
        inside = [i for i in range(len(w)) if w_lo <= w[i] <= w_hi and b_lo <= b[i] <= b_hi]
        path_colour = "white" if colour == COLOURS["rnn"] else colour
        ax_surface.plot([w[i] for i in inside], [b[i] for i in inside], color=path_colour,
                        marker=".", markersize=4, linewidth=width, label=label)
        if len(inside) < len(w):  # thrown off the map: say where to
            last = inside[-1]
            ax_surface.annotate(
                f"thrown to\n$w$={w[last + 1]:.1f}, $b$={b[last + 1]:.1f}",
                (w[last], b[last]), xytext=(-100, -40), textcoords="offset points",
                fontsize=8, color=colour, arrowprops={"arrowstyle": "->", "color": colour},
                bbox={"boxstyle": "round", "facecolor": "white", "alpha": 0.85, "linewidth": 0},
            )
        steps = range(len(run["loss"]))
        ax_loss.plot(steps, run["loss"], color=colour, linewidth=width, label=label)
        ax_norm.plot(steps, run["grad_norm"], color=colour, linewidth=width, label=label)
    ax_surface.set_xlim(w_lo, w_hi)
    ax_surface.set_ylim(b_lo, b_hi)
    ax_surface.set_xlabel("recurrent weight $w$")
    ax_surface.set_ylabel("bias $b$")
    ax_surface.legend(fontsize=7, loc="lower left")
    for ax, name in ((ax_loss, "loss"), (ax_norm, "gradient norm (before clipping)")):
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel(name)
    ax_loss.legend(fontsize=8)
    return fig


def plot_clipping_directions(grad, max_norm: float, clip_value: float):
    """A 2-D gradient, its norm-clipped and its value-clipped versions, as arrows.

    Args:
        grad: a gradient with two entries.
        max_norm: the norm clipping threshold.
        clip_value: the value clipping threshold.

    Returns:
        the matplotlib ``Figure``.
    """
    g = torch.as_tensor(grad, dtype=torch.float64).flatten().cpu()
    if g.numel() != 2:
        raise ValueError(f"expected a gradient with 2 entries, got {g.numel()}")
    by_norm, by_value = torch.zeros(2, dtype=g.dtype), torch.zeros(2, dtype=g.dtype)
    by_norm.grad, by_value.grad = g.clone(), g.clone()
    clipping.clip_grad_norm_(by_norm, max_norm)
    clipping.clip_grad_value_(by_value, clip_value)
    by_norm, by_value = by_norm.grad, by_value.grad
    fig, ax = new_figure(width=4.6, height=4.2)
    for vector, colour, label in (
        (g, COLOURS["baseline"], "gradient"),
        (by_norm, COLOURS["rnn"], f"norm-clipped to {max_norm:g}"),
        (by_value, COLOURS["lstm"], f"value-clipped to $\\pm${clip_value:g}"),
    ):
        ax.annotate("", xy=(vector[0].item(), vector[1].item()), xytext=(0, 0),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 2})
        ax.plot([], [], color=colour, linewidth=2, label=label)
    circle = plt.Circle((0, 0), max_norm, fill=False, color=COLOURS["rnn"], linestyle=":")
    ax.add_patch(circle)
    ax.add_patch(plt.Rectangle((-clip_value, -clip_value), 2 * clip_value, 2 * clip_value,
                               fill=False, color=COLOURS["lstm"], linestyle=":"))
    reach = max(g.abs().max().item(), max_norm, clip_value) * 1.15
    ax.set_xlim(-reach * 0.25, reach)
    ax.set_ylim(-reach * 0.25, reach)
    ax.set_aspect("equal")
    ax.axhline(0, color="#dddddd", linewidth=0.8, zorder=0)
    ax.axvline(0, color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_xlabel("$g_1$")
    ax.set_ylabel("$g_2$")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_packed_batch(lengths):
    """Draw how ``pack_padded_sequence`` lays out a batch of sequences of different lengths.

    One column per sequence, in the order the packed batch uses (longest first,
    as ``sorted_indices`` says), one row per time step. A real step shows its
    row in ``PackedSequence.data``; padding is grey. On the right of each row,
    ``batch_sizes[t]``: the number of sequences still running at step t. The
    layout is computed by packing a tensor with torch itself, not re-derived.

    Args:
        lengths: the length of each sequence, in the batch's own order.

    Returns:
        the matplotlib ``Figure``.
    """
    import torch
    from matplotlib.patches import Rectangle
    from torch.nn.utils.rnn import pack_padded_sequence

    lengths = list(lengths)
    if not lengths or any(
        not isinstance(n, int) or isinstance(n, bool) or n < 1 for n in lengths
    ):
        raise ValueError(
            f"lengths must be a non-empty sequence of positive ints, got {lengths}"
        )
    N, L = len(lengths), max(lengths)
    ids = torch.arange(L * N, dtype=torch.float64).view(L, N, 1)  # id = t * N + b
    packed = pack_padded_sequence(ids, torch.tensor(lengths), enforce_sorted=False)
    row_of = {int(i): row for row, i in enumerate(packed.data[:, 0].tolist())}
    order = packed.sorted_indices.tolist()  # column j shows sequence order[j]

    import matplotlib.colors as mcolors

    gap = 1.7  # horizontal distance between columns
    fig, ax = new_figure(width=1.6 + 0.75 * gap * N + 1.6, height=1.0 + 0.5 * L)
    real_face = mcolors.to_rgba(COLOURS["rnn"], 0.25)
    for j, b in enumerate(order):
        x = j * gap
        ax.text(
            x,
            -0.55,
            f"sequence {b}\nlength {lengths[b]}",
            ha="center",
            va="bottom",
            fontsize=8,
        )
        for t in range(L):
            real = t < lengths[b]
            ax.add_patch(
                Rectangle(
                    (x - 0.5, t - 0.4),
                    1.0,
                    0.8,
                    facecolor=real_face if real else "#e6e6e6",
                    edgecolor="#333333",
                    linewidth=1,
                )
            )
            label = str(row_of[t * N + b]) if real else "pad"
            ax.text(
                x,
                t,
                label,
                ha="center",
                va="center",
                fontsize=10,
                color="#000000" if real else "#888888",
            )
    for t, size in enumerate(packed.batch_sizes.tolist()):
        ax.text(
            (N - 1) * gap + 0.7,
            t,
            f"batch_sizes[{t}] = {size}",
            ha="left",
            va="center",
            fontsize=9,
            color=COLOURS["torch"],
        )
        ax.text(-0.7, t, f"t = {t}", ha="right", va="center", fontsize=9)
    ax.text(
        (N - 1) * gap / 2,
        -1.35,
        "numbers: rows of PackedSequence.data",
        ha="center",
        va="bottom",
        fontsize=9,
        style="italic",
    )
    ax.set_xlim(-1.5, (N - 1) * gap + 2.9)
    ax.set_ylim(L - 0.4, -1.9)  # time runs down the page
    ax.set_aspect("equal")
    ax.axis("off")
    return fig


def plot_bptt_benchmark(results: list[dict], modes: tuple[str, ...] = ("forward", "forward+backward")):
    """Median times of rnn_lib.RNN and torch.nn.RNN per case, one panel per mode.

    Args:
        results: rows as returned by :func:`rnn_lib.bench.run_benchmark`.
        modes: which modes to draw, one panel each.

    Returns:
        the matplotlib ``Figure``; each pair of bars carries the ratio
        rnn_lib / torch above it.
    """
    rows = {mode: [r for r in results if r["mode"] == mode] for mode in modes}
    if not all(rows.values()):
        missing = [mode for mode, found in rows.items() if not found]
        raise ValueError(f"expected results for every mode, got none for {missing}")
    fig, axes = new_figure(ncols=len(modes), width=4.4, height=3.6, squeeze=False)
    width = 0.38
    for ax, mode in zip(axes[0], modes):
        found = rows[mode]
        xs = range(len(found))
        ours = [r["rnn_lib_ms"] for r in found]
        theirs = [r["torch_ms"] for r in found]
        ax.bar([x - width / 2 for x in xs], ours, width, color=COLOURS["rnn_lib"], label="rnn_lib.RNN")
        ax.bar([x + width / 2 for x in xs], theirs, width, color=COLOURS["torch"], label="torch.nn.RNN")
        for x, r in zip(xs, found):
            top = max(r["rnn_lib_ms"], r["torch_ms"])
            ax.annotate(f"{r['ratio']:.2f}x", (x, top), xytext=(0, 3), textcoords="offset points",
                        ha="center", fontsize=8)
        labels = []
        for r in found:
            label = f"L={r['L']} N={r['N']}\nH_in={r['H_in']} H={r['H']}"
            if r["num_layers"] > 1 or r["bidirectional"]:
                label += f"\n{r['num_layers']} layers" + (", bi" if r["bidirectional"] else "")
            labels.append(label)
        ax.set_xticks(list(xs), labels, fontsize=7)
        ax.set_yscale("log")
        low, high = min(ours + theirs), max(ours + theirs)
        ax.set_ylim(low / 2, high * 6)  # room above the bars for the legend
        ax.set_ylabel("median time (ms)")
        ax.set_title(mode, fontsize=10)
    axes[0][0].legend(fontsize=8, loc="upper left")
    return fig


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
    if not curves:
        raise ValueError("curves must hold at least one curve, got none")
    fig, ax = new_figure(width=6.4, height=3.4)
    length = max(len(norms) for norms in curves.values())
    for start in range(chunk, length, chunk):
        ax.axvline(start + 0.5, color="#dddddd", linestyle=":", linewidth=1, zorder=0)
    colours = [COLOURS["rnn"], COLOURS["lstm"], COLOURS["gru"], COLOURS["baseline"]]
    for i, (colour, (label, norms)) in enumerate(zip(colours, curves.items())):
        values = [float(v) for v in norms]
        steps = range(1, len(values) + 1)
        shown = [(t, v) for t, v in zip(steps, values) if v > 0]
        zeros = [t for t, v in zip(steps, values) if v == 0]
        # Later curves thinner and dashed, so that where they coincide both show.
        ax.plot(*zip(*shown), color=colour, label=label,
                linewidth=3.0 if i == 0 else 1.4, linestyle="-" if i == 0 else "--")
        if zeros:
            ax.plot(zeros, [0.02] * len(zeros), color=colour, linewidth=4,
                    transform=ax.get_xaxis_transform(), solid_capstyle="butt",
                    label=f"{label}: exactly 0")
    ax.set_yscale("log")
    ax.set_xlabel("input step $t$")
    ax.set_ylabel(r"$\|d\mathcal{L} / d x_t\|$")
    ax.legend(fontsize=8, loc="upper left")
    return fig


def plot_lm_curves(histories: dict, baseline: float, *, smooth: int = 20, ax=None):
    """Loss curves of character-level language models (chapter 7).

    Args:
        histories: label -> :class:`rnn_lib.train.History`; the training loss
            is drawn as a running mean over ``smooth`` steps, the validation
            loss as markers.
        baseline: the unigram model's validation loss, drawn as a dashed line.
        ax: axes to draw on (a new figure if None).

    The right-hand axis reads the same curves as perplexity, ``exp(loss)``.
    """
    if ax is None:
        fig, ax = new_figure(width=7.0, height=4.0)
    else:
        fig = ax.figure
    palette = [COLOURS["rnn"], COLOURS["lstm"], COLOURS["gru"], COLOURS["torch"]]
    for colour, (label, history) in zip(palette, histories.items()):
        loss = torch.tensor(history.train_loss)
        k = max(1, min(smooth, len(loss)))
        running = loss.unfold(0, k, 1).mean(1)  # (steps - k + 1,)
        ax.plot(range(k, len(loss) + 1), running.tolist(), color=colour, alpha=0.45, lw=1)
        ax.plot(history.val_step, history.val_loss, "o-", color=colour, label=f"{label}: validation")
    ax.axhline(baseline, ls="--", color=COLOURS["baseline"], label="unigram baseline")
    ax.plot([], [], color="0.4", alpha=0.45, lw=1, label=f"training (mean of {smooth} steps)")
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats per character)")
    perplexity = ax.secondary_yaxis(
        "right", functions=(np.exp, lambda ppl: np.log(np.maximum(ppl, 1e-300)))
    )
    perplexity.set_ylabel("perplexity")
    ax.legend(frameon=False)
    return fig


def plot_temperatures(logits: torch.Tensor, chars: list, temperatures, *, top: int = 10):
    """The next-character distribution ``softmax(logits / T)`` at several T (chapter 7).

    Args:
        logits: (V,), the model's scores for the next character.
        chars: the V characters, in id order.
        temperatures: the values of T, one panel each.
        top: how many of the most likely characters (at T = 1) to show.
    """
    order = logits.argsort(descending=True)[:top]  # (top,)
    labels = [repr(chars[i])[1:-1] for i in order.tolist()]
    fig, axes = new_figure(ncols=len(temperatures), width=3.2, height=2.8, sharey=True)
    for ax, temperature in zip(axes, temperatures):
        probs = torch.softmax(logits.double() / temperature, dim=-1)[order]  # (top,)
        ax.bar(range(top), probs.tolist(), color=COLOURS["rnn"])
        ax.set_xticks(range(top), labels, fontfamily="monospace")
        ax.set_title(f"T = {temperature}")
        ax.set_xlabel("next character")
    axes[0].set_ylabel("probability")
    return fig


# ---------------------------------------------------------------------------
# Chapter 8: gated recurrent networks


def _model_colour(label: str, index: int) -> str:
    """The course's colour for a label that starts with RNN, LSTM or GRU."""
    return COLOURS.get(label.split()[0].lower(), _SEQUENTIAL[index % len(_SEQUENTIAL)])


def plot_gradient_norm_panels(panels: dict, *, xlabel: str = "step $t$"):
    """``||dL/d state_t||`` against t, one panel per stage, one line per model.

    Args:
        panels: ``{title: {label: norms}}``, each ``norms`` ``(L + 1, N)`` as
            returned by :func:`rnn_lib.diagnostics.gradient_norms_through_time`;
            the line is the median over the batch, the band spans the middle
            half. A label starting with RNN, LSTM or GRU gets that model's
            colour. The panels share the y axis.
        xlabel: the x axis' label.

    Returns:
        the matplotlib ``Figure``.
    """
    if not panels:
        raise ValueError("panels must hold at least one panel, got none")
    fig, axes = new_figure(ncols=len(panels), width=4.2, height=3.4, sharey=True, squeeze=False)
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for k, (label, norms) in enumerate(curves.items()):
            colour = _model_colour(label, k)
            q = torch.quantile(norms.detach().double().cpu(), torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64), dim=1)
            steps = np.arange(norms.shape[0])
            ax.plot(steps, q[1].numpy(), color=colour, label=label)
            ax.fill_between(steps, q[0].numpy(), q[2].numpy(), color=colour, alpha=0.2, linewidth=0)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
    axes[0, 0].set_ylabel(r"median $\|\partial \mathcal{L} / \partial\, \mathrm{state}_t\|$")
    axes[0, -1].legend(fontsize=8)
    return fig


def plot_forget_gate_products(products: dict, *, highlight: int = 1):
    """The LSTM's cell path: ``prod_{k=t+1}^{T} f_k`` against the distance ``T - t``.

    Args:
        products: ``{title: P}``, one panel each, with ``P`` of shape
            ``(T + 1, N, H)``: ``P[t, n, j]`` is the product of unit j's
            forget gates from step t + 1 to T on sequence n (``P[T] = 1``).
            Each thin line is one unit's median over the N sequences.
        highlight: how many units with the largest product over the whole
            sequence to draw in the LSTM colour (the rest in grey).

    Returns:
        the matplotlib ``Figure``.
    """
    if not products:
        raise ValueError("products must hold at least one panel, got none")
    fig, axes = new_figure(ncols=len(products), width=4.2, height=3.4, sharey=True, squeeze=False)
    for ax, (title, P) in zip(axes[0], products.items()):
        median = P.detach().double().cpu().median(dim=1).values  # (T + 1, H)
        T = median.shape[0] - 1
        distance = np.arange(T, -1, -1)  # P[t] is T - t steps back
        top = set(median[0].argsort(descending=True)[:highlight].tolist())
        for j in range(median.shape[1]):
            kept = j in top
            ax.plot(distance, median[:, j].clamp_min(1e-30).numpy(),
                    color=COLOURS["lstm"] if kept else COLOURS["baseline"],
                    linewidth=1.4 if kept else 0.6, alpha=1.0 if kept else 0.6)
        ax.set_yscale("log")
        ax.set_ylim(1e-30, 2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("distance $T - t$ (steps)")
    axes[0, 0].set_ylabel(r"$f_{t+1} \odot \cdots \odot f_T$ (median over sequences)")
    return fig
