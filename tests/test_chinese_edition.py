"""Tests for the Chinese edition's machinery: _ext/chinese_edition.py,
_ext/translated_glue.py and tools/translations.py.

The committed catalogs must be complete (every message translated, none
fuzzy) and keep their English's markup; after a build, every glued value of
a page shows in both editions and every Chinese page is in Chinese.

The slow tests build a small course with a notebook whose prose glues a
number, translate it, and build it with jupyter-book as CI does: the Chinese
pages exist beside the English ones and link to them, a glued number shows
in the translated sentence, and an untranslated or fuzzy message fails the
build under -W.
"""

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import nbformat
import pytest
import translations
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "_ext"))
import chinese_edition  # noqa: E402

CONFIG = """\
title: "Test"
author: "x"
only_build_toc_files: true
exclude_patterns: [_build, locales, _ext]
execute:
  execute_notebooks: cache
sphinx:
  extra_extensions: [sphinx_exercise]
  local_extensions:
    translated_glue: _ext
    chinese_edition: _ext
  config:
    locale_dirs: [locales]
    gettext_compact: false
    nb_execution_raise_on_error: true
"""
SENTENCE = "The answer is {glue:text}`answer:.2f` today."
PHRASE = "It runs {glue:text}`verdict`."  # a glued phrase with its Chinese
# Messages Sphinx makes only with the extension's help: a table of contents'
# caption (in the root page's catalog), an exercise's title, an image's alt text.
CAPTION, EXERCISE, ALT = "Part one", "Running parity", "A rising line."
TRANSLATIONS = {
    "Intro": "简介",
    CAPTION: "第一部分",
    "A chapter": "一章",
    EXERCISE: "奇偶校验",
    "Do it.": "做吧。",
    ALT: "一条上升的线。",
    "A line.": "一条线。",
    SENTENCE: "今天的答案是 {glue:text}`answer:.2f`。",
    PHRASE: "它运行得{glue:text}`verdict`。",
    "It has two items:": "它有两项：",
    "one": "一",
    "two": "二",
}


def make_course(tmp_path: Path, skip: str | None = None, fuzzy: str | None = None):
    """A two-page course with complete Chinese catalogs (but ``skip``, ``fuzzy``)."""
    course = tmp_path / "course"
    (course / "book").mkdir(parents=True)
    shutil.copytree(ROOT / "_ext", course / "_ext")
    (course / "_config.yml").write_text(CONFIG)
    (course / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nparts:\n"
        f"  - caption: {CAPTION}\n    chapters:\n      - file: book/chapter\n"
    )
    (course / "book" / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(f"# A chapter\n\n{SENTENCE}\n\n{PHRASE}"),
            nbformat.v4.new_code_cell(
                "from rnn_lib import glue\nglue('answer', 3.14159, display=False)\n"
                "glue('verdict', 'fast', display=False, chinese='很快')"
            ),
            nbformat.v4.new_markdown_cell("It has two items:\n\n- one\n- two"),
            nbformat.v4.new_markdown_cell(f"```{{exercise}} {EXERCISE}\n\nDo it.\n```"),
            nbformat.v4.new_code_cell(
                "import matplotlib.pyplot as plt\nplt.plot([0, 1]);",
                metadata={
                    "mystnb": {
                        "figure": {"caption": "A line.", "name": "fig-line"},
                        "image": {"alt": ALT},
                    }  # fmt: skip
                },
            ),
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3"}},
    )
    nbformat.write(nb, course / "book" / "chapter.ipynb")
    pages = {"book/intro": ["Intro", CAPTION], "book/chapter": list(TRANSLATIONS)[2:]}
    for page, messages in pages.items():
        catalog = Catalog(locale="zh_CN")
        for message in messages:
            if message != skip:
                flags = ["fuzzy"] if message == fuzzy else []
                catalog.add(message, TRANSLATIONS[message], flags=flags)
        path = course / "locales" / "zh_CN" / "LC_MESSAGES" / f"{page}.po"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as file:
            write_po(file, catalog)
    return course


