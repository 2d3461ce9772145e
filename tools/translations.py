"""The Chinese edition's catalogs: extract, update, and count what is translated.

    python tools/translations.py update     # sources changed: refresh the catalogs
    python tools/translations.py stats      # messages, translated, fuzzy, untranslated

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
    """Run the gettext builder over the book into ``_build/gettext``."""
    command = ["jupyter-book", "build", str(ROOT), "--builder", "custom",
               "--custom-builder", "gettext"]  # fmt: skip
    subprocess.run(command, cwd=ROOT, check=True)


def merge(template_path: Path, catalog_path: Path) -> Counts:
    """Update one catalog from its template, keeping what is still valid."""
    with template_path.open("rb") as file:
        template = read_po(file)
    if catalog_path.is_file():
        catalog = read_catalog(catalog_path)
        catalog.update(template, no_fuzzy_matching=False)
        catalog.obsolete.clear()  # removed English: nothing to keep
    else:
        catalog = Catalog(locale=LOCALE)
        catalog.update(template)
    catalog_path.parent.mkdir(parents=True, exist_ok=True)
    with catalog_path.open("wb") as file:
        write_po(file, catalog, width=79, sort_output=False)
    return counts(catalog)


def update() -> Counts:
    """Extract the templates and merge every one into its catalog."""
    extract()
    total = Counts()
    templates = sorted(TEMPLATES.rglob("*.pot"))
    for template in templates:
        page = template.relative_to(TEMPLATES).with_suffix(".po")
        total += merge(template, CATALOGS / page)
    pages = {t.relative_to(TEMPLATES).with_suffix(".po") for t in templates}
    for stale in CATALOGS.rglob("*.po"):
        if stale.relative_to(CATALOGS) not in pages:  # the page is gone
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
    parser.add_argument("command", choices=("update", "stats"))
    args = parser.parse_args(argv)
    if args.command == "update":
        update()
    pages = stats()
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
