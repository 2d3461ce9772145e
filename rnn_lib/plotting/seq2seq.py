"""Chapter 9's figures: encoder-decoders with and without attention, and their decoding.

Chapter 9 (*Sequence to sequence*) trains :class:`rnn_lib.seq2seq.Seq2Seq`
with and without attention from several seeds and draws, for each model, one
faint line per seed and their mean: exact-match accuracy against the source
length (:func:`plot_accuracy_by_length`), the teacher-forced loss and the
free-running accuracy during training (:func:`plot_training_curves`), token
accuracy by output position with and without teacher forcing
(:func:`plot_exposure_bias`) and greedy decoding against beam search
(:func:`plot_beam_search`). :func:`plot_attention_maps` draws what the
attention weights of one model look like on a few sources, English or Chinese
(tick labels are plain text, never mathtext, so the Chinese characters fall
back to the CJK font of :mod:`rnn_lib.plotting.style`).

Every function takes its curves as ``{label: values}``, where ``values`` is a
tensor of shape ``(seeds, points)``: one row per seed. The models take their colours
in the order given (:data:`MODEL_COLOURS`).

Read next: :mod:`rnn_lib.plotting.style`, the look they share.
"""

from __future__ import annotations

import math

import numpy as np

from rnn_lib.plotting.style import COLOURS, PURPLE, SKY_BLUE, WEIGHTS_MAP, new_figure
from rnn_lib.validation import check_int, check_nonempty, check_tensor

#: The colours of the models compared, in order: without attention, with it.
MODEL_COLOURS = (SKY_BLUE, PURPLE)


def _curves(name: str, curves: dict, points: int) -> dict[str, np.ndarray]:
    """Check ``{label: (S, points) tensor}`` and return the values as float64 arrays."""
    check_nonempty(name, curves)
    if len(curves) > len(MODEL_COLOURS):
        raise ValueError(
            f"{name} must hold at most {len(MODEL_COLOURS)} models, got {len(curves)}"
        )
    arrays = {}
    for label, values in curves.items():
        check_tensor(f"{name}[{label!r}]", values)
        if values.dim() != 2 or values.shape[1] != points:
            raise ValueError(
                f"expected {name}[{label!r}] of shape (seeds, {points}), "
                f"got {tuple(values.shape)}"
            )
        arrays[label] = values.detach().double().cpu().numpy()
    return arrays


def _seed_lines(ax, x, values: np.ndarray, colour: str, label: str, **style) -> None:
    """One faint line per seed (rows of ``values``) and their mean, labelled."""
    for row in values:
        ax.plot(x, row, color=colour, alpha=0.3, linewidth=1, **style)
    ax.plot(
        x, values.mean(0), marker="o", color=colour, label=label, markersize=4, **style
    )


def plot_accuracy_by_length(lengths, accuracy: dict, max_train_length: int, ax=None):
    """Exact-match accuracy against the source length, the lengths never trained on shaded.

    Args:
        lengths: the source lengths, in tokens.
        accuracy: label -> (seeds, points), the share of test sources of each length
            translated exactly, per seed.
        max_train_length: the longest source in training; longer ones are shaded.
        ax: axes to draw on (a new figure if None).

    Returns:
        the matplotlib ``Figure``.
    """
    lengths = list(lengths)
    check_nonempty("lengths", lengths)
    curves = _curves("accuracy", accuracy, len(lengths))
    check_int("max_train_length", max_train_length)
    fig, ax = new_figure(width=7.0, height=3.8) if ax is None else (ax.figure, ax)
    if max(lengths) > max_train_length:
        ax.axvspan(
            max_train_length + 0.5,
            max(lengths) + 0.5,
            color=COLOURS["given"],
            label="longer than any training source",
        )
    for colour, (label, values) in zip(MODEL_COLOURS, curves.items()):
        _seed_lines(ax, lengths, values, colour, label)
    ax.set_xlim(min(lengths) - 0.5, max(lengths) + 0.5)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xticks(lengths)
    ax.set_xlabel("source length (tokens)")
    ax.set_ylabel("exact match (test)")
    ax.legend(frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3)
    return fig


def plot_training_curves(steps, loss: dict, accuracy: dict):
    """The teacher-forced validation loss and the free-running validation accuracy.

    Args:
        steps: the training steps at which both were measured.
        loss: label -> (seeds, points), the teacher-forced cross-entropy (nats per token).
        accuracy: label -> (seeds, points), the exact match of greedy decoding.

    Returns:
        the matplotlib ``Figure``, two panels.
    """
    steps = list(steps)
    check_nonempty("steps", steps)
    losses = _curves("loss", loss, len(steps))
    accuracies = _curves("accuracy", accuracy, len(steps))
    fig, (left, right) = new_figure(ncols=2, width=4.2, height=3.4)
    for colour, label in zip(MODEL_COLOURS, losses):
        _seed_lines(left, steps, losses[label], colour, label)
        if label in accuracies:
            _seed_lines(right, steps, accuracies[label], colour, label)
    left.set_yscale("log")
    left.set_ylabel("teacher-forced loss (nats per token)")
    right.set_ylabel("free-running exact match")
    right.set_ylim(-0.02, 1.02)
    for ax in (left, right):
        ax.set_xlabel("training step")
    left.legend(frameon=False)
    return fig


