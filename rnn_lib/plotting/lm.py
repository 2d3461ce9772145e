"""Chapter 7's figures: a character-level language model, measured.

Chapter 7 (*A character-level language model*) trains :class:`rnn_lib.models.CharRNN`
with :func:`rnn_lib.train.train` and draws its loss curves against the unigram
baseline, the training text's beside the validation text's
(:func:`plot_lm_curves`, which chapter 8 reuses for its three cells); shows how
the sampling temperature T reshapes the next-character distribution
(:func:`plot_temperatures`); draws how much context the model uses beside the
n-gram models (:func:`plot_context_curve`, which takes any cell's curve); and
looks inside the network: how strongly its units correlate with features of
the text (:func:`plot_unit_correlations`) and the text coloured by one unit's
activation, Chinese included (:func:`plot_unit_text`). The numbers come from
:mod:`rnn_lib.lm_diagnostics`.

Read next: :mod:`rnn_lib.plotting.gated`, chapter 8's figures.
"""

from __future__ import annotations

from itertools import cycle

import matplotlib as mpl
import matplotlib.pyplot as plt
import numpy as np
import torch

from rnn_lib.plotting.style import COLOURS, MODELS, UNNAMED, model_colour, new_figure
from rnn_lib.validation import check_int, check_nonempty, check_number, check_tensor

#: The colour map of a unit's activation: blue negative, white 0, red positive.
ACTIVATION_MAP = "RdBu_r"

#: How a figure shows the characters that print as nothing.
VISIBLE = {
    " ": "\N{OPEN BOX}",
    "\n": "\N{DOWNWARDS ARROW WITH CORNER LEFTWARDS}",
    "\t": "\N{RIGHTWARDS ARROW TO BAR}",
}


def visible(char: str) -> str:
    """``char``, or the sign that shows it when it prints as nothing: space ␣, newline ↵."""
    return VISIBLE.get(char, char)


def _perplexity_axis(ax) -> None:
    """A right-hand axis that reads the cross-entropy as perplexity, ``exp(loss)``."""
    perplexity = ax.secondary_yaxis(
        "right", functions=(np.exp, lambda ppl: np.log(np.maximum(ppl, 1e-300)))
    )
    perplexity.set_ylabel("perplexity")


