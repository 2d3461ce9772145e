"""What a layer with a hand-derived backward pass needs from autograd.

:mod:`rnn_lib.bptt` (chapter 5) and :mod:`rnn_lib.gated_bptt` (chapter 8)
write their layers as :class:`torch.autograd.Function` s with in-place loops.
Three situations need care, and are handled here once for both:

* autocast: the inputs are cast to the autocast dtype before the call
  (:func:`under_autocast`), and inside, autocast is off (:func:`autocast_off`)
  so that the in-place products keep that dtype;
* batched gradients (``torch.autograd.grad(..., is_grads_batched=True)``,
  which PyTorch's own tests use): the backward then runs under vmap, where an
  in-place update of an unbatched buffer by a batched gradient is impossible;
  :func:`is_batched` tells, and the layer replays its autograd reference;
* a double backward (``create_graph=True``): ``torch.is_grad_enabled()`` is
  True inside the backward, and the layer replays its reference too.

Read next: :mod:`rnn_lib.bptt`.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import torch

Tensor = torch.Tensor


def autocast_off(method):
    """Run a forward or backward ``method(ctx, tensor, ...)`` with autocast off."""

    @functools.wraps(method)
    def run(ctx, tensor, *rest):
        with torch.autocast(tensor.device.type, enabled=False):
            return method(ctx, tensor, *rest)

    return run


def under_autocast(x: Tensor, tensors: Sequence[Tensor | None]) -> list:
    """``tensors`` cast to the autocast dtype of ``x``'s device when autocast is on."""
    device_type = x.device.type
    # torch.get_autocast_dtype(device) exists from torch 2.4 on.
    if hasattr(torch, "get_autocast_dtype") and torch.is_autocast_enabled(device_type):
        dtype = torch.get_autocast_dtype(device_type)
        return [None if t is None else t.to(dtype) for t in tensors]
    return list(tensors)


def is_batched(*tensors: Tensor) -> bool:
    """Whether autograd runs this backward under vmap (``is_grads_batched``)."""
    # is_grads_batched runs the engine under the legacy vmap, torch.func.vmap
    # under the new one; either wraps the incoming gradients.
    functorch = torch._C._functorch
    checks = [
        getattr(functorch, name, None)
        for name in ("is_batchedtensor", "is_legacy_batchedtensor")
    ]
    return any(check(t) for check in checks if check is not None for t in tensors)


def replay_needed(*grads: Tensor) -> bool:
    """Whether the backward must replay the autograd reference (see the module doc)."""
    return torch.is_grad_enabled() or is_batched(*grads)
