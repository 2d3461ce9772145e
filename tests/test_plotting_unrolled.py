"""Tests for rnn_lib/plotting/unrolled.py, chapters 1 to 4: the unrolled graph and a packed batch."""

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import pytest
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from rnn_lib.plotting import COLOURS, plot_packed_batch, plot_unrolled_rnn


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
    indices = [t.get_text() for t in ax.texts if t.get_color() == COLOURS["torch"]]
    assert sorted(indices) == [str(i) for i in range(len(marked))]
    plt.close(fig)


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
            head = r"\overleftarrow{h}{}" if direction else "h"
            # the chain of layer `layer` starts from h_0[layer * D + direction]
            assert f"$h_0[{index}]$" in row
            assert f"${head}^{{({layer})}}_{{1}}$" in row
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
        if len(vertices) == 4:  # start, into the lane, up the lane, into the target
            column = round(vertices[0][0] / 1.7)
            lanes.append((column, round(vertices[1][0], 6)))
    return lanes


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


def test_output_row_is_labelled_with_its_index():
    fig = plot_unrolled_rnn(4, bidirectional=True, show_output=True)
    ax = fig.axes[-1]
    assert texts_at(ax, 3 * 1.1) == [f"output[{i}]" for i in range(4)]
    plt.close(fig)


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
