"""The rules every notebook of the course follows, and a fixer for them.

A notebook under ``book/`` or ``exercises/`` is stored without outputs or
execution counts, has the ``python3`` kernelspec, starts its code with the
shared setup cell (:data:`SETUP_TEMPLATE`, tagged ``hide-input`` so that the
book shows it folded), and is listed in ``_toc.yml``.

    python tools/notebook_rules.py            # report problems, exit 1 if any
    python tools/notebook_rules.py --fix F..  # strip outputs, set kernelspec,
                                              # write the setup cell first
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("book", "exercises")
REPOSITORY_PLACEHOLDER = "{repository_url}"
SETUP_TAG = "hide-input"  # the book folds the setup cell away

# The first code cell of every notebook. ``{repository_url}`` is filled from
# _config.yml so that the URL lives in one place. RNN_LIB_SOURCE lets a test
# (or an instructor's mirror) install from elsewhere, e.g. a local checkout.
SETUP_TEMPLATE = """\
# Setup, the same in every notebook: import rnn_lib (installing it on Colab or
# a bare Jupyter), seed every generator, pick the device (CUDA, else CPU).
import os
import subprocess
import sys

try:
    import rnn_lib
except ImportError:
    source = os.environ.get(
        "RNN_LIB_SOURCE", "git+{repository_url}.git"
    )
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    import rnn_lib
device = rnn_lib.setup_notebook(seed=0)"""


def repository_url(root: Path = ROOT) -> str:
    """The repository URL from _config.yml, without a trailing slash."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def setup_cell_source(root: Path = ROOT) -> str:
    return SETUP_TEMPLATE.replace(REPOSITORY_PLACEHOLDER, repository_url(root))


def toc_files(root: Path = ROOT) -> list[str]:
    """Every ``file:`` entry of _toc.yml (root included), in order, no suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def page_files(root: Path = ROOT) -> list[Path]:
    """The pages on disk that belong in the book: notebooks and markdown."""
    pages = []
    for folder in NOTEBOOK_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if ".ipynb_checkpoints" in path.parts or path.suffix not in {
                ".ipynb",
                ".md",
            }:
                continue
            pages.append(path)
    return pages


def notebook_problems(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with one notebook, as readable sentences (empty if fine)."""
    name = path.relative_to(root).as_posix()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        return [f"{name}: not a readable notebook ({error})"]
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{name}: kernelspec must be 'python3', got {kernel!r}")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{name}: cell {index} carries stored outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"{name}: cell {index} carries an execution count")
    if not code:
        problems.append(f"{name}: has no code cell, so no setup cell")
    elif code[0].source.strip() != setup_cell_source(root):
        problems.append(f"{name}: the first code cell is not the shared setup cell")
    elif SETUP_TAG not in code[0].metadata.get("tags", []):
        problems.append(f"{name}: the setup cell lacks the {SETUP_TAG!r} tag")
    return problems


def toc_problems(root: Path = ROOT) -> list[str]:
    """Pages on disk missing from _toc.yml, and _toc.yml entries missing on disk."""
    listed = toc_files(root)
    problems = []
    for entry in listed:
        if not any(
            (root / f"{entry}{suffix}").exists() for suffix in (".ipynb", ".md")
        ):
            problems.append(
                f"_toc.yml lists {entry!r}, but no {entry}.ipynb or .md exists"
            )
    listed_set = set(listed)
    for page in page_files(root):
        entry = page.relative_to(root).with_suffix("").as_posix()
        if entry not in listed_set:
            problems.append(
                f"{page.relative_to(root).as_posix()} is not listed in _toc.yml"
            )
    if len(listed) != len(listed_set):
        duplicates = sorted({entry for entry in listed if listed.count(entry) > 1})
        problems.append(f"_toc.yml lists these more than once: {duplicates}")
    return problems


def all_problems(root: Path = ROOT) -> list[str]:
    problems = toc_problems(root)
    for page in page_files(root):
        if page.suffix == ".ipynb":
            problems.extend(notebook_problems(page, root))
    return problems


def fix_notebook(path: Path, root: Path = ROOT) -> None:
    """Strip outputs and counts, set the kernelspec, put the setup cell first."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata.setdefault("language_info", {"name": "python"})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    setup = setup_cell_source(root)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and _looks_like_setup(code[0].source):
        setup_cell = code[0]
        setup_cell.source = setup
    else:
        first_code = nb.cells.index(code[0]) if code else len(nb.cells)
        setup_cell = nbformat.v4.new_code_cell(setup)
        # Keep a leading title cell above the setup cell.
        nb.cells.insert(min(first_code, 1), setup_cell)
    tags = setup_cell.metadata.setdefault("tags", [])
    if SETUP_TAG not in tags:
        tags.append(SETUP_TAG)
    nbformat.write(nb, path)


def _looks_like_setup(source: str) -> bool:
    return bool(re.search(r"rnn_lib\.setup_notebook\(", source))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", nargs="+", type=Path, metavar="NOTEBOOK")
    args = parser.parse_args(argv)
    if args.fix:
        for path in args.fix:
            fix_notebook(path.resolve())
        return 0
    problems = all_problems()
    print("\n".join(problems) if problems else "all notebooks follow the rules")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
