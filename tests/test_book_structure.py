"""The book's structure: every page in _toc.yml, every notebook stored clean.

COURSE_ROOT points these tests at another tree; tests/test_ci_catches.py
uses it to show that they fail on broken trees.
"""

import os
from pathlib import Path

import notebook_rules

COURSE_ROOT = Path(os.environ.get("COURSE_ROOT", notebook_rules.ROOT))


def test_toc_and_pages_on_disk_agree():
    problems = notebook_rules.toc_problems(COURSE_ROOT)
    assert not problems, "\n".join(problems)


def test_notebooks_have_no_outputs_the_python3_kernel_and_the_setup_cell_first():
    problems = [
        problem
        for page in notebook_rules.page_files(COURSE_ROOT)
        if page.suffix == ".ipynb"
        for problem in notebook_rules.notebook_problems(page, COURSE_ROOT)
    ]
    assert not problems, "\n".join(problems)


def test_the_book_has_chapters():
    chapters = [
        entry
        for entry in notebook_rules.toc_files(COURSE_ROOT)
        if entry.startswith("book/0")
    ]
    assert chapters, "_toc.yml lists no chapter under book/"
