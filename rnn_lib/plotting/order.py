"""Chapter 1's figures: models that see order against models that do not.

Chapter 1 (*Why sequence models*) trains a one-step model, a bag-of-steps
model and a recurrent one on a task that only order can solve.
:func:`plot_model_comparison` draws their learning curves;
:func:`plot_twin_differences` shows, step by step, whether each model can tell
a sequence from its twin with two markers swapped.

Read next: :mod:`rnn_lib.plotting.unrolled`, the diagrams of chapters 1 to 4.
"""

from __future__ import annotations

from itertools import cycle

from rnn_lib.plotting.style import COLOURS, UNNAMED, new_figure
from rnn_lib.validation import check_int, check_nonempty, check_number


def _runs(histories: dict) -> dict:
    """``{label: [history, ...]}``: one history per run (seed), each checked."""
    check_nonempty("histories", histories)
    runs = {}
    for label, value in histories.items():
        runs[label] = list(value) if isinstance(value, (list, tuple)) else [value]
        check_nonempty(f"histories[{label!r}]", runs[label])
        for history in runs[label]:
            missing = {"step", "loss", "accuracy"} - set(history)
            if missing:
                raise ValueError(f"history {label!r} lacks {sorted(missing)}")
    return runs


def _level_line(ax, level: float, label: str, *, dotted: bool = False) -> None:
    """A line at a score (dashed: chance; dotted: solved), under the curves, labelled.

    The chance line is labelled at the right, the solved line at the left, where
    the curves have not reached it yet; both labels sit just below their line.
    """
    line = {"color": COLOURS["bound"], "linestyle": ":" if dotted else "--"}
    ax.axhline(level, zorder=1.5, linewidth=0.8, **line)
    ax.annotate(
        label,
        (0 if dotted else 1, level),
        xycoords=("axes fraction", "data"),
        xytext=(4 if dotted else -4, -4),
        textcoords="offset points",
        ha="left" if dotted else "right",
        va="top",
        fontsize=8,
    )


def plot_model_comparison(
    histories: dict,
    *,
    chance_loss: float | None = None,
    chance_accuracy: float | None = None,
    solved_accuracy: float | None = None,
    styles: dict | None = None,
):
    """Loss and accuracy of several models against training steps, side by side.

    A training step is one update of the weights (not a time step of a
    sequence): the x axis of both panels.

    Args:
        histories: ``{label: {"step": [...], "loss": [...], "accuracy": [...]}}``,
            one entry per model, the three lists of equal length; or
            ``{label: [history, ...]}``, one history per run (say, per seed),
            drawn as thin lines of one style with one legend entry that
            counts the runs.
        chance_loss: if given, a dashed line at the loss of guessing.
        chance_accuracy: if given, a dashed line at the accuracy of guessing.
        solved_accuracy: if given, a dotted line at the accuracy the text
            calls solved, labelled with it as a percentage.
        styles: an optional ``{label: {keyword: value}}`` of matplotlib line
            styles, e.g. ``{"recurrent": {"color": COLOURS["rnn"]}}``; a label
            without a colour takes the next colour of ``style.UNNAMED``. Curves
            that lie on top of each other stay visible if the first drawn is
            wider.

    Returns:
        the matplotlib ``Figure``.
    """
    runs = _runs(histories)
    chances = {"loss": chance_loss, "accuracy": chance_accuracy}
    for name, chance in chances.items():
        if chance is not None:
            check_number(f"chance_{name}", chance)
    if solved_accuracy is not None:
        check_number("solved_accuracy", solved_accuracy, minimum=0, maximum=1)
    palette, styles = cycle(UNNAMED), styles or {}
    fig, (loss_ax, accuracy_ax) = new_figure(ncols=2, width=4.6, height=3.4)
    for label, label_runs in runs.items():
        several = len(label_runs) > 1
        style = {"linewidth": 1.0 if several else 1.6} | styles.get(label, {})
        style.setdefault("color", next(palette))
        legend = f"{label} ({len(label_runs)} runs)" if several else label
        for run, history in enumerate(label_runs):
            name = legend if run == 0 else "_" + legend  # one legend entry
            loss_ax.plot(history["step"], history["loss"], label=name, **style)
            accuracy_ax.plot(history["step"], history["accuracy"], label=name, **style)
    for ax, (name, chance) in zip((loss_ax, accuracy_ax), chances.items()):
        if chance is not None:
            _level_line(ax, chance, "chance")
        ax.set_xlabel("training step")
        ax.set_ylabel(f"test {name}")
    if solved_accuracy is not None:
        _level_line(
            accuracy_ax, solved_accuracy, f"solved: {solved_accuracy:.0%}", dotted=True
        )
    accuracy_ax.set_ylim(0.4, 1.02)
    accuracy_ax.legend(loc="center right", fontsize=8)
    return fig


def _check_differences(differences: dict, marker_steps) -> int:
    """The common length of every entry of ``differences``."""
    check_nonempty("differences", differences)
    lengths = {len(values) for values in differences.values()}
    if len(lengths) != 1:
        raise ValueError(
            "every entry of differences must have the same length, "
            f"got {sorted(lengths)}"
        )
    for i, step in enumerate(marker_steps):
        check_int(f"marker_steps[{i}]", step)
    (length,) = lengths
    return length


def plot_twin_differences(
    differences: dict,
    marker_steps: tuple[int, int],
    *,
    colours: dict | None = None,
    ylabel: str = "distance",
):
    """Per step, how far apart two inputs leave each model's view: one row per model.

    Chapter 1 feeds a sequence and its twin (the same sequence with markers
    ``A`` and ``B`` swapped) to each model and plots, at every step, the
    distance between what the model holds for the two; where a bar is zero the
    model cannot tell them apart. Each row has its own y axis, with ticks, and
    names its model in its top left corner.

    Args:
        differences: ``{label: values}``, each ``values`` of shape ``(L,)``: the
            distance at steps ``1 .. L``.
        marker_steps: the steps (counted from 1) where the two markers sit.
        colours: an optional ``{label: colour}``; the RNN's colour otherwise.
        ylabel: the y axis label of every row.

    Returns:
        the matplotlib ``Figure``.
    """
    length = _check_differences(differences, marker_steps)
    colours = colours or {}
    fig, axes = new_figure(
        nrows=len(differences), width=7.0, height=1.6, sharex=True, squeeze=False
    )
    steps = list(range(1, length + 1))
    for ax, (label, values) in zip(axes[:, 0], differences.items()):
        values = [float(v) for v in values]
        ax.bar(steps, values, color=colours.get(label, COLOURS["rnn"]), width=0.7)
        for step in marker_steps:
            ax.axvline(step, color=COLOURS["bound"], linestyle=":", linewidth=0.8)
        ax.set_title(label, loc="left", fontsize=9, pad=2)
        ax.set_ylabel(ylabel, fontsize=8)
        ax.set_ylim(0, max(values) * 1.25 or 1)
        ax.locator_params(axis="y", nbins=3)
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    axes[-1, 0].set_xticks(steps)
    axes[-1, 0].set_xlabel("step $t$ (dotted: the two markers)")
    return fig
