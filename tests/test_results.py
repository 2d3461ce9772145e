"""Tests for rnn_lib.results: numbers saved with their provenance, read back."""

import pytest

from rnn_lib import results


def test_save_then_load(tmp_path):
    path = results.save("demo", {"loss": [1.5, 1.25]}, directory=tmp_path)
    assert path == tmp_path / "demo.json"
    data, record = results.load("demo", directory=tmp_path)
    assert data == {"loss": [1.5, 1.25]}
    assert set(record) == {"command", "commit", "machine", "torch", "python", "date"}
    assert record["command"].startswith("python")
    sentence = results.provenance(record)
    assert record["commit"] in sentence and record["date"] in sentence


def test_missing_results_name_the_ones_there(tmp_path):
    results.save("adding", {}, directory=tmp_path)
    with pytest.raises(ValueError, match=r"name must be 'adding', got 'addding'"):
        results.load("addding", directory=tmp_path)


def test_tensors_round_trip(tmp_path):
    import torch

    weights = {"RNN": [{"weight": torch.arange(3.0)}]}
    results.save_tensors("models", weights, directory=tmp_path)
    loaded = results.load_tensors("models", directory=tmp_path)
    assert torch.equal(loaded["RNN"][0]["weight"], torch.arange(3.0))
