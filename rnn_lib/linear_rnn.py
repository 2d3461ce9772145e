"""Recurrent networks whose recurrence is linear: minGRU, the LRU and their stacks (chapter 10).

Chapter 10 (``book/10_linear_recurrences``) builds these. Each layer computes
its coefficients ``a_t`` and inputs ``b_t`` from the input x_t alone, never
from h_{t-1}, so that the recurrence ``h_t = a_t * h_{t-1} + b_t`` is linear
and diagonal and :func:`rnn_lib.scan.linear_recurrence` runs the whole
sequence at once, forward and backward.

* :class:`MinGRU` (Feng et al., 2024) is chapter 8's GRU with h_{t-1} taken
  out of its gates: ``z_t = sigmoid(x_t W_iz^T + b_iz)``, ``n_t = x_t W_in^T
  + b_in`` and ``h_t = z_t * h_{t-1} + (1 - z_t) * n_t`` (torch's convention,
  in which z_t keeps the old state; the paper's z is our 1 - z). With
  ``negative=True`` the coefficient is ``2 z_t - 1``, in (-1, 1) (Grazzi et
  al., 2025), which lets it track parity.
* :class:`LRU` (Orvieto et al., 2023) has a complex diagonal coefficient that
  does not depend on the input: ``h_t = lambda * h_{t-1} + kappa * (x_t B^T)``
  and ``y_t = Re(h_t C^T)``, with ``|lambda|`` drawn on a ring
  ``[r_min, r_max]`` and ``kappa`` initialised to ``sqrt(1 - |lambda|^2)``
  (then learnt), which for white-noise inputs keeps the state's mean square
  that of ``x_t B^T``. Its state has ``state_size`` complex entries (the
  chapter's H_state), H_out unless given.
* :class:`LinearRNN` stacks either with what makes the stack expressive: a
  nonlinearity between layers (never inside the recurrence), around a
  residual connection: ``x <- x + GELU(layer(LayerNorm(x))) W_mix^T + b_mix``,
  after an input projection.
* :class:`CharLinearRNN` is chapter 7's character model with a
  :class:`LinearRNN` inside, for :func:`rnn_lib.train.train`.

Shapes are time-major, as everywhere in the course; states are ``(N, H)``
per layer, ``(K, N, H)`` for a stack of K layers (complex for the LRU).

Read next: ``tools/linear_rnn_experiments.py``, which compares them with
chapter 8's models over several seeds.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from rnn_lib.scan import METHODS, linear_recurrence
from rnn_lib.validation import check_bool, check_choice, check_int, check_number

Tensor = torch.Tensor

CELLS = ("mingru", "lru")


def _check_input(input: Tensor, input_size: int) -> None:
    if input.dim() != 3 or input.shape[-1] != input_size:
        raise ValueError(
            f"expected input of shape (L, N, {input_size}), got {tuple(input.shape)}"
        )


class MinGRU(nn.Module):
    r"""One minGRU layer: a GRU whose gates read the input only.

    Computes, for t = 1..L,

    .. math::
        z_t = \sigma(x_t W_{iz}^\top + b_{iz}), \quad
        n_t = x_t W_{in}^\top + b_{in}, \quad
        h_t = z_t \odot h_{t-1} + (1 - z_t) \odot n_t,

    a linear recurrence with ``a_t = z_t`` (or ``2 z_t - 1`` if ``negative``)
    and ``b_t = (1 - z_t) n_t``, computed by :func:`rnn_lib.scan.linear_recurrence`.

    Args:
        input_size: H_in, the features of ``input``.
        hidden_size: H_out, the features of the state.
        negative: coefficients ``2 z_t - 1`` in (-1, 1) instead of ``z_t`` in (0, 1).
        method: ``'scan'`` (default) or ``'loop'``, passed to ``linear_recurrence``.
        device, dtype: where and in which precision the parameters live.

    Inputs: input, h_0
        input: (L, N, H_in)
        h_0: (N, H_out), or None for zeros.

    Outputs: output, h_n
        output: (L, N, H_out), the state at every step.
        h_n: (N, H_out), the state after the last step.

    Attributes:
        weight_ih: (2 H_out, H_in), the blocks W_iz, W_in (in that order)
        bias_ih: (2 H_out,), the blocks b_iz, b_in
        Both drawn from U(-1/sqrt(H_out), 1/sqrt(H_out)), as torch's GRU.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        negative: bool = False,
        method: str = "scan",
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        self.negative = check_bool("negative", negative)
        self.method = check_choice("method", method, METHODS)
        factory = {"device": device, "dtype": dtype}
        self.weight_ih = nn.Parameter(
            torch.empty(2 * hidden_size, input_size, **factory)
        )
        self.bias_ih = nn.Parameter(torch.empty(2 * hidden_size, **factory))
        bound = 1 / math.sqrt(hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def coefficients(self, input: Tensor) -> tuple[Tensor, Tensor]:
        """``(a_t, b_t)`` of the recurrence for every step: two (L, N, H_out)."""
        gates = input @ self.weight_ih.T + self.bias_ih  # (L, N, 2 H_out)
        z_pre, n = gates.chunk(2, dim=-1)  # each (L, N, H_out)
        z = torch.sigmoid(z_pre)
        a = 2 * z - 1 if self.negative else z
        return a, (1 - z) * n

    def forward(self, input: Tensor, h_0: Tensor | None = None):
        _check_input(input, self.input_size)
        a, b = self.coefficients(input)  # (L, N, H_out) each
        output = linear_recurrence(a, b, h_0, method=self.method)  # (L, N, H_out)
        return output, output[-1]


class LRU(nn.Module):
    r"""One Linear Recurrent Unit: a complex diagonal recurrence with a fixed coefficient.

    Computes, for t = 1..L, with a complex state of ``state_size`` entries,

    .. math::
        h_t = \lambda \odot h_{t-1} + \kappa \odot (x_t B^\top), \qquad
        y_t = \operatorname{Re}(h_t C^\top),

    where :math:`\lambda_j = \exp(-e^{\nu_j} + \mathrm{i}\, e^{\omega_j})`, with
    the parameters ``nu_log`` (nu) and ``omega_log`` (omega), so that
    :math:`|\lambda_j| = \exp(-e^{\nu_j}) < 1` whatever training does, and
    :math:`\kappa_j = \exp(\texttt{kappa\_log}_j)`, initialised to
    :math:`\sqrt{1 - |\lambda_j|^2}`. At initialisation :math:`|\lambda_j|^2` is
    uniform on ``[r_min^2, r_max^2]`` (lambda uniform on the ring of the
    complex plane between the radii ``r_min`` and ``r_max``) and the phase
    omega uniform on ``[0, max_phase]``. The paper's skip term ``D x_t`` is
    left to the residual connection of :class:`LinearRNN`.

    Args:
        input_size: H_in, the features of ``input``.
        hidden_size: H_out, the features of the output y_t.
        state_size: the complex entries of h_t; None for ``hidden_size``.
        r_min, r_max: the ring of |lambda|, ``0 <= r_min < r_max < 1``.
        max_phase: the largest initial phase omega, in (0, 2 pi].
        method: ``'scan'`` (default) or ``'loop'``, passed to ``linear_recurrence``.
        device, dtype: where and in which (real) precision the parameters live.

    Inputs: input, h_0
        input: (L, N, H_in), real.
        h_0: (N, state_size), complex, or None for zeros.

    Outputs: output, h_n
        output: (L, N, H_out), real, the y_t.
        h_n: (N, state_size), complex, the state after the last step.

    Attributes:
        nu_log, omega_log, kappa_log: (state_size,)
        B_re, B_im: (state_size, H_in), B's real and imaginary parts, each
            N(0, 1 / (2 H_in)).
        C_re, C_im: (H_out, state_size), each N(0, 1 / state_size).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        state_size: int | None = None,
        r_min: float = 0.9,
        r_max: float = 0.999,
        max_phase: float = math.pi / 10,
        method: str = "scan",
        device=None,
        dtype=None,
    ):
        super().__init__()
        self.input_size = check_int("input_size", input_size)
        self.hidden_size = check_int("hidden_size", hidden_size)
        state_size = hidden_size if state_size is None else state_size
        self.state_size = check_int("state_size", state_size)
        check_number("r_min", r_min, minimum=0.0)
        check_number("r_max", r_max, positive=True)
        if not r_min < r_max < 1:
            raise ValueError(
                f"expected 0 <= r_min < r_max < 1, got r_min={r_min}, r_max={r_max}"
            )
        check_number("max_phase", max_phase, positive=True, maximum=2 * math.pi)
        self.method = check_choice("method", method, METHODS)
        factory = {"device": device, "dtype": dtype}
        u_radius, u_phase = torch.rand(2, state_size, **factory)
        modulus_sq = u_radius * (r_max**2 - r_min**2) + r_min**2  # uniform |lambda|^2
        self.nu_log = nn.Parameter(torch.log(-0.5 * torch.log(modulus_sq)))
        self.omega_log = nn.Parameter(torch.log(max_phase * u_phase))
        self.kappa_log = nn.Parameter(0.5 * torch.log(1 - modulus_sq))

        def normal(*shape, std):
            return nn.Parameter(std * torch.randn(*shape, **factory))

        self.B_re, self.B_im = (
            normal(state_size, input_size, std=(2 * input_size) ** -0.5)
            for _ in range(2)
        )
        self.C_re, self.C_im = (
            normal(hidden_size, state_size, std=state_size**-0.5) for _ in range(2)
        )

    def eigenvalues(self) -> Tensor:
        """lambda, the coefficient of every entry of the state: (state_size,), complex."""
        return torch.exp(
            torch.complex(-torch.exp(self.nu_log), torch.exp(self.omega_log))
        )

    def forward(self, input: Tensor, h_0: Tensor | None = None):
        _check_input(input, self.input_size)
        B = torch.complex(self.B_re, self.B_im) * torch.exp(self.kappa_log)[:, None]
        b = input.to(B.dtype) @ B.T  # (L, N, state_size), complex
        a = self.eigenvalues().expand_as(b)  # (L, N, state_size)
        h = linear_recurrence(a, b, h_0, method=self.method)  # (L, N, state_size)
        output = (h @ torch.complex(self.C_re, self.C_im).T).real  # (L, N, H_out)
        return output, h[-1]


class LinearRNN(nn.Module):
    """A stack of linear-recurrence layers, the nonlinearity between them.

    ``x = encoder(input)`` (a linear projection), then for each of the K layers
    ``x <- x + mix_k(GELU(layer_k(LayerNorm_k(x))))``, ``mix_k`` a linear map
    (the chapter's W_mix, b_mix): the recurrence stays
    linear and is scanned; the GELU and the linear map after it act on each
    step alone. Its output is the last x.

    Args:
        input_size: H_in, the features of ``input``.
        hidden_size: H_out, the features of x (and of each layer's output).
        num_layers: K, the number of layers.
        cell: ``'mingru'`` (:class:`MinGRU`) or ``'lru'`` (:class:`LRU`).
        **layer_options: passed to each layer (``negative``, ``r_min``, ``method`` ...).

    Inputs: input, h_0
        input: (L, N, H_in)
        h_0: (K, N, H_s), or None for zeros; H_s is H_out for a minGRU, the
            ``state_size`` (complex) for an LRU.

    Outputs: output, h_n
        output: (L, N, H_out)
        h_n: (K, N, H_s), every layer's last state.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        cell: str = "mingru",
        **layer_options,
    ):
        super().__init__()
        check_int("num_layers", num_layers)
        self.cell = check_choice("cell", cell, CELLS)
        self.input_size, self.hidden_size = input_size, hidden_size
        layer = MinGRU if cell == "mingru" else LRU
        self.encoder = nn.Linear(input_size, hidden_size)
        self.norms = nn.ModuleList(nn.LayerNorm(hidden_size) for _ in range(num_layers))
        self.layers = nn.ModuleList(
            layer(hidden_size, hidden_size, **layer_options) for _ in range(num_layers)
        )
        self.mixes = nn.ModuleList(
            nn.Linear(hidden_size, hidden_size) for _ in range(num_layers)
        )

    def forward(self, input: Tensor, h_0: Tensor | None = None):
        _check_input(input, self.input_size)
        if h_0 is not None and len(h_0) != len(self.layers):
            raise ValueError(
                f"expected h_0 with {len(self.layers)} layers in dim 0, "
                f"got shape {tuple(h_0.shape)}"
            )
        x = self.encoder(input)  # (L, N, H_out)
        finals = []
        for k, (norm, layer, mix) in enumerate(
            zip(self.norms, self.layers, self.mixes)
        ):
            y, h_n = layer(norm(x), None if h_0 is None else h_0[k])  # (L, N, H_out)
            x = x + mix(nn.functional.gelu(y))
            finals.append(h_n)
        return x, torch.stack(finals)  # (L, N, H_out), (K, N, H_s)


class CharLinearRNN(nn.Module):
    """Chapter 7's character model with a :class:`LinearRNN` inside.

    Embedding, the stack, a linear read-out: the interface of
    :class:`rnn_lib.models.CharRNN`, so :func:`rnn_lib.train.train` and
    :func:`rnn_lib.train.evaluate` take it as they are.

    Args:
        vocab_size: V; embedding_dim: E; hidden_size: H_out; num_layers: K.
        cell, **layer_options: as for :class:`LinearRNN`.

    Inputs: input, h_0
        input: (L, N), character ids (int64).
        h_0: (K, N, H_s), or None for zeros.

    Outputs: logits, h_n
        logits: (L, N, V); h_n: (K, N, H_s).
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 2,
        cell: str = "mingru",
        **layer_options,
    ):
        super().__init__()
        check_int("vocab_size", vocab_size)
        self.embedding = nn.Embedding(vocab_size, embedding_dim)
        self.rnn = LinearRNN(
            embedding_dim, hidden_size, num_layers, cell, **layer_options
        )
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, input: Tensor, h_0: Tensor | None = None):
        if input.dim() != 2:
            raise ValueError(
                f"expected input of shape (L, N), got {tuple(input.shape)}"
            )
        output, h_n = self.rnn(self.embedding(input), h_0)  # (L, N, H_out)
        return self.head(output), h_n  # (L, N, V)
