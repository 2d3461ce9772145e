"""Execute notebooks in fresh kernels and print how long each takes (and each cell).

    python tools/time_notebooks.py book/08_gated_rnns.ipynb
    python tools/time_notebooks.py book/*.ipynb --cells

A chapter's budget is 90 s in a fresh kernel on the reference machine (two
CPU cores); the book build prints the same totals for every notebook it
executes (``_ext/execute_once.py``). Timings vary with the machine and with
whatever else runs on it: this reports, it does not judge.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

BUDGET = 90.0  # seconds per chapter, on the reference machine


def time_notebook(path: Path, cells: bool = False) -> float:
    """Run ``path`` top to bottom in a fresh kernel; return the seconds it took."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    with client.setup_kernel():
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code":
                continue
            began = time.perf_counter()
            client.execute_cell(cell, index)
            if cells:
                print(
                    f"    cell {index:3d} {cell.get('id', ''):24} {time.perf_counter() - began:7.1f} s"
                )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--cells", action="store_true", help="also time every cell")
    args = parser.parse_args()
    total = 0.0
    for path in args.notebooks:
        seconds = time_notebook(path, args.cells)
        total += seconds
        over = "  over the budget" if seconds > BUDGET else ""
        print(f"{seconds:7.1f} s  {path}{over}", flush=True)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"{total:7.1f} s  in all ({len(args.notebooks)} notebooks; load average {load:.1f})"
    )


if __name__ == "__main__":
    main()
