"""rnn_lib.grading.reports: the CSV, the feedback files and Gradescope's results.json.

The feedback quotes what a submission's code printed, so it cannot break out
of its Markdown block, inject HTML, or become a spreadsheet formula.
"""

import csv
import json
from pathlib import Path

from rnn_lib.grading.reports import (
    CheckResult,
    Result,
    feedback_paths,
    gradescope,
    write_csv,
    write_feedback,
)

EVIL = '=HYPERLINK("x")\n```\n<script>alert(1)</script>'
RESULT = Result(
    "=evil.ipynb",
    "03_rnn_step",
    "ok",
    [
        CheckResult("3.1 rnn_step", 1.0, 1.0),
        CheckResult("3.2 rnn_layer", 0.0, 1.0, EVIL),
    ],
    ["cell 4 raised ValueError"],
)


def test_the_csv_has_points_per_check_and_no_formulas(tmp_path):
    out = tmp_path / "g.csv"
    write_csv([RESULT], out)
    with open(out, newline="", encoding="utf-8") as file:
        (row,) = csv.DictReader(file)
    assert row["submission"] == "'=evil.ipynb"
    assert (row["3.1 rnn_step"], row["3.2 rnn_layer"], row["total"], row["max_points"]) == (
        "1", "0", "1", "2",
    )  # fmt: skip
    assert row["feedback"].startswith(
        "cell 4 raised ValueError | 3.2 rnn_layer: =HYPER"
    )


def test_feedback_files_quote_the_submissions_text_safely(tmp_path):
    paths = feedback_paths([Path("a/03_rnn_step/x.ipynb")], tmp_path, ".md")
    write_feedback([RESULT], paths, "md")
    markdown = paths[0].read_text()
    assert "## 3.2 rnn_layer: 0 / 1" in markdown and "````\n=HYPERLINK" in markdown
    html_paths = feedback_paths([Path("a/03_rnn_step/x.ipynb")], tmp_path, ".html")
    write_feedback([RESULT], html_paths, "html")
    page = html_paths[0].read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_feedback_paths_keep_submissions_of_the_same_name_apart(tmp_path):
    paths = feedback_paths(
        [Path("s/03_rnn_step/alice.ipynb"), Path("s/04_rnn_shapes/alice.ipynb")],
        tmp_path, ".md",
    )  # fmt: skip
    assert [p.relative_to(tmp_path) for p in paths] == [
        Path("03_rnn_step/alice.md"), Path("04_rnn_shapes/alice.md"),
    ]  # fmt: skip


def test_gradescope_results_json():
    results = json.loads(json.dumps(gradescope(RESULT)))
    assert results["score"] == 1.0
    assert [t["name"] for t in results["tests"]] == ["3.1 rnn_step", "3.2 rnn_layer"]
    assert results["tests"][1] == {
        "name": "3.2 rnn_layer", "score": 0.0, "max_score": 1.0, "status": "failed",
        "output": EVIL,
    }  # fmt: skip
