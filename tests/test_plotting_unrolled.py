"""Tests for rnn_lib/plotting/unrolled.py, chapters 1 to 4: the unrolled graph and a packed batch."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from rnn_lib.plotting import COLOURS, plot_packed_batch, plot_unrolled_rnn
from rnn_lib.plotting.unrolled import BACKWARD_HEAD, BOX_H, DPI, PAD, TORCH_INK


def boxes(ax):
    return [p for p in ax.patches if isinstance(p, FancyBboxPatch)]


def h_n_boxes(ax):
    orange = mcolors.to_rgba(COLOURS["torch"])
    return [p for p in boxes(ax) if p.get_edgecolor() == orange]


def centre(patch):
    return patch.get_x() + patch.get_width() / 2, patch.get_y() + patch.get_height() / 2


@pytest.mark.parametrize("steps", [1, 3, 5])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("show_output", [False, True])
def test_one_box_per_state(steps, num_layers, bidirectional, show_output):
    fig = plot_unrolled_rnn(
        steps,
        num_layers=num_layers,
        bidirectional=bidirectional,
        show_output=show_output,
    )
    ax = fig.axes[-1]
    chains = num_layers * (2 if bidirectional else 1)
    # inputs, each chain's h_0 and states, the output row
    assert len(boxes(ax)) == steps + chains * (steps + 1) + show_output * steps
    # every use of W_hh is one arrow, every use of an input weight one per source row
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    d = 2 if bidirectional else 1
    expected = (
        chains * steps  # hidden-to-hidden
        + d * steps  # layer 1 reads the input row
        + (num_layers - 1) * d * steps * d  # higher layers read every direction below
        + show_output * steps * d  # output copies every direction of the top layer
    )
    assert len(arrows) == expected
    plt.close(fig)


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bidirectional", [False, True])
def test_h_n_marks_the_last_state_of_each_chain(num_layers, bidirectional):
    steps = 4
    fig = plot_unrolled_rnn(steps, num_layers=num_layers, bidirectional=bidirectional)
    ax = fig.axes[-1]
    state_xs = sorted({round(centre(p)[0], 6) for p in boxes(ax) if centre(p)[1] == 0})
    first, last = state_xs[0], state_xs[-1]  # the columns of x_1 and x_L
    marked = sorted(
        h_n_boxes(ax), key=lambda p: centre(p)[1]
    )  # bottom to top = h_n order
    assert len(marked) == num_layers * (2 if bidirectional else 1)
    for index, patch in enumerate(marked):
        backward = bidirectional and index % 2 == 1
        assert round(centre(patch)[0], 6) == (first if backward else last)
    indices = [t.get_text() for t in ax.texts if t.get_color() == TORCH_INK]
    if len(marked) == 1:  # h_n holds one state: its outline needs no index
        assert indices == []
    else:
        assert sorted(indices) == [str(i) for i in range(len(marked))]
    plt.close(fig)


def test_h_n_index_is_dark_enough_to_read_on_white():
    # WCAG's contrast ratio of text on white: 4.5 or more for small text
    def luminance(rgb):
        linear = [
            c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb
        ]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    assert (1 + 0.05) / (luminance(TORCH_INK) + 0.05) >= 4.5
    # the orange of the outlines alone would not be
    assert (1 + 0.05) / (luminance(mcolors.to_rgb(COLOURS["torch"])) + 0.05) < 4.5


def texts_at(ax, y):
    """The texts of the boxes in the row at height y."""
    return [t.get_text() for t in ax.texts if abs(t.get_position()[1] - y) < 1e-9]


@pytest.mark.parametrize("bidirectional", [False, True])
def test_layers_are_numbered_from_0_like_h_0(bidirectional):
    fig = plot_unrolled_rnn(3, num_layers=3, bidirectional=bidirectional)
    ax = fig.axes[-1]
    d = 2 if bidirectional else 1
    for layer in range(3):
        for direction in range(d):
            index = layer * d + direction
            row = texts_at(ax, (index + 1) * 1.1)
            head = BACKWARD_HEAD if direction else "h"
            # the chain of layer `layer` starts from h_0[layer * D + direction],
            # written as code, like output[t - 1]
            assert f"h_0[{index}]" in row
            assert f"${head}^{{({layer})}}_{{1}}$" in row
            initial = next(t for t in ax.texts if t.get_text() == f"h_0[{index}]")
            assert "monospace" in initial.get_fontfamily()
    plt.close(fig)


def routed_lanes(ax):
    """(column, lane x) of every arrow that runs up a lane beside the boxes."""
    lanes = []
    for patch in ax.patches:
        if not isinstance(patch, FancyArrowPatch):
            continue
        # the path the arrow was drawn along, in data units (get_path() gives
        # display units and the arrow head)
        vertices = patch._path_original.vertices
        if len(vertices) == 6:  # up, into the lane, up the lane, out of it, up
            column = round(vertices[0][0] / 1.7)
            lanes.append((column, round(vertices[2][0], 6)))
    return lanes


def routed_arrows(ax):
    return [
        patch._path_original.vertices
        for patch in ax.patches
        if isinstance(patch, FancyArrowPatch)
        and len(patch._path_original.vertices) == 6
    ]


@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("readout", [False, True])
def test_arrows_that_skip_a_row_never_share_a_lane(num_layers, readout):
    fig = plot_unrolled_rnn(
        3, num_layers=num_layers, bidirectional=True, show_output=True, readout=readout
    )
    ax = fig.axes[-1]
    lanes = routed_lanes(ax)
    # layer 0's backward chain skips the forward one: at least one per column
    assert len(lanes) >= 3
    assert len(set(lanes)) == len(lanes), "two routed arrows run in one lane"
    for column, x in lanes:
        # every lane lies in the gap between this column's boxes and the next
        assert column * 1.7 + 0.45 < x < (column + 1) * 1.7 - 0.45
    plt.close(fig)


@pytest.mark.parametrize("num_layers", [2, 3])
def test_routed_arrows_leave_and_enter_outside_the_outlines_and_apart(num_layers):
    fig = plot_unrolled_rnn(
        3, num_layers=num_layers, bidirectional=True, show_output=True
    )
    ax = fig.axes[-1]
    routed = routed_arrows(ax)
    assert routed
    entering = {}
    for vertices in routed:
        (x0, y0), (x1, y1) = vertices[0], vertices[-1]
        # the source's and the target's rows lie at multiples of DY = 1.1
        source, target = round(y0 / 1.1), round(y1 / 1.1)
        assert y0 >= source * 1.1 + BOX_H / 2 + PAD - 1e-9  # above the source's outline
        assert y1 <= target * 1.1 - BOX_H / 2 - PAD + 1e-9  # below the target's outline
        # they leave and enter straight up, so that heads point into the box
        assert vertices[1][0] == x0 and vertices[-2][0] == x1
        entering.setdefault((round(x1 / 1.7), target), []).append(x1)
    # the heads that enter one box lie apart, and apart from the straight arrow
    for column, target in entering:
        points = sorted([column * 1.7, *entering[(column, target)]])
        assert min(b - a for a, b in zip(points, points[1:])) >= 0.15
    plt.close(fig)


def test_output_row_is_labelled_with_its_index():
    fig = plot_unrolled_rnn(4, bidirectional=True, show_output=True)
    ax = fig.axes[-1]
    assert texts_at(ax, 3 * 1.1) == [f"output[{i}]" for i in range(4)]
    plt.close(fig)


def test_readout_at_the_last_step_only():
    fig = plot_unrolled_rnn(4, readout=True, readout_at="last")
    ax = fig.axes[-1]
    readouts = [t for t in ax.texts if t.get_text().startswith("$y")]
    assert [t.get_text() for t in readouts] == ["$y$"]
    assert readouts[0].get_position() == pytest.approx((4 * 1.7, 2 * 1.1))
    hy = mcolors.to_rgba(COLOURS["lstm"])
    arrows = [p for p in ax.patches if isinstance(p, FancyArrowPatch)]
    assert sum(p.get_edgecolor() == hy for p in arrows) == 1
    assert "$W_{hy}$" in {t.get_text() for t in ax.texts}
    plt.close(fig)
    every = plot_unrolled_rnn(4, readout=True).axes[-1]
    assert sum(t.get_text().startswith("$y_") for t in every.texts) == 4


def test_figures_are_drawn_sharp():
    assert plot_unrolled_rnn(2).dpi == DPI >= 150
    assert plot_packed_batch([2, 1]).dpi == DPI
    plt.close("all")


def test_readout_and_folded_panels():
    fig = plot_unrolled_rnn(3, readout=True, folded=True)
    assert len(fig.axes) == 2
    folded, unrolled = fig.axes
    labels = {t.get_text() for t in unrolled.texts}
    assert {"$W_{ih}$", "$W_{hh}$", "$W_{hy}$", "$y_{3}$", "$h_0$"} <= labels
    assert {"$x_t$", "$h_t$", "$y_t$"} <= {t.get_text() for t in folded.texts}
    plt.close(fig)


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"steps": 0}, ValueError, "steps must be >= 1, got 0"),
        ({"steps": 2.0}, TypeError, "steps must be an int, got float"),
        ({"num_layers": 0}, ValueError, "num_layers must be >= 1, got 0"),
        ({"num_layers": True}, TypeError, "num_layers must be an int, got bool"),
        ({"bidirectional": 1}, TypeError, "bidirectional must be a bool, got int"),
        ({"folded": "yes"}, TypeError, "folded must be a bool, got str"),
        (
            {"readout_at": "first"},
            ValueError,
            "readout_at must be 'every' or 'last', got 'first'",
        ),
        ({"readout_at": True}, TypeError, "readout_at must be a str, got bool"),
    ],
)
def test_rejects_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        plot_unrolled_rnn(**kwargs)


def packed_labels(fig):
    """The text of each cell, by (row, column), read back from the figure."""
    ax = fig.axes[0]
    cells = {}
    for text in ax.texts:
        x, y = text.get_position()
        if text.get_text().isdigit() or text.get_text() == "pad":
            cells[(round(y), round(x / 1.7))] = text.get_text()
    return cells


def test_packed_batch_matches_torch_layout():
    fig = plot_packed_batch([5, 2, 3])
    cells = packed_labels(fig)
    # columns longest first: sequences 0 (5 steps), 2 (3 steps), 1 (2 steps);
    # rows of PackedSequence.data go step by step, longest sequence first
    assert [cells[(0, j)] for j in range(3)] == ["0", "1", "2"]
    assert [cells[(2, j)] for j in range(3)] == ["6", "7", "pad"]
    assert [cells[(4, j)] for j in range(3)] == ["9", "pad", "pad"]
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert [t for t in texts if t.startswith("batch_sizes")] == [
        f"batch_sizes[{i}] = {n}" for i, n in enumerate([3, 3, 2, 1, 1])
    ]
    # time steps are counted from 1, beside the 0-based index of batch_sizes
    assert [t for t in texts if t.startswith("t = ")] == [
        f"t = {t}" for t in range(1, 6)
    ]
    assert "sequence 2\nlength 3" in texts
    # the key names the code, in the code's font; torch's labels in a dark ink
    key = next(t for t in fig.axes[0].texts if t.get_text().startswith("numbers"))
    assert key.get_text() == "numbers: rows of packed.data"
    assert "monospace" in key.get_fontfamily() and key.get_style() == "normal"
    sizes = [t for t in fig.axes[0].texts if t.get_text().startswith("batch_sizes")]
    assert all(t.get_color() == TORCH_INK for t in sizes)
    plt.close(fig)


@pytest.mark.parametrize(
    ("lengths", "error", "message"),
    [
        ([], ValueError, "lengths must hold at least one item, got none"),
        ([0, 2], ValueError, r"lengths\[0\] must be >= 1, got 0"),
        ([2, 1.0], TypeError, r"lengths\[1\] must be an int, got float"),
        ([True], TypeError, r"lengths\[0\] must be an int, got bool"),
    ],
)
def test_packed_batch_rejects_bad_lengths(lengths, error, message):
    with pytest.raises(error, match=message):
        plot_packed_batch(lengths)
