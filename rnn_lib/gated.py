"""Gated recurrent networks: ``LSTM``, ``GRU`` and their cells, with torch's interface.

Chapter 8 (``book/08_gated_rnns``) builds these. The equations (see
:mod:`rnn_lib.gated_functional`) and the gate order are torch's
(``torch.nn.LSTM``, ``torch.nn.GRU``), so a ``state_dict`` moves between these
modules and ``torch.nn`` without translation.

The modules plug into the machinery of :mod:`rnn_lib.base`: :class:`LSTM` and
:class:`GRU` subclass :class:`rnn_lib.base.RNNBase` (layers, directions,
``batch_first``, unbatched and packed input, initial states, dropout and
every argument check are written there once); :class:`LSTMCell` and
:class:`GRUCell` subclass :class:`rnn_lib.base.RNNCellBase`. Like
:class:`rnn_lib.RNN`, the multi-layer modules backpropagate with the pass
derived by hand in chapter 8 (:mod:`rnn_lib.gated_bptt`) unless
``backward='autograd'`` asks for autograd's.

Read next: :mod:`rnn_lib.models`, the character model that uses these cells.
"""

from __future__ import annotations

from rnn_lib import gated_bptt
from rnn_lib.base import RNNBase, RNNCellBase, refuse_projection
from rnn_lib.gated_functional import gru_layer, gru_step, lstm_layer, lstm_step
from rnn_lib.validation import check_int

#: The layer functions behind each choice of ``LSTM(backward=...)``, ``GRU(...)``.
LSTM_LAYERS = {"bptt": gated_bptt.lstm_layer, "autograd": lstm_layer}
GRU_LAYERS = {"bptt": gated_bptt.gru_layer, "autograd": gru_layer}

# ---------------------------------------------------------------------------
# Cells


def _split_lstm_state(hx) -> tuple:
    """``hx`` must be a pair ``(h, c)``: an LSTM has two states."""
    if not isinstance(hx, (tuple, list)) or len(hx) != 2:
        got = f"a {type(hx).__name__}"
        if isinstance(hx, (tuple, list)):
            got += f" of length {len(hx)}"
        raise TypeError(f"expected hx as a tuple (h_0, c_0), got {got}")
    return tuple(hx)


class LSTMCell(RNNCellBase):
    r"""One LSTM step, with ``torch.nn.LSTMCell``'s interface.

    Computes :func:`lstm_step`: gates i, f, g, o, then
    :math:`c' = f \odot c + i \odot g` and :math:`h' = o \odot \tanh(c')`.

    Args:
        input_size: H_in, the number of features of ``input``.
        hidden_size: H_out, the number of features of ``h`` and ``c``.
        bias: if False, the cell has no ``bias_ih`` and ``bias_hh``. Default True.
        device, dtype: where and in which precision the parameters live.

    Inputs: input, (h_0, c_0)
        input: (N, H_in) or (H_in,)
        h_0, c_0: (N, H_out) or (H_out,) each, the previous states; zeros if
            the pair is omitted.

    Outputs: (h_1, c_1)
        h_1, c_1: (N, H_out) or (H_out,) each, the next states.

    Attributes:
        weight_ih: (4 H_out, H_in), the blocks W_ii, W_if, W_ig, W_io
        weight_hh: (4 H_out, H_out), the blocks W_hi, W_hf, W_hg, W_ho
        bias_ih, bias_hh: (4 H_out,)
        All drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)).

    where:
        N = batch size, H_in = input_size, H_out = hidden_size.
    """

    gates = 4
    state_names = ("h_0", "c_0")

    def _split_state(self, hx) -> tuple:
        return _split_lstm_state(hx)

    def _join_state(self, state: tuple):
        return state

    def _step(self, x, state):
        h, c = state
        return lstm_step(
            x, h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )  # (N, H_out), (N, H_out)


