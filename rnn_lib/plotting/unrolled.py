"""Chapters 1 to 4's diagrams: the RNN unrolled through time, and a packed batch.

:func:`plot_unrolled_rnn` draws the recurrence as chapter 2 derives it (one box
per state, one arrow per use of a weight) and grows with chapters 3 and 4 to
stacked and bidirectional layers, the output and the states ``nn.RNN`` returns
in ``h_n``. :func:`plot_packed_batch` shows chapter 4's ``PackedSequence``.

Both draw on a :func:`~rnn_lib.plotting.style.canvas` in data units: a box is
``BOX_W`` by ``BOX_H`` (its rounded outline ``PAD`` beyond), columns (time
steps) lie ``DX`` apart and rows (inputs, layers, outputs) ``DY`` apart. The
figures are rendered at ``DPI``, so that their labels stay sharp when a page
scales them down.

Read next: :mod:`rnn_lib.plotting.bptt`, chapter 5's figures.
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
import torch
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path
from torch.nn.utils.rnn import pack_padded_sequence

from rnn_lib.plotting.style import COLOURS, canvas, new_figure
from rnn_lib.validation import check_bool, check_choice, check_int, check_nonempty

BOX_W, BOX_H, DX, DY = 0.9, 0.55, 1.7, 1.1
PAD = 0.04  # the rounded outline lies this far outside BOX_W by BOX_H
DPI = 150

#: Text in torch's orange, darkened so that it reads on white (the orange
#: itself is for thick lines: the outline of a state in ``h_n``).
TORCH_INK = tuple(np.array(mcolors.to_rgb(COLOURS["torch"])) * 0.62)

#: A backward state's letter: a small arrow set clear above the h, the same
#: with and without a layer index (``\!{}`` pulls the indices back to the h).
BACKWARD_HEAD = r"\overset{\leftarrow}{h}\!{}"

#: An arrow's colour names the weight it applies.
ARROW_COLOURS = {
    "ih": COLOURS["rnn"],
    "hh": COLOURS["gru"],
    "hy": COLOURS["lstm"],
    "copy": COLOURS["copy"],
}


# ---------------------------------------------------------------------------
# Boxes and arrows
# ---------------------------------------------------------------------------


def _box(ax, x, y, text, face=COLOURS["paper"], h_n=None, code=False):
    """A rounded box centred at (x, y); a state in ``h_n`` gets a thick orange edge.

    ``h_n`` is the state's index in ``h_n``, written in the box's corner, or
    ``""`` for an outline without an index (when ``h_n`` holds one state).
    With ``code``, the text is a code expression (``output[0]``), set smaller
    in a monospace font.
    """
    edge = COLOURS["edge"] if h_n is None else COLOURS["torch"]
    ax.add_patch(
        FancyBboxPatch(
            (x - BOX_W / 2, y - BOX_H / 2),
            BOX_W,
            BOX_H,
            boxstyle=f"round,pad={PAD},rounding_size=0.12",
            facecolor=face,
            edgecolor=edge,
            linewidth=1.2 if h_n is None else 2.6,
        )
    )
    font = {"fontsize": 9, "family": "monospace"} if code else {"fontsize": 12}
    ax.text(x, y, text, ha="center", va="center", **font)
    if h_n not in (None, ""):
        corner = (x + BOX_W / 2 - 0.04, y + BOX_H / 2 - 0.03)
        # Not bold: the CJK fallback font has no bold face, and matplotlib
        # would warn about it in every chapter that draws this figure.
        ax.text(*corner, str(h_n), color=TORCH_INK, fontsize=10, ha="right", va="top")


def _arrow(ax, points, kind, label=None):
    """An arrow along ``points`` in the colour of weight ``kind``, labelled at its middle."""
    colour = ARROW_COLOURS[kind]
    ax.add_patch(
        FancyArrowPatch(
            path=Path(points),
            arrowstyle="-|>",
            mutation_scale=12,
            linewidth=1.3,
            color=colour,
        )
    )
    if label:
        (x0, y0), (x1, y1) = points[0], points[-1]
        vertical = abs(x1 - x0) < abs(y1 - y0)
        ax.text(
            (x0 + x1) / 2 + (0.06 if vertical else 0),
            (y0 + y1) / 2 + (0 if vertical else 0.04),
            label,
            color=colour,
            fontsize=10,
            ha="left" if vertical else "center",
            va="center" if vertical else "bottom",
        )


def _up(ax, x, y_from, y_to, kind, label=None):
    """A straight arrow up column x, from the box at y_from to the box at y_to."""
    _arrow(
        ax, [(x, y_from + BOX_H / 2 + PAD), (x, y_to - BOX_H / 2 - PAD)], kind, label
    )


class _Lanes:
    """Where the arrows that skip a row run: each in a lane of its own.

    An arrow from a row that is not the one just below its target leaves the
    top of its source, runs up a vertical lane in the gap right of its column
    and enters the bottom of its target. Every such arrow of a column gets its
    own lane, so no two of them overlap; the points where they leave a box and
    enter one are spread along the box's edge, right of the straight arrow,
    ``SPREAD`` apart, and the arrow leaves and enters straight up, so that two
    heads entering one box stay apart.
    """

    SPREAD, FIRST, STRAIGHT, TURN = 0.17, 0.16, 0.16, 0.1

    def __init__(self, per_column: int):
        gap = DX - BOX_W
        self.step = min(0.15, 0.8 * gap / max(per_column, 1))
        self.used = {}  # column -> lanes taken
        self.leaving = {}  # (column, row) -> arrows that left this box
        self.entering = {}  # (column, row) -> arrows that entered this box

    @staticmethod
    def _take(counts, key):
        counts[key] = counts.get(key, 0) + 1
        return counts[key] - 1

    def route(self, ax, x, source, row, kind):
        lane = self._take(self.used, x)
        side = x + BOX_W / 2 + self.step * (lane + 1)
        start = x + self.FIRST + self.SPREAD * self._take(self.leaving, (x, source))
        end = x + self.FIRST + self.SPREAD * self._take(self.entering, (x, row))
        # outside the outlines of the source and the target
        bottom, top = source * DY + BOX_H / 2 + PAD, row * DY - BOX_H / 2 - PAD
        rise, turn = self.STRAIGHT, self.STRAIGHT + self.TURN
        points = [
            (start, bottom),
            (start, bottom + rise),
            (side, bottom + turn),
            (side, top - turn),
            (end, top - rise),
            (end, top),
        ]
        _arrow(ax, points, kind)


def _feed(ax, x, sources, row, kind, lanes, label=None):
    """Arrows into ``row`` at column x from each source row: straight from the row below."""
    for source in sorted(sources, reverse=True):
        if source == row - 1:
            _up(ax, x, source * DY, row * DY, kind, label=label)
        else:
            lanes.route(ax, x, source, row, kind)


# ---------------------------------------------------------------------------
# Rows of the unrolled graph
# ---------------------------------------------------------------------------


def _layer_rows(layer, directions):
    """The rows a layer's chains sit in, bottom to top; layer -1 is the input row 0."""
    if layer < 0:
        return [0]
    return list(range(layer * directions + 1, (layer + 1) * directions + 1))


