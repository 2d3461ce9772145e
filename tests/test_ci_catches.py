"""The test suite fails on a broken course: feed it broken trees and watch.

Each case builds a small course in a temporary folder (the real _config.yml
and pytest configuration, one intro page, one chapter), breaks one thing, and
runs pytest on it in a subprocess, as CI would.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import notebook_rules

ROOT = notebook_rules.ROOT
CHAPTER = "book/01_chapter"


def make_course(tmp_path: Path, chapter_code: str = "print(sum(range(4)))") -> Path:
    """A minimal course that passes every check."""
    course = tmp_path / "course"
    (course / "book").mkdir(parents=True)
    (course / "tests").mkdir()
    shutil.copy(ROOT / "_config.yml", course / "_config.yml")
    shutil.copy(ROOT / "pyproject.toml", course / "pyproject.toml")
    shutil.copy(
        ROOT / "tests" / "nbval_sanitize.cfg", course / "tests" / "nbval_sanitize.cfg"
    )
    (course / "_toc.yml").write_text(
        f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {CHAPTER}\n"
    )
    (course / "book" / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell(notebook_rules.setup_cell_source(course)),
        nbformat.v4.new_code_cell(chapter_code),
    ]
    nbformat.write(nb, course / f"{CHAPTER}.ipynb")
    notebook_rules.fix_notebook(course / f"{CHAPTER}.ipynb", course)
    return course


def run_structure_tests(course: Path) -> subprocess.CompletedProcess:
    """Run tests/test_book_structure.py against ``course``."""
    env = {**os.environ, "COURSE_ROOT": str(course)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            str(ROOT / "tests" / "test_book_structure.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_notebook(course: Path) -> subprocess.CompletedProcess:
    """Run pytest on the course's chapter with the project's configuration."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"{CHAPTER}.ipynb"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_clean_course_passes(tmp_path):
    course = make_course(tmp_path)
    result = run_structure_tests(course)
    assert result.returncode == 0, result.stdout
    result = run_notebook(course)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_chapter_that_raises_fails(tmp_path):
    course = make_course(tmp_path, chapter_code="1 / 0")
    result = run_notebook(course)
    assert result.returncode == 1, result.stdout
    assert "ZeroDivisionError" in result.stdout


def test_a_notebook_with_outputs_fails(tmp_path):
    course = make_course(tmp_path)
    path = course / f"{CHAPTER}.ipynb"
    nb = json.loads(path.read_text())
    code_cell = nb["cells"][2]
    code_cell["execution_count"] = 1
    code_cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "6\n"}]
    path.write_text(json.dumps(nb))
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert "carries stored outputs" in result.stdout
    assert "carries an execution count" in result.stdout


@pytest.mark.parametrize(
    "break_it, message",
    [
        (
            lambda c: (c / f"{CHAPTER}.ipynb").unlink(),
            "but no book/01_chapter.ipynb or .md exists",
        ),
        (
            lambda c: (c / "book" / "02_stray.md").write_text("# Stray\n"),
            "book/02_stray.md is not listed in _toc.yml",
        ),
    ],
    ids=["toc-entry-missing-on-disk", "page-missing-from-toc"],
)
def test_toc_and_book_disagreeing_fails(tmp_path, break_it, message):
    course = make_course(tmp_path)
    break_it(course)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert message in result.stdout


def test_a_notebook_without_the_setup_cell_fails(tmp_path):
    course = make_course(tmp_path)
    path = course / f"{CHAPTER}.ipynb"
    nb = nbformat.read(path, as_version=4)
    del nb.cells[1]
    nb.metadata["kernelspec"]["name"] = "julia"
    nbformat.write(nb, path)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert "the first code cell is not the shared setup cell" in result.stdout
    assert "kernelspec must be 'python3', got 'julia'" in result.stdout


def test_a_setup_cell_without_its_hide_input_tag_fails(tmp_path):
    course = make_course(tmp_path)
    path = course / f"{CHAPTER}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert "the setup cell lacks the 'hide-input' tag" in result.stdout