def plot_lm_curves(
    histories: dict, baseline: float, *, smooth: int = 20, colours=None, ax=None
):
    """Loss curves of character-level language models.

    Args:
        histories: label -> :class:`rnn_lib.train.History`; each step's batch
            loss is drawn as a running mean over ``smooth`` steps (when the
            history has it), the validation loss as dots, and the loss on the
            training text measured the same way (``train_eval_loss``), when
            there is one, as open squares.
        baseline: the unigram model's validation loss, drawn as a dashed line.
        smooth: how many training steps each point of the running mean spans.
        colours: one colour per history, in order; by default the models'
            colours (blue for the RNN, then the LSTM's and the GRU's), so pass
            ``plotting.style.SWEEP`` for runs of one model that differ in a
            setting.
        ax: axes to draw on (a new figure if None).

    The right-hand axis reads the same curves as perplexity, ``exp(loss)``.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("histories", histories)
    check_number("baseline", baseline)
    check_int("smooth", smooth)
    fig, ax = new_figure(width=7.0, height=4.0) if ax is None else (ax.figure, ax)
    faint = {"alpha": 0.45, "lw": 1}
    batch_curves = False
    for colour, (label, history) in zip(cycle(colours or MODELS), histories.items()):
        if history.train_loss:
            batch_curves = True
            loss = torch.tensor(history.train_loss)
            k = max(1, min(smooth, len(loss)))
            running = loss.unfold(0, k, 1).mean(1)  # (steps - k + 1,)
            ax.plot(range(k, len(loss) + 1), running.tolist(), color=colour, **faint)
        ax.plot(
            history.val_step,
            history.val_loss,
            "o-",
            color=colour,
            label=f"{label}: validation",
        )
        if history.train_eval_loss:
            ax.plot(
                history.val_step,
                history.train_eval_loss,
                "s--",
                color=colour,
                mfc="white",
                label=f"{label}: training text",
            )
    ax.axhline(baseline, ls="--", color=COLOURS["baseline"], label="unigram baseline")
    if batch_curves:
        ax.plot(
            [],
            [],
            color=COLOURS["faded"],
            label=f"training batches (mean of {smooth} steps)",
            **faint,
        )
    ax.set_xlabel("training step")
    ax.set_ylabel("cross-entropy (nats per character)")
    _perplexity_axis(ax)
    ax.legend(frameon=False)
    return fig


def plot_temperatures(
    logits: torch.Tensor, chars: list, temperatures, *, top: int = 10
):
    """The next-character distribution ``softmax(logits / T)`` at several T.

    Args:
        logits: (V,), the model's scores for the next character.
        chars: the V characters, in id order.
        temperatures: the values of T, one panel each.
        top: how many of the most likely characters (at T = 1) to show; a
            space is drawn as ␣ and a newline as ↵ (:func:`visible`).

    Returns:
        the matplotlib ``Figure``.
    """
    check_tensor("logits", logits)
    check_nonempty("temperatures", temperatures)
    for i, temperature in enumerate(temperatures):
        check_number(f"temperatures[{i}]", temperature, positive=True)
    check_int("top", top)
    order = logits.argsort(descending=True)[:top]  # (top,)
    labels = [visible(chars[i]) for i in order.tolist()]
    fig, axes = new_figure(
        ncols=len(temperatures), width=3.2, height=2.8, sharey=True, squeeze=False
    )
    for ax, temperature in zip(axes[0], temperatures):
        probs = torch.softmax(logits.double() / temperature, dim=-1)[order]  # (top,)
        ax.bar(range(top), probs.tolist(), color=COLOURS["rnn"])
        ax.set_xticks(range(top), labels, fontfamily="monospace", fontsize=12)
        ax.set_title(f"T = {temperature}")
        ax.set_xlabel("next character")
    axes[0, 0].set_ylabel("probability")
    return fig


def plot_context_curve(curves: dict, ngrams: dict | None = None, *, ax=None):
    """The loss against the characters of context, for networks and n-gram models.

    Args:
        curves: label -> :class:`rnn_lib.lm_diagnostics.ContextCurve`. Each is
            drawn as its loss after the state is cut ``m`` characters back
            (``cut_loss``: the carried loss plus the cut's cost on the same
            characters), with a band of two standard errors of that cost on
            either side, and its carried loss as a dashed line. A label
            starting with RNN, LSTM or GRU gets that model's colour.
        ngrams: label -> {order n: loss}; order n is drawn at n - 1 characters
            of context (what it sees), order 1, which sees none, as a dotted
            line across.
        ax: axes to draw on (a new figure if None).

    The x axis is logarithmic; the right-hand axis reads perplexity.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("curves", curves)
    fig, ax = new_figure(width=7.0, height=4.2) if ax is None else (ax.figure, ax)
    for k, (label, curve) in enumerate(curves.items()):
        colour = model_colour(label, k)
        m = curve.context.numpy()
        loss = curve.cut_loss.numpy()
        band = 2 * curve.gap_error.numpy()
        ax.plot(m, loss, color=colour, label=f"{label}: state cut m characters back")
        ax.fill_between(
            m, loss - band, loss + band, color=colour, alpha=0.2, linewidth=0
        )
        ax.axhline(
            curve.carried_loss.mean().item(),
            color=colour,
            ls="--",
            lw=1,
            label=f"{label}: state carried",
        )
    markers = cycle("sD^v")
    for k, (label, losses) in enumerate((ngrams or {}).items()):
        colour = UNNAMED[k % len(UNNAMED)]
        marker = next(markers)
        context = {n - 1: loss for n, loss in sorted(losses.items()) if n > 1}
        ax.plot(
            list(context),
            list(context.values()),
            marker,
            color=colour,
            label=f"{label} (order n at n - 1)",
        )
        if 1 in losses:
            ax.axhline(losses[1], color=colour, ls=":", lw=1.2, label=f"{label}: n = 1")
    ax.set_xscale("log")
    ax.set_xlabel("characters of context m")
    ax.set_ylabel("cross-entropy (nats per character)")
    _perplexity_axis(ax)
    ax.legend(frameon=False, fontsize=8)
    return fig


