"""Check that every entry of _toc.yml produced an HTML page in a built book.

python tools/check_built_pages.py _build/html

With catalogs in locales/zh_CN/LC_MESSAGES, the Chinese edition too
(``_build/html/zh_CN``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from notebook_rules import ROOT, toc_files  # noqa: E402


def missing_pages(html_dir: Path, root: Path = ROOT) -> list[str]:
    """The _toc.yml entries with no ``<entry>.html`` under ``html_dir``."""
    return [
        entry for entry in toc_files(root) if not (html_dir / f"{entry}.html").is_file()
    ]


def editions(html_dir: Path, root: Path = ROOT) -> list[Path]:
    """The built editions' folders: the English one, and the Chinese one if it has catalogs."""
    if any((root / "locales" / "zh_CN" / "LC_MESSAGES").rglob("*.po")):
        return [html_dir, html_dir / "zh_CN"]
    return [html_dir]


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    failed = False
    for html_dir in editions(Path(argv[0])):
        missing = missing_pages(html_dir)
        for entry in missing:
            print(
                f"_toc.yml lists {entry!r}, but {html_dir / (entry + '.html')} "
                "was not built"
            )
        if not missing:
            print(f"all {len(toc_files())} _toc.yml entries have a page in {html_dir}")
        failed = failed or bool(missing)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
