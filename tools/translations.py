"""The Chinese edition's catalogs: extract, update, and count what is translated.

    python tools/translations.py update     # sources changed: refresh the catalogs
    python tools/translations.py stats      # messages, translated, fuzzy, untranslated
    python tools/translations.py check      # translations that lost a role, math, code

The book's prose lives in its sources only. ``update`` runs Sphinx's gettext
builder over the book (the notebooks' outputs come from the execution cache:
nothing is executed again), which writes one ``.pot`` template per page into
``_build/gettext``, and merges each into its catalog
``locales/zh_CN/LC_MESSAGES/<page>.po`` as ``msgmerge`` does: a message whose
English is unchanged keeps its translation, a changed one keeps the old
translation marked *fuzzy* (to be checked), a new one is untranslated, a
removed one is dropped. The Chinese build uses only translated, non-fuzzy
messages, and with ``-W`` it fails on any other (``_ext/chinese_edition.py``),
so an English change shows as work to do, never as a stale translation.

The terms are translated one way throughout: ``locales/zh_CN/terminology.md``.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "_build" / "gettext"
CATALOGS = ROOT / "locales" / "zh_CN" / "LC_MESSAGES"
LOCALE = "zh_CN"


@dataclass
class Counts:
    """How many messages a catalog holds, and in what state."""

    messages: int = 0
    translated: int = 0
    fuzzy: int = 0

    @property
    def untranslated(self) -> int:
        return self.messages - self.translated - self.fuzzy

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.messages + other.messages,
            self.translated + other.translated,
            self.fuzzy + other.fuzzy,
        )


def read_catalog(path: Path) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=LOCALE)


def counts(catalog: Catalog) -> Counts:
    """The state of every message but the header."""
    result = Counts()
    for message in catalog:
        if not message.id:
            continue
        result.messages += 1
        if message.fuzzy:
            result.fuzzy += 1
        elif message.string:
            result.translated += 1
    return result


def extract() -> None:
    """Run the gettext builder over the book into ``_build/gettext``.

    The notebooks' outputs come from the execution cache, as in the HTML build
    (a figure's caption and alt text are messages only where the figure is
    there). The gettext builder keeps its own doctrees: Sphinx refuses to build
    HTML over another builder's, and they would force a full rereading.
    """
    build = ROOT / "_build"
    html_doctrees, own = build / ".doctrees", build / ".doctrees-gettext"
    parked = build / ".doctrees-html"
    if html_doctrees.exists():
        html_doctrees.rename(parked)
    if own.exists():
        own.rename(html_doctrees)
    command = ["jupyter-book", "build", str(ROOT), "--builder", "custom",
               "--custom-builder", "gettext"]  # fmt: skip
    try:
        subprocess.run(command, cwd=ROOT, check=True)
    finally:
        if html_doctrees.exists():
            html_doctrees.rename(own)
        if parked.exists():
            parked.rename(html_doctrees)


ROLE = re.compile(r"\{([A-Za-z][A-Za-z0-9_:-]*)\}`([^`]*)`")  # not `l{ℓ}`
TITLED = re.compile(r"^(.*?)\s*<([^<>]+)>$", re.DOTALL)  # {ref}`title <target>`
# Roles whose text is a link's title, to be translated; the target stays.
TITLED_ROLES = {"ref", "doc", "numref", "term", "prf:ref"}
MATH = re.compile(r"\$\$.*?\$\$|\$[^$]+\$", re.DOTALL)
CODE = re.compile(r"``[^`]+``|`[^`]+`")
LINK = re.compile(r"\]\(([^)\s]+)\)")


# What is left of a message once its math, code, roles and markup are removed:
# a message with no letters left (a display equation, a file name, a citation)
# reads the same in Chinese and is filled in by ``update``.
UNTRANSLATABLE = re.compile(
    r"\$\$.*?\$\$|\$.*?\$|\{[A-Za-z][A-Za-z0-9_:-]*\}`[^`]*`|`[^`]*`|\\[a-zA-Z]+|<[^>]*>|https?://\S+",
    re.DOTALL,
)


def has_prose(message: str) -> bool:
    """Whether ``message`` has words to translate outside math, code and roles."""
    if message.startswith("\n") or "\\begin{" in message:  # a display equation
        return False
    titles = ROLE.sub(_title_of_link, message)  # a link's title is prose
    return re.search(r"[A-Za-z]{2,}", UNTRANSLATABLE.sub(" ", titles)) is not None


def _title_of_link(role: re.Match) -> str:
    titled = TITLED.match(role.group(2))
    return f" {titled.group(1)} " if role.group(1) in TITLED_ROLES and titled else " "


def markup(message: str) -> dict[str, list[str]]:
    """What a translation must keep of ``message``: roles, math, code, links.

    Roles are kept whole (a glue's key and format, an equation's label, a
    citation's keys), except the title of a link role ({ref}, {doc}, {term}
    ...), which is translated; its target is kept. A {term}'s target must be
    the glossary's English term, as written there.
    """
    roles = []
    for role, text in ROLE.findall(message):
        if role in TITLED_ROLES:
            titled = TITLED.match(text)
            text = titled.group(2) if titled else text
        roles.append(f"{{{role}}}`{text}`")
    rest = ROLE.sub(" ", message)
    return {
        "roles": sorted(roles),
        "math": sorted(MATH.findall(rest)),
        "code": sorted(CODE.findall(MATH.sub(" ", rest))),
        "links": sorted(LINK.findall(rest)),
    }


def markup_problems(msgid: str, msgstr: str) -> list[str]:
    """How ``msgstr`` fails to keep the markup of ``msgid`` (empty: it keeps it)."""
    problems = []
    english, chinese = markup(msgid), markup(msgstr)
    for kind in english:
        missing = _difference(english[kind], chinese[kind])
        added = _difference(chinese[kind], english[kind])
        if missing:
            problems.append(f"{kind} missing from the translation: {missing}")
        if added:
            problems.append(f"{kind} not in the English: {added}")
    return problems


def _difference(a: list[str], b: list[str]) -> list[str]:
    rest = list(b)
    missing = []
    for item in a:
        if item in rest:
            rest.remove(item)
        else:
            missing.append(item)
    return missing


def check(root: Path = CATALOGS) -> list[str]:
    """Every translated message under ``root`` whose markup differs from its English."""
    problems = []
    for path in sorted(root.rglob("*.po")):
        for message in read_catalog(path):
            if message.id and message.string:
                for problem in markup_problems(message.id, message.string):
                    page = path.relative_to(root).with_suffix("").as_posix()
                    problems.append(f"{page}: {message.id[:60]!r}: {problem}")
    return problems


def merge(template_path: Path, catalog_path: Path, memory: dict[str, str]) -> Counts:
    """Update one catalog from its template, keeping what is still valid.

    An untranslated message takes its translation from ``memory`` (the same
    English translated on another page: an exercise and its solution share
    most of their text), or its own English when it has no prose.
    """
    with template_path.open("rb") as file:
        template = read_po(file)
    if catalog_path.is_file():
        catalog = read_catalog(catalog_path)
        catalog.update(template, no_fuzzy_matching=False)
        catalog.obsolete.clear()  # removed English: nothing to keep
    else:
        catalog = Catalog(locale=LOCALE)
        catalog.update(template)
    for message in catalog:
        if message.id and not message.string and not message.fuzzy:
            if message.id in memory:
                message.string = memory[message.id]
            elif not has_prose(message.id):
                message.string = message.id
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    with catalog_path.open("wb") as file:
        write_po(file, catalog, width=79, sort_output=False)
    return counts(catalog)


def translation_memory(root: Path) -> dict[str, str]:
    """Every translated, non-fuzzy message of the catalogs under ``root``."""
    memory = {}
    for path in sorted(root.rglob("*.po")):
        for message in read_catalog(path):
            if message.id and message.string and not message.fuzzy:
                memory.setdefault(message.id, message.string)
    return memory


def update(root: Path = CATALOGS, extract_first: bool = True) -> Counts:
    """Extract the templates and merge every one into its catalog under ``root``."""
    if extract_first:
        extract()
    total = Counts()
    templates = sorted(TEMPLATES.rglob("*.pot"))
    memory = translation_memory(root)
    for template in templates:
        page = template.relative_to(TEMPLATES).with_suffix(".po")
        total += merge(template, root / page, memory)
    pages = {t.relative_to(TEMPLATES).with_suffix(".po") for t in templates}
    for stale in root.rglob("*.po"):
        if stale.relative_to(root) not in pages:  # the page is gone
            stale.unlink()
    return total


def stats(root: Path = CATALOGS) -> dict[str, Counts]:
    """Each catalog's counts, by page."""
    return {
        path.relative_to(root).with_suffix("").as_posix(): counts(read_catalog(path))
        for path in sorted(root.rglob("*.po"))
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=("update", "stats", "check"))
    parser.add_argument(
        "--catalogs", type=Path, default=CATALOGS,
        help="the folder of .po files (default: %(default)s)",
    )  # fmt: skip
    parser.add_argument(
        "--no-extract", action="store_true",
        help="merge the templates already in _build/gettext",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.command == "check":
        problems = check(args.catalogs)
        print("\n".join(problems) or "every translation keeps its markup")
        return 1 if problems else 0
    if args.command == "update":
        update(args.catalogs, extract_first=not args.no_extract)
    pages = stats(args.catalogs)
    total = sum(pages.values(), Counts())
    for page, c in pages.items():
        print(f"{c.translated:5d} / {c.messages:5d}  fuzzy {c.fuzzy:3d}  {page}")
    share = total.translated / total.messages if total.messages else 1.0
    print(
        f"{total.translated} of {total.messages} messages translated ({share:.1%}), "
        f"{total.fuzzy} fuzzy, {total.untranslated} untranslated"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
