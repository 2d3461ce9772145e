"""The course's look: one palette, one figure size, and the drawing canvas.

Every figure of every chapter takes its colours from here, so a colour means
the same thing throughout the book: blue is the plain RNN (and ``W_ih``),
vermillion the LSTM, green the GRU, orange torch's own code (and the states
``nn.RNN`` returns in ``h_n``), grey a baseline, black a bound. The colours are
Okabe and Ito's, safe for colour-blind readers. Chinese characters (the Tang
poems of chapter 7, the numerals of chapter 9) are drawn with a subset of Noto
Sans CJK SC that ships in ``fonts/``, registered on import as the fallback
after matplotlib's DejaVu Sans (mathtext does not fall back: keep ``$...$``
and Chinese text in separate strings).

Used by every figure module; read next: :mod:`rnn_lib.plotting.order`,
chapter 1's figures.
"""

from __future__ import annotations

import dataclasses
from importlib import resources

import matplotlib.pyplot as plt
from matplotlib import font_manager

# The palette: Okabe and Ito's colours, and the greys of the diagrams.
BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
GREEN = "#009E73"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
PURPLE = "#CC79A7"
GREY = "#999999"

#: What each colour means, in every chapter.
COLOURS = {
    "rnn": BLUE,
    "lstm": VERMILLION,
    "gru": GREEN,
    "baseline": GREY,
    "bound": BLACK,
    "torch": ORANGE,
    "rnn_lib": BLUE,
    # the diagrams' inks and fills
    "text": BLACK,
    "paper": "white",  # a state's box, a note's background
    "edge": "#333333",  # a box's outline
    "copy": "#555555",  # an arrow that copies, through no weight
    "faded": "#666666",  # a legend entry for faint lines
    "padding_text": "#888888",
    "guide": "#dddddd",  # axis lines and chunk marks behind the data
    "padding": "#e6e6e6",
    "given": "#f2f2f2",  # what a network is given: x_t, h_0
    "output": "#eef4fa",
    "readout": "#fbeee6",
    "on_map": "white",  # a path drawn over a colour map
}

#: The font file that draws Chinese characters (see ``fonts/README.md``).
CJK_FONT = (
    resources.files("rnn_lib.plotting") / "fonts" / "NotoSansCJKsc-Regular-subset.otf"
)


def use_cjk_font() -> str:
    """Register :data:`CJK_FONT` and make it the fallback font; return its family."""
    with resources.as_file(CJK_FONT) as path:
        font_manager.fontManager.addfont(str(path))
        family = font_manager.FontProperties(fname=str(path)).get_name()
    # The subset has one weight: bold Chinese text is drawn in it too, rather
    # than with a "Failed to find font weight bold" warning on stderr.
    regular = next(f for f in font_manager.fontManager.ttflist if f.name == family)
    if not any(
        f.name == family and f.weight == "bold"
        for f in font_manager.fontManager.ttflist
    ):
        font_manager.fontManager.ttflist.append(
            dataclasses.replace(regular, weight="bold")
        )
    families = [f for f in plt.rcParams["font.family"] if f != family]
    if families == ["sans-serif"]:  # matplotlib's default: name its first font
        families = [plt.rcParams["font.sans-serif"][0]]
    plt.rcParams["font.family"] = [*families, family]
    return family


CJK_FAMILY = use_cjk_font()

#: The colour map for a surface, such as a loss over two weights.
SURFACE_MAP = "viridis"

#: The colour map of attention weights: white for 0, dark for 1.
WEIGHTS_MAP = "Greys"

#: The order in which curves take colours when a swept value (a spectral
#: radius, an initialisation) tells them apart: dark to light.
SWEEP = (BLUE, SKY_BLUE, GREEN, ORANGE, VERMILLION, PURPLE)

#: The order for curves that are models, the plain RNN first.
MODELS = (COLOURS["rnn"], COLOURS["lstm"], COLOURS["gru"], COLOURS["torch"])

#: The order for curves the caller has not coloured, sparing the RNN's blue
#: for the curve the caller names.
UNNAMED = (ORANGE, SKY_BLUE, GREEN, PURPLE, VERMILLION, BLUE)


def model_colour(label: str, index: int) -> str:
    """A label that starts with RNN, LSTM or GRU gets its model's colour, others ``SWEEP``'s."""
    return COLOURS.get(label.split()[0].lower(), SWEEP[index % len(SWEEP)])


def new_figure(
    ncols: int = 1, nrows: int = 1, width: float = 6.0, height: float = 3.6, **kwargs
):
    """A figure with the course's size and a grid of axes; returns ``(fig, axes)``.

    Args:
        ncols, nrows: the grid of axes.
        width, height: the size of one axes' cell, in inches.
        **kwargs: passed to ``plt.subplots`` (``sharey``, ``squeeze`` ...).
    """
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(width * ncols, height * nrows),
        layout="constrained",
        **kwargs,
    )
    return fig, axes


def canvas(ax, xlim: tuple[float, float], ylim: tuple[float, float]) -> None:
    """Turn ``ax`` into a drawing board: these limits, equal scales, no axes."""
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")
