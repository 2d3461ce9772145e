"""Chapter 7's figures: a character-level language model learning, and sampling.

Chapter 7 (*A character-level language model*) trains :class:`rnn_lib.models.CharRNN`
with :func:`rnn_lib.train.train` and draws its loss curves against the unigram
baseline (:func:`plot_lm_curves`, which chapter 8 reuses for its three cells),
then shows how the sampling temperature T reshapes the next-character
distribution (:func:`plot_temperatures`).

Read next: :mod:`rnn_lib.plotting.gated`, chapter 8's figures.
"""

from __future__ import annotations

from itertools import cycle

import numpy as np
import torch

from rnn_lib.plotting.style import COLOURS, MODELS, new_figure
from rnn_lib.validation import check_int, check_nonempty, check_number, check_tensor


def _perplexity_axis(ax) -> None:
    """A right-hand axis that reads the cross-entropy as perplexity, ``exp(loss)``."""
    perplexity = ax.secondary_yaxis(
        "right", functions=(np.exp, lambda ppl: np.log(np.maximum(ppl, 1e-300)))
    )
    perplexity.set_ylabel("perplexity")


def plot_lm_curves(histories: dict, baseline: float, *, smooth: int = 20, ax=None):
    """Loss curves of character-level language models.

    Args:
        histories: label -> :class:`rnn_lib.train.History`; the training loss
            is drawn as a running mean over ``smooth`` steps, the validation
            loss as markers.
        baseline: the unigram model's validation loss, drawn as a dashed line.
        smooth: how many training steps each point of the running mean spans.
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
    for colour, (label, history) in zip(cycle(MODELS), histories.items()):
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
    ax.axhline(baseline, ls="--", color=COLOURS["baseline"], label="unigram baseline")
    ax.plot(
        [],
        [],
        color=COLOURS["faded"],
        label=f"training (mean of {smooth} steps)",
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
        top: how many of the most likely characters (at T = 1) to show.

    Returns:
        the matplotlib ``Figure``.
    """
    check_tensor("logits", logits)
    check_nonempty("temperatures", temperatures)
    for i, temperature in enumerate(temperatures):
        check_number(f"temperatures[{i}]", temperature, positive=True)
    check_int("top", top)
    order = logits.argsort(descending=True)[:top]  # (top,)
    labels = [repr(chars[i])[1:-1] for i in order.tolist()]
    fig, axes = new_figure(
        ncols=len(temperatures), width=3.2, height=2.8, sharey=True, squeeze=False
    )
    for ax, temperature in zip(axes[0], temperatures):
        probs = torch.softmax(logits.double() / temperature, dim=-1)[order]  # (top,)
        ax.bar(range(top), probs.tolist(), color=COLOURS["rnn"])
        ax.set_xticks(range(top), labels, fontfamily="monospace")
        ax.set_title(f"T = {temperature}")
        ax.set_xlabel("next character")
    axes[0, 0].set_ylabel("probability")
    return fig
