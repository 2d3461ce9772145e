"""Execute each notebook once per version of its code and of the library.

Points myst-nb's execution cache at the folder of the current fingerprint
(``tools/execution_cache.py``: the library, the data and the pinned
environment), so that a rebuild, the Chinese edition and ``pytest`` reuse a
chapter's outputs exactly when nothing they depend on has changed. At the end
of the build it prints each notebook's execution time, and whether it ran now
or came from the cache, so that a slow chapter shows in CI's log.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.util import logging

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
import execution_cache  # noqa: E402

LOGGER = logging.getLogger(__name__)
BUILD_STARTED = time.time()


def _point_cache(app: Sphinx, config) -> None:
    path = execution_cache.cache_path(Path(app.srcdir))
    execution_cache.remove_stale(path)
    config.nb_execution_mode = "cache"
    config.nb_execution_cache_path = str(path)


def _report_times(app: Sphinx, exception) -> None:
    if exception is not None:
        return
    from myst_nb.sphinx_ import NbMetadataCollector

    rows = []
    for docname, data in sorted(NbMetadataCollector.get_doc_data(app.env).items()):
        result = data.get("exec_data")
        if result:
            # In cache mode both kinds say method "cache"; a run of this build is newer.
            how = "executed" if result["mtime"] >= BUILD_STARTED else "cached"
            runtime = result["runtime"]
            seconds = "      ?" if runtime is None else f"{runtime:7.1f}"
            rows.append(f"  {seconds} s  {how:8}  {docname}")
    if rows:
        LOGGER.info("notebook execution times (seconds in a fresh kernel):")
        for row in rows:
            LOGGER.info(row)


def setup(app: Sphinx) -> dict:
    # The kernels inherit it: rnn_lib.glue leaves glued figures to the book's
    # {glue:figure} directives instead of also showing them in the cell.
    os.environ["RNN_LIB_BOOK_BUILD"] = "1"
    app.connect("config-inited", _point_cache)
    app.connect("build-finished", _report_times)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
