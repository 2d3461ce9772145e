"""Repository-wide pytest hooks.

CI builds the book before it runs the tests, and the build has already executed
every chapter in a fresh kernel with errors fatal. With REUSE_BOOK_BUILD=1 set
(as .ci/run does), a notebook whose executed copy in _build/jupyter_execute is
newer than the notebook and ran every code cell is not executed a second time
by nbval. Without the variable, `pytest` executes every notebook itself.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent
EXECUTED = ROOT / "_build" / "jupyter_execute"
_reused: list[str] = []


def executed_by_build(notebook: Path) -> bool:
    """True when the build executed ``notebook``'s current version fully."""
    try:
        relative = notebook.resolve().relative_to(ROOT)
    except ValueError:
        return False
    executed = EXECUTED / relative
    if not executed.is_file() or executed.stat().st_mtime < notebook.stat().st_mtime:
        return False
    cells = nbformat.read(executed, as_version=4).cells
    code = [cell for cell in cells if cell.cell_type == "code"]
    return bool(code) and all(
        cell.execution_count is not None
        and not any(out.get("output_type") == "error" for out in cell.outputs)
        for cell in code
    )


def pytest_ignore_collect(collection_path: Path, config):
    if os.environ.get("REUSE_BOOK_BUILD") != "1" or collection_path.suffix != ".ipynb":
        return None
    if executed_by_build(collection_path):
        _reused.append(collection_path.relative_to(ROOT).as_posix())
        return True
    return None


def pytest_terminal_summary(terminalreporter):
    if _reused:
        terminalreporter.write_line(
            f"{len(_reused)} notebooks not run again: the book build executed them "
            f"(REUSE_BOOK_BUILD=1): {', '.join(sorted(_reused))}"
        )
