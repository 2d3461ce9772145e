"""The built book as a reader sees it: figures, and what the chapters printed.

After ``jupyter-book build .``, every page of ``_build/html`` shows each of
its images inside a named figure with a caption and alt text that describes
it (not the image's file name), and no image twice; and no executed notebook
of ``_build/jupyter_execute`` shows a progress bar or a warning, or writes to
stderr. The rules are ``notebook_rules.built_problems``; the pages in
tools/notebook_rules_allowlist.py's PENDING set are skipped.

Without a built book the tests skip; with ``REQUIRE_BROWSER_TEST=1`` (as
``.ci/run`` sets after building) they fail instead. ``BOOK_HTML`` points at
another built book, ``COURSE_ROOT`` at another source tree (tests/test_ci_catches.py
uses both on a crafted bad chapter).
"""

import os
from pathlib import Path

import pytest

import notebook_rules

COURSE_ROOT = Path(os.environ.get("COURSE_ROOT", notebook_rules.ROOT))
HTML = Path(os.environ.get("BOOK_HTML", COURSE_ROOT / "_build" / "html")).resolve()
REQUIRED = os.environ.get("REQUIRE_BROWSER_TEST") == "1"


@pytest.fixture(scope="module")
def problems() -> list[str]:
    if not (HTML / "search.html").is_file():
        reason = f"no built book at {HTML}: run `jupyter-book build .` first"
        if REQUIRED:
            pytest.fail(f"{reason} (REQUIRE_BROWSER_TEST=1)", pytrace=False)
        pytest.skip(reason)
    return notebook_rules.built_problems(HTML, COURSE_ROOT)


def _matching(problems, *phrases):
    return [p for p in problems if any(phrase in p for phrase in phrases)]


def test_every_image_is_a_named_figure_with_a_caption_and_alt_text(problems):
    found = _matching(problems, "without a caption", "no name", "no alt text")
    assert not found, "\n".join(found)


def test_no_image_is_embedded_twice_on_a_page(problems):
    found = _matching(problems, "embedded twice")
    assert not found, "\n".join(found)


def test_no_chapter_shows_a_progress_bar_or_a_warning(problems):
    found = _matching(problems, "progress bar", "warning", "stderr")
    assert not found, "\n".join(found)


def test_every_problem_is_one_of_the_above(problems):
    known = _matching(
        problems,
        "without a caption",
        "no name",
        "no alt text",
        "embedded twice",
        "progress bar",
        "warning",
        "stderr",
    )
    assert sorted(known) == sorted(problems)
