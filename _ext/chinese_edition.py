"""Build the Chinese edition beside the English one, from the same sources.

``jupyter-book build .`` builds the English book into ``_build/html``; when
``locales/zh_CN/LC_MESSAGES`` holds catalogs, this extension then builds the
Chinese edition into ``_build/html/zh_CN`` with Sphinx's gettext machinery:
the same notebooks, every paragraph replaced by its translation
(``_ext/translated_glue.py`` keeps the glued numbers), code and outputs
untouched. The notebooks are not executed again: the second pass reads their
outputs from the execution cache the first one filled
(``_ext/execute_once.py``). The second pass runs in its own process, with the
first one's ``-W``, ``-n`` and ``--keep-going``, and its failure fails the
build. In it, every message without a translation (missing, or fuzzy because
its English changed) is a warning naming the page and the text, so with
``-W`` an untranslated sentence fails the build instead of showing English in
the Chinese book. Every page of each edition links to the same page in the
other.

Run on its own, ``python _ext/chinese_edition.py [-W] [-n] [--keep-going]``
builds the Chinese edition alone.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.locale import init as init_locale
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx.util.i18n import docname_to_domain
from sphinx_exercise.nodes import exercise_subtitle, exercise_title, solution_title

LOGGER = logging.getLogger(__name__)
CJK = re.compile(r"[\u4e00-\u9fff]")

ROOT = Path(__file__).resolve().parents[1]
CATALOGS = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
EDITION = "zh_CN"  # the language code, and the folder under _build/html
SWITCH = {  # the link each edition's pages show, to the other edition
    "en": ('<a class="edition-switch" href="{href}" hreflang="zh-CN">中文版</a>'),
    EDITION: ('<a class="edition-switch" href="{href}" hreflang="en">English</a>'),
}


def has_catalogs(root: Path = ROOT) -> bool:
    """Whether there is a Chinese edition to build."""
    return any((root / "locales" / "zh_CN" / "LC_MESSAGES").rglob("*.po"))


def other_edition_href(pagename: str, language: str) -> str:
    """The relative link from ``pagename`` in ``language`` to the same page in the other."""
    up = "../" * pagename.count("/")
    if language == EDITION:
        return f"../{up}{pagename}.html"
    return f"{up}{EDITION}/{pagename}.html"


def _add_switch(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    language = app.config.language or "en"
    if language not in SWITCH or "body" not in context or not has_catalogs():
        return
    link = SWITCH[language].format(href=other_edition_href(pagename, language))
    context["body"] = f'<p class="edition-switch">{link}</p>\n' + context["body"]


class TranslatableExerciseTitles(SphinxTransform):
    """Give an exercise's title (``{exercise} Title``) what a message needs.

    sphinx-exercise builds the title's node without a source, so Sphinx takes
    it for a built-in string and neither extracts nor translates it. With a
    source, the Chinese edition's Locale transform (priority 20) translates it
    before sphinx-exercise folds it into the exercise's heading.
    """

    default_priority = 10  # before sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        for node in self.document.findall(exercise_subtitle):
            if not node.source:
                node.source = self.document["source"]
                node.line = node.parent.line or 1
                node.rawsource = node.astext()


def _extract_exercise_titles(app, doctree) -> None:
    """Add each exercise's title to the page's catalog (gettext builder only).

    The gettext builder collects messages from the resolved page, where
    sphinx-exercise has already replaced the title's node by a heading of its
    own; so the titles are collected here, when the page has been read.
    """
    if app.builder.name != "gettext":
        return
    domain = docname_to_domain(app.env.docname, app.config.gettext_compact)
    for node in doctree.findall(exercise_subtitle):
        if node.source and node.rawsource:
            node.uid = ""  # the catalog skips a node without one
            app.builder.catalogs[domain].add(node.rawsource, node)


def _page_translation(env, config):
    """The gettext function of the current page's Chinese catalog."""
    dirs = [str(Path(env.srcdir) / folder) for folder in config.locale_dirs]
    domain = docname_to_domain(env.docname, config.gettext_compact)
    catalog, _ = init_locale(dirs, config.language, domain)
    return catalog.gettext


class TranslatedTocCaptions(SphinxTransform):
    """Translate the captions of the table of contents ("Learning through time").

    sphinx-external-toc inserts the toctrees (priority 100) after Locale has
    translated the page (20); their captions are in the root page's catalog.
    """

    default_priority = 101

    def apply(self, **kwargs) -> None:
        if self.config.language != EDITION:
            return
        toctrees = list(self.document.findall(addnodes.toctree))
        if not any(toctree.get("caption") for toctree in toctrees):
            return
        translate = _page_translation(self.env, self.config)
        for toctree in toctrees:
            if toctree.get("caption"):
                toctree["caption"] = translate(toctree["caption"])


