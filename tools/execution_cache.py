"""Where the book build keeps executed notebooks, and when they may be reused.

The book executes every chapter once (myst-nb's ``cache`` mode, backed by
jupyter-cache), and ``pytest`` reuses those runs instead of executing the
chapters again. jupyter-cache recognises a notebook by its code cells only,
so the cache lives in a folder named after a fingerprint of everything else
the outputs depend on: the library (every file under ``rnn_lib/``, the data
included), the pinned environment (``requirements.txt``, ``pyproject.toml``)
and the versions of Python and torch. Change any of them and the fingerprint,
hence the folder, changes: nothing computed before the change is served.

Used by ``_ext/execute_once.py`` (the build) and ``conftest.py`` (pytest).
"""

from __future__ import annotations

import hashlib
import platform
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ("requirements.txt", "pyproject.toml")


def fingerprint(root: Path = ROOT) -> str:
    """A short hash of what the chapters' outputs depend on besides their code."""
    import torch  # the environment's torch, as the kernels will import it

    digest = hashlib.sha256()
    digest.update(
        f"python {platform.python_version()} torch {torch.__version__}".encode()
    )
    files = sorted(p for p in (root / "rnn_lib").rglob("*") if p.is_file())
    files += [root / name for name in INPUTS]
    for path in files:
        if "__pycache__" in path.parts:
            continue
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_path(root: Path = ROOT) -> Path:
    """The jupyter-cache folder for the current fingerprint."""
    return root / "_build" / ".jupyter_cache" / fingerprint(root)


def remove_stale(current: Path) -> None:
    """Delete the caches of other fingerprints: their outputs can never be served."""
    if current.parent.is_dir():
        for folder in current.parent.iterdir():
            if folder.is_dir() and folder != current:
                shutil.rmtree(folder, ignore_errors=True)


def executed(notebook: Path, root: Path = ROOT) -> bool:
    """Whether the build executed this version of ``notebook`` with today's library."""
    path = cache_path(root)
    if not path.is_dir():
        return False
    from jupyter_cache import get_cache

    try:
        get_cache(path).match_cache_file(str(notebook))
    except KeyError:
        return False
    return True
