"""_ext/unique_scripts.py: each inline script written once per page."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml
from sphinx.builders.html._assets import _JavaScript

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import unique_scripts  # noqa: E402


def test_config_loads_the_extension():
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    assert sphinx["local_extensions"]["unique_scripts"] == "_ext"


def test_repeated_inline_scripts_are_written_once():
    thebe = "const THEBE_JS_URL = 'x'"
    scripts = [
        _JavaScript("_static/doctools.js", priority=200),
        _JavaScript(None, body=thebe, priority=500),
        _JavaScript("_static/sphinx-thebe.js", priority=500),
        _JavaScript("", body=thebe, priority=500),  # Sphinx 7.4's second copy
        _JavaScript("", body="let other = 1", priority=500),
    ]
    context = {"script_files": scripts}
    unique_scripts._drop_repeated_scripts(None, "page", "page.html", context, None)
    assert context["script_files"] is scripts  # edited in place
    assert [getattr(js, "filename", js) for js in scripts] == [
        "_static/doctools.js",
        None,
        "_static/sphinx-thebe.js",
        "",
    ]
    assert scripts[-1].attributes["body"] == "let other = 1"