def build(course: Path) -> subprocess.CompletedProcess:
    jupyter_book = Path(sys.executable).parent / "jupyter-book"  # the venv's
    return subprocess.run(
        [str(jupyter_book), "build", str(course), "-W", "--keep-going"],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_links_between_the_editions():
    assert chinese_edition.other_edition_href("intro", "en") == "zh_CN/intro.html"
    assert (
        chinese_edition.other_edition_href("book/07_x", "en")
        == "../zh_CN/book/07_x.html"
    )
    assert (
        chinese_edition.other_edition_href("book/07_x", "zh_CN")
        == "../../book/07_x.html"
    )


def test_counts_of_a_catalog():
    catalog = Catalog(locale="zh_CN")
    catalog.add("done", "完成")
    catalog.add("changed", "旧的", flags=["fuzzy"])
    catalog.add("new", "")
    counts = translations.counts(catalog)
    assert (counts.messages, counts.translated, counts.fuzzy, counts.untranslated) == (
        3,
        1,
        1,
        1,
    )


@pytest.mark.slow
def test_the_chinese_edition_is_built_beside_the_english_one(tmp_path):
    course = make_course(tmp_path)
    result = build(course)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    english = (course / "_build" / "html" / "book" / "chapter.html").read_text()
    chinese = (
        course / "_build" / "html" / "zh_CN" / "book" / "chapter.html"
    ).read_text()
    assert '<span class="pasted-text">3.14</span>' in english
    # the glued number inside the translated sentence
    assert '今天的答案是 <span class="pasted-text">3.14</span>' in chinese
    # a glued phrase: its English in the English edition, its Chinese here
    assert 'It runs <span class="pasted-text">fast</span>' in english
    assert '它运行得<span class="pasted-text">很快</span>' in chinese
    assert 'href="../zh_CN/book/chapter.html"' in english
    assert 'href="../../book/chapter.html"' in chinese
    assert 'lang="zh-CN"' in chinese
    # the caption, the exercise's title and the image's alt text translated
    assert CAPTION in english and "第一部分" in chinese and CAPTION not in chinese
    assert EXERCISE in english and "奇偶校验" in chinese and EXERCISE not in chinese
    assert f'alt="{ALT}"' in english and 'alt="一条上升的线。"' in chinese


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["skip", "fuzzy"])
def test_an_untranslated_message_fails_the_build(tmp_path, kind):
    course = make_course(tmp_path, **{kind: "two"})
    result = build(course)
    assert result.returncode != 0
    assert "untranslated in the Chinese edition: 'two'" in result.stdout + result.stderr


# The committed catalogs and the built book's two editions.
CATALOGS = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
HTML = ROOT / "_build" / "html"
REQUIRED = os.environ.get("REQUIRE_BROWSER_TEST") == "1"  # .ci/run, after a build
PASTED = re.compile(r'<span class="pasted-text">(.*?)</span>', re.DOTALL)
CJK = re.compile(r"[\u4e00-\u9fff]")
# A glued number (with its unit or exponent), as opposed to a phrase.
NUMBER = re.compile(r"^[\d\s.,:;%()\[\]+\-−–×/^·eE⁰¹²³⁴⁵⁶⁷⁸⁹⁻]*$")


def _catalogs() -> list[Path]:
    paths = sorted(CATALOGS.rglob("*.po"))
    if not paths:
        pytest.skip("no Chinese catalogs in locales/zh_CN/LC_MESSAGES")
    return paths


def test_every_message_is_translated_and_none_is_fuzzy():
    _catalogs()
    pages = translations.stats(CATALOGS)
    left = {page: c for page, c in pages.items() if c.fuzzy or c.untranslated}
    assert not left, "\n".join(
        f"{page}: {c.untranslated} untranslated, {c.fuzzy} fuzzy"
        for page, c in left.items()
    )


def test_every_translation_keeps_its_markup():
    _catalogs()
    problems = translations.check(CATALOGS)
    assert problems == [], "\n".join(problems)


def test_the_catalogs_cover_every_page_of_the_book():
    _catalogs()
    pages = {p.relative_to(CATALOGS).with_suffix("").as_posix() for p in _catalogs()}
    import notebook_rules

    assert set(notebook_rules.toc_files(ROOT)) <= pages


def _built_pairs():
    if not (HTML / "zh_CN" / "search.html").is_file():
        reason = f"no Chinese edition built at {HTML / 'zh_CN'}"
        if REQUIRED and any(CATALOGS.rglob("*.po")):
            pytest.fail(f"{reason} (REQUIRE_BROWSER_TEST=1)", pytrace=False)
        pytest.skip(reason)
    import notebook_rules

    for entry in notebook_rules.toc_files(ROOT):
        yield entry, HTML / f"{entry}.html", HTML / "zh_CN" / f"{entry}.html"


def test_every_glued_value_appears_in_both_editions():
    """The same glued numbers on both pages, and as many glued values.

    A glued phrase (words with its numbers) is pasted in each edition's
    language (``rnn_lib.glue(..., chinese=...)``), so only the count of those
    is compared.
    """
    problems = []
    for entry, english, chinese in _built_pairs():
        pasted = [
            PASTED.findall(page.read_text(encoding="utf-8"))
            for page in (english, chinese)
        ]
        ours, theirs = (
            Counter(v for v in values if NUMBER.match(v)) for values in pasted
        )
        if ours != theirs or len(pasted[0]) != len(pasted[1]):
            problems.append(
                f"{entry}: {len(pasted[0])} values glued in English, "
                f"{len(pasted[1])} in Chinese; numbers only in English "
                f"{dict(ours - theirs)}, only in Chinese {dict(theirs - ours)}"
            )
    assert problems == [], "\n".join(problems)


def test_every_chinese_page_is_in_chinese():
    problems = []
    for entry, _, chinese in _built_pairs():
        text = chinese.read_text(encoding="utf-8")
        article = text[text.find("<article") : text.find("</article>")]
        if 'lang="zh-CN"' not in text or not CJK.search(article):
            problems.append(entry)
    assert problems == [], "pages of the Chinese edition not in Chinese: " + ", ".join(
        problems
    )
