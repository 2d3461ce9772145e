"""Gradient clipping, the teaching versions of torch's two clippers.

Built in chapter 6 (*Vanishing and exploding gradients*). An exploding
gradient is rare but huge, and one such step can throw the weights far away.

- :func:`clip_grad_norm_` rescales all gradients together when their global
  norm exceeds ``max_norm``: the step keeps its direction and only gets
  shorter (Pascanu, Mikolov and Bengio, 2013).
- :func:`clip_grad_value_` clamps every entry to ``[-clip_value, clip_value]``:
  the large entries are cut and the small ones kept, so the direction changes.

Both return and modify exactly what ``torch.nn.utils.clip_grad_norm_`` and
``torch.nn.utils.clip_grad_value_`` do (the tests prove it); read these, use
either.

Read next: :mod:`rnn_lib.init`, the other remedy chapter 6 measures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Union

import torch
from torch import Tensor

from rnn_lib.validation import check_number

Parameters = Union[Tensor, Iterable[Tensor]]


def _grads(parameters: Parameters) -> list[Tensor]:
    """The ``.grad`` of each parameter that has one."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _total_norm(grads: list[Tensor], norm_type: float) -> Tensor:
    if not grads:
        return torch.tensor(0.0)
    device = grads[0].device
    norms = [
        torch.linalg.vector_norm(g, norm_type).to(device) for g in grads
    ]  # one per tensor
    return torch.linalg.vector_norm(torch.stack(norms), norm_type)


def global_grad_norm(parameters: Parameters, norm_type: float = 2.0) -> Tensor:
    """The norm of all gradients together, as if concatenated into one vector.

    The p-norm of the per-tensor p-norms equals the p-norm of the concatenation,
    so no concatenation is needed. ``norm_type=float('inf')`` gives the largest
    absolute entry. Parameters without a gradient are skipped; with none at all
    the norm is 0.

    Outputs:
        total_norm: a 0-dim tensor.
    """
    return _total_norm(_grads(parameters), norm_type)


def clip_grad_norm_(
    parameters: Parameters,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> Tensor:
    """Rescale the gradients in place so that their global norm is at most ``max_norm``.

    Every gradient is multiplied by ``min(1, max_norm / (total_norm + 1e-6))``
    (the 1e-6 guards against a zero norm), so the update's direction is kept.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` to clip.
        max_norm: the largest global norm allowed.
        norm_type: the p of the p-norm; ``float('inf')`` for the max norm.
        error_if_nonfinite: raise when the total norm is ``nan`` or ``inf``
            instead of multiplying every gradient by ``nan`` or 0.

    Outputs:
        total_norm: the global norm before clipping (a 0-dim tensor).
    """
    check_number("max_norm", max_norm, positive=True)
    grads = _grads(parameters)
    total_norm = _total_norm(grads, norm_type)
    if error_if_nonfinite and not torch.isfinite(total_norm):
        raise RuntimeError(
            f"the total {norm_type}-norm of the gradients is {total_norm.item()}, "
            "so they cannot be clipped; set error_if_nonfinite=False to clip anyway"
        )
    scale = torch.clamp(max_norm / (total_norm + 1e-6), max=1.0)
    for g in grads:
        g.mul_(scale.to(g.device))
    return total_norm


def clip_grad_value_(parameters: Parameters, clip_value: float) -> None:
    """Clamp every gradient entry in place to ``[-clip_value, clip_value]``.

    Args:
        parameters: a tensor or an iterable of tensors whose ``.grad`` to clip.
        clip_value: the largest absolute value allowed.
    """
    check_number("clip_value", clip_value, positive=True)
    for g in _grads(parameters):
        g.clamp_(min=-clip_value, max=clip_value)
