"""Results of runs too long for a chapter's budget, with where they came from.

A chapter executes in at most 90 s. A measurement that needs longer (many
seeds, long training) is made by a committed script under ``tools/``, which
writes its numbers to ``book/results/NAME.json`` with :func:`save`; the
chapter reads them with :func:`load`, glues them, and prints
:func:`provenance`: the command, the code version, the machine and the date.

Read next: the scripts that use it, ``tools/*_experiments.py``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import torch

from rnn_lib.validation import check_choice

RESULTS = Path(__file__).resolve().parents[1] / "book" / "results"


def _commit() -> str:
    """The git commit the script ran at (with '+changes' if the tree was dirty)."""
    try:
        root = Path(__file__).resolve().parents[1]
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")  # fmt: skip


#: The commit when the script started (its code), not when it finished.
_STARTED_AT = None


def started() -> None:
    """Note the code version now; a script calls it before it measures."""
    global _STARTED_AT
    _STARTED_AT = _commit()


def machine() -> str:
    """The machine in a few words: CPU model, cores, torch threads, GPU if any."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    text = f"{cpu}, {os.cpu_count()} cores, {torch.get_num_threads()} torch threads"
    if torch.cuda.is_available():
        text += f", {torch.cuda.get_device_name()}"
    return text


def save(name: str, data: dict, *, directory: Path = RESULTS) -> Path:
    """Write ``data`` and its provenance to ``directory / f"{name}.json"``."""
    record = {
        "provenance": {
            "command": " ".join(["python", *sys.argv]),
            "commit": _STARTED_AT or _commit(),
            "machine": machine(),
            "torch": torch.__version__,
            "python": platform.python_version(),
            "date": datetime.date.today().isoformat(),
        },
        "data": data,
    }
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path


def load(name: str, *, directory: Path = RESULTS) -> tuple[dict, dict]:
    """The ``data`` and the ``provenance`` that :func:`save` wrote."""
    path = directory / f"{name}.json"
    if not path.is_file():
        available = sorted(p.stem for p in directory.glob("*.json"))
        check_choice("name", name, available or ["(none)"])
    record = json.loads(path.read_text())
    return record["data"], record["provenance"]


def save_tensors(name: str, tensors: dict, *, directory: Path = RESULTS) -> Path:
    """Write trained weights (a dict of state dicts) to ``directory / f"{name}.pt"``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.pt"
    torch.save(tensors, path)
    return path


def load_tensors(name: str, *, directory: Path = RESULTS) -> dict:
    """What :func:`save_tensors` wrote, read with ``weights_only=True`` (no code runs)."""
    return torch.load(directory / f"{name}.pt", weights_only=True)


def provenance(record: dict) -> str:
    """One sentence a chapter prints under the numbers it read."""
    return (
        f"Computed by `{record['command']}` at commit {record['commit']} on "
        f"{record['date']}: {record['machine']}, torch {record['torch']}, "
        f"Python {record['python']}."
    )
