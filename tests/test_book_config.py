"""The book's repository settings agree with the notebooks' setup cell.

A notebook opened on Colab installs ``rnn_lib`` from the repository that
``_config.yml`` names, and the Colab button of its page opens it from that same
repository, branch and path. These tests keep the three in step; the browser
test (tests/browser/) checks the buttons on the built pages.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from notebook_rules import setup_cell_source, toc_files  # noqa: E402

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
NOTEBOOKS = [
    ROOT / f"{entry}.ipynb"
    for entry in toc_files(ROOT)
    if (ROOT / f"{entry}.ipynb").is_file()
]


def _repository() -> tuple[str, str]:
    """(owner, name) from _config.yml's repository URL."""
    url = CONFIG["repository"]["url"]
    parts = urlsplit(url)
    owner_name = parts.path.strip("/").removesuffix(".git").split("/")
    assert parts.scheme == "https" and parts.netloc == "github.com", (
        f"Colab opens notebooks from GitHub only; repository.url is {url!r}"
    )
    assert len(owner_name) == 2, f"expected https://github.com/OWNER/NAME, got {url!r}"
    return owner_name[0], owner_name[1]


def test_repository_settings_are_complete():
    repository = CONFIG["repository"]
    _repository()
    assert repository.get("branch"), "repository.branch is needed for launch links"
    # The repository root is the book root, so page paths are repository paths.
    assert (repository.get("path_to_book") or "") == ""


def test_launch_buttons_open_colab():
    launch = CONFIG["launch_buttons"]
    assert (
        launch.get("colab_url", "").rstrip("/") == "https://colab.research.google.com"
    )


def test_package_homepage_is_the_repository():
    # (a regular expression, not tomllib: the package supports Python 3.9)
    pyproject = (ROOT / "pyproject.toml").read_text()
    homepage = re.search(r'^Homepage\s*=\s*"([^"]+)"', pyproject, re.MULTILINE)
    assert homepage, "pyproject.toml has no [project.urls] Homepage"
    assert homepage.group(1).rstrip("/") == CONFIG["repository"]["url"].rstrip("/")


def test_setup_cell_installs_from_the_configured_repository():
    owner, name = _repository()
    source = setup_cell_source(ROOT)
    assert f'"git+https://github.com/{owner}/{name}.git"' in source
    assert "rnn_lib.setup_notebook(" in source


@pytest.mark.parametrize(
    "notebook", NOTEBOOKS, ids=[nb.relative_to(ROOT).as_posix() for nb in NOTEBOOKS]
)
def test_notebook_setup_cell_matches_config(notebook):
    nb = nbformat.read(notebook, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code, f"{notebook.name} has no code cell"
    installs = re.findall(r"git\+https://[^\"']+", code[0].source)
    expected = f"git+{CONFIG['repository']['url'].rstrip('/')}.git"
    assert installs == [expected], (
        f"{notebook.name}: the setup cell installs from {installs}, _config.yml "
        f"says {expected}; run tools/notebook_rules.py --fix {notebook.name}"
    )
