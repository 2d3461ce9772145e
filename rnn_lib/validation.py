"""Argument checks, written once for the whole library.

Every public function and module of :mod:`rnn_lib` checks its arguments before
it computes anything, with one rule:

* ``TypeError`` when an argument has the wrong Python type (``hidden_size=2.0``,
  ``bias="yes"``) or a tensor has the wrong dtype;
* ``ValueError`` when the type is right but the value, shape or device is wrong
  (``num_layers=0``, ``nonlinearity='sigmoid'``, ``h_0`` of the wrong shape).

Each message names the argument, what was expected and what came, for example
``num_layers must be >= 1, got 0`` or ``nonlinearity must be 'tanh' or
'relu', got 'sigmoid'``; the tests pin them with ``pytest.raises(match=...)``.

Used by every other module; read next: :mod:`rnn_lib.functional`, the
recurrence itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch


def type_name(value) -> str:
    """How a message names the type of ``value``: ``float``, ``NoneType``."""
    return type(value).__name__


def one_of(choices: Sequence) -> str:
    """``'a', 'b' or 'c'``: the choices as a message lists them."""
    quoted = [repr(choice) for choice in choices]
    return (
        quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    )


def check_int(name: str, value, minimum: int | None = 1) -> int:
    """``value`` must be an int (not a bool) and, unless None, >= ``minimum``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type_name(value)}")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def check_bool(name: str, value) -> bool:
    """``value`` must be a bool."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be a bool, got {type_name(value)}")
    return value


def check_number(
    name: str,
    value,
    *,
    positive: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """``value`` must be a real number (int or float, not a bool), finite.

    Args:
        positive: it must also be > 0.
        minimum, maximum: it must also lie in ``[minimum, maximum]``.

    Returns:
        ``value`` as a float.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise TypeError(f"{name} must be a number, got {type_name(value)}")
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    if positive and not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")
    low = -math.inf if minimum is None else minimum
    high = math.inf if maximum is None else maximum
    if not low <= value <= high:
        if minimum is not None and maximum is not None:
            wanted = f"in [{minimum}, {maximum}]"
        else:
            wanted = f">= {minimum}" if minimum is not None else f"<= {maximum}"
        raise ValueError(f"{name} must be {wanted}, got {value}")
    return float(value)


def check_choice(name: str, value, choices: Sequence[str]) -> str:
    """``value`` must be a str and one of ``choices``."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type_name(value)}")
    if value not in choices:
        raise ValueError(f"{name} must be {one_of(choices)}, got {value!r}")
    return value


def check_tensor(name: str, value) -> torch.Tensor:
    """``value`` must be a ``torch.Tensor``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type_name(value)}")
    return value


def check_like(name: str, tensor: torch.Tensor, weight: torch.Tensor) -> None:
    """``tensor`` must have the dtype of ``weight`` and live on its device."""
    if tensor.dtype != weight.dtype:
        raise TypeError(
            f"expected {name} of dtype {weight.dtype} (the weights' dtype), "
            f"got {tensor.dtype}"
        )
    if tensor.device != weight.device:
        raise ValueError(
            f"expected {name} on device {weight.device} (the weights' device), "
            f"got {tensor.device}"
        )


def check_shape(name: str, tensor: torch.Tensor, shape: tuple) -> None:
    """``tensor`` must have exactly ``shape``."""
    if tuple(tensor.shape) != tuple(shape):
        raise ValueError(
            f"expected {name} of shape {tuple(shape)}, got {tuple(tensor.shape)}"
        )


def check_nonempty(name: str, items) -> None:
    """A collection (a dict of curves, a list of panels) must hold something."""
    if len(items) == 0:
        raise ValueError(f"{name} must hold at least one item, got none")
