"""What ``grade`` writes: the CSV, one feedback file per submission, Gradescope's results.json.

Used by :mod:`rnn_lib.grading.grade` (the book's Exercises part). A
:class:`Result` is the grade of one submission, check by check. The CSV
(:func:`write_csv`) has one row per submission: ``submission, exercise,
status``, the points per check, ``total, max_points, feedback`` (the feedback
shortened to one line). A feedback file (:func:`write_feedback`, Markdown or
HTML, like nbgrader's) holds every check's points and its whole feedback;
:func:`write_gradescope` writes one submission's grade in the ``results.json``
format of Gradescope's autograder. The feedback quotes text the submission's
code produced (its error messages), so it is escaped for each format, and a
CSV cell never starts with a character a spreadsheet would run as a formula.
Read next: :mod:`rnn_lib.grading.grade`.
"""

from __future__ import annotations

import csv
import dataclasses
import html
import json
import os
import re
from pathlib import Path

SHORT = 600  # characters of feedback in a CSV cell
_ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclasses.dataclass
class CheckResult:
    """One check's grade: its label (``'3.1 rnn_step'``), points, and feedback ('' if passed)."""

    label: str
    points: float
    max_points: float
    feedback: str = ""


@dataclasses.dataclass
class Result:
    """The grade of one submission.

    Attributes:
        submission: the path as given.
        exercise: the exercise's name, e.g. ``'03_rnn_step'`` ('' if unknown).
        status: ``ok``, ``timeout``, ``memory``, ``error`` or ``invalid``.
        checks: each check's grade, in the notebook's order.
        notes: what went wrong outside the checks (a cell that raised, ...).
    """

    submission: str
    exercise: str
    status: str
    checks: list[CheckResult]
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def points(self) -> dict[str, float]:
        return {check.label: check.points for check in self.checks}

    @property
    def total(self) -> float:
        return sum(check.points for check in self.checks)

    @property
    def max_points(self) -> float:
        return sum(check.max_points for check in self.checks)

    @property
    def feedback(self) -> str:
        """Everything that went wrong, on one line."""
        parts = list(self.notes)
        parts += [f"{c.label}: {c.feedback}" for c in self.checks if c.feedback]
        return short(" | ".join(parts))


def short(text: str) -> str:
    """``text`` on one line, without terminal colours, at most :data:`SHORT` characters."""
    text = " ".join(_ANSI.sub("", text).split())
    return text if len(text) <= SHORT else text[: SHORT - 3] + "..."


def number(value: float) -> str:
    return f"{value:g}"


def _cell(text: str) -> str:
    """A CSV cell that a spreadsheet shows as text, never runs as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write_csv(results: list[Result], out: Path) -> None:
    """One row per submission; a column per check of every exercise graded."""
    labels = list(
        dict.fromkeys(check.label for result in results for check in result.checks)
    )
    with open(out, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(
            [
                "submission",
                "exercise",
                "status",
                *labels,
                "total",
                "max_points",
                "feedback",
            ]
        )
        for result in results:
            points = result.points
            writer.writerow(
                [
                    _cell(result.submission),
                    result.exercise,
                    result.status,
                    *(
                        number(points[label]) if label in points else ""
                        for label in labels
                    ),
                    number(result.total),
                    number(result.max_points),
                    _cell(result.feedback),
                ]
            )


def _fenced(text: str) -> str:
    """``text`` as a Markdown code block that nothing inside can close."""
    fence = "`" * max(3, max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    return f"{fence}\n{_ANSI.sub('', text)}\n{fence}"


def _markdown(result: Result, title: str) -> str:
    lines = [
        f"# Feedback on {title}",
        "",
        f"Exercise {result.exercise or '(unknown)'}: **{number(result.total)} / "
        f"{number(result.max_points)}** points, status `{result.status}`.",
    ]
    if result.notes:
        lines += ["", "## The notebook", "", _fenced("\n".join(result.notes))]
    for check in result.checks:
        lines += [
            "",
            f"## {check.label}: {number(check.points)} / {number(check.max_points)}",
        ]
        lines += ["", _fenced(check.feedback) if check.feedback else "Passed."]
    return "\n".join(lines) + "\n"


def _html(result: Result, title: str) -> str:
    escape = lambda text: html.escape(_ANSI.sub("", text))  # noqa: E731
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f"<title>Feedback on {escape(title)}</title></head><body>",
        f"<h1>Feedback on {escape(title)}</h1>",
        f"<p>Exercise {escape(result.exercise or '(unknown)')}: <b>"
        f"{number(result.total)} / {number(result.max_points)}</b> points, status "
        f"<code>{escape(result.status)}</code>.</p>",
    ]
    if result.notes:
        parts += [
            "<h2>The notebook</h2>",
            f"<pre>{escape(chr(10).join(result.notes))}</pre>",
        ]
    for check in result.checks:
        parts.append(
            f"<h2>{escape(check.label)}: {number(check.points)} / "
            f"{number(check.max_points)}</h2>"
        )
        parts.append(
            f"<pre>{escape(check.feedback)}</pre>"
            if check.feedback
            else "<p>Passed.</p>"
        )
    return "\n".join([*parts, "</body></html>"]) + "\n"


def feedback_paths(submissions: list[Path], folder: Path, suffix: str) -> list[Path]:
    """Where each submission's feedback goes: its path below their common folder."""
    resolved = [path.resolve() for path in submissions]
    common = (
        Path(os.path.commonpath([path.parent for path in resolved]))
        if resolved
        else folder
    )
    return [folder / path.relative_to(common).with_suffix(suffix) for path in resolved]


def write_feedback(results: list[Result], paths: list[Path], kind: str) -> None:
    """One feedback file per result, Markdown (``kind='md'``) or HTML (``'html'``)."""
    for result, path in zip(results, paths):
        path.parent.mkdir(parents=True, exist_ok=True)
        title = Path(result.submission).name
        text = _markdown(result, title) if kind == "md" else _html(result, title)
        path.write_text(text, encoding="utf-8")


def gradescope(result: Result) -> dict:
    """One submission's grade in the ``results.json`` format of Gradescope's autograder."""
    return {
        "score": result.total,
        "output": "\n".join([f"status: {result.status}", *result.notes]),
        "tests": [
            {
                "name": check.label,
                "score": check.points,
                "max_score": check.max_points,
                "status": "passed" if check.points == check.max_points else "failed",
                "output": check.feedback or "Passed.",
            }
            for check in result.checks
        ],
    }


def write_gradescope(result: Result, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(gradescope(result), indent=2) + "\n", encoding="utf-8")
