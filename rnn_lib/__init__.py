"""rnn_lib: the recurrent networks that the course builds, chapter by chapter.

Each module holds one idea and names the chapter that builds it. The shape
letters used in docstrings (L, N, H_in, H_out, D) are defined on the book's
notation page.

Start with :mod:`rnn_lib.functional` (the recurrence as functions), then
:mod:`rnn_lib.rnn` (the modules) and :mod:`rnn_lib.bptt` (the backward pass).
"""

from rnn_lib.environment import glue, setup_notebook
from rnn_lib.gated import GRU, LSTM, GRUCell, LSTMCell
from rnn_lib.rnn import RNN, RNNCell

__version__ = "0.1.0"

__all__ = [
    "GRU",
    "GRUCell",
    "LSTM",
    "LSTMCell",
    "RNN",
    "RNNCell",
    "glue",
    "setup_notebook",
    "__version__",
]
