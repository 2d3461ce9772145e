"""The instructor's commands.

python -m rnn_lib.grading release [--check]
    write exercises/NN_name.ipynb from exercises/solutions/NN_name.ipynb
    (--check: write nothing, exit 1 if the committed ones differ)

python -m rnn_lib.grading grade SUBMISSION.ipynb|FOLDER ... --out grades.csv
    grade submissions, each in a fresh kernel in a sandbox, and write points
    per check, a feedback file per submission and, for Gradescope, its
    results.json; it needs the extra dependencies of pip install
    'rnn-lib[grading]'
"""

from __future__ import annotations

import argparse
import importlib.util
import secrets
import sys
from pathlib import Path

from rnn_lib.grading.release import release, solution_paths, stale
from rnn_lib.validation import check_int

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
        "--translations",
        type=Path,
        default=Path("locales/zh_CN/LC_MESSAGES/exercises"),
        help="the Chinese catalogs of the exercises, for OUT/zh_CN (default: %(default)s)",
    )
    rel.add_argument(
        "--check", action="store_true", help="only say whether they are up to date"
    )
    gra = commands.add_parser("grade", help="grade submissions into a CSV")
    gra.add_argument(
        "submissions", type=Path, nargs="+", help="notebooks, or folders of them"
    )
    gra.add_argument("--out", type=Path, required=True, help="the CSV to write")
    gra.add_argument(
        "--exercise",
        help="the exercise they all answer, e.g. 03_rnn_step (default: the name of "
        "the folder each submission sits in)",
    )
    gra.add_argument(
        "--jobs", type=int, default=None, help="submissions at once (the cores)"
    )
    gra.add_argument(
        "--seed",
        type=int,
        default=None,
        help="the seed of the checks' inputs (default: a new one, printed)",
    )
    gra.add_argument(
        "--feedback",
        type=Path,
        default=None,
        help="the folder of feedback files, one per submission (default: next to "
        "the CSV, OUT_feedback/)",
    )
    gra.add_argument("--feedback-format", choices=("md", "html"), default="md")
    gra.add_argument(
        "--gradescope",
        type=Path,
        default=None,
        help="also write this results.json for Gradescope (one submission only)",
    )
    gra.add_argument(
        "--sandbox",
        choices=("auto", "bwrap", "unshare", "none"),
        default="auto",
        help="how each submission is isolated (default: the first that works)",
    )
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
        differing = stale(args.solutions, args.out, args.translations)
        for name in differing:
            print(f"{args.out / name} differs from what release writes")
        return 1 if differing else 0
    for path in release(args.solutions, args.out, args.translations):
        print(f"wrote {path}")
    return 0


def _grade(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    missing = [name for name in GRADE_NEEDS if importlib.util.find_spec(name) is None]
    if missing:
        parser.error(
            f"grade needs {' and '.join(missing)}: pip install 'rnn-lib[grading]'"
        )
    # grade imports nbclient and torch: only now that both are known to be there
    from rnn_lib.grading import reports, sandbox
    from rnn_lib.grading.grade import Settings, check_limits, declared_exercise, grade

    paths = _submissions(args.submissions)
    try:
        check_limits(args.cell_timeout, args.timeout, args.memory_mb)
        if args.jobs is not None:
            check_int("jobs", args.jobs)
        names = [path.stem for path in solution_paths(args.solutions)]
        if args.exercise is not None and args.exercise not in names:
            raise ValueError(
                f"--exercise must be one of {', '.join(names)}, got {args.exercise!r}"
            )
        unknown = [p for p in paths if not declared_exercise(p, args.exercise, names)]
        if unknown:
            raise ValueError(
                f"say which exercise {unknown[0]} answers: --exercise NAME, or put "
                f"the submissions in folders named after their exercise "
                f"({', '.join(names)})"
            )
        if args.gradescope is not None and len(paths) != 1:
            raise ValueError(
                f"--gradescope writes one submission's results.json, got {len(paths)}"
            )
        choice = sandbox.backend(args.sandbox)
    except (FileNotFoundError, TypeError, ValueError) as error:
        parser.error(str(error))
    seed = secrets.randbits(31) if args.seed is None else args.seed
    feedback = args.feedback or args.out.with_name(args.out.stem + "_feedback")
    hidden = {path.resolve().parent for path in paths} | {
        args.out.resolve().parent,
        feedback.resolve(),
    }
    print(f"grading {len(paths)} submissions in the sandbox {choice}, seed {seed}")
    settings = Settings(
        args.cell_timeout, args.timeout, args.memory_mb, seed, tuple(hidden), choice
    )
    results = grade(paths, args.solutions, args.exercise, settings, args.jobs)
    # every submission's processes have ended: the outputs are written once
    reports.write_csv(results, args.out)
    kind = args.feedback_format
    reports.write_feedback(
        results, reports.feedback_paths(paths, feedback, f".{kind}"), kind
    )
    if args.gradescope is not None:
        reports.write_gradescope(results[0], args.gradescope)
    print(
        f"wrote {args.out} ({len(results)} submissions) and the feedback in {feedback}"
    )
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
