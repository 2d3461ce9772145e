"""Initialisers for the recurrent weight ``W_hh``, by spectral radius.

Built in chapter 6 (*Vanishing and exploding gradients*), where the product of
``diag(phi'(a_j)) W_hh`` terms decides whether long-range gradients survive.
Each initialiser acts in place on a tensor, or on every recurrent weight of a
module found by torch's names (``weight_hh_l{k}`` and ``weight_hh_l{k}_reverse``,
or ``weight_hh`` for a cell), and returns what it was given.

A gated module stacks one ``(H, H)`` block per gate in its ``(gates * H, H)``
recurrent weight (torch's layout); each block is initialised on its own.

- :func:`scaled_orthogonal_`: ``radius * Q`` with Q orthogonal: every singular
  value, and every eigenvalue's modulus, equals ``radius``.
- :func:`scaled_gaussian_`: a Gaussian matrix rescaled so that its spectral
  radius is exactly ``radius``; its largest singular value is about twice as
  large (a non-normal matrix).
- :func:`identity_`: ``scale * I`` with zero biases, the IRNN of Le, Jaitly and
  Hinton (2015) for ReLU RNNs.

Read next: :mod:`rnn_lib.data`, the memory tasks chapter 6 trains on.
"""

from __future__ import annotations

import re
from typing import Callable, TypeVar

import torch
from torch import Tensor, nn

from rnn_lib.diagnostics import spectral_radius
from rnn_lib.validation import check_number

Target = TypeVar("Target", Tensor, nn.Module)

_WEIGHT_HH = re.compile(r"^weight_hh(_l\d+(_reverse)?)?$")


def _square_blocks(weight: Tensor) -> list[Tensor]:
    """The ``(H, H)`` blocks of a ``(gates * H, H)`` weight, as views."""
    if weight.dim() != 2 or weight.shape[0] % weight.shape[1] != 0:
        raise ValueError(
            "expected a recurrent weight of shape (gates * H, H), "
            f"got {tuple(weight.shape)}"
        )
    return list(weight.split(weight.shape[1]))


def _apply(
    target: Target, fill: Callable[[Tensor], None], zero_biases: bool = False
) -> Target:
    """Run ``fill`` on every square block of every recurrent weight of ``target``."""
    if isinstance(target, Tensor):
        weights, biases = [target], []
    elif isinstance(target, nn.Module):
        params = dict(target.named_parameters())
        weights = [p for name, p in params.items() if _WEIGHT_HH.match(name)]
        if not weights:
            raise ValueError(
                f"{type(target).__name__} has no recurrent weight named weight_hh_l*"
            )
        biases = [p for name, p in params.items() if name.startswith("bias_")]
    else:
        raise TypeError(f"expected a tensor or a module, got {type(target).__name__}")
    with torch.no_grad():
        for weight in weights:
            for block in _square_blocks(weight):
                fill(block)
        if zero_biases:
            for bias in biases:
                bias.zero_()
    return target


def _gaussian(block: Tensor, generator: torch.Generator | None) -> Tensor:
    # Drawn on the generator's device, then moved, so a CPU generator can seed a
    # CUDA weight.
    device = generator.device if generator is not None else block.device
    return torch.randn(
        block.shape, generator=generator, dtype=block.dtype, device=device
    )


def scaled_orthogonal_(
    target: Target, radius: float = 1.0, generator: torch.Generator | None = None
) -> Target:
    """Set each ``(H, H)`` recurrent block to ``radius * Q``, Q a random orthogonal matrix.

    Q comes from the QR factorisation of a Gaussian matrix with the signs of R's
    diagonal moved into Q, which makes Q uniform over the orthogonal group.

    Args:
        target: a ``(gates * H, H)`` tensor, or a module with recurrent weights.
        radius: the spectral radius, which here is also every singular value.
        generator: an optional ``torch.Generator`` for reproducible draws.
    """
    check_number("radius", radius, positive=True)

    def fill(block: Tensor) -> None:
        q, r = torch.linalg.qr(_gaussian(block, generator))  # (H, H), (H, H)
        q = q * torch.sign(torch.diagonal(r)).where(torch.diagonal(r) != 0, 1.0)
        block.copy_(radius * q)

    return _apply(target, fill)


def scaled_gaussian_(
    target: Target, radius: float = 1.0, generator: torch.Generator | None = None
) -> Target:
    """Set each ``(H, H)`` recurrent block to a Gaussian matrix with spectral radius ``radius``.

    The matrix is drawn with entries N(0, 1) and rescaled by
    ``radius / spectral_radius``. Its largest singular value is not ``radius``:
    for large H it is close to ``2 * radius``.

    Args:
        target: a ``(gates * H, H)`` tensor, or a module with recurrent weights.
        radius: the spectral radius to reach.
        generator: an optional ``torch.Generator`` for reproducible draws.
    """
    check_number("radius", radius, positive=True)

    def fill(block: Tensor) -> None:
        w = _gaussian(block, generator).to(torch.float64)  # (H, H)
        block.copy_(w * (radius / spectral_radius(w)))

    return _apply(target, fill)


def identity_(target: Target, scale: float = 1.0) -> Target:
    """Set each ``(H, H)`` recurrent block to ``scale * I``; on a module, zero every bias.

    With ReLU and zero biases an identity ``W_hh`` copies the state forward
    unchanged when the input is zero, so the Jacobian ``dh_L/dh_t`` is the
    identity restricted to the active units: neither vanishing nor exploding
    at the start of training (Le, Jaitly and Hinton, 2015).

    Args:
        target: a ``(gates * H, H)`` tensor, or a module with recurrent weights.
        scale: the diagonal value (Le et al. use 1; a little less, such as 0.9,
            is sometimes more stable).
    """
    check_number("scale", scale, positive=True)

    def fill(block: Tensor) -> None:
        block.copy_(scale * torch.eye(block.shape[0], dtype=block.dtype))

    return _apply(target, fill, zero_biases=isinstance(target, nn.Module))
