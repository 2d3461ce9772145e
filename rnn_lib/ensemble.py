"""Several seeds trained at once: S small models as one block-diagonal model.

A comparison of models needs several seeds, and at the sizes the chapters
train (H = 32, long sequences) a recurrent layer's time goes to per-step
overhead, not arithmetic. So chapters 6 and 8 train S independently
initialised models as one model S times as wide, whose weights are block
diagonal: member s owns hidden units ``[s H, (s + 1) H)`` of every gate block,
reads its own slice ``[s H_in, (s + 1) H_in)`` of the input, and no weight
connects two members. The S members stay exactly independent models when

* the off-block weights are zero and stay zero (:func:`stack` zeroes them and
  masks their gradients, so SGD and Adam, which update entry by entry, never
  move them);
* the loss is the *sum* of the members' losses, so that each member's
  gradient is its own loss's gradient;
* gradient clipping is per member (:func:`clip_grad_norm_per_member`): a
  global norm over all members would couple them.

``tests/test_ensemble.py`` checks that S members trained together for several
Adam steps with clipping equal S models trained one by one, to float64
rounding. :func:`unstack` gives the members back as ordinary modules.

Works for ``torch.nn`` and ``rnn_lib`` modules with torch's parameter names:
one-layer, one-direction ``RNN``, ``LSTM`` (no projection) and ``GRU``, and
``nn.Linear``.

Read next: :mod:`rnn_lib.diagnostics`.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from rnn_lib.validation import check_nonempty, check_number

Tensor = torch.Tensor


def _gates(module: nn.Module) -> int:
    """How many gate blocks the module's weights stack (1 for RNN and Linear)."""
    if isinstance(module, nn.Linear):
        return 1
    return module.weight_ih_l0.shape[0] // module.hidden_size


def _check_members(members: Sequence[nn.Module]) -> None:
    check_nonempty("members", members)
    first = members[0]
    for member in members:
        if type(member) is not type(first):
            raise TypeError(
                f"expected members of one type, got {type(first).__name__} and "
                f"{type(member).__name__}"
            )
        if [p.shape for p in member.parameters()] != [
            p.shape for p in first.parameters()
        ]:
            raise ValueError("expected members with the same parameter shapes")
    if not isinstance(first, nn.Linear):
        for name in ("num_layers", "bidirectional", "proj_size"):
            value = getattr(first, name, None)
            if value not in (None, 1, False, 0):
                raise ValueError(
                    f"expected one-layer, one-direction members without a "
                    f"projection, got {name}={value}"
                )


def _blocks(name: str, shape: tuple, gates: int, S: int, s: int) -> tuple:
    """The index of member s's block in the wide parameter ``name`` of ``shape``."""
    rows = shape[0] // (gates * S)  # the member's rows per gate block
    row_index = torch.cat(
        [
            torch.arange(g * S * rows + s * rows, g * S * rows + (s + 1) * rows)
            for g in range(gates)
        ]
    )
    if len(shape) == 1:
        return (row_index,)
    cols = shape[1] // S
    return (row_index[:, None], torch.arange(s * cols, (s + 1) * cols)[None, :])


def stack(members: Sequence[nn.Module]) -> nn.Module:
    """One module that computes all ``members`` side by side.

    Inputs and outputs are the members' concatenated along the last
    dimension: member s reads ``input[..., s * H_in:(s + 1) * H_in]`` and its
    state and output are ``[..., s * H:(s + 1) * H]``.

    Args:
        members: S modules of one type and shape (see the module docstring).

    Returns:
        the wide module, on the members' device and dtype, whose parameters
        carry an attribute ``member_index``: for each entry, the member that
        owns it, or -1 for the zeroed entries between members.
    """
    _check_members(members)
    S, first = len(members), members[0]
    gates = _gates(first)
    wide = copy.deepcopy(first)
    if isinstance(first, nn.Linear):
        wide.in_features, wide.out_features = (
            S * first.in_features,
            S * first.out_features,
        )
    else:
        wide.input_size, wide.hidden_size = S * first.input_size, S * first.hidden_size
    for name, param in list(first.named_parameters()):
        shape = (S * param.shape[0],) + tuple(S * n for n in param.shape[1:])
        value = param.new_zeros(shape)
        owner = torch.full(shape, -1, dtype=torch.long, device=param.device)
        for s, member in enumerate(members):
            index = _blocks(name, shape, gates, S, s)
            value[index] = dict(member.named_parameters())[name].detach()
            owner[index] = s
        new = nn.Parameter(value)
        new.member_index = owner
        mask = (owner >= 0).to(value.dtype)
        new.register_hook(lambda grad, mask=mask: grad * mask)
        setattr(wide, name, new)
    if hasattr(wide, "_flat_weights_names"):  # torch.nn's RNNs cache their weights
        wide._init_flat_weights()
    return wide


def unstack(wide: nn.Module, template: nn.Module, S: int) -> list[nn.Module]:
    """The S members of ``wide`` (made by :func:`stack`), as copies of ``template``."""
    gates = _gates(template)
    members = []
    for s in range(S):
        member = copy.deepcopy(template)
        with torch.no_grad():
            for name, param in member.named_parameters():
                full = getattr(wide, name)
                param.copy_(full[_blocks(name, full.shape, gates, S, s)])
        members.append(member)
    return members


def clip_grad_norm_per_member(
    modules: Sequence[nn.Module], S: int, max_norm: float
) -> Tensor:
    """Clip each member's gradient to 2-norm ``max_norm``, as it would be alone.

    Each member's norm is taken over its entries of every parameter of
    ``modules`` (wide modules from :func:`stack`), and its entries are
    multiplied by ``min(1, max_norm / (norm + 1e-6))``, the rule of
    :func:`rnn_lib.clipping.clip_grad_norm_` (and torch's).

    Returns:
        the members' norms before clipping, (S,).
    """
    check_number("max_norm", max_norm, positive=True)
    params = [p for m in modules for p in m.parameters() if p.grad is not None]
    if not params:
        raise ValueError("expected parameters with gradients, got none")
    squares = params[0].grad.new_zeros(S + 1)  # slot S collects the off-block zeros
    for p in params:
        owner = p.member_index.flatten() % (S + 1)  # -1 -> S
        squares.index_add_(0, owner, p.grad.flatten().square())
    norms = squares[:S].sqrt()
    scale = torch.clamp(max_norm / (norms + 1e-6), max=1.0)
    scale = torch.cat([scale, scale.new_ones(1)])
    for p in params:
        p.grad.mul_(scale[p.member_index % (S + 1)])
    return norms
