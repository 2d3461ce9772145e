"""``python -m rnn_lib.grading release``: the student notebooks from the solutions.

Each ``exercises/solutions/NN_name.ipynb`` becomes ``exercises/NN_name.ipynb``
(see :func:`rnn_lib.grading.notebooks.release_notebook`). The output depends
only on the solutions, so a test can regenerate the student notebooks and
compare them with the committed ones (``release --check``).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from rnn_lib.grading.notebooks import release_notebook


def solution_paths(solutions: Path) -> list[Path]:
    """The solution notebooks, sorted by name."""
    paths = sorted(solutions.glob("[0-9]*.ipynb"))
    if not paths:
        raise FileNotFoundError(f"no solution notebooks (NN_name.ipynb) in {solutions}")
    return paths


def released(solutions: Path) -> dict[str, str]:
    """Each student notebook's file name and its text, as ``release`` writes it."""
    texts = {}
    for path in solution_paths(solutions):
        student = release_notebook(nbformat.read(path, as_version=4), path.stem)
        texts[path.name] = nbformat.writes(student) + "\n"
    return texts


def release(solutions: Path, out: Path) -> list[Path]:
    """Write the student notebooks into ``out``; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in released(solutions).items():
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale(solutions: Path, out: Path) -> list[str]:
    """The student notebooks in ``out`` that differ from what ``release`` writes."""
    differing = []
    for name, text in released(solutions).items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            differing.append(name)
    return differing
