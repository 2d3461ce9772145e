"""rnn_lib.environment: the setup cell's seeding and device choice."""

import random

import numpy as np
import pytest
import torch

import rnn_lib
from rnn_lib.environment import pick_device, seed_everything


def draw():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_seeding_makes_every_generator_repeat():
    seed_everything(3)
    first = draw()
    seed_everything(3)
    assert draw() == first
    seed_everything(4)
    assert draw() != first


@pytest.mark.parametrize(
    ("seed", "error", "message"),
    [
        (-1, ValueError, "seed must be >= 0, got -1"),
        (1.5, TypeError, "seed must be an int, got float"),
        ("0", TypeError, "seed must be an int, got str"),
        (True, TypeError, "seed must be an int, got bool"),
    ],
)
def test_bad_seed_is_refused(seed, error, message):
    with pytest.raises(error, match=message):
        seed_everything(seed)


def test_setup_notebook_returns_the_device_and_says_which(capsys):
    device = rnn_lib.setup_notebook(seed=0)
    assert device == pick_device()
    assert device.type == ("cuda" if torch.cuda.is_available() else "cpu")
    line = capsys.readouterr().out.strip()
    assert (
        line
        == f"rnn_lib {rnn_lib.__version__}, torch {torch.__version__}, device {device}"
    )


def test_setup_notebook_sets_the_cpu_threads():
    before = torch.get_num_threads()
    try:
        rnn_lib.setup_notebook(seed=0)
        assert torch.get_num_threads() == 1
        rnn_lib.setup_notebook(seed=0, cpu_threads=2)
        assert torch.get_num_threads() == 2
        with pytest.raises(ValueError, match="cpu_threads must be >= 1, got 0"):
            rnn_lib.setup_notebook(seed=0, cpu_threads=0)
        with pytest.raises(TypeError, match="cpu_threads must be an int, got float"):
            rnn_lib.setup_notebook(seed=0, cpu_threads=2.0)
    finally:
        torch.set_num_threads(before)


@pytest.fixture
def recorded_glue(monkeypatch):
    """What rnn_lib.glue hands to myst-nb's glue: (name, value, display) tuples."""
    import myst_nb

    recorded = []
    monkeypatch.setattr(
        myst_nb,
        "glue",
        lambda name, value, display=True: recorded.append((name, value, display)),
    )
    return recorded


def test_glue_records_for_the_book_when_myst_nb_is_there(recorded_glue):
    rnn_lib.glue("loss", 1.5, display=False)
    assert recorded_glue == [("loss", 1.5, False)]


def test_glue_records_a_phrase_in_chinese_beside_it(recorded_glue):
    rnn_lib.glue("speed", "twice as fast", display=False, chinese="快一倍")
    suffix = rnn_lib.environment.CHINESE_SUFFIX
    assert sorted(recorded_glue) == [
        ("speed", "twice as fast", False),
        ("speed" + suffix, "快一倍", False),
    ]
    with pytest.raises(
        TypeError, match="chinese: expected a str beside a str value, got float"
    ):
        rnn_lib.glue("speed", "fast", chinese=2.0)


def test_glue_only_displays_without_myst_nb(monkeypatch):
    import IPython.display

    shown = []
    # import fails, as on Colab
    monkeypatch.setitem(__import__("sys").modules, "myst_nb", None)
    monkeypatch.setattr(IPython.display, "display", lambda value: shown.append(value))
    rnn_lib.glue("loss", 1.5)
    rnn_lib.glue("hidden", 2.5, display=False)
    assert shown == [1.5]


@pytest.mark.parametrize("myst_nb_there", [True, False])
def test_glue_shows_a_hidden_figure_outside_the_book(monkeypatch, myst_nb_there):
    # The chapters glue figures with display=False and close them; outside the
    # book build (Colab, Jupyter) no {glue:figure} directive shows them, so
    # glue must; inside it, glue must not (the figure would show twice).
    import IPython.display
    import matplotlib.pyplot as plt
    import myst_nb

    shown, recorded = [], []
    if myst_nb_there:
        monkeypatch.setattr(
            myst_nb, "glue", lambda name, value, display=True: recorded.append(display)
        )
    else:
        monkeypatch.setitem(__import__("sys").modules, "myst_nb", None)
    monkeypatch.setattr(IPython.display, "display", lambda value: shown.append(value))
    fig = plt.figure()
    monkeypatch.delenv(rnn_lib.environment.BOOK_BUILD, raising=False)
    rnn_lib.glue("figure", fig, display=False)
    monkeypatch.setenv(rnn_lib.environment.BOOK_BUILD, "1")
    rnn_lib.glue("figure", fig, display=False)
    plt.close(fig)
    if myst_nb_there:
        assert recorded == [True, False]
    else:
        assert shown == [fig]
