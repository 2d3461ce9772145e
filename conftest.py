"""Repository-wide pytest hooks.

The book build executes every chapter and every exercise solution once, with
errors fatal, into an execution cache keyed by the notebook's code and by
everything else its outputs depend on (the library, the data, the pinned
environment: ``tools/execution_cache.py``). A notebook the build has executed
in that exact state is not executed a second time by nbval; any other (no
build yet, or something changed since) is. ``RERUN_NOTEBOOKS=1`` executes
them all regardless.
"""

from __future__ import annotations

import os
from pathlib import Path

from execution_cache import executed

ROOT = Path(__file__).resolve().parent
_reused: list[str] = []


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path.suffix != ".ipynb" or os.environ.get("RERUN_NOTEBOOKS") == "1":
        return None
    if executed(collection_path):
        _reused.append(collection_path.relative_to(ROOT).as_posix())
        return True
    return None


def pytest_terminal_summary(terminalreporter):
    if _reused:
        terminalreporter.write_line(
            f"{len(_reused)} notebooks not run again: the book build executed them "
            "with the code they have now (RERUN_NOTEBOOKS=1 runs them): "
            + ", ".join(sorted(_reused))
        )
