"""_ext/offline_assets.py: MathJax, require.js and the widget manager from _static.

These check the parts that need no build; tests/browser/ checks the built book.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from sphinx.errors import ExtensionError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import offline_assets  # noqa: E402

PACKAGE = json.loads((ROOT / "package.json").read_text())
LOCK = json.loads((ROOT / "package-lock.json").read_text())


def test_config_loads_the_extensions():
    sphinx = yaml.safe_load((ROOT / "_config.yml").read_text())["sphinx"]
    assert "sphinx-mathjax-offline" in sphinx["extra_extensions"]
    assert sphinx["local_extensions"]["offline_assets"] == "_ext"


def test_widget_scripts_are_local_and_in_order():
    config = SimpleNamespace(nb_ipywidgets_js={"https://cdn.example/x.js": {}})
    offline_assets._use_local_widget_scripts(None, config)
    scripts = list(config.nb_ipywidgets_js)
    assert all("://" not in path for path in scripts), scripts
    # require.js first, then its configuration, then the AMD widget manager.
    assert [Path(path).name for path in scripts] == [
        "require.js",
        "widget-manager-setup.js",
        "embed-amd.js",
    ]


def test_every_served_file_comes_from_a_pinned_package():
    dependencies = PACKAGE["dependencies"]
    for source in offline_assets.FROM_NPM.values():
        parts = source.split("/")
        name = "/".join(parts[:2]) if source.startswith("@") else parts[0]
        assert name in dependencies, f"{name} (for {source}) is not in package.json"
        assert re.fullmatch(r"\d+\.\d+\.\d+", dependencies[name]), (
            f"pin {name} to one version, got {dependencies[name]!r}"
        )
        locked = LOCK["packages"][f"node_modules/{name}"]["version"]
        assert locked == dependencies[name], "package-lock.json is out of date"


def test_widget_manager_matches_ipywidgets():
    # html-manager 1.x renders the state that ipywidgets 8 stores; 0.x is for 7.
    requirements = (ROOT / "requirements.txt").read_text()
    ipywidgets = re.search(r"^ipywidgets==(\d+)\.", requirements, re.MULTILINE)
    manager = PACKAGE["dependencies"]["@jupyter-widgets/html-manager"]
    expected_major = {"8": "1", "7": "0"}[ipywidgets.group(1)]
    assert manager.split(".")[0] == expected_major


def _fake_node_modules(root: Path, versions: dict[str, str]) -> None:
    (root / "package.json").write_text(
        json.dumps({"dependencies": {"a": "1.0.0", "@s/b": "2.0.0"}})
    )
    for name, version in versions.items():
        folder = root / "node_modules" / name
        folder.mkdir(parents=True)
        (folder / "package.json").write_text(json.dumps({"version": version}))


def test_stale_packages_finds_missing_and_other_versions(tmp_path):
    _fake_node_modules(tmp_path, {"a": "0.9.0"})
    assert offline_assets._stale_packages(tmp_path) == ["a@1.0.0", "@s/b@2.0.0"]


def test_stale_packages_is_empty_when_installed_as_pinned(tmp_path):
    _fake_node_modules(tmp_path, {"a": "1.0.0", "@s/b": "2.0.0"})
    assert offline_assets._stale_packages(tmp_path) == []


def test_missing_npm_is_a_clear_error(tmp_path, monkeypatch):
    _fake_node_modules(tmp_path, {})
    monkeypatch.setattr(offline_assets.shutil, "which", lambda name: None)
    with pytest.raises(
        ExtensionError, match=r"install Node.js \(npm\) or run `npm ci`"
    ):
        offline_assets._install_npm_packages(tmp_path)
