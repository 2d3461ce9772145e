"""rnn_lib.grading.grade: a batch of crafted submissions gives the expected CSV.

The batch holds a correct submission, a partly correct one (it prints
megabytes, and has a syntax error in the other exercise), one whose grader
cells were deleted or edited to `pass` and which carries stale "passed"
outputs, one that loops forever, one that ignores the interrupt and loops
forever, one that hogs memory, one that kills its kernel, a file that is not
JSON, an empty notebook and another exercise's notebook. Limits are small so
that the whole batch runs in well under a minute or two. The attacks on the
grader itself are in tests/test_grading_attacks.py.
"""

import csv
import subprocess
import sys

import nbformat
import pytest
from test_grading_release import ROOT, SOLUTIONS

from rnn_lib.grading.__main__ import main
from rnn_lib.grading.execute import TRUNCATED, run_isolated
from rnn_lib.grading.grade import Settings, grade, grade_one
from rnn_lib.grading.notebooks import GRADER_TAG, notebook_regions
from rnn_lib.grading.release import student_versions
from rnn_lib.grading.reports import write_csv

NAME = "03_rnn_step"
STUDENT = ROOT / "exercises" / f"{NAME}.ipynb"


def _with_bodies(**bodies: str) -> nbformat.NotebookNode:
    """The student notebook with some regions' bodies replaced, by function."""
    nb = nbformat.read(STUDENT, as_version=4)
    for region in notebook_regions(nb):
        if region.function in bodies:
            cell = nb.cells[region.cell_index]
            lines = cell.source.split("\n")
            lines[region.start : region.stop] = bodies[region.function].split("\n")
            cell.source = "\n".join(lines)
    return nb


def _solution_bodies() -> dict[str, str]:
    nb = nbformat.read(SOLUTIONS / f"{NAME}.ipynb", as_version=4)
    return {region.function: region.body for region in notebook_regions(nb)}


def _submissions(folder):
    good = _solution_bodies()
    write = lambda name, nb: nbformat.write(nb, folder / name)  # noqa: E731

    write("correct.ipynb", _with_bodies(**good))
    chatty = '    print("x" * 1_000_000)\n' + good["rnn_step"]
    write("partial.ipynb", _with_bodies(rnn_step=chatty, rnn_layer="    return (("))

    tampered = _with_bodies()
    graders = [c for c in tampered.cells if GRADER_TAG in c.metadata.get("tags", [])]
    graders[0].source = "pass"
    graders[0].outputs = [
        nbformat.v4.new_output("stream", text="rnn_step: all checks passed\n")
    ]
    tampered.cells.remove(graders[1])
    tampered.metadata.pop("rnn_grading")  # identified by its file name instead
    write(f"tampered_{NAME}.ipynb", tampered)

    write("loops.ipynb", _with_bodies(rnn_step="    while True:\n        pass"))
    stubborn = "    import signal\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass"
    write("stubborn.ipynb", _with_bodies(rnn_step=stubborn))
    hog = "    hog = []\n    while True:\n        hog.append(torch.empty(2**28))"
    write("hog.ipynb", _with_bodies(rnn_step=hog, rnn_layer=good["rnn_layer"]))
    write("crash.ipynb", _with_bodies(rnn_step="    import os\n    os._exit(1)"))
    (folder / "broken.ipynb").write_text('{"cells": [', encoding="utf-8")
    nbformat.write(nbformat.v4.new_notebook(), folder / "empty.ipynb")
    other = SOLUTIONS / "04_rnn_shapes.ipynb"
    (folder / "other_exercise.ipynb").write_bytes(other.read_bytes())


# submission: (status, 3.1 points, 3.2 points, total, words the feedback must hold)
EXPECTED = {
    "correct.ipynb": ("ok", "1", "1", "2", []),
    "partial.ipynb": ("ok", "1", "0", "1", ["SyntaxError", "3.2 rnn_layer: NameError"]),
    f"tampered_{NAME}.ipynb": (
        "ok",
        "0",
        "0",
        "0",
        ["3.1 rnn_step: rnn_step is not written yet"],
    ),
    "loops.ipynb": ("timeout", "0", "0", "0", ["3.1 rnn_step: timed out"]),
    "stubborn.ipynb": ("timeout", "0", "0", "0", ["3.1 rnn_step: timed out"]),
    "hog.ipynb": ("memory", "0", "0", "0", ["can't allocate memory"]),
    "crash.ipynb": (
        "error",
        "0",
        "0",
        "0",
        ["3.1 rnn_step: did not run to its end", "kernel died"],
    ),
    "broken.ipynb": ("invalid", "", "", "0", ["not a notebook"]),
    "empty.ipynb": ("ok", "0", "0", "0", ["no solution found for rnn_step"]),
    "other_exercise.ipynb": (
        "invalid",
        "",
        "",
        "0",
        ["not exercise 03_rnn_step", "belong to exercise 04_rnn_shapes"],
    ),
}

FAST = Settings(cell_timeout=5, timeout=30, memory_mb=3072)


