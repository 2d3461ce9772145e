"""On every honest submission, the notebook's own checks and the batch grader agree.

For every exercise: the solutions, the right answers written differently of
tests/grading_submissions/ (one notebook per variant, the other functions
solved), and the ways a student lays the code out that the batch grader must
take as the notebook runs it: the stub left above a solved copy of its cell,
a helper in a region of a cell of its own. Each notebook is run twice: its
cells in order in one process, as a kernel runs them for ``pytest --nbval``
(:func:`grading_submissions.run_in_process`), and by ``grade``; each check
must pass in both, with full marks. A few wrong answers show that both fail
them alike, and the solved copy below its stub goes through ``pytest --nbval``
itself. (A notebook holds the k-th right answer of each of its
functions, so that the kernels are few.)
"""

import copy
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import grading_submissions
import nbformat
import pytest
from grading_submissions import body, notebook, run_in_process, solution_bodies
from test_grading_release import ROOT

from rnn_lib.grading import EXERCISES
from rnn_lib.grading.grade import Settings, grade

for module in pkgutil.iter_modules(grading_submissions.__path__):
    importlib.import_module(f"grading_submissions.{module.name}")

SETTINGS = Settings(cell_timeout=120, timeout=600, memory_mb=3072, run_seed=7)


def _function_of(check_name: str) -> str:
    for checks in EXERCISES.values():
        for check in checks:
            if check.name == check_name:
                return check.argument
    raise KeyError(check_name)


def _variants(right: bool) -> dict[str, nbformat.NotebookNode]:
    """Notebooks of registered answers: the k-th of each function in the k-th.

    A function with fewer answers than k has the solution's body there.
    """
    by_exercise: dict[str, dict[str, list[str]]] = {}
    for submission in grading_submissions.REGISTRY:
        if submission.right == right:
            functions = by_exercise.setdefault(submission.exercise, {})
            function = _function_of(submission.check)
            functions.setdefault(function, []).append(body(submission.function))
    found = {}
    for exercise, functions in by_exercise.items():
        for k in range(max(len(bodies) for bodies in functions.values())):
            bodies = solution_bodies(exercise)
            bodies.update({f: b[k] for f, b in functions.items() if k < len(b)})
            kind = "right" if right else "wrong"
            found[f"{exercise}--{kind}-{k}"] = notebook(exercise, bodies)
    return found


def _solved_copy_below_the_stub() -> nbformat.NotebookNode:
    nb = notebook(
        "03_rnn_step", {"rnn_layer": solution_bodies("03_rnn_step")["rnn_layer"]}
    )
    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == "ex3-1-solution")
    solved = copy.deepcopy(nb.cells[index])
    solved.id = "my-copy"
    stub = solved.source.split("### BEGIN SOLUTION")
    solved.source = (
        stub[0] + "### BEGIN SOLUTION\n" + solution_bodies("03_rnn_step")["rnn_step"]
        + "\n    ### END SOLUTION"
    )  # fmt: skip
    nb.cells.insert(index + 1, solved)
    return nb


def _helper_in_a_cell_of_its_own() -> nbformat.NotebookNode:
    nb = notebook(
        "08_lstm_cell",
        {
            "lstm_cell": "    return _lstm_parts(x @ w_ih.T + b_ih + h @ w_hh.T + b_hh, c)"
        },
    )
    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == "ex8-1-solution")
    helper = nbformat.v4.new_code_cell(
        "### BEGIN SOLUTION\n"
        "def _lstm_parts(gates, c):\n"
        "    i, f, g, o = gates.chunk(4, dim=1)\n"
        "    c_new = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)\n"
        "    return torch.sigmoid(o) * torch.tanh(c_new), c_new\n"
        "### END SOLUTION"
    )
    nb.cells.insert(index + 1, helper)  # after the function, before its check
    return nb


def honest() -> dict[str, nbformat.NotebookNode]:
    notebooks = {
        f"{name}--solution": notebook(name, solution_bodies(name)) for name in EXERCISES
    }
    # (07 trains a model in its last check, twice per notebook: one variant there)
    notebooks.update(
        (name, nb)
        for name, nb in _variants(right=True).items()
        if not name.startswith("07_char_model--right-") or name.endswith("-0")
    )
    notebooks["03_rnn_step--solved-copy-below-the-stub"] = _solved_copy_below_the_stub()
    notebooks["08_lstm_cell--helper-in-its-own-cell"] = _helper_in_a_cell_of_its_own()
    return notebooks


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """Each notebook's verdicts in one process and its points from ``grade``."""
    folder = tmp_path_factory.mktemp("agreement")
    # the first wrong answer of every function: both must fail those checks
    wrong = {name: nb for name, nb in _variants(right=False).items() if "-0" in name}
    notebooks = {**honest(), **wrong}
    paths = []
    for name, nb in notebooks.items():
        exercise = name.split("--")[0]
        (folder / exercise).mkdir(exist_ok=True)
        paths.append(folder / exercise / f"{name}.ipynb")
        nbformat.write(nb, paths[-1])
    results = {
        Path(r.submission).stem: r for r in grade(paths, None, None, SETTINGS, 2)
    }
    in_process = {name: run_in_process(nb) for name, nb in notebooks.items()}
    return notebooks, in_process, results, set(wrong)


@pytest.mark.slow
def test_every_honest_submission_gets_full_marks_from_both(both):
    notebooks, in_process, results, wrong = both
    for name in notebooks:
        if name in wrong:
            continue
        failed = {label: e for label, e in in_process[name].items() if e is not None}
        assert failed == {}, name
        result = results[name]
        assert (result.status, result.total) == ("ok", result.max_points), (
            name, result.feedback,
        )  # fmt: skip


@pytest.mark.slow
def test_both_give_the_same_verdict_on_every_check(both):
    notebooks, in_process, results, _ = both
    for name in notebooks:
        batch = {check.label: check.points > 0 for check in results[name].checks}
        notebook_run = {label: e is None for label, e in in_process[name].items()}
        assert batch == notebook_run, (name, results[name].feedback)


@pytest.mark.slow
def test_every_exercise_is_covered(both):
    notebooks, *_ = both
    assert {name.split("--")[0] for name in notebooks} == set(EXERCISES)


@pytest.mark.slow
def test_pytest_nbval_itself_passes_the_solved_copy_below_the_stub(tmp_path):
    path = tmp_path / "03_rnn_step.ipynb"
    nbformat.write(_solved_copy_below_the_stub(), path)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(path), "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:]
    (result,) = grade([path], None, "03_rnn_step", SETTINGS, 1, log=lambda _: None)
    assert result.total == result.max_points, result.feedback
