"""Why gradients vanish or explode: Jacobians and gradient norms through time.

Built in chapter 6 (*Vanishing and exploding gradients*). With torch's
recurrence ``h_t = phi(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)`` one step's
Jacobian is ``dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh``, and the Jacobian from
step t to the last step L is the ordered product

    dh_L/dh_t = J_L J_{L-1} ... J_{t+1},    J_j = diag(phi'(a_j)) W_hh,

whose 2-norm is at most ``(gamma * sigma_max(W_hh)) ** (L - t)``, with gamma
the largest value of ``|phi'|`` (:data:`GAMMA`).

The functions take plain tensors (``W_hh`` and the states ``h_1 .. h_L``) or a
module with torch's parameter names (``weight_hh_l0`` ...), so they work with
``torch.nn.RNN`` and ``rnn_lib.RNN`` alike.

Shapes use L (sequence length), N (batch) and H (hidden size).

Read next: :mod:`rnn_lib.clipping` and :mod:`rnn_lib.init`, the remedies.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from rnn_lib import functional

#: The nonlinearities these functions accept: the RNN's two and the sigmoid.
NONLINEARITIES = ("tanh", "relu", "sigmoid")

#: The largest value of ``|phi'|`` for each nonlinearity: the gamma of the bound.
GAMMA = {name: functional.NONLINEARITIES[name].gamma for name in NONLINEARITIES}


def _check_nonlinearity(nonlinearity: str) -> None:
    functional.nonlinearity_of(nonlinearity, NONLINEARITIES)


def _check_square(W_hh: Tensor) -> None:
    if W_hh.dim() != 2 or W_hh.shape[0] != W_hh.shape[1]:
        raise ValueError(
            f"expected a square matrix W_hh, got shape {tuple(W_hh.shape)}"
        )


# ---------------------------------------------------------------------------
# The recurrent weight and its spectrum
# ---------------------------------------------------------------------------


def recurrent_weight(
    module: nn.Module, layer: int = 0, reverse: bool = False
) -> Tensor:
    """The recurrent weight ``W_hh`` of one layer, found by torch's name.

    Args:
        module: a module with torch's parameter names (``torch.nn.RNN``,
            ``rnn_lib.RNN``, ``torch.nn.RNNCell`` ...).
        layer: which layer (``weight_hh_l{layer}``); ignored for a cell, whose
            weight is plain ``weight_hh``.
        reverse: the backward direction's weight (``weight_hh_l{layer}_reverse``).

    Outputs:
        W_hh: ``(H, H)``, or ``(gates * H, H)`` for a gated module.
    """
    names = dict(module.named_parameters())
    name = f"weight_hh_l{layer}" + ("_reverse" if reverse else "")
    if name not in names and "weight_hh" in names and layer == 0 and not reverse:
        name = "weight_hh"  # a cell
    if name not in names:
        raise ValueError(f"{type(module).__name__} has no parameter named {name!r}")
    return names[name]


def singular_values(W: Tensor) -> Tensor:
    """Singular values of a matrix, largest first: ``(min(rows, cols),)``."""
    if W.dim() != 2:
        raise ValueError(f"expected a matrix, got shape {tuple(W.shape)}")
    return torch.linalg.svdvals(W.detach())


def spectral_radius(W: Tensor) -> Tensor:
    """The largest modulus of an eigenvalue of a square matrix (a 0-dim tensor).

    It decides how ``W^k`` behaves for large k (``||W^k|| ** (1/k) -> rho``),
    but it is not a bound on ``||W^k||``: a non-normal matrix can have
    ``rho < 1`` and still amplify for many steps. The bound needs the largest
    singular value, which is never smaller than the spectral radius.
    """
    _check_square(W)
    return torch.linalg.eigvals(W.detach()).abs().max()


# ---------------------------------------------------------------------------
# Jacobians through time, from the states
# ---------------------------------------------------------------------------


def activation_derivative(states: Tensor, nonlinearity: str) -> Tensor:
    """``phi'(a_t)`` written through the state ``h_t = phi(a_t)``, same shape.

    tanh: ``1 - h^2``; relu: 1 where ``h > 0``, else 0; sigmoid: ``h (1 - h)``
    (:func:`rnn_lib.functional.derivative_from_output`).
    """
    return functional.derivative_from_output(states, nonlinearity, NONLINEARITIES)


def step_jacobians(states: Tensor, W_hh: Tensor, nonlinearity: str = "tanh") -> Tensor:
    """One step's Jacobian ``J_t = dh_t/dh_{t-1} = diag(phi'(a_t)) W_hh`` for t = 1..L.

    Args:
        states: the states ``h_1 .. h_L``, as an RNN layer's output: ``(L, N, H)``
            or ``(L, H)`` for one sequence.
        W_hh: ``(H, H)``.
        nonlinearity: ``'tanh'``, ``'relu'`` or ``'sigmoid'``.

    Outputs:
        J: ``(L, N, H, H)``, or ``(L, H, H)``; ``J[t - 1]`` is ``J_t``.
    """
    _check_square(W_hh)
    if states.shape[-1] != W_hh.shape[0]:
        raise ValueError(
            f"expected states of hidden size {W_hh.shape[0]}, got shape {tuple(states.shape)}"
        )
    d = activation_derivative(states, nonlinearity)  # (L, N, H)
    return d.unsqueeze(-1) * W_hh  # (L, N, H, H): row i scaled by phi'(a_t)_i


def jacobian_products(
    states: Tensor, W_hh: Tensor, nonlinearity: str = "tanh"
) -> Tensor:
    """The Jacobians ``dh_L/dh_t = J_L J_{L-1} ... J_{t+1}`` for t = 0..L.

    Computed from the last step backwards, ``P_L = I`` and
    ``P_{t-1} = P_t J_t``: the order matters, since the matrices do not commute.

    Args:
        states: ``h_1 .. h_L``: ``(L, N, H)`` or ``(L, H)``.
        W_hh: ``(H, H)``.
        nonlinearity: ``'tanh'``, ``'relu'`` or ``'sigmoid'``.

    Outputs:
        P: ``(L + 1, N, H, H)``, or ``(L + 1, H, H)``; ``P[t]`` is ``dh_L/dh_t``
        (``P[L]`` is the identity, ``P[0]`` reaches back to ``h_0``).
    """
    J = step_jacobians(states, W_hh, nonlinearity)  # (L, N, H, H)
    P = torch.eye(W_hh.shape[0], dtype=J.dtype, device=J.device).expand_as(J[0])
    products = [P]
    for t in range(J.shape[0] - 1, -1, -1):  # J[t] is J_{t+1}
        P = P @ J[t]  # (N, H, H)
        products.append(P)
    return torch.stack(products[::-1])  # (L + 1, N, H, H)


def jacobian_bound(
    W_hh: Tensor, distances: Tensor, nonlinearity: str = "tanh"
) -> Tensor:
    """The bound ``(gamma * sigma_max(W_hh)) ** distance`` on ``||dh_L/dh_{L-distance}||_2``.

    Args:
        W_hh: ``(H, H)``.
        distances: any shape of non-negative step counts ``L - t``.
        nonlinearity: picks gamma from :data:`GAMMA`.

    Outputs:
        bound: same shape as ``distances``.
    """
    _check_nonlinearity(nonlinearity)
    _check_square(W_hh)
    rate = GAMMA[nonlinearity] * singular_values(W_hh)[0]
    return rate ** torch.as_tensor(distances, dtype=rate.dtype, device=rate.device)


# ---------------------------------------------------------------------------
# The same, measured on a module
# ---------------------------------------------------------------------------


def _check_single_direction(module: nn.Module) -> None:
    if getattr(module, "bidirectional", False):
        raise ValueError(
            "expected a unidirectional RNN (a bidirectional one has no single "
            "state at step t), got bidirectional=True"
        )


def _seq_first(module: nn.Module, tensor: Tensor) -> Tensor:
    return tensor.transpose(0, 1) if getattr(module, "batch_first", False) else tensor


def state_jacobian_norms(
    module: nn.Module, input: Tensor, h_0: Tensor | None = None
) -> Tensor:
    """Run a one-layer RNN and return ``||dh_L/dh_t||_2`` for t = 0..L and every sequence.

    Args:
        module: a one-layer unidirectional ``torch.nn.RNN`` or ``rnn_lib.RNN``
            (it must have a ``nonlinearity`` attribute and ``weight_hh_l0``).

    Inputs:
        input: ``(L, N, H_in)``, or ``(N, L, H_in)`` if ``batch_first``.
        h_0: ``(1, N, H)``, zeros if omitted.

    Outputs:
        norms: ``(L + 1, N)``; ``norms[t, n]`` is the largest singular value of
        sequence n's ``dh_L/dh_t``, the most a gradient arriving at ``h_L`` can
        be amplified on its way back to ``h_t``.
    """
    _check_single_direction(module)
    if getattr(module, "num_layers", 1) != 1:
        raise ValueError(
            f"expected a one-layer RNN, got num_layers={module.num_layers}"
        )
    nonlinearity = getattr(module, "nonlinearity", None)
    if nonlinearity is None:
        raise ValueError(f"{type(module).__name__} has no attribute 'nonlinearity'")
    with torch.no_grad():
        output, _ = module(input, h_0)
        states = _seq_first(module, output)  # (L, N, H)
        P = jacobian_products(states, recurrent_weight(module), nonlinearity)
        return torch.linalg.matrix_norm(P, ord=2)  # (L + 1, N)


def gradient_norms_through_time(
    module: nn.Module,
    input: Tensor,
    loss_fn: Callable[[Tensor, Tensor], Tensor],
    h_0: Tensor | None = None,
) -> Tensor:
    """``||dL/dh_t||`` for t = 0..L, by running the module one step at a time.

    ``dL/dh_t`` is the total derivative: everything that ``h_t`` changes later,
    through ``h_{t+1}, h_{t+2}, ...``, counts. To see it, the module is called
    on one step at a time so that every state is a tensor we can ask autograd
    about. Works for any unidirectional module with torch's RNN interface
    (``torch.nn.RNN``, ``rnn_lib.RNN``, ``torch.nn.GRU``; several layers count
    together: ``h_t`` is then every layer's state at step t).

    Args:
        module: the recurrent module.
        input: ``(L, N, H_in)``, or ``(N, L, H_in)`` if ``batch_first``.
        loss_fn: ``loss_fn(output, h_n) -> scalar`` where ``output`` is
            ``(L, N, H)`` (time first, whatever ``batch_first`` says) and ``h_n``
            is ``(num_layers, N, H)``.
        h_0: ``(num_layers, N, H)``, zeros if omitted.

    Outputs:
        norms: ``(L + 1, N)``: ``norms[t, n]`` is the 2-norm of sequence n's
        ``dL/dh_t`` (``t = 0`` is the initial state).
    """
    _check_single_direction(module)
    # torch.nn.LSTM, and rnn_lib's LSTM, whose state names are (h_0, c_0)
    if isinstance(module, nn.LSTM) or len(getattr(module, "state_names", ())) == 2:
        raise ValueError("expected an RNN or GRU (one state tensor), got an LSTM")
    x = _seq_first(module, input)  # (L, N, H_in)
    if h_0 is None:
        h_0 = x.new_zeros(module.num_layers, x.shape[1], module.hidden_size)
    h = h_0.detach().requires_grad_(True)
    hs = [h]
    for x_t in x:
        step = (
            x_t.unsqueeze(1)
            if getattr(module, "batch_first", False)
            else x_t.unsqueeze(0)
        )
        _, h = module(step, h)  # (num_layers, N, H)
        hs.append(h)
    # The output at step t is the top layer's state; taking it from h_t (not
    # from the module's separate output tensor) makes dL/dh_t count it.
    output = torch.stack([state[-1] for state in hs[1:]])  # (L, N, H)
    loss = loss_fn(output, h)
    grads = torch.autograd.grad(loss, hs, allow_unused=True)
    norms = [
        torch.zeros(x.shape[1], dtype=x.dtype, device=x.device)
        if g is None
        else torch.linalg.vector_norm(g.transpose(0, 1).flatten(1), dim=1)  # (N,)
        for g in grads
    ]
    return torch.stack(norms)  # (L + 1, N)


# ---------------------------------------------------------------------------
# A random RNN at a chosen spectral radius (chapter 6's figures)
# ---------------------------------------------------------------------------


def _random_rnn(hidden_size: int, nonlinearity: str, seed: int) -> nn.RNN:
    """``torch.nn.RNN(H, H)`` with torch's default weights drawn from its own generator.

    torch's own initialisation draws ``U(-1/sqrt(H), 1/sqrt(H))`` for every
    parameter from the global generator; here the same draws, in the same
    order, come from ``torch.Generator().manual_seed(seed)``, so the network
    is the one ``torch.manual_seed(seed)`` would give, and the global
    generator is neither read nor reset. The module is built on the ``meta``
    device so that its constructor draws nothing.
    """
    import math

    rnn = nn.RNN(hidden_size, hidden_size, nonlinearity=nonlinearity, device="meta")
    rnn = rnn.to_empty(device="cpu")
    generator = torch.Generator().manual_seed(seed)
    bound = 1.0 / math.sqrt(hidden_size)  # as torch's reset_parameters computes it
    with torch.no_grad():
        for parameter in rnn.parameters():  # torch's order: W_ih, W_hh, b_ih, b_hh
            parameter.uniform_(-bound, bound, generator=generator)
    return rnn


def jacobian_norms_at_radius(
    radius: float,
    nonlinearity: str = "tanh",
    length: int = 60,
    *,
    hidden_size: int = 32,
    batch_size: int = 16,
    seed: int = 0,
    device: torch.device | str | None = None,
):
    """``||dh_L/dh_t||_2`` of a random one-layer RNN whose ``W_hh`` is ``radius`` times orthogonal.

    The RNN is ``torch.nn.RNN(hidden_size, hidden_size)`` with torch's default
    input weights and biases, fed N(0, 1) inputs from a zero state; its
    ``W_hh`` comes from :func:`rnn_lib.init.scaled_orthogonal_`, so
    ``sigma_max(W_hh)`` equals ``radius`` and the bound is
    ``radius ** distance``. Chapter 6 draws these curves with
    :func:`rnn_lib.plotting.plot_jacobian_norms`.

    Every draw comes from generators seeded with ``seed``: torch's default
    weights from one, then ``W_hh`` and the inputs from a second. The global
    generator (``torch.manual_seed``) is not touched, so the same arguments
    give the same curves whatever ran before.

    Args:
        radius: the spectral radius of ``W_hh``, > 0.
        nonlinearity: ``'tanh'`` or ``'relu'``.
        length: the sequence length L.
        hidden_size: H, also the input size.
        batch_size: N, the number of sequences.
        seed: seeds the generators.
        device: where the RNN runs (the draws are made on the CPU).

    Returns:
        ``(distance, norms, bound)``: ``distance`` is ``(L + 1,)`` (0 .. L),
        ``norms`` is ``(L + 1, N)`` (``norms[d]`` is ``||dh_L/dh_{L-d}||``) and
        ``bound`` is ``(L + 1,)``, all on the CPU.
    """
    # Imported here, not at the top: rnn_lib.init imports this module.
    from rnn_lib.init import scaled_orthogonal_
    from rnn_lib.validation import check_choice, check_int, check_number

    check_number("radius", radius, positive=True)
    check_choice("nonlinearity", nonlinearity, ("tanh", "relu"))
    check_int("length", length)
    check_int("hidden_size", hidden_size)
    check_int("batch_size", batch_size)
    check_int("seed", seed, minimum=0)
    rnn = _random_rnn(hidden_size, nonlinearity, seed)
    generator = torch.Generator().manual_seed(seed)
    rnn = scaled_orthogonal_(rnn, radius, generator).to(device)
    x = torch.randn(length, batch_size, hidden_size, generator=generator)  # (L, N, H)
    norms = state_jacobian_norms(rnn, x.to(device)).flip(0).cpu()  # (L + 1, N)
    distance = torch.arange(length + 1)
    bound = jacobian_bound(rnn.weight_hh_l0, distance, nonlinearity).cpu()
    return distance, norms, bound