def _routed_per_column(num_layers, directions, top_rows):
    """How many arrows of one column skip a row (each needs a lane).

    ``top_rows`` counts the rows drawn above the layers (output, readout); the
    first reads the top layer's rows, each other one the row just below it.
    """
    targets = [
        (row, _layer_rows(layer - 1, directions))
        for layer in range(num_layers)
        for row in _layer_rows(layer, directions)
    ]
    if top_rows:
        top = num_layers * directions + 1
        targets.append((top, _layer_rows(num_layers - 1, directions)))
    return sum(source != row - 1 for row, sources in targets for source in sources)


def _chain(ax, xs, layer, backward, *, layers, directions, lanes):
    """One layer's states in one direction: ``h_0``, the states, W_hh and the inputs.

    The chain's index in ``h_0`` and ``h_n`` is one less than its row. Layers
    are numbered from 0, as in torch's names (``weight_ih_l0``) and in ``h_0``:
    with several layers, layer ℓ's states are written ``h^(ℓ)_t``, and each
    chain's initial state is the code ``h_0[index]``. With one layer and one
    direction, ``h_0`` is the symbol $h_0$, the last state's outline carries no
    index (``h_n`` holds it alone) and the weights are named.
    """
    index = layer * directions + int(backward)
    row, y, steps = index + 1, (index + 1) * DY, len(xs) - 1
    single = layers == 1 and directions == 1
    time = range(steps, 0, -1) if backward else range(1, steps + 1)
    sign = -1 if backward else 1
    previous = xs[time[0]] - sign * DX
    initial = "$h_0$" if single else f"h_0[{index}]"
    _box(ax, previous, y, initial, COLOURS["given"], code=not single)
    head = BACKWARD_HEAD if backward else "h"
    upper = f"^{{({layer})}}" if layers > 1 else ""
    below = _layer_rows(layer - 1, directions)
    for t in time:
        h_n = ("" if single else index) if t == time[-1] else None
        _box(ax, xs[t], y, f"${head}{upper}_{{{t}}}$", h_n=h_n)
        named = single and t == 1
        ends = [(previous + sign * BOX_W / 2, y), (xs[t] - sign * BOX_W / 2, y)]
        _arrow(ax, ends, "hh", "$W_{hh}$" if named else None)
        previous = xs[t]
        _feed(ax, xs[t], below, row, "ih", lanes, "$W_{ih}$" if named else None)


