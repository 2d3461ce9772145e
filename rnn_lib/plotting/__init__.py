"""Figures and ipywidgets explorers for the book's chapters.

One helper, one place: a chapter that draws a figure calls a function from
here rather than defining its own. Every function returns the matplotlib
``Figure`` it drew, so a notebook can show it and a test can inspect it. The
numbers a figure shows are computed elsewhere (mostly
:mod:`rnn_lib.diagnostics`); this package only draws them.

One module per chapter's figures, all in one look:

* :mod:`~rnn_lib.plotting.style`: the palette (``COLOURS``), the figure size
  (``new_figure``) and the drawing canvas;
* :mod:`~rnn_lib.plotting.order`: chapter 1, models that see order;
* :mod:`~rnn_lib.plotting.unrolled`: chapters 1 to 4, the unrolled graph and
  a packed batch;
* :mod:`~rnn_lib.plotting.bptt`: chapter 5, the backward pass's cost and reach;
* :mod:`~rnn_lib.plotting.gradients`: chapter 6, vanishing and exploding
  gradients, initialisation and clipping;
* :mod:`~rnn_lib.plotting.lm`: chapter 7, a character-level language model;
* :mod:`~rnn_lib.plotting.gated`: chapter 8, LSTM and GRU;
* :mod:`~rnn_lib.plotting.seq2seq`: chapter 9, sequence to sequence with
  attention, and beam search;
* :mod:`~rnn_lib.plotting.scan`: chapter 10, linear recurrences and the
  parallel scan.

Every public function is importable from here: ``from rnn_lib import
plotting; plotting.plot_unrolled_rnn(4)``.

Read next: :mod:`rnn_lib.plotting.style`.
"""

from rnn_lib.plotting.bptt import (
    plot_bptt_benchmark,
    plot_centred_differences,
    plot_truncated_bptt,
)
from rnn_lib.plotting.gated import plot_forget_gate_products, plot_gradient_norm_panels
from rnn_lib.plotting.gradients import (
    gradient_norm_explorer,
    plot_cliff,
    plot_clipping_directions,
    plot_gradient_norms_through_time,
    plot_jacobian_norm_grid,
    plot_jacobian_norms,
    plot_memory_results,
    plot_transient_growth,
)
from rnn_lib.plotting.lm import (
    plot_context_curve,
    plot_lm_curves,
    plot_temperatures,
    plot_unit_correlations,
    plot_unit_text,
)
from rnn_lib.plotting.order import plot_model_comparison, plot_twin_differences
from rnn_lib.plotting.scan import (
    plot_adding_seeds,
    plot_equal_time_curves,
    plot_jacobian_panels,
    plot_lru_initialisation,
    plot_parity_bands,
    plot_scan_schedule,
    plot_scan_timings,
    scan_schedule,
)
from rnn_lib.plotting.seq2seq import (
    plot_accuracy_by_length,
    plot_attention_maps,
    plot_beam_search,
    plot_exposure_bias,
    plot_training_curves,
)
from rnn_lib.plotting.style import COLOURS, new_figure
from rnn_lib.plotting.unrolled import plot_packed_batch, plot_unrolled_rnn

__all__ = [
    "COLOURS",
    "gradient_norm_explorer",
    "new_figure",
    "plot_accuracy_by_length",
    "plot_adding_seeds",
    "plot_attention_maps",
    "plot_beam_search",
    "plot_bptt_benchmark",
    "plot_centred_differences",
    "plot_cliff",
    "plot_clipping_directions",
    "plot_context_curve",
    "plot_equal_time_curves",
    "plot_exposure_bias",
    "plot_forget_gate_products",
    "plot_gradient_norm_panels",
    "plot_gradient_norms_through_time",
    "plot_jacobian_norm_grid",
    "plot_jacobian_norms",
    "plot_jacobian_panels",
    "plot_lm_curves",
    "plot_lru_initialisation",
    "plot_memory_results",
    "plot_model_comparison",
    "plot_packed_batch",
    "plot_parity_bands",
    "plot_scan_schedule",
    "plot_scan_timings",
    "plot_temperatures",
    "plot_training_curves",
    "plot_transient_growth",
    "plot_truncated_bptt",
    "plot_twin_differences",
    "plot_unit_correlations",
    "plot_unit_text",
    "plot_unrolled_rnn",
    "scan_schedule",
]
