"""Tests for rnn_lib/plotting/style.py and the package's layout: one palette, one place."""

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from rnn_lib import plotting  # noqa: E402
from rnn_lib.plotting import style  # noqa: E402

PACKAGE = Path(plotting.__file__).parent
MODULES = [
    importlib.import_module(f"rnn_lib.plotting.{info.name}")
    for info in pkgutil.iter_modules([str(PACKAGE)])
]


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_colours_are_written_only_in_the_style_module(path):
    if path.name == "style.py":
        return
    source = path.read_text()
    assert not re.findall(r"#[0-9A-Fa-f]{6}\b", source)
    # a colour by name, inline: color="white", facecolor="0.4", cmap="viridis"
    assert not re.findall(r"(colou?r|face|cmap)[\"']?[=:] *[\"']", source)


def test_every_public_function_is_exported_from_the_package():
    for module in MODULES:
        public = {
            name
            for name, value in vars(module).items()
            if inspect.isfunction(value)
            and value.__module__ == module.__name__
            and (name.startswith("plot_") or name.endswith("_explorer"))
        }
        assert public <= set(plotting.__all__), module.__name__
    for name in plotting.__all__:
        assert hasattr(plotting, name)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_each_module_says_what_it_draws_and_what_to_read_next(module):
    doc = module.__doc__
    assert re.search(r"[Cc]hapters? \d", doc) or module is style
    assert re.search(r"[Rr]ead\s+next|go on to", doc.strip().split("\n\n")[-1])


def test_new_figure_sizes_each_cell():
    fig, axes = style.new_figure(ncols=3, nrows=2, width=2.0, height=1.5)
    assert tuple(fig.get_size_inches()) == pytest.approx((6.0, 3.0))
    assert axes.shape == (2, 3)
    plt.close(fig)


def test_model_colour_by_label_else_the_sweep():
    assert style.model_colour("LSTM (trained)", 5) == style.COLOURS["lstm"]
    assert style.model_colour("gru", 0) == style.COLOURS["gru"]
    assert style.model_colour("other", 1) == style.SWEEP[1]
    assert style.model_colour("other", len(style.SWEEP)) == style.SWEEP[0]


def test_chinese_text_renders_with_the_shipped_font(recwarn):
    """The CJK subset is registered: Tang lines and numerals draw with no missing glyph."""
    import matplotlib.pyplot as plt

    from rnn_lib.data.text import load_corpus
    from rnn_lib.plotting import style

    assert style.CJK_FAMILY == "Noto Sans CJK SC"
    assert plt.rcParams["font.family"][-1] == style.CJK_FAMILY
    poem = load_corpus("tang").splitlines()[0]
    fig, ax = plt.subplots()
    ax.set_title(f"{poem} 三千零五十二")
    ax.text(0.1, 0.5, "ROMEO: 白日依山尽，黄河入海流。")
    fig.canvas.draw()
    plt.close(fig)
    missing = [w for w in recwarn if "missing from font" in str(w.message)]
    assert not missing, missing[0].message


def test_bold_chinese_text_draws_without_a_font_warning(caplog):
    """The subset has one weight; bold must not log "Failed to find font weight"."""
    import logging

    import matplotlib.pyplot as plt

    import rnn_lib.plotting  # noqa: F401  (registers the font)

    fig, ax = plt.subplots()
    with caplog.at_level(logging.WARNING, logger="matplotlib.font_manager"):
        ax.set_title("标题 title", fontweight="bold")
        fig.canvas.draw()
    plt.close(fig)
    assert not [r for r in caplog.records if "Failed to find font" in r.getMessage()]