def plot_unit_correlations(panels: dict, thresholds: dict | None = None):
    """How strongly each unit correlates with a feature, strongest first.

    Args:
        panels: ``{title: {label: r}}``, each ``r`` (H_out,) the correlations
            of one network's units with the panel's feature
            (:func:`rnn_lib.lm_diagnostics.correlations`); each is drawn as
            ``|r|`` sorted in decreasing order, so the curve says how many units
            reach a given strength. Labels are coloured in order, grey for a
            label that contains "untrained".
        thresholds: ``{title: value}``, drawn as a dotted line: the largest
            ``|r|`` of the shuffled baseline.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("panels", panels)
    thresholds = thresholds or {}
    fig, axes = new_figure(
        ncols=len(panels), width=2.8, height=2.8, sharey=True, squeeze=False
    )
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for k, (label, r) in enumerate(curves.items()):
            check_tensor(f"panels[{title!r}][{label!r}]", r)
            strength = r.abs().sort(descending=True).values  # (H_out,)
            colour = COLOURS["baseline"] if "untrained" in label else MODELS[k]
            ax.plot(range(1, len(r) + 1), strength.tolist(), color=colour, label=label)
        if title in thresholds:
            ax.axhline(
                thresholds[title],
                color=COLOURS["bound"],
                ls=":",
                lw=1,
                label="shuffled feature: largest",
            )
        ax.set_xscale("log")
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("units, strongest first")
    axes[0, 0].set_ylabel("|correlation| with the feature")
    axes[0, 0].set_ylim(0, 1)
    axes[0, -1].legend(frameon=False, fontsize=7)
    return fig


def _text_rows(text: str, width: int) -> list[list[int]]:
    """The indices of ``text`` row by row: a newline ends its row, ``width`` wraps."""
    rows, row = [], []
    for i, c in enumerate(text):
        row.append(i)
        if c == "\n" or len(row) == width:
            rows.append(row)
            row = []
    if row:
        rows.append(row)
    return rows


def plot_unit_text(panels: list, *, width: int = 64, vmax: float = 1.0):
    """Text coloured by one unit's activation, character by character.

    Args:
        panels: ``[(title, text, activation), ...]``, ``activation`` (len(text),)
            the unit's state after each character (:func:`rnn_lib.lm_diagnostics.hidden_states`).
            Each character sits in a cell coloured by its activation, red for
            positive, blue for negative, white for 0; a newline is drawn as ↵
            and ends its row, a space is an empty cell. Chinese characters are
            drawn with the course's CJK font.
        width: the most cells in a row; longer rows wrap.
        vmax: the activation drawn in the deepest colour (and beyond it).

    Returns:
        the matplotlib ``Figure``, with one colour bar for all panels.
    """
    check_nonempty("panels", panels)
    check_int("width", width)
    check_number("vmax", vmax, positive=True)
    layouts = []
    for title, text, activation in panels:
        check_tensor(f"activation of {title!r}", activation)
        if activation.shape != (len(text),):
            raise ValueError(
                f"expected the activation of {title!r} of shape ({len(text)},), "
                f"got {tuple(activation.shape)}"
            )
        layouts.append(_text_rows(text, width))
    columns = max(len(row) for rows in layouts for row in rows)
    # One cell is CELL inches square; each panel has a title line above it and
    # the colour bar sits below. Placed by hand, not by a layout engine, which
    # would measure each of the hundreds of characters once more.
    CELL, TITLE, BAR = 0.17, 0.3, 0.9
    width = columns * CELL + 0.2
    height = sum(len(rows) * CELL + TITLE for rows in layouts) + BAR
    fig = plt.figure(figsize=(width, height))
    axes, top = [], height
    for rows in layouts:
        top -= TITLE + len(rows) * CELL
        box = (
            0.1 / width,
            top / height,
            columns * CELL / width,
            len(rows) * CELL / height,
        )
        axes.append(fig.add_axes(box))
    colours = mpl.colormaps[ACTIVATION_MAP]
    norm = mpl.colors.Normalize(-vmax, vmax)
    for ax, (title, text, activation), rows in zip(axes, panels, layouts):
        values = activation.detach().double().cpu().numpy()  # (len(text),)
        cells = np.ones((len(rows), columns, 4))  # RGBA, white where no character
        for y, row in enumerate(rows):
            cells[y, : len(row)] = colours(norm(values[row]))
            for x, i in enumerate(row):
                # A newline shows as its sign; a space stays an empty cell.
                char = VISIBLE["\n"] if text[i] == "\n" else text[i]
                dark = abs(values[i]) > 0.65 * vmax
                label = ax.text(
                    x + 0.5,
                    -y - 0.5,
                    char,
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=COLOURS["on_map"] if dark else COLOURS["text"],
                )
                label.set_in_layout(False)  # hundreds of them: keep the layout fast
        ax.imshow(cells, extent=(0, columns, -len(rows), 0), interpolation="nearest")
        ax.set_xlim(0, columns)
        ax.set_ylim(-len(rows), 0)
        ax.set_aspect("equal")
        ax.axis("off")
        ax.set_title(title, fontsize=9, loc="left")
    bar = fig.add_axes((0.3, 0.55 * BAR / height, 0.4, 0.12 / height))
    fig.colorbar(
        mpl.cm.ScalarMappable(norm=norm, cmap=colours),
        cax=bar,
        orientation="horizontal",
        ticks=np.linspace(-vmax, vmax, 5),
        label="activation of the unit",
    )
    return fig
