"""Chapter 8's figures: how the LSTM and GRU keep a gradient alive.

Chapter 8 (*Gated recurrent networks*) compares ``||dL/dh_t||`` (the LSTM's
``[h_t; c_t]``) for the RNN, LSTM and GRU before and after training
(:func:`plot_gradient_norm_panels`)
and follows the LSTM's cell path, the product of its forget gates
(:func:`plot_forget_gate_products`). It also reuses chapter 6's
:func:`~rnn_lib.plotting.gradients.plot_memory_results` and chapter 7's
:func:`~rnn_lib.plotting.lm.plot_lm_curves`.

This is the last figure module; to see how they all share a look, read
:mod:`rnn_lib.plotting.style` again, or go on to the numbers they draw:
:mod:`rnn_lib.diagnostics`.
"""

from __future__ import annotations

import numpy as np
import torch

from rnn_lib.plotting.style import COLOURS, model_colour, new_figure
from rnn_lib.validation import check_int, check_nonempty

# A total derivative (d, as the notation page writes it); the LSTM's state is [h_t; c_t].
STATE_LABEL = r"median $\|d\mathcal{L} / dh_t\|$ (LSTM: of $[h_t; c_t]$)"


def _quartile_curve(ax, norms, colour, label) -> None:
    """The median over the batch (axis 1) and a band over its middle half."""
    quartiles = torch.tensor([0.25, 0.5, 0.75], dtype=torch.float64)
    q = torch.quantile(norms.detach().double().cpu(), quartiles, dim=1)  # (3, L + 1)
    steps = np.arange(norms.shape[0])
    ax.plot(steps, q[1].numpy(), color=colour, label=label)
    ax.fill_between(
        steps, q[0].numpy(), q[2].numpy(), color=colour, alpha=0.2, linewidth=0
    )


def plot_gradient_norm_panels(panels: dict, *, xlabel: str = "step $t$"):
    """``||dL/dh_t||`` against t, one panel per stage, one line per model.

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
    check_nonempty("panels", panels)
    fig, axes = new_figure(
        ncols=len(panels), width=4.2, height=3.4, sharey=True, squeeze=False
    )
    for ax, (title, curves) in zip(axes[0], panels.items()):
        for k, (label, norms) in enumerate(curves.items()):
            _quartile_curve(ax, norms, model_colour(label, k), label)
        ax.set_yscale("log")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(xlabel)
    axes[0, 0].set_ylabel(STATE_LABEL)
    axes[0, -1].legend(fontsize=8)
    return fig


def _unit_lines(ax, P, highlight: int) -> None:
    """Each unit's median product against the distance; the longest memories coloured."""
    median = P.detach().double().cpu().median(dim=1).values  # (L + 1, H)
    L = median.shape[0] - 1
    distance = np.arange(L, -1, -1)  # P[t] is L - t steps back
    top = set(median[0].argsort(descending=True)[:highlight].tolist())
    kept = {"color": COLOURS["lstm"], "linewidth": 1.4, "alpha": 1.0}
    rest = {"color": COLOURS["baseline"], "linewidth": 0.6, "alpha": 0.6}
    for j in range(median.shape[1]):
        line = kept if j in top else rest
        ax.plot(distance, median[:, j].clamp_min(1e-30).numpy(), **line)


def plot_forget_gate_products(products: dict, *, highlight: int = 1):
    """The LSTM's cell path: ``prod_{s=t+1}^{L} f_s`` against the distance ``L - t``.

    Args:
        products: ``{title: P}``, one panel each, with ``P`` of shape
            ``(L + 1, N, H)``: ``P[t, n, j]`` is the product of unit j's
            forget gates from step t + 1 to L on sequence n (``P[L] = 1``).
            Each thin line is one unit's median over the N sequences.
        highlight: how many units with the largest product over the whole
            sequence to draw in the LSTM colour (the rest in grey).

    Returns:
        the matplotlib ``Figure``.
    """
    check_nonempty("products", products)
    check_int("highlight", highlight, minimum=0)
    fig, axes = new_figure(
        ncols=len(products), width=4.2, height=3.4, sharey=True, squeeze=False
    )
    for ax, (title, P) in zip(axes[0], products.items()):
        _unit_lines(ax, P, highlight)
        ax.set_yscale("log")
        ax.set_ylim(1e-30, 2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("distance $L - t$ (steps)")
    axes[0, 0].set_ylabel(r"$f_{t+1} \odot \cdots \odot f_L$ (median over sequences)")
    return fig
