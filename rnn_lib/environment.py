"""The notebook environment: seeding, device choice, Colab widgets, glue.

Every notebook of the course starts with the same setup cell, which imports
``rnn_lib`` (installing it when missing) and calls :func:`setup_notebook`.

Read next: :mod:`rnn_lib.functional`, where the course's code begins.
"""

from __future__ import annotations

import os
import random
import sys

import numpy as np
import torch

from rnn_lib.validation import check_int


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's generators (CUDA included)."""
    check_int("seed", seed, minimum=0)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device


def pick_device() -> torch.device:
    """CUDA when a GPU is present, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _enable_colab_widgets() -> None:
    # Colab renders ipywidgets 8 only through its custom widget manager.
    if "google.colab" not in sys.modules:
        return
    import ipywidgets

    if int(ipywidgets.__version__.split(".")[0]) >= 8:
        from google.colab import output  # type: ignore[import-not-found]

        output.enable_custom_widget_manager()


def setup_notebook(seed: int = 0, cpu_threads: int | None = 1) -> torch.device:
    """Seed every generator, pick the device and print one line saying which.

    Args:
        seed: for Python's, NumPy's and torch's generators.
        cpu_threads: how many threads torch uses on the CPU; None keeps
            torch's default. One by default: the course's models are small,
            so their matrix products gain nothing from being split across
            threads, and idle threads that spin while the machine is busy
            can make a chapter many times slower.

    Returns:
        the ``torch.device`` the notebook should use.
    """
    import rnn_lib

    seed_everything(seed)
    _enable_colab_widgets()
    device = pick_device()
    if cpu_threads is not None:
        check_int("cpu_threads", cpu_threads)
        torch.set_num_threads(cpu_threads)
    print(f"rnn_lib {rnn_lib.__version__}, torch {torch.__version__}, device {device}")
    return device


BOOK_BUILD = "RNN_LIB_BOOK_BUILD"  # set by the book build (_ext/execute_once.py)
# A glued phrase's Chinese form is glued under its name plus this suffix; the
# Chinese edition's {glue:text} roles read it there (_ext/translated_glue.py).
CHINESE_SUFFIX = "__zh_CN"


def glue(name: str, value, display: bool = True, chinese: str | None = None) -> None:
    """Record ``value`` under ``name`` for the book's prose (myst-nb's glue).

    In the book build, myst-nb's ``{glue:text}`name``` roles put the value into
    the text, and a ``{glue:figure}`` directive shows a glued figure. Anywhere
    else (Colab, Jupyter, with or without myst-nb) the value is displayed when
    ``display`` is true, and a matplotlib figure always: the chapters glue
    their figures hidden and close them, and outside the book nothing else
    would show them.

    ``chinese`` is the same phrase in Chinese, for a value that is words and
    not only a number ("between 0.93 and 1.00"): the Chinese edition pastes it
    where the English one pastes ``value``.
    """
    from matplotlib.figure import Figure

    if chinese is not None:
        if not isinstance(value, str) or not isinstance(chinese, str):
            raise TypeError(
                "chinese: expected a str beside a str value, got "
                f"{type(chinese).__name__} beside {type(value).__name__}"
            )
        glue(name + CHINESE_SUFFIX, chinese, display=False)
    if os.environ.get(BOOK_BUILD) != "1" and isinstance(value, Figure):
        display = True
    try:
        from myst_nb import glue as myst_glue
    except ImportError:
        if display:
            from IPython.display import display as show

            show(value)
        return
    myst_glue(name, value, display=display)