class ReportUntranslated(SphinxTransform):
    """In the Chinese edition, warn about every paragraph left in English."""

    default_priority = 21  # right after sphinx.transforms.i18n.Locale (20)

    def apply(self, **kwargs) -> None:
        if self.config.language != EDITION:
            return
        catalog = CATALOGS / f"{self.env.docname}.po"
        if not catalog.is_file():
            LOGGER.warning(f"no Chinese catalog for this page: {catalog.name} is missing",
                           location=self.env.docname)  # fmt: skip
            return
        for node in self.document.findall(nodes.Element):
            if node.get("translated") is False and not _translated_anyway(node):
                text = " ".join(node.astext().split())
                LOGGER.warning(f"untranslated in the Chinese edition: {text[:70]!r}",
                               location=node)  # fmt: skip


def _translated_anyway(node) -> bool:
    """Whether a node Locale leaves marked untranslated was translated after all.

    Locale translates an image's alt text without marking the image; it marks
    the headings sphinx-exercise builds ("练习 3.1", "解答"), whose own words
    come from sphinx-exercise's Chinese and whose title (the subtitle) is a
    message of its own; and it marks a notebook's metadata fields (the field
    list at the top of a page, which becomes its docinfo), which no page
    shows.
    """
    if isinstance(node, nodes.image):
        return bool(CJK.search(node.get("alt", "")))
    if isinstance(node, (exercise_title, solution_title)):
        return True
    return any(
        isinstance(parent, nodes.docinfo)
        or (  # a field list at the top of a page becomes its docinfo later
            isinstance(parent, nodes.field_list)
            and isinstance(parent.parent, nodes.document)
        )
        for parent in _ancestors(node)
    )


def _ancestors(node):
    while node is not None:
        yield node
        node = node.parent


def _build_chinese(app, exception) -> None:
    if exception is not None or app.builder.name != "html":
        return
    if (app.config.language or "en") != "en" or not has_catalogs():
        return
    command = [sys.executable, str(Path(__file__).resolve())]
    # Sphinx keeps keep_going only with -W, and then clears warningiserror.
    if app.warningiserror or app.keep_going:
        command.append("-W")
    if app.keep_going:
        command.append("--keep-going")
    if app.config.nitpicky:
        command.append("-n")
    if subprocess.run(command, cwd=ROOT).returncode != 0:
        raise RuntimeError("the Chinese edition failed to build (see above)")


def _chinese_title() -> str:
    """The book's title (_config.yml) as the root page's catalog translates it."""
    import yaml
    from babel.messages.pofile import read_po

    title = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))["title"]
    root = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))["root"]
    with (CATALOGS / f"{root}.po").open("rb") as file:
        message = read_po(file).get(title)
    return message.string if message is not None and message.string else title


def build(warningiserror: bool, nitpicky: bool, keep_going: bool) -> int:
    """Build the Chinese edition into ``_build/html/zh_CN``; return Sphinx's status."""
    from jupyter_book.sphinx import build_sphinx

    overrides = {
        "language": EDITION,
        "latex_individualpages": False,
        "html_title": _chinese_title(),
    }
    if nitpicky:
        overrides["nitpicky"] = True
    result = build_sphinx(
        str(ROOT),
        str(ROOT / "_build" / "html" / EDITION),
        noconfig=True,
        path_config=str(ROOT / "_config.yml"),
        confoverrides=overrides,
        doctreedir=str(ROOT / "_build" / f".doctrees-{EDITION}"),
        builder="html",
        warningiserror=warningiserror,
        keep_going=keep_going,
    )
    return 1 if isinstance(result, Exception) else int(result or 0)


def setup(app) -> dict:
    app.add_transform(TranslatableExerciseTitles)
    app.add_transform(TranslatedTocCaptions)
    app.connect("doctree-read", _extract_exercise_titles)
    app.add_transform(ReportUntranslated)
    app.connect("html-page-context", _add_switch)
    app.connect("build-finished", _build_chinese)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Build the Chinese edition.")
    parser.add_argument("-W", dest="warningiserror", action="store_true")
    parser.add_argument("-n", dest="nitpicky", action="store_true")
    parser.add_argument("--keep-going", action="store_true")
    args = parser.parse_args()
    sys.exit(build(args.warningiserror, args.nitpicky, args.keep_going))
