"""The machinery that every recurrent module shares: :class:`RNNBase` and :class:`RNNCellBase`.

Chapter 4 (``book/04_torch_rnn_in_depth``) walks through what this machinery
does; the modules a reader came for are in :mod:`rnn_lib.rnn` (``RNN``,
``RNNCell``) and :mod:`rnn_lib.gated` (``LSTM``, ``GRU`` and their cells).
Written once here for all of them: argument checks, parameters with torch's
names, shapes and initialisation, ``batch_first``, unbatched input, default
initial states, packed sequences, stacked layers, two directions and dropout
between layers. A subclass supplies only what differs: how many gate blocks
its weights stack, its state, and the layer function that runs one (layer,
direction) over a sequence.

Errors. Every check runs before any computation and follows
:mod:`rnn_lib.validation`: ``TypeError`` for a wrong Python type
(``hidden_size=2.0``) or dtype (float32 input for float64 weights),
``ValueError`` for a wrong value, shape or device (``num_layers=0``, an input
with 11 features for ``input_size=10``, ``h_0`` on another device).

torch raises ``ValueError``, ``RuntimeError`` or ``AssertionError`` for these
depending on the case; we always follow the rule above. Two cases that torch
lets through are refused here, because what comes out is not what was asked
for: ``dropout > 0`` with ``num_layers=1`` (torch warns and ignores the
dropout) and an empty batch, N = 0 (torch returns empty tensors; here it is
almost always a bug upstream). An empty sequence, L = 0, raises in both.

Read next: :mod:`rnn_lib.gated`, whose LSTM and GRU plug into this machinery.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import PackedSequence

from rnn_lib import packing
from rnn_lib.validation import (
    check_bool,
    check_choice,
    check_int,
    check_like,
    check_number,
    check_shape,
    check_tensor,
)

# ---------------------------------------------------------------------------
# Checks of the inputs and states


def _check_input(name: str, x: torch.Tensor, input_size: int, weight: torch.Tensor):
    """Feature size, dtype and device of an input whose last dimension is H_in."""
    if x.shape[-1] != input_size:
        raise ValueError(
            f"expected {name} with input_size={input_size} features in its last "
            f"dimension, got {x.shape[-1]}"
        )
    check_like(name, x, weight)


def _check_batch(n: int) -> None:
    if n == 0:
        raise ValueError("expected a batch of size >= 1, got 0")


def _dims(n: int) -> str:
    return f"{n} dimension" if n == 1 else f"{n} dimensions"


def _check_state(name: str, h, shape: tuple, batched: bool, weight: torch.Tensor):
    """A state tensor (``h_0``, ``hx``) must have ``shape`` and the weights' dtype."""
    check_tensor(name, h)
    if h.dim() != len(shape):
        kind = "batched" if batched else "unbatched"
        raise ValueError(
            f"expected {name} with {_dims(len(shape))} for {kind} input, "
            f"got {_dims(h.dim())}"
        )
    check_shape(name, h, shape)
    check_like(name, h, weight)


def refuse_projection(proj_size) -> None:
    """``proj_size`` is the LSTM's alone; torch refuses it for RNN and GRU, even 0."""
    if proj_size is not None:
        raise ValueError(
            "proj_size argument is only supported for LSTM, not RNN or GRU, "
            f"got proj_size={proj_size!r}"
        )


def _reset_uniform(module: nn.Module, hidden_size: int) -> None:
    """torch's initialisation: every parameter ~ U(-1/sqrt(H), 1/sqrt(H)).

    The parameters are drawn in registration order, as torch does, so the same
    seed gives the same numbers as ``torch.nn``.
    """
    bound = 1.0 / math.sqrt(hidden_size) if hidden_size > 0 else 0.0
    for weight in module.parameters():
        nn.init.uniform_(weight, -bound, bound)


# ---------------------------------------------------------------------------
# One step


