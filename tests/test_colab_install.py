"""Chapter 1 runs where only what Colab ships is installed.

A fresh venv gets torch, matplotlib, ipywidgets 7 and ipykernel, and nothing
of this project. Its kernel executes chapter 1, whose setup cell finds no
rnn_lib and installs it from RNN_LIB_SOURCE, here a copy of this checkout.
The test also checks that installing rnn_lib kept the venv's torch and
ipywidgets, as it must on Colab.
"""

import json
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbclient import NotebookClient

import notebook_rules

ROOT = notebook_rules.ROOT
CHAPTER = ROOT / "book" / "01_why_sequence_models.ipynb"
COLAB_PACKAGES = ["torch==2.13.0", "matplotlib", "ipywidgets<8", "ipykernel"]


def installed_versions(python) -> dict:
    listing = subprocess.run(
        [python, "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {item["name"].lower(): item["version"] for item in json.loads(listing)}


@pytest.mark.slow
def test_chapter_1_runs_in_a_colab_like_venv(tmp_path, monkeypatch):
    venv = tmp_path / "colab"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", *COLAB_PACKAGES], check=True, timeout=900
    )
    before = installed_versions(python)
    assert "rnn-lib" not in before

    # The setup cell installs from here: a copy of the checkout's package.
    source = tmp_path / "checkout"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "rnn_lib",
        source / "rnn_lib",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    monkeypatch.setenv("RNN_LIB_SOURCE", str(source))

    kernels = tmp_path / "jupyter" / "kernels" / "colab"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "Colab-like",
                "language": "python",
            }
        )
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))

    nb = nbformat.read(CHAPTER, as_version=4)
    client = NotebookClient(
        nb,
        timeout=600,
        kernel_name="colab",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    client.execute()  # raises CellExecutionError if any cell fails

    after = installed_versions(python)
    assert after["rnn-lib"] == "0.1.0"
    assert after["torch"] == before["torch"], "installing rnn_lib replaced torch"
    assert after["ipywidgets"] == before["ipywidgets"], (
        "installing rnn_lib replaced ipywidgets"
    )
    setup_output = "".join(out.get("text", "") for out in nb.cells[1].outputs)
    assert "device cpu" in setup_output or "device cuda" in setup_output
