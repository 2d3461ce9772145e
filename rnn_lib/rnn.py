"""RNNCell and RNN: ``torch.nn.RNNCell``'s and ``torch.nn.RNN``'s interface.

Chapter 3 (``book/03_rnn_from_scratch``) builds what these modules run, and
chapter 4 (``book/04_torch_rnn_in_depth``) walks through their interface. The
recurrence itself lives in the layer functions: :func:`rnn_lib.functional.rnn_layer`
(autograd differentiates it) or :func:`rnn_lib.bptt.rnn_layer` (the backward
pass derived by hand in chapter 5, the default). Everything around them
(argument checks, parameters with torch's names and initialisation, layouts,
packed sequences, layers, directions, dropout) is the machinery of
:mod:`rnn_lib.base`, which the gated models of chapter 8 share.

A ``state_dict`` moves between these modules and ``torch.nn`` in both
directions, and with the same seed they are initialised with the same numbers.
Argument errors follow :mod:`rnn_lib.validation` (``TypeError`` for a type,
``ValueError`` for a value); see :mod:`rnn_lib.base` for the few cases where
this differs from torch.

Read next: :mod:`rnn_lib.base` (the machinery), :mod:`rnn_lib.bptt` (the
backward pass).
"""

from __future__ import annotations

from rnn_lib import bptt, functional
from rnn_lib.base import RNNBase, RNNCellBase, refuse_projection

#: The layer function behind each choice of ``RNN(backward=...)``.
LAYER_FUNCTIONS = {"bptt": bptt.rnn_layer, "autograd": functional.rnn_layer}


# ---------------------------------------------------------------------------
# The Elman RNN


class RNN(RNNBase):
    r"""A multi-layer Elman RNN with ``torch.nn.RNN``'s interface.

    Each layer computes, for each direction,

    .. math::
        h_t = \tanh(x_t W_{ih}^T + b_{ih} + h_{t-1} W_{hh}^T + b_{hh})

    (or ReLU), where ``x_t`` is the input at time t for the first layer and
    the previous layer's output (both directions concatenated) for the others.

    Args:
        input_size: H_in, the number of features of the input.
        hidden_size: H_out, the number of features of the state.
        num_layers: how many layers are stacked. Default 1.
        nonlinearity: ``'tanh'`` or ``'relu'``. Default ``'tanh'``.
        bias: if False, no ``bias_ih`` and ``bias_hh``. Default True.
        batch_first: if True, batched input and output are (N, L, feature)
            instead of (L, N, feature). ``h_0`` and ``h_n`` are not affected.
            Default False.
        dropout: probability of zeroing each element of every layer's output
            except the last, in training mode. Needs ``num_layers > 1``.
            Default 0.
        bidirectional: if True, each layer also runs backward in time and the
            two outputs are concatenated. Default False.
        backward: ``'bptt'`` (default) to backpropagate with the hand-derived
            pass of chapter 5 (:func:`rnn_lib.bptt.rnn_layer`), ``'autograd'``
            to let autograd differentiate the reference loop
            (:func:`rnn_lib.functional.rnn_layer`). Same numbers either way.
        device, dtype: where and in which precision the parameters live.

    Inputs: input, h_0
        input: (L, N, H_in), or (N, L, H_in) if batch_first, or (L, H_in)
            unbatched, or a ``PackedSequence`` of sequences of different
            lengths.
        h_0: (D * num_layers, N, H_out), or (D * num_layers, H_out) for
            unbatched input; zeros if omitted. For packed input, rows are in
            the order of the original batch.

    Outputs: output, h_n
        output: (L, N, D * H_out), or (N, L, D * H_out) if batch_first, or
            (L, D * H_out) unbatched, or a ``PackedSequence`` if the input was
            one: the last layer's state at every step, both directions.
        h_n: (D * num_layers, N, H_out), or (D * num_layers, H_out) unbatched:
            every layer's final state in each direction, layer by layer
            (``h_n[2 * k + 1]`` is layer k's backward direction, whose final
            state is the one at t = 0). For packed input, each row's state after
            its own last step.

    Attributes:
        weight_ih_l{k}: (H_out, H_in) for k = 0, else (H_out, D * H_out)
        weight_hh_l{k}: (H_out, H_out)
        bias_ih_l{k}, bias_hh_l{k}: (H_out,)
        The backward direction's parameters carry the suffix ``_reverse``.
        All drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)).

    where:
        N = batch size, L = sequence length, D = 2 if bidirectional else 1,
        H_in = input_size, H_out = hidden_size.

    Example::

        >>> import torch
        >>> from rnn_lib import RNN
        >>> rnn = RNN(input_size=10, hidden_size=20, num_layers=2)
        >>> x = torch.randn(5, 3, 10)  # (L, N, H_in)
        >>> h_0 = torch.randn(2, 3, 20)  # (D * num_layers, N, H_out)
        >>> output, h_n = rnn(x, h_0)
        >>> output.shape, h_n.shape
        (torch.Size([5, 3, 20]), torch.Size([2, 3, 20]))
        >>> torch.equal(output[-1], h_n[-1])  # the last layer's final state
        True
    """

    layer_functions = LAYER_FUNCTIONS

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
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
        functional.activation(nonlinearity)
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
        self.nonlinearity = nonlinearity

    def _run_layer(self, x, state, weights, reverse, batch_sizes):
        (h_0,) = state
        output, h_n = self.layer_functions[self.backward_pass](
            x,
            h_0,
            *weights,
            nonlinearity=self.nonlinearity,
            reverse=reverse,
            batch_sizes=batch_sizes,
        )  # (L, N, H_out), (N, H_out)
        return output, (h_n,)

    def _own_repr(self) -> str:
        return (
            f", nonlinearity={self.nonlinearity!r}"
            if self.nonlinearity != "tanh"
            else ""
        )


# ---------------------------------------------------------------------------
# One step


class RNNCell(RNNCellBase):
    r"""One step of an Elman RNN, with ``torch.nn.RNNCell``'s interface.

    .. math::
        h' = \tanh(x W_{ih}^T + b_{ih} + h W_{hh}^T + b_{hh})

    (or ReLU), computed by :func:`rnn_lib.functional.rnn_step`.

    Args:
        input_size: H_in, the number of features of ``input``.
        hidden_size: H_out, the number of features of the state.
        bias: if False, the cell has no ``bias_ih`` and ``bias_hh``. Default True.
        nonlinearity: ``'tanh'`` or ``'relu'``. Default ``'tanh'``.
        device, dtype: where and in which precision the parameters live.

    Inputs: input, hx
        input: (N, H_in) or (H_in,)
        hx: (N, H_out) or (H_out,), the previous state; zeros if omitted.

    Outputs: h'
        h': (N, H_out) or (H_out,), the next state.

    Attributes:
        weight_ih: (H_out, H_in)
        weight_hh: (H_out, H_out)
        bias_ih, bias_hh: (H_out,)
        All drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)).

    where:
        N = batch size, H_in = input_size, H_out = hidden_size.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        device=None,
        dtype=None,
    ) -> None:
        functional.activation(nonlinearity)
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def extra_repr(self) -> str:
        s = super().extra_repr()
        if self.nonlinearity != "tanh":
            s += f", nonlinearity={self.nonlinearity!r}"
        return s

    def _step(self, x, state):
        (h,) = state
        h_new = functional.rnn_step(
            x,
            h,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            self.nonlinearity,
        )  # (N, H_out)
        return (h_new,)
