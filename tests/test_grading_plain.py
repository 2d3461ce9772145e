"""rnn_lib.grading.plain: only plain data crosses from a kernel, and a file is read safely.

Tensors come back as exactly ``torch.Tensor`` on the CPU; anything else the
student's function returned comes back as an Opaque that names it; a file
that is too large, compressed, not torch's, or a pickle that would run code
is refused without running anything.
"""

import io
import pickle
import zipfile

import pytest
import torch

from rnn_lib.grading.cases import Outcome, Raised, as_plain, outcome_from_plain
from rnn_lib.grading.plain import (
    MAX_BYTES,
    Opaque,
    decode,
    encode,
    load,
    roundtrip,
    save,
)


class Sneaky(torch.Tensor):
    def __eq__(self, other):
        return True


def test_plain_values_survive_the_round_trip(tmp_path):
    value = {
        "x": (1, 2.5, None, "text", True, [torch.ones(2, dtype=torch.float64)]),
        "shape": torch.Size([2, 3]),
        "ids": torch.arange(3),
    }
    save(encode(value), tmp_path / "a.pt")
    back = decode(load(tmp_path / "a.pt"))
    assert back["x"][:5] == value["x"][:5]
    assert type(back["x"][5][0]) is torch.Tensor
    assert torch.equal(back["x"][5][0], value["x"][5][0])
    assert back["shape"] == torch.Size([2, 3]) and type(back["shape"]) is torch.Size
    assert back["ids"].dtype == torch.int64


@pytest.mark.parametrize(
    "value, what",
    [
        (torch.ones(2).as_subclass(Sneaky), "a Sneaky"),
        (torch.nn.Parameter(torch.ones(2)), "a Parameter"),
        (torch.ones(2).numpy(), "a ndarray"),
        (lambda: 1, "a function"),
        ({1: "a key that is not a str"}, "a dict"),
    ],
)
def test_anything_else_comes_back_as_what_it_was(value, what):
    assert roundtrip(value) == Opaque(what)
    assert roundtrip(Opaque(what)) == Opaque(what)  # decoded twice: the same


def test_a_tensor_keeps_whether_it_held_a_graph_and_its_device():
    w = torch.ones(2, requires_grad=True)
    back = roundtrip(w * 2)
    assert type(back) is torch.Tensor and back.requires_grad and back.grad_fn is None
    cuda = {"tensor": torch.ones(1), "requires_grad": False, "device": "cuda:0"}
    assert decode(cuda) == Opaque("a tensor on cuda:0")


@pytest.mark.parametrize(
    "data",
    [
        {"tensor": torch.ones(1), "requires_grad": False},  # a key missing
        {"tensor": [1.0], "requires_grad": False, "device": "cpu"},
        {"tuple": [1], "list": [2]},
        {"dict": [["a"]]},
        {"nonsense": 1},
        [1, 2],  # a list is always tagged
        {"opaque": 3},
    ],
)
def test_malformed_plain_data_is_refused(data):
    with pytest.raises(ValueError, match="malformed plain data"):
        decode(data)


def test_nesting_has_a_limit():
    deep: list = []
    for _ in range(100):
        deep = [deep]
    assert "nested too deep" in repr(roundtrip(deep))


def test_an_outcome_crosses_with_its_error_and_names():
    outcome = Outcome(
        torch.zeros(1), Raised("ValueError", "no"), ("x",), ("torch.nn.RNN",)
    )
    back = as_plain(outcome)
    assert (back.error, back.modified, back.forbidden) == (
        Raised("ValueError", "no"), ("x",), ("torch.nn.RNN",),
    )  # fmt: skip
    with pytest.raises(ValueError, match="malformed outcome"):
        outcome_from_plain(encode({"value": 1}))


class Payload:
    def __reduce__(self):
        import os

        return (os.system, ("touch /tmp/rnn-grade-never-this",))


def test_a_pickle_that_would_run_code_is_refused_unrun(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"cases": Payload()}, path)
    with pytest.raises(ValueError, match="could not be read as plain data"):
        load(path)
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError, match="not a torch.save file"):
        load(raw)


def test_large_or_compressed_files_are_refused(tmp_path):
    big = tmp_path / "big.pt"
    big.write_bytes(b"0" * (MAX_BYTES + 1))
    with pytest.raises(ValueError, match="more than"):
        load(big)
    buffer = io.BytesIO()
    torch.save(encode([1.0]), buffer)
    squeezed = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source:
        with zipfile.ZipFile(squeezed, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in source.infolist():
                target.writestr(entry.filename, source.read(entry))
    bomb = tmp_path / "bomb.pt"
    bomb.write_bytes(squeezed.getvalue())
    with pytest.raises(ValueError, match="compressed"):
        load(bomb)