class GRUCell(RNNCellBase):
    r"""One GRU step, with ``torch.nn.GRUCell``'s interface.

    Computes :func:`gru_step`: gates r, z and the candidate
    :math:`n = \tanh(x W_{in}^T + b_{in} + r \odot (h W_{hn}^T + b_{hn}))`, then
    :math:`h' = (1 - z) \odot n + z \odot h`.

    Args:
        input_size: H_in, the number of features of ``input``.
        hidden_size: H_out, the number of features of the state.
        bias: if False, the cell has no ``bias_ih`` and ``bias_hh``. Default True.
        device, dtype: where and in which precision the parameters live.

    Inputs: input, hx
        input: (N, H_in) or (H_in,)
        hx: (N, H_out) or (H_out,), the previous state; zeros if omitted.

    Outputs: h'
        h': (N, H_out) or (H_out,), the next state.

    Attributes:
        weight_ih: (3 H_out, H_in), the blocks W_ir, W_iz, W_in
        weight_hh: (3 H_out, H_out), the blocks W_hr, W_hz, W_hn
        bias_ih, bias_hh: (3 H_out,)
        All drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)).

    where:
        N = batch size, H_in = input_size, H_out = hidden_size.
    """

    gates = 3

    def _step(self, x, state):
        (h,) = state
        h_new = gru_step(
            x, h, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )  # (N, H_out)
        return (h_new,)


# ---------------------------------------------------------------------------
# Multi-layer modules


class LSTM(RNNBase):
    r"""A multi-layer LSTM with ``torch.nn.LSTM``'s interface.

    Each layer computes :func:`lstm_layer` in each direction: for every step
    t, gates i, f, g, o from ``x_t`` and ``h_{t-1}``, then
    :math:`c_t = f_t \odot c_{t-1} + i_t \odot g_t` and
    :math:`h_t = o_t \odot \tanh(c_t)`, or
    :math:`h_t = W_{hr}(o_t \odot \tanh(c_t))` with ``proj_size > 0``. ``x_t``
    is the input for the first layer and the previous layer's ``h_t`` (both
    directions concatenated) for the others.

    Args:
        input_size: H_in, the number of features of the input.
        hidden_size: H_cell, the number of features of the cell state ``c``.
        num_layers, bias, batch_first, dropout, bidirectional: as in
            :class:`rnn_lib.RNN`.
        proj_size: if > 0, ``h_t`` is projected to ``proj_size`` features by
            ``weight_hr_l{k}``; must be smaller than ``hidden_size``. Default 0.
        device, dtype: where and in which precision the parameters live.

    Inputs: input, (h_0, c_0)
        input: (L, N, H_in), or (N, L, H_in) if batch_first, or (L, H_in)
            unbatched, or a ``PackedSequence``.
        h_0: (D * num_layers, N, H_out), or (D * num_layers, H_out) unbatched.
        c_0: (D * num_layers, N, H_cell), or (D * num_layers, H_cell) unbatched.
        The pair is optional (zeros); ``h_0`` alone is refused.

    Outputs: output, (h_n, c_n)
        output: (L, N, D * H_out), or (N, L, D * H_out) if batch_first, or
            (L, D * H_out) unbatched, or a ``PackedSequence``: the last layer's
            ``h_t`` at every step, both directions.
        h_n: (D * num_layers, N, H_out), c_n: (D * num_layers, N, H_cell) (no
            N when unbatched): every layer's final states in each direction.

    Attributes:
        weight_ih_l{k}: (4 H_cell, H_in) for k = 0, else (4 H_cell, D * H_out);
            the blocks of rows are the gates i, f, g, o.
        weight_hh_l{k}: (4 H_cell, H_out)
        bias_ih_l{k}, bias_hh_l{k}: (4 H_cell,)
        weight_hr_l{k}: (proj_size, H_cell), only if proj_size > 0.
        The backward direction's parameters carry the suffix ``_reverse``.
        All drawn from U(-1/sqrt(H_cell), 1/sqrt(H_cell)).

    where:
        N = batch size, L = sequence length, D = 2 if bidirectional else 1,
        H_in = input_size, H_cell = hidden_size,
        H_out = proj_size if proj_size > 0 else hidden_size.

    Example::

        >>> import torch
        >>> from rnn_lib import LSTM
        >>> lstm = LSTM(input_size=10, hidden_size=20, num_layers=2, proj_size=5)
        >>> x = torch.randn(7, 3, 10)  # (L, N, H_in)
        >>> output, (h_n, c_n) = lstm(x)
        >>> output.shape, h_n.shape, c_n.shape
        (torch.Size([7, 3, 5]), torch.Size([2, 3, 5]), torch.Size([2, 3, 20]))
    """

    gates = 4
    state_names = ("h_0", "c_0")
    layer_functions = LSTM_LAYERS

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        backward: str = "bptt",
        device=None,
        dtype=None,
    ) -> None:
        check_int("hidden_size", hidden_size)
        check_int("proj_size", proj_size, minimum=0)
        if proj_size >= hidden_size:
            raise ValueError(
                f"proj_size must be smaller than hidden_size={hidden_size}, "
                f"got {proj_size}"
            )
        self.proj_size = proj_size  # read by _state_sizes while creating weights
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            backward,
            device,
            dtype,
        )

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.proj_size or self.hidden_size, self.hidden_size)

    def _parameter_shapes(self, layer_input_size: int) -> list[tuple[str, tuple]]:
        shapes = super()._parameter_shapes(layer_input_size)
        if self.proj_size:
            shapes.append(("weight_hr", (self.proj_size, self.hidden_size)))
        return shapes

    def _split_state(self, hx) -> tuple:
        return _split_lstm_state(hx)

    def _join_state(self, state: tuple):
        return state

    def _run_layer(self, x, state, weights, reverse, batch_sizes):
        h_0, c_0 = state
        w_ih, w_hh = weights[:2]
        b_ih, b_hh = weights[2:4] if self.bias else (None, None)
        w_hr = weights[-1] if self.proj_size else None
        return self.layer_functions[self.backward_pass](
            x, h_0, c_0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse, batch_sizes
        )  # (L, N, H_out), ((N, H_out), (N, H_cell))

    def _own_repr(self) -> str:
        return f", proj_size={self.proj_size}" if self.proj_size else ""