class RNNCellBase(nn.Module):
    """The machinery behind :class:`RNNCell` (and the gated cells of chapter 8).

    It validates the arguments, creates ``weight_ih``, ``weight_hh``,
    ``bias_ih`` and ``bias_hh`` with torch's shapes and initialisation, and in
    ``forward`` checks the input and the state, adds the batch dimension to
    unbatched input, and calls :meth:`_step`.

    Extension points. A subclass sets ``gates`` (how many gate blocks are
    stacked in each weight: 1, 3 for GRU, 4 for LSTM) and ``state_names``
    (``("hx",)``, or ``("h_0", "c_0")`` for a two-tensor state), may override
    :meth:`_split_state` / :meth:`_join_state` (between the caller's state and
    a tuple of tensors), and must define :meth:`_step`.

    Args:
        input_size, hidden_size, bias, device, dtype: as in :class:`RNNCell`.
    """

    gates = 1
    state_names = ("hx",)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device=None,
        dtype=None,
    ) -> None:
        super().__init__()
        check_int("input_size", input_size)
        check_int("hidden_size", hidden_size, minimum=0)  # torch's cells allow 0
        check_bool("bias", bias)
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.bias = bias
        factory = {"device": device, "dtype": dtype}
        G, H = self.gates * hidden_size, hidden_size
        self.weight_ih = nn.Parameter(torch.empty(G, input_size, **factory))
        self.weight_hh = nn.Parameter(torch.empty(G, H, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(G, **factory))
            self.bias_hh = nn.Parameter(torch.empty(G, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if not self.bias:
            s += ", bias=False"
        return s

    def _split_state(self, hx) -> tuple:
        return (hx,)

    def _join_state(self, state: tuple):
        return state[0]

    def _step(self, x: torch.Tensor, state: tuple) -> tuple:
        """One step: ``x`` (N, H_in) and states (N, H_out) -> the new states."""
        raise NotImplementedError("a subclass of RNNCellBase must define _step")

    def forward(self, input: torch.Tensor, hx=None):
        check_tensor("input", input)
        if input.dim() not in (1, 2):
            raise ValueError(
                "expected input with 1 (unbatched) or 2 (batched) dimensions, "
                f"got {input.dim()}"
            )
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)  # (N, H_in)
        _check_input("input", x, self.input_size, self.weight_ih)
        N = x.shape[0]
        _check_batch(N)
        if hx is None:
            state = tuple(x.new_zeros(N, self.hidden_size) for _ in self.state_names)
        else:
            state = self._split_state(hx)
            shape = (N, self.hidden_size) if batched else (self.hidden_size,)
            for name, h in zip(self.state_names, state):
                _check_state(name, h, shape, batched, self.weight_ih)
            if not batched:
                state = tuple(h.unsqueeze(0) for h in state)  # each (1, H_out)
        new_state = self._step(x, state)  # each (N, H_out)
        if not batched:
            new_state = tuple(h.squeeze(0) for h in new_state)  # each (H_out,)
        return self._join_state(new_state)


# ---------------------------------------------------------------------------
# Layers, directions, packed input, states


class RNNBase(nn.Module):
    """The machinery behind :class:`RNN` (and the gated models of chapter 8).

    It validates the arguments, creates the parameters with torch's names,
    shapes and order, and in ``forward`` turns any accepted input (batched or
    not, ``batch_first`` or not, packed or not, with or without an initial
    state) into one time-major tensor ``x`` of shape (L, N, H_in) and a tuple
    of state tensors of shape (D * num_layers, N, S), then calls
    :meth:`_run_layer` once per (layer, direction) and turns the results back
    into the caller's layout. There is no per-time-step Python work here: the
    loop over time lives only in the layer function.

    Extension points. A subclass sets these (the attributes that its hooks
    read must be set *before* calling ``RNNBase.__init__``, which creates the
    parameters):

    * ``gates`` (class attribute): how many gate blocks are stacked in each
      weight; ``gate_size = gates * hidden_size``. 1 for RNN, 3 for GRU, 4 for
      LSTM.
    * ``state_names`` (class attribute): the names of the initial-state
      tensors, used in error messages: ``("h_0",)``, or ``("h_0", "c_0")``.
    * :meth:`_state_sizes`: the last-dimension size S of each state tensor;
      the first one is also the size of each direction's output. Default
      ``(hidden_size,)``; an LSTM with ``proj_size`` returns
      ``(proj_size, hidden_size)``.
    * :meth:`_parameter_shapes`: the parameters of one (layer, direction),
      names without the ``_l{k}`` suffix, in torch's order. Default
      ``weight_ih, weight_hh, bias_ih, bias_hh`` (an LSTM with ``proj_size``
      adds ``weight_hr``).
    * :meth:`_split_state` / :meth:`_join_state`: between the caller's state
      (one tensor, or a tuple ``(h, c)``) and a tuple of tensors.
    * :meth:`_run_layer` (required): run one (layer, direction).

    Args:
        input_size, hidden_size, num_layers, bias, batch_first, dropout,
        bidirectional, device, dtype: as in :class:`RNN`.
    """

    gates = 1
    state_names = ("h_0",)
    layer_functions: dict = {}

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
    ) -> None:
        super().__init__()
        check_choice("backward", backward, tuple(self.layer_functions))
        check_int("input_size", input_size)
        check_int("hidden_size", hidden_size)
        check_int("num_layers", num_layers)
        check_bool("bias", bias)
        check_bool("batch_first", batch_first)
        check_bool("bidirectional", bidirectional)
        check_number("dropout", dropout, minimum=0, maximum=1)
        if dropout > 0 and num_layers == 1:
            raise ValueError(
                f"dropout={dropout} would have no effect with num_layers=1: it "
                "applies between stacked layers; use num_layers > 1 or dropout=0"
            )
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.bias = bias
        self.batch_first = batch_first
        self.dropout = float(dropout)
        self.bidirectional = bidirectional
        # Not self.backward, which would read like a method of the Module.
        self.backward_pass = backward

        # weight_ih_l0, weight_hh_l0, ..., weight_ih_l0_reverse, ..., then _l1.
        self._all_weights: list[list[str]] = []
        D = 2 if bidirectional else 1
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else D * self._state_sizes()[0]
            for suffix in ["", "_reverse"][:D]:
                names = []
                for name, shape in self._parameter_shapes(layer_input_size):
                    full_name = f"{name}_l{layer}{suffix}"
                    param = nn.Parameter(torch.empty(shape, device=device, dtype=dtype))
                    self.register_parameter(full_name, param)
                    names.append(full_name)
                self._all_weights.append(names)
        self.reset_parameters()

    # -- extension points ---------------------------------------------------

    def _state_sizes(self) -> tuple[int, ...]:
        return (self.hidden_size,)

    def _parameter_shapes(self, layer_input_size: int) -> list[tuple[str, tuple]]:
        gate_size = self.gates * self.hidden_size
        shapes = [
            ("weight_ih", (gate_size, layer_input_size)),
            ("weight_hh", (gate_size, self._state_sizes()[0])),
        ]
        if self.bias:
            shapes += [("bias_ih", (gate_size,)), ("bias_hh", (gate_size,))]
        return shapes

    def _split_state(self, hx) -> tuple:
        return (hx,)

    def _join_state(self, state: tuple):
        return state[0]

    def _run_layer(self, x, state, weights, reverse, batch_sizes):
        """Run one (layer, direction) over the whole sequence.

        Args:
            x: (L, N, H_in of this layer), time-major.
            state: tuple of initial states, each (N, S).
            weights: this (layer, direction)'s parameters, in the order of
                :meth:`_parameter_shapes`.
            reverse: True for the backward direction.
            batch_sizes: None, or the packed batch's sizes as a list of ints.

        Returns:
            output (L, N, S_0) and a tuple of final states, each (N, S).
        """
        raise NotImplementedError("a subclass of RNNBase must define _run_layer")

    # -- parameters ---------------------------------------------------------

    def reset_parameters(self) -> None:
        _reset_uniform(self, self.hidden_size)

    def _own_repr(self) -> str:
        """What a subclass adds to the repr (``nonlinearity=...``, ``proj_size=...``)."""
        return ""

    def flatten_parameters(self) -> None:
        """Do nothing: torch's method packs the weights for cuDNN.

        Code written for ``torch.nn`` calls it routinely (after ``.to()``, in
        ``DataParallel``); the weights here are used where they are.
        """

    @property
    def all_weights(self) -> list[list[nn.Parameter]]:
        """The parameters of each (layer, direction), as torch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        if self.bidirectional:
            s += ", bidirectional=True"
        s += self._own_repr()
        if self.backward_pass != "bptt":
            s += f", backward={self.backward_pass!r}"
        return s

    # -- forward ------------------------------------------------------------

    def forward(self, input: torch.Tensor | PackedSequence, hx=None):
        """Run every layer and direction; see :class:`RNN` for Inputs/Outputs."""
        weight = self.weight_ih_l0
        packed = isinstance(input, PackedSequence)
        if packed:
            x, batch_sizes, index = self._unpack(input, weight)  # (L, N, H_in)
            batched = True
        else:
            x, batched = self._time_major(input, weight), input.dim() == 3
            batch_sizes = None
        L, N = x.shape[0], x.shape[1]
        if L == 0:
            raise ValueError("expected a sequence of length >= 1, got length 0")
        _check_batch(N)

        state = self._initial_state(hx, N, batched, weight)
        if packed and input.sorted_indices is not None:
            # Rows of a packed batch are sorted by length; so is its state.
            state = tuple(s.index_select(1, input.sorted_indices) for s in state)

        output, state_n = self._run(x, state, batch_sizes)  # (L, N, D * S_0)

        if packed:
            return self._pack(output, state_n, input, index)
        if not batched:
            output = output.squeeze(1)  # (L, D * S_0)
            state_n = tuple(s.squeeze(1) for s in state_n)  # (D * num_layers, S)
        elif self.batch_first:
            output = output.transpose(0, 1)  # (N, L, D * S_0)
        return output, self._join_state(state_n)

    def _time_major(self, input, weight: torch.Tensor) -> torch.Tensor:
        """Check a tensor input and view it as (L, N, H_in)."""
        check_tensor("input", input)
        if input.dim() not in (2, 3):
            raise ValueError(
                "expected input with 2 (unbatched) or 3 (batched) dimensions, "
                f"got {input.dim()}"
            )
        _check_input("input", input, self.input_size, weight)
        if input.dim() == 2:
            return input.unsqueeze(1)  # (L, 1, H_in)
        if self.batch_first:
            return input.transpose(0, 1)  # (L, N, H_in), a view
        return input  # (L, N, H_in)

    def _pack(self, output, state_n, packed: PackedSequence, index: torch.Tensor):
        """The output as a PackedSequence, the final states in the caller's order."""
        data = output.flatten(0, 1).index_select(0, index)  # (sum L_i, D * S_0)
        output = PackedSequence(
            data, packed.batch_sizes, packed.sorted_indices, packed.unsorted_indices
        )
        if packed.unsorted_indices is not None:
            state_n = tuple(s.index_select(1, packed.unsorted_indices) for s in state_n)
        return output, self._join_state(state_n)

    def _unpack(self, packed: PackedSequence, weight: torch.Tensor):
        """Check a PackedSequence and pad it.

        Returns:
            x: (L, N, H_in), rows sorted by length (longest first), zero padded.
            batch_sizes: list of L ints, the rows running at each step.
            index: (sum of lengths,), where each row of the packed data sits
                in x flattened to (L * N, H_in). Packed data lists the running
                rows step after step, so ``index`` holds the flat positions
                ``t * N + n`` with ``n < batch_sizes[t]``, in order; selecting
                them from the flattened output packs the output. It is built
                on the CPU from ``batch_sizes`` (always a CPU tensor), so
                packing and unpacking never wait for the GPU.
        """
        data, sizes = packed.data, packed.batch_sizes
        if data.dim() != 2:
            raise ValueError(
                "expected PackedSequence data with 2 dimensions (sum of lengths, "
                f"H_in), got {data.dim()}"
            )
        _check_input("PackedSequence data", data, self.input_size, weight)
        batch_sizes = sizes.tolist()
        if not batch_sizes:
            raise ValueError("expected a sequence of length >= 1, got length 0")
        N = batch_sizes[0]
        packing.check_batch_sizes(batch_sizes, len(batch_sizes), N)
        if sum(batch_sizes) != data.shape[0]:
            raise ValueError(
                f"expected PackedSequence data with sum(batch_sizes)={sum(batch_sizes)} "
                f"rows, got {data.shape[0]}"
            )
        for name in ("sorted_indices", "unsorted_indices"):
            indices = getattr(packed, name)
            if indices is not None and tuple(indices.shape) != (N,):
                raise ValueError(
                    f"expected PackedSequence {name} of shape ({N},), "
                    f"got {tuple(indices.shape)}"
                )
        running = torch.arange(N) < sizes.unsqueeze(1)  # (L, N), True while running
        index = running.flatten().nonzero().squeeze(1).to(data.device)
        L, H_in = len(batch_sizes), data.shape[1]
        x = data.new_zeros(L * N, H_in).index_copy(0, index, data)  # (L * N, H_in)
        return x.view(L, N, H_in), batch_sizes, index

    def _initial_state(self, hx, N: int, batched: bool, weight: torch.Tensor) -> tuple:
        """The initial states as a tuple of (D * num_layers, N, S) tensors."""
        DL = (2 if self.bidirectional else 1) * self.num_layers
        if hx is None:
            return tuple(weight.new_zeros(DL, N, S) for S in self._state_sizes())
        state = self._split_state(hx)
        for name, h, S in zip(self.state_names, state, self._state_sizes()):
            shape = (DL, N, S) if batched else (DL, S)
            _check_state(name, h, shape, batched, weight)
        if not batched:
            state = tuple(h.unsqueeze(1) for h in state)  # (D * num_layers, 1, S)
        return state

    def _run(self, x, state, batch_sizes):
        """Every layer and direction; dropout between layers when training."""
        D = 2 if self.bidirectional else 1
        finals = [[] for _ in state]
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(D):
                i = layer * D + direction
                weights = [getattr(self, name) for name in self._all_weights[i]]
                layer_state = tuple(s[i] for s in state)  # each (N, S)
                out, layer_state_n = self._run_layer(
                    x, layer_state, weights, direction == 1, batch_sizes
                )  # (L, N, S_0)
                outputs.append(out)
                for final, s in zip(finals, layer_state_n):
                    final.append(s)
            x = outputs[0] if D == 1 else torch.cat(outputs, dim=2)  # (L, N, D * S_0)
            if self.training and self.dropout > 0 and layer < self.num_layers - 1:
                x = F.dropout(x, self.dropout, training=True)
        return x, tuple(torch.stack(f) for f in finals)  # each (D * num_layers, N, S)