@pytest.mark.slow
def test_grade_writes_the_expected_csv(tmp_path):
    folder = tmp_path / NAME  # the folder says which exercise they answer
    folder.mkdir()
    _submissions(folder)
    out = tmp_path / "grades.csv"
    paths = [folder / name for name in EXPECTED]
    write_csv(grade(paths, SOLUTIONS, settings=FAST, jobs=2, log=lambda _: None), out)
    with open(out, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == [
        "submission", "exercise", "status", "3.1 rnn_step", "3.2 rnn_layer",
        "total", "max_points", "feedback",
    ]  # fmt: skip
    assert [row["submission"] for row in rows] == [str(p) for p in paths]
    for row in rows:
        status, step, layer, total, words = EXPECTED[row["submission"].split("/")[-1]]
        got = (row["status"], row["3.1 rnn_step"], row["3.2 rnn_layer"], row["total"])
        assert got == (status, step, layer, total), row
        assert row["max_points"] == ("2" if status != "invalid" else "0")
        for word in words:
            assert word in row["feedback"], row


@pytest.mark.slow
def test_run_isolated_caps_outputs_and_stops_at_the_overall_timeout():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("for i in range(2000):\n    print('y' * 1000)"),
        nbformat.v4.new_code_cell("import time\ntime.sleep(600)"),
    ]
    report = run_isolated(
        nb, cell_timeout=600, timeout=15, memory_mb=3072, output_cap=20_000
    )
    assert report["failure"] == "timeout"
    outputs = (
        report["notebook"].cells[0].outputs
    )  # what ran before the limit comes back
    assert 20_000 < sum(len(o.get("text", "")) for o in outputs) < 25_000
    assert outputs[-1]["text"] == TRUNCATED


def test_the_grade_command_takes_folders_and_writes_the_csv(
    tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.ipynb").write_text("not json", encoding="utf-8")
    (folder / "b.ipynb").write_bytes((SOLUTIONS / "04_rnn_shapes.ipynb").read_bytes())
    out = tmp_path / "grades.csv"
    monkeypatch.chdir(tmp_path)  # no exercises/solutions here: the installed ones
    assert main(["grade", str(folder), "--out", str(out), "--exercise", NAME]) == 0
    with open(out, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    assert [(r["submission"], r["status"]) for r in rows] == [
        (str(folder / "a.ipynb"), "invalid"),
        (str(folder / "b.ipynb"), "invalid"),
    ]
    assert "wrote" in capsys.readouterr().out


@pytest.mark.parametrize(
    "text",
    [
        "{}",
        "[1, 2]",
        '{"cells": 5, "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
        '{"cells": [{"cell_type": "code"}], "nbformat": 4, "nbformat_minor": 5, "metadata": {}}',
        '{"cells": [{"cell_type": "code", "source": 7, "metadata": {}, "outputs": []}],'
        ' "nbformat": 4, "nbformat_minor": 5, "metadata": {"rnn_grading": "x"}}',
    ],
)
@pytest.mark.filterwarnings(
    "ignore::nbformat.warnings.MissingIDFieldWarning"
)  # malformed on purpose
def test_malformed_notebooks_are_invalid_not_fatal(tmp_path, text):
    path = tmp_path / f"{NAME}.ipynb"
    path.write_text(text, encoding="utf-8")
    result = grade_one(path, NAME, student_versions(SOLUTIONS), FAST)
    assert (result.status, result.total) == ("invalid", 0)
    assert result.feedback.startswith("not a notebook")


def test_binary_garbage_is_invalid(tmp_path):
    path = tmp_path / f"{NAME}.ipynb"
    path.write_bytes(bytes(range(256)))
    assert grade_one(path, NAME, student_versions(SOLUTIONS), FAST).status == "invalid"


@pytest.mark.parametrize(
    "options, message",
    [
        (["--timeout", "-1"], "timeout must be positive, got -1.0"),
        (["--cell-timeout", "0"], "cell_timeout must be positive, got 0.0"),
        (["--memory-mb", "0"], "memory_mb must be >= 1, got 0"),
        (
            ["--solutions", "nowhere"],
            "no solution notebooks (NN_name.ipynb) in nowhere",
        ),
        (["--jobs", "0"], "jobs must be >= 1, got 0"),
        (["--exercise", "3.1"], "--exercise must be one of 03_rnn_step, "),
        ([], "say which exercise x.ipynb answers: --exercise NAME, or put"),
    ],
)
def test_the_grade_command_refuses_bad_options_clearly(
    tmp_path, capsys, monkeypatch, options, message
):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exit:
        main(["grade", "x.ipynb", "--out", "grades.csv", *options])
    assert exit.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "grades.csv").exists()


def test_gradescope_takes_one_submission(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["grade", "x.ipynb", "y.ipynb", "--out", "g.csv", "--exercise", NAME,
              "--gradescope", "r.json"])  # fmt: skip
    assert "--gradescope writes one submission's results.json, got 2" in (
        capsys.readouterr().err
    )


@pytest.mark.slow
def test_an_installed_grader_grades_from_any_folder(tmp_path):
    # what an instructor runs: the command line, in a folder of their own
    submission = tmp_path / "08_lstm_cell.ipynb"
    submission.write_bytes((SOLUTIONS / "08_lstm_cell.ipynb").read_bytes())
    subprocess.run(
        [sys.executable, "-m", "rnn_lib.grading", "grade", submission.name, "--out", "g.csv",
         "--exercise", "08_lstm_cell"],
        cwd=tmp_path, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    with open(tmp_path / "g.csv", newline="", encoding="utf-8") as file:
        (row,) = csv.DictReader(file)
    assert (row["exercise"], row["status"], row["8.1 lstm_cell"], row["total"]) == (
        "08_lstm_cell", "ok", "1", "1",
    )  # fmt: skip