def _top_row(ax, xs, row, below, kind, lanes, *, output=False, label=None, last=False):
    """A row above the layers: ``output[t - 1]`` (a copy) or ``y_t`` (the readout).

    With ``last``, the readout only at the last step, as ``y``.
    """
    face = COLOURS["output"] if output else COLOURS["readout"]
    steps = len(xs) - 1
    for t in [steps] if last else range(1, steps + 1):
        if output:
            text = f"output[{t - 1}]"
        else:
            text = "$y$" if last else f"$y_{{{t}}}$"
        _box(ax, xs[t], row * DY, text, face=face, code=output)
        named = t == (steps if last else 1)
        _feed(ax, xs[t], below, row, kind, lanes, label if named else None)


def _folded(ax, readout, top):
    """The same network folded: ``x_t`` into ``h_t``, which loops back into itself."""
    _box(ax, 0, 0, "$x_t$", face=COLOURS["given"])
    _box(ax, 0, DY, "$h_t$")
    _up(ax, 0, 0, DY, "ih", label="$W_{ih}$")
    right = BOX_W / 2
    loop = [
        (right, DY + 0.12),
        (right + 0.45, DY + 0.5),
        (right + 0.45, DY - 0.5),
        (right, DY - 0.12),
    ]
    _arrow(ax, loop, "hh")
    ax.text(
        right + 0.5, DY, "$W_{hh}$", color=ARROW_COLOURS["hh"], fontsize=10, va="center"
    )
    if readout:
        _box(ax, 0, 2 * DY, "$y_t$", face=COLOURS["readout"])
        _up(ax, 0, DY, 2 * DY, "hy", label="$W_{hy}$")
    canvas(ax, (-0.6, 1.6), (-0.45, top + 0.6))


def _unrolled_figure(steps, directions, rows, folded):
    """The figure, sized to the grid; with ``folded``, a narrow panel on the left."""
    wide = 1.05 * (steps + 2 * directions)
    return new_figure(
        ncols=2 if folded else 1,
        width=(wide + 1.6) / 2 if folded else wide,
        height=0.4 + 0.75 * rows,
        gridspec_kw={"width_ratios": [1.6, wide]} if folded else None,
        dpi=DPI,
    )


def plot_unrolled_rnn(
    steps: int = 4,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    show_output: bool = False,
    readout: bool = False,
    readout_at: str = "every",
    folded: bool = False,
):
    """Draw an RNN unrolled through time: one box per state, one arrow per use of a weight.

    Every box in a row applies the same weights; an arrow's colour names the
    weight it applies (blue input-to-hidden, ``x_t W_ih^T``; green
    hidden-to-hidden, ``h_{t-1} W_hh^T``; vermilion readout, ``h_t W_hy^T``).
    Biases are not drawn. The states that ``nn.RNN`` returns in ``h_n`` get a
    thick orange edge and, when there are several, their index in ``h_n`` in
    the corner: a forward chain ends at the last step, a backward chain at
    the first. Time steps are numbered from 1 as in the book's equations
    (``x_1`` is ``input[0]`` in code); layers from 0, as in torch's names and
    in ``h_0``'s index. An arrow that skips a row runs in a lane of its own
    beside the boxes it passes.

    Args:
        steps: number of time steps L drawn, at least 1.
        num_layers: stacked layers, drawn bottom to top.
        bidirectional: also draw each layer's backward chain (right to left).
        show_output: draw the row ``nn.RNN`` returns as ``output``: at step t,
            the box ``output[t - 1]``, the top layer's states at step t (both
            directions concatenated).
        readout: draw the output layer ``y_t = h_t W_hy^T + b_y`` on top.
        readout_at: ``"every"`` step (``y_t`` for every t), or only the
            ``"last"`` (one ``y``, for a model that reads out once).
        folded: add a panel on the left with the folded (looped) network.

    Returns:
        the matplotlib ``Figure``.
    """
    check_int("steps", steps)
    check_int("num_layers", num_layers)
    flags = {"bidirectional": bidirectional, "show_output": show_output}
    for name, flag in (flags | {"readout": readout, "folded": folded}).items():
        check_bool(name, flag)
    check_choice("readout_at", readout_at, ("every", "last"))
    directions = 2 if bidirectional else 1
    rows = 1 + num_layers * directions + show_output + readout
    fig, axes = _unrolled_figure(steps, directions, rows, folded)
    ax = axes[-1] if folded else axes
    xs = [DX * t for t in range(steps + 1)]  # xs[t] for t = 1..steps
    for t in range(1, steps + 1):
        _box(ax, xs[t], 0, f"$x_{{{t}}}$", face=COLOURS["given"])
    routed = _routed_per_column(num_layers, directions, show_output + readout)
    lanes = _Lanes(routed)
    for layer in range(num_layers):
        for backward in (False, True)[:directions]:
            _chain(
                ax,
                xs,
                layer,
                backward,
                layers=num_layers,
                directions=directions,
                lanes=lanes,
            )
    row = num_layers * directions  # the row drawn last
    below = _layer_rows(num_layers - 1, directions)  # the rows that feed the next
    if show_output:  # output concatenates the top layer's directions: a copy
        row += 1
        _top_row(ax, xs, row, below, "copy", lanes, output=True)
        below = [row]
    if readout:
        row += 1
        last = readout_at == "last"
        _top_row(ax, xs, row, below, "hy", lanes, label="$W_{hy}$", last=last)
    right = xs[steps] + (DX if bidirectional else 0) + 0.9
    canvas(ax, (xs[1] - DX - 0.6, right), (-0.45, row * DY + 0.6))
    if folded:
        _folded(axes[0], readout, row * DY)
    return fig


