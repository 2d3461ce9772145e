"""Serve require.js and the Jupyter widget manager from the book's own _static.

A default Jupyter Book page loads three scripts from CDNs: MathJax, require.js
and ``@jupyter-widgets/html-manager``'s ``embed-amd.js`` (the last two only on
pages whose notebook stored widget state). Behind a firewall that blocks the
CDNs, the math stays raw ``$$`` and the widgets stay empty boxes. The book
serves all three itself:

* MathJax 3 comes from the PyPI package ``sphinx-mathjax-offline`` (an extra
  Sphinx extension in ``_config.yml``), which copies it into ``_static/mathjax``.
* require.js and ``embed-amd.js`` come from the npm packages pinned in
  ``package.json`` / ``package-lock.json``. This extension runs ``npm ci`` when
  ``node_modules`` is missing, points myst-nb's ``nb_ipywidgets_js`` at local
  copies (it overrides any ``nb_ipywidgets_js`` set in ``_config.yml``), and
  copies them, the widget manager's fonts and ``static/widget-manager-setup.js``
  (which tells require.js where they are and lets the widgets typeset with
  MathJax 3) into ``_static/offline`` after the build.

So the build command stays ``jupyter-book build .``; it needs ``npm`` (Node.js)
the first time. ``tests/browser/test_built_book.py`` opens the built book with
every request outside localhost blocked and checks that nothing is missing.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.errors import ExtensionError
from sphinx.util import logging
from sphinx.util.fileutil import copy_asset_file

logger = logging.getLogger(__name__)

# Where each served file comes from (under node_modules) and where it lands
# (under _static).
FROM_NPM = {
    "offline/require.js": "requirejs/require.js",
    "offline/embed-amd.js": "@jupyter-widgets/html-manager/dist/embed-amd.js",
}
# embed-amd.js loads its fonts from this folder under require.js's baseUrl,
# which static/widget-manager-setup.js sets to _static/offline/.
WIDGET_FONTS = "@jupyter-widgets/html-manager/dist"
FONT_SUFFIXES = {".woff", ".woff2", ".ttf", ".eot", ".svg"}
# The scripts a page with widget state loads, in this order.
WIDGET_SCRIPTS = [
    "offline/require.js",
    "offline/widget-manager-setup.js",
    "offline/embed-amd.js",
]
HERE = Path(__file__).resolve().parent


def _node_modules(root: Path) -> Path:
    """The folder next to package.json where npm installs the packages."""
    return root / "node_modules"


def _stale_packages(root: Path) -> list[str]:
    """The dependencies in ``root/package.json`` that node_modules lacks or
    holds at another version than the one pinned."""
    wanted = json.loads((root / "package.json").read_text())["dependencies"]
    stale = []
    for name, version in wanted.items():
        installed = _node_modules(root) / name / "package.json"
        if (
            not installed.is_file()
            or json.loads(installed.read_text())["version"] != version
        ):
            stale.append(f"{name}@{version}")
    return stale


def _install_npm_packages(root: Path) -> None:
    """Run ``npm ci`` in ``root`` when node_modules lacks a pinned package."""
    stale = _stale_packages(root)
    if not stale:
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ExtensionError(
            "offline_assets: the book serves require.js and the widget manager "
            f"from npm packages ({', '.join(stale)}) that are not installed; "
            "install Node.js (npm) or run `npm ci` in the repository root"
        )
    logger.info(f"offline_assets: installing {', '.join(stale)} (npm ci)")
    result = subprocess.run(
        [npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ExtensionError(f"offline_assets: `npm ci` failed:\n{result.stderr}")
    node_modules = _node_modules(root)
    missing = [s for s in FROM_NPM.values() if not (node_modules / s).is_file()]
    if missing:
        raise ExtensionError(
            f"offline_assets: `npm ci` did not install {missing}; "
            "check package.json against FROM_NPM in _ext/offline_assets.py"
        )


def _use_local_widget_scripts(app: Sphinx, config: Config) -> None:
    # A relative path in add_js_file is served from _static. No
    # data-jupyter-widgets-cdn attribute: the built-in widgets (controls,
    # output) are inside embed-amd.js, so nothing is fetched from a CDN.
    config.nb_ipywidgets_js = {path: {} for path in WIDGET_SCRIPTS}


def _copy_vendored_files(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    copies = {
        static / target: _node_modules(Path(app.confdir)) / source
        for target, source in FROM_NPM.items()
    }
    setup_script = "widget-manager-setup.js"
    copies[static / "offline" / setup_script] = HERE / "static" / setup_script
    fonts = _node_modules(Path(app.confdir)) / WIDGET_FONTS
    for font in fonts.iterdir():
        if font.suffix in FONT_SUFFIXES:
            copies[static / "offline" / WIDGET_FONTS / font.name] = font
    for target, source in copies.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        copy_asset_file(str(source), str(target))


def _on_builder_inited(app: Sphinx) -> None:
    if app.builder.format == "html":
        _install_npm_packages(Path(app.confdir))


def setup(app: Sphinx) -> dict:
    app.setup_extension("myst_nb")
    app.connect("config-inited", _use_local_widget_scripts)
    app.connect("builder-inited", _on_builder_inited)
    app.connect("build-finished", _copy_vendored_files)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
