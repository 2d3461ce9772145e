"""Plain data: the only form in which values cross between a kernel and the grader.

Built for the batch grader (the book's Exercises part). The student's kernel
runs the student's functions; the grader's own process holds the references
and decides. What crosses between the two is *plain*: tensors, Python
numbers, strings and None, in lists and dicts (:func:`encode`). It is written
with ``torch.save`` and read with ``torch.load(weights_only=True)``
(:func:`load`), which rebuilds tensors and Python values and never runs code
that the file names; the file is refused first if it is too large or
compressed (a zip bomb). :func:`decode` then checks every entry and rebuilds
the value: a tensor comes back as exactly a ``torch.Tensor`` on the CPU
(never a subclass), still requiring grad if the student's did, and anything
that is not plain (a tensor subclass, a tensor on another device, a numpy
array, a function) comes back as an :class:`Opaque` that only says what it
was. No object of the student's crosses, so none of its methods can run in
the grader.

The same round trip runs in memory when a check runs inside a notebook
(:func:`roundtrip`), so that a check judges exactly the same values there and
in the batch grader. Read next: :mod:`rnn_lib.grading.cases`.
"""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path
from typing import Any

import torch

# An answers file larger than this is refused unread (the checks' outputs are tiny).
MAX_BYTES = 64 * 2**20
MAX_DEPTH = 32  # nesting beyond this is not a plausible answer
MAX_TEXT = 2_000  # characters kept of a string (error messages go into feedback)

_SCALARS = (type(None), bool, int, float, str)


@dataclasses.dataclass(frozen=True)
class Opaque:
    """A value that was not plain data, known only by what it was.

    Attributes:
        what: e.g. ``'a MyTensor'``, ``'a tensor on cuda:0'``, ``'a function'``.
    """

    what: str

    def __repr__(self) -> str:
        return f"<{self.what}>"


def encode(value: Any, depth: int = 0) -> Any:
    """``value`` as plain data (see the module docstring for the forms)."""
    kind = type(value)
    if kind in _SCALARS:
        return value[:MAX_TEXT] if kind is str else value
    if depth >= MAX_DEPTH:
        return {"opaque": "a structure nested too deep"}
    if kind is torch.Tensor and value.layout == torch.strided:
        data = value.detach().to("cpu", copy=True).contiguous()
        data = data.resolve_conj().resolve_neg()
        return {
            "tensor": data,
            "requires_grad": bool(value.requires_grad),
            "device": str(value.device),
        }
    if kind is torch.Size:
        return {"size": [int(n) for n in value]}
    if kind is Opaque:  # decoded once already: it stays what it was
        return {"opaque": value.what}
    if kind in (tuple, list):
        return {kind.__name__: [encode(item, depth + 1) for item in value]}
    if kind is dict and all(type(key) is str for key in value):
        return {"dict": [[key, encode(item, depth + 1)] for key, item in value.items()]}
    return {"opaque": f"a {kind.__name__}"}


def _fail(why: str) -> None:
    raise ValueError(f"malformed plain data: {why}")


def decode(data: Any, depth: int = 0) -> Any:
    """Rebuild a value from :func:`encode`'s form, checking every entry.

    Raises:
        ValueError: if ``data`` is not exactly that form.
    """
    kind = type(data)
    if kind in _SCALARS:
        return data[:MAX_TEXT] if kind is str else data
    if depth > MAX_DEPTH:  # encode stops at MAX_DEPTH with an opaque entry
        _fail("nested too deep")
    if kind is not dict or len(data) == 0:
        _fail(f"unexpected {kind.__name__}")
    tag = next(iter(data))
    if tag == "tensor":
        return _decode_tensor(data)
    if len(data) != 1:
        _fail(f"unexpected keys {sorted(data)}")
    body = data[tag]
    if tag == "opaque" and type(body) is str:
        return Opaque(body[:100])
    if tag == "size" and type(body) is list and all(type(n) is int for n in body):
        return torch.Size(body)
    if tag in ("tuple", "list") and type(body) is list:
        items = [decode(item, depth + 1) for item in body]
        return tuple(items) if tag == "tuple" else items
    if tag == "dict" and type(body) is list:
        pairs = {}
        for pair in body:
            if type(pair) is not list or len(pair) != 2 or type(pair[0]) is not str:
                _fail("a dict entry that is not [key, value]")
            pairs[pair[0]] = decode(pair[1], depth + 1)
        return pairs
    _fail(f"unknown tag {tag!r}")


def _decode_tensor(data: dict) -> torch.Tensor:
    if set(data) != {"tensor", "requires_grad", "device"}:
        _fail(f"tensor entry with keys {sorted(data)}")
    tensor, requires_grad, device = (
        data["tensor"],
        data["requires_grad"],
        data["device"],
    )
    if type(tensor) is not torch.Tensor or tensor.layout != torch.strided:
        _fail(f"a tensor entry holding a {type(tensor).__name__}")
    if type(requires_grad) is not bool or type(device) is not str:
        _fail("a tensor entry without its requires_grad and device")
    if device != "cpu":
        return Opaque(f"a tensor on {device[:40]}")
    plain = tensor.detach().clone()  # a storage of its own
    if requires_grad and plain.is_floating_point():
        plain.requires_grad_(True)  # it still held a graph: a check may refuse that
    return plain


def roundtrip(value: Any) -> Any:
    """``decode(encode(value))``: what the grader would see of ``value``."""
    return decode(encode(value))


def save(value: Any, path: Path) -> None:
    """Write ``value``, already plain (see :func:`encode`), to ``path``."""
    torch.save(value, path)


def load(path: Path) -> Any:
    """Read what :func:`save` wrote, without running code the file names.

    Raises:
        ValueError: if the file is too large, compressed, or not such a file.
    """
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise ValueError(f"{path.name} has {size} bytes, more than {MAX_BYTES}")
    raw = path.read_bytes()
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            entries = archive.infolist()
    except zipfile.BadZipFile as error:
        raise ValueError(f"{path.name} is not a torch.save file: {error}") from None
    if any(entry.compress_type != zipfile.ZIP_STORED for entry in entries):
        raise ValueError(f"{path.name} holds compressed entries")
    if sum(entry.file_size for entry in entries) > MAX_BYTES:
        raise ValueError(f"{path.name} unpacks to more than {MAX_BYTES} bytes")
    try:
        return torch.load(io.BytesIO(raw), weights_only=True, map_location="cpu")
    except Exception as error:  # a file the student's code wrote: anything can be wrong
        raise ValueError(
            f"{path.name} could not be read as plain data: {type(error).__name__}"
        ) from None
