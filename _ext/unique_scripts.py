"""Write each inline script once per page.

Sphinx 7.4 lists an inline script that an extension adds after the builder
started (``app.add_js_file(None, body=...)``, as sphinx-thebe and
sphinx-togglebutton do) twice: once as added and once more, re-read from the
registry with the file name ``''`` instead of ``None``, in
``StandaloneHTMLBuilder.prepare_writing``. The second copy of sphinx-thebe's
``const THEBE_JS_URL = ...`` is a redeclaration, so every page logs
"SyntaxError: Identifier 'THEBE_JS_URL' has already been declared".
This extension drops the second copy of every script just before the page is
written. ``tests/browser/test_built_book.py`` fails on any console error.
"""

from __future__ import annotations

from typing import Any

from sphinx.application import Sphinx


def _drop_repeated_scripts(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree
) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen = set()
    unique = []
    for script in scripts:
        # A script is a str or a sphinx.builders.html._assets._JavaScript.
        filename = getattr(script, "filename", script) or ""
        attributes = getattr(script, "attributes", {})
        key = (filename, tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # The builder restores its own list after each page, so editing in place
    # changes this page only.
    scripts[:] = unique


def setup(app: Sphinx) -> dict:
    # Late, after every extension has added its per-page scripts.
    app.connect("html-page-context", _drop_repeated_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
