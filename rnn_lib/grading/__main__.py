"""The instructor's commands.

python -m rnn_lib.grading release [--check]
    write exercises/NN_name.ipynb from exercises/solutions/NN_name.ipynb
    (--check: write nothing, exit 1 if the committed ones differ)

python -m rnn_lib.grading grade SUBMISSION.ipynb|FOLDER ... --out grades.csv
    grade submissions in fresh kernels and write points per check; it needs
    the extra dependencies of pip install 'rnn-lib[grading]'
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

from rnn_lib.grading.release import release, solution_paths, stale

# What ``grade`` needs beyond rnn_lib's own dependencies (the ``grading`` extra).
GRADE_NEEDS = ("nbclient", "ipykernel")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m rnn_lib.grading", description=__doc__.split("\n\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    rel = commands.add_parser("release", help="generate the student notebooks")
    rel.add_argument("--solutions", type=Path, default=Path("exercises/solutions"))
    rel.add_argument("--out", type=Path, default=Path("exercises"))
    rel.add_argument(
        "--check", action="store_true", help="only say whether they are up to date"
    )
    gra = commands.add_parser("grade", help="grade submissions into a CSV")
    gra.add_argument(
        "submissions", type=Path, nargs="+", help="notebooks, or folders of them"
    )
    gra.add_argument("--out", type=Path, required=True, help="the CSV to write")
    gra.add_argument(
        "--solutions",
        type=Path,
        default=None,
        help="the folder of solution notebooks (default: those installed with rnn_lib)",
    )
    gra.add_argument(
        "--cell-timeout", type=float, default=60, help="seconds per cell (60)"
    )
    gra.add_argument(
        "--timeout", type=float, default=600, help="seconds per submission (600)"
    )
    gra.add_argument(
        "--memory-mb",
        type=int,
        default=4096,
        help="memory (heap and tensors) per run, MB (4096)",
    )
    return parser


def _submissions(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        found.extend(sorted(path.glob("*.ipynb")) if path.is_dir() else [path])
    return found


def _release(args: argparse.Namespace) -> int:
    if args.check:
        differing = stale(args.solutions, args.out)
        for name in differing:
            print(f"{args.out / name} differs from what release writes")
        return 1 if differing else 0
    for path in release(args.solutions, args.out):
        print(f"wrote {path}")
    return 0


def _grade(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    missing = [name for name in GRADE_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        parser.error(
            f"grade needs {' and '.join(missing)}: pip install 'rnn-lib[grading]'"
        )
    from rnn_lib.grading.grade import check_limits, grade  # grade imports nbclient

    try:
        check_limits(args.cell_timeout, args.timeout, args.memory_mb)
        solution_paths(args.solutions)  # none there: say so now, not per submission
    except (FileNotFoundError, TypeError, ValueError) as error:
        parser.error(str(error))
    results = grade(
        _submissions(args.submissions), args.solutions, args.out,
        args.cell_timeout, args.timeout, args.memory_mb,
    )  # fmt: skip
    print(f"wrote {args.out} ({len(results)} submissions)")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "release":
        try:
            return _release(args)
        except FileNotFoundError as error:
            parser.error(str(error))
    return _grade(args, parser)


if __name__ == "__main__":
    sys.exit(main())