# ---------------------------------------------------------------------------
# A packed batch (chapter 4)
# ---------------------------------------------------------------------------

PACKED_GAP = 1.7  # horizontal distance between the columns of a packed batch


def _check_lengths(lengths) -> list[int]:
    lengths = list(lengths)
    check_nonempty("lengths", lengths)
    for i, n in enumerate(lengths):
        check_int(f"lengths[{i}]", n)
    return lengths


def _pack_layout(lengths):
    """Pack ids ``t * N + b`` with torch; return each id's row, the column order, batch_sizes."""
    N, L = len(lengths), max(lengths)
    ids = torch.arange(L * N, dtype=torch.float64).view(L, N, 1)  # id = t * N + b
    packed = pack_padded_sequence(ids, torch.tensor(lengths), enforce_sorted=False)
    row_of = {int(i): row for row, i in enumerate(packed.data[:, 0].tolist())}
    order = packed.sorted_indices.tolist()  # column j shows sequence order[j]
    return row_of, order, packed.batch_sizes.tolist()


def _packed_cell(ax, x, t, label):
    """One step of one sequence: its row in ``PackedSequence.data``, or padding."""
    real = label is not None
    face = mcolors.to_rgba(COLOURS["rnn"], 0.25) if real else COLOURS["padding"]
    ax.add_patch(
        Rectangle(
            (x - 0.5, t - 0.4),
            1.0,
            0.8,
            facecolor=face,
            edgecolor=COLOURS["edge"],
            linewidth=1,
        )
    )
    ink = COLOURS["text"] if real else COLOURS["padding_text"]
    ax.text(
        x, t, label if real else "pad", ha="center", va="center", fontsize=10, color=ink
    )


def _packed_labels(ax, N, batch_sizes):
    """Each row's step t on the left, ``batch_sizes[t - 1]`` on the right, a key below."""
    for index, size in enumerate(batch_sizes):
        ax.text(
            (N - 1) * PACKED_GAP + 0.7,
            index,
            f"batch_sizes[{index}] = {size}",
            ha="left",
            va="center",
            fontsize=9,
            family="monospace",
            color=TORCH_INK,
        )
        ax.text(-0.7, index, f"t = {index + 1}", ha="right", va="center", fontsize=9)
    ax.text(
        (N - 1) * PACKED_GAP / 2,
        -1.35,
        "numbers: rows of packed.data",
        ha="center",
        va="bottom",
        fontsize=9,
        family="monospace",
    )


def plot_packed_batch(lengths):
    """Draw how ``pack_padded_sequence`` lays out a batch of sequences of different lengths.

    One column per sequence, in the order the packed batch uses (longest first,
    as ``sorted_indices`` says), one row per time step t = 1, 2, ... as the
    book counts them. A real step shows its row in ``PackedSequence.data`` (the key above
    calls it ``packed.data``, as chapter 4 names the packed batch);
    padding is grey. On the right of step t's row, ``batch_sizes[t - 1]``: the
    number of sequences that reach step t. The layout is computed by packing a
    tensor with torch itself, not re-derived.

    Args:
        lengths: the length of each sequence, in the batch's own order.

    Returns:
        the matplotlib ``Figure``.
    """
    lengths = _check_lengths(lengths)
    N, L = len(lengths), max(lengths)
    row_of, order, batch_sizes = _pack_layout(lengths)
    width = 1.6 + 0.75 * PACKED_GAP * N + 1.6
    fig, ax = new_figure(width=width, height=1.0 + 0.5 * L, dpi=DPI)
    for j, b in enumerate(order):
        x = j * PACKED_GAP
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
            _packed_cell(ax, x, t, str(row_of[t * N + b]) if real else None)
    _packed_labels(ax, N, batch_sizes)
    canvas(ax, (-1.5, (N - 1) * PACKED_GAP + 2.9), (L - 0.4, -1.9))  # time runs down
    return fig
