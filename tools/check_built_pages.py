"""Check that every entry of _toc.yml produced an HTML page in a built book.

python tools/check_built_pages.py _build/html
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


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__)
        return 2
    html_dir = Path(argv[0])
    missing = missing_pages(html_dir)
    for entry in missing:
        print(
            f"_toc.yml lists {entry!r}, but {html_dir / (entry + '.html')} was not built"
        )
    if not missing:
        print(f"all {len(toc_files())} _toc.yml entries have a page in {html_dir}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