class GRU(RNNBase):
    r"""A multi-layer GRU with ``torch.nn.GRU``'s interface.

    Each layer computes :func:`gru_layer` in each direction: gates r, z, the
    candidate :math:`n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn}
    h_{t-1} + b_{hn}))` and :math:`h_t = (1 - z_t) \odot n_t + z_t \odot
    h_{t-1}`. ``x_t`` is the input for the first layer and the previous
    layer's output (both directions concatenated) for the others.

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout,
        bidirectional, device, dtype: as in :class:`rnn_lib.RNN`.

    Inputs: input, h_0
        As in :class:`rnn_lib.RNN`.

    Outputs: output, h_n
        As in :class:`rnn_lib.RNN`.

    Attributes:
        weight_ih_l{k}: (3 H_out, H_in) for k = 0, else (3 H_out, D * H_out);
            the blocks of rows are r, z, n.
        weight_hh_l{k}: (3 H_out, H_out)
        bias_ih_l{k}, bias_hh_l{k}: (3 H_out,)
        The backward direction's parameters carry the suffix ``_reverse``.
        All drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)).

    where:
        N = batch size, L = sequence length, D = 2 if bidirectional else 1,
        H_in = input_size, H_out = hidden_size.

    Example::

        >>> import torch
        >>> from rnn_lib import GRU
        >>> gru = GRU(input_size=10, hidden_size=20, batch_first=True)
        >>> output, h_n = gru(torch.randn(3, 7, 10))  # (N, L, H_in)
        >>> output.shape, h_n.shape
        (torch.Size([3, 7, 20]), torch.Size([1, 3, 20]))
    """

    gates = 3
    layer_functions = GRU_LAYERS

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        backward: str = "bptt",
        device=None,
        dtype=None,
        proj_size=None,
    ) -> None:
        refuse_projection(proj_size)
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            backward,
            device,
            dtype,
        )

    def _run_layer(self, x, state, weights, reverse, batch_sizes):
        (h_0,) = state
        output, h_n = self.layer_functions[self.backward_pass](
            x, h_0, *weights, reverse=reverse, batch_sizes=batch_sizes
        )  # (L, N, H_out), (N, H_out)
        return output, (h_n,)
