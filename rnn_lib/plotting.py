"""Figures and ipywidgets explorers for the book's chapters.

One helper, one place: a chapter that draws a figure calls a function from
here rather than defining its own. Every function returns the matplotlib
``Figure`` it drew, so a notebook can show it and a test can inspect it.
"""

from __future__ import annotations

import matplotlib.pyplot as plt

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