def plot_exposure_bias(positions, teacher_forced: dict, free_running: dict):
    """Digits right at each output position, given the true prefix or the model's own.

    Args:
        positions: the output positions t (1 for the first digit).
        teacher_forced: label -> (seeds, points), the share of the digits at
            position t that are the likeliest given the true digits before them.
        free_running: label -> (seeds, points), the share of the digits that
            greedy decoding writes right at position t, after its own.

    Returns:
        the matplotlib ``Figure``.
    """
    positions = list(positions)
    check_nonempty("positions", positions)
    forced = _curves("teacher_forced", teacher_forced, len(positions))
    running = _curves("free_running", free_running, len(positions))
    fig, ax = new_figure(width=6.0, height=3.6)
    for colour, label in zip(MODEL_COLOURS, forced):
        _seed_lines(ax, positions, forced[label], colour, f"{label}, teacher-forced")
        if label in running:
            _seed_lines(
                ax,
                positions,
                running[label],
                colour,
                f"{label}, free-running",
                linestyle="--",
            )
    ax.set_xticks(positions)
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("output position $t$")
    ax.set_ylabel("digits right")
    ax.legend(frameon=False, loc="lower left", fontsize="small")
    return fig


def plot_beam_search(beam_sizes, log_prob: dict, accuracy: dict):
    """What beam search gains over greedy decoding, the first beam size (S = 1).

    Args:
        beam_sizes: the beam sizes S, the first one 1 (greedy decoding).
        log_prob: label -> (seeds, points), the mean log-probability of the
            sequences chosen, per seed.
        accuracy: label -> (seeds, points), their exact match.

    Each curve is drawn as its gain over its own value at the first beam size:
    the log-probability in nats (left), the exact match in percentage points
    (right); a grey line marks no gain.

    Returns:
        the matplotlib ``Figure``, two panels.
    """
    beam_sizes = list(beam_sizes)
    check_nonempty("beam_sizes", beam_sizes)
    log_probs = _curves("log_prob", log_prob, len(beam_sizes))
    accuracies = _curves("accuracy", accuracy, len(beam_sizes))
    fig, (left, right) = new_figure(ncols=2, width=4.2, height=3.4)
    for colour, label in zip(MODEL_COLOURS, log_probs):
        gain = log_probs[label] - log_probs[label][:, :1]
        _seed_lines(left, beam_sizes, gain, colour, label)
        if label in accuracies:
            points = 100 * (accuracies[label] - accuracies[label][:, :1])
            _seed_lines(right, beam_sizes, points, colour, label)
    left.set_ylabel("log-probability gained (nats)")
    right.set_ylabel("exact match gained (points)")
    for ax in (left, right):
        ax.axhline(0, color=COLOURS["guide"], zorder=0)
        ax.set_xticks(beam_sizes)
        ax.set_xlabel("beam size $S$ (1 is greedy)")
    left.legend(frameon=False)
    return fig


def plot_attention_maps(maps: list[dict], ncols: int = 2):
    """Attention weights as heatmaps: a row per output token, a column per source token.

    Args:
        maps: one dict per panel with ``source`` (the L_x source tokens),
            ``output`` (the L_u tokens written), ``weights`` (an (L_u, L_x)
            tensor, each row summing to 1) and ``title``.
        ncols: panels per row.

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("maps", maps)
    check_int("ncols", ncols)
    for i, panel in enumerate(maps):
        weights = check_tensor(f"maps[{i}]['weights']", panel["weights"])
        shape = (len(panel["output"]), len(panel["source"]))
        if tuple(weights.shape) != shape:
            raise ValueError(
                f"expected maps[{i}]['weights'] of shape {shape} (output tokens, "
                f"source tokens), got {tuple(weights.shape)}"
            )
    ncols = min(ncols, len(maps))
    nrows = math.ceil(len(maps) / ncols)
    widest = max(len(panel["source"]) for panel in maps)
    fig, axes = new_figure(
        ncols=ncols,
        nrows=nrows,
        width=max(3.0, 0.42 * widest + 1.2),
        height=3.4,
        squeeze=False,
    )
    for ax, panel in zip(axes.flat, maps):
        weights = panel["weights"].detach().double().cpu().numpy()
        image = ax.imshow(weights, cmap=WEIGHTS_MAP, vmin=0, vmax=1, aspect="auto")
        ax.set_xticks(range(len(panel["source"])), panel["source"], rotation=60)
        ax.set_yticks(range(len(panel["output"])), panel["output"])
        ax.set_title(panel["title"], fontsize="medium")
        ax.set_xlabel("source token")
        ax.set_ylabel("output token")
    for ax in list(axes.flat)[len(maps) :]:
        ax.axis("off")
    fig.colorbar(image, ax=axes, shrink=0.8, label="attention weight")
    return fig
