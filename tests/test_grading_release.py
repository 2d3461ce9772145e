"""rnn_lib.grading.release and .notebooks: student notebooks, stubs, solution regions.

Proves: the committed student notebooks are what `release` writes; every
stub fails each of its checks (with the "not written yet" feedback, nothing
else raising); the grader cells are locked and nothing else is; the solutions
ship with the package; regions are found, stubbed and refilled robustly. That every
solution passes all of its checks is proven by nbval, which a bare `pytest`
runs over exercises/solutions/ (pyproject.toml's testpaths).
"""

from pathlib import Path

import nbformat
import pytest

from rnn_lib.grading import CheckFailed
from rnn_lib.grading import release as release_module
from rnn_lib.grading.__main__ import main
from rnn_lib.grading.notebooks import (
    GRADER_TAG,
    cell_regions,
    fill_notebook,
    grader_cells,
    match_regions,
    notebook_regions,
)
from rnn_lib.grading.release import released, solution_paths, student_version

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "exercises" / "solutions"
NAMES = [path.stem for path in solution_paths(SOLUTIONS)]


def test_committed_student_notebooks_are_what_release_writes():
    for name, text in released(SOLUTIONS).items():
        committed = ROOT / "exercises" / name
        assert committed.exists(), (
            f"run python -m rnn_lib.grading release ({name} is missing)"
        )
        assert committed.read_text(encoding="utf-8") == text, (
            f"exercises/{name} is stale: run python -m rnn_lib.grading release"
        )
    extra = {p.name for p in (ROOT / "exercises").glob("[0-9]*.ipynb")} - set(
        released(SOLUTIONS)
    )
    assert extra == set(), "student notebooks without a solution"


def test_release_check_flags_a_stale_notebook(tmp_path, capsys):
    out = tmp_path / "exercises"
    assert main(["release", "--solutions", str(SOLUTIONS), "--out", str(out)]) == 0
    assert (
        main(["release", "--check", "--solutions", str(SOLUTIONS), "--out", str(out)])
        == 0
    )
    first = sorted(out.glob("*.ipynb"))[0]
    first.write_text(first.read_text().replace("Exercise", "Exercize"))
    assert (
        main(["release", "--check", "--solutions", str(SOLUTIONS), "--out", str(out)])
        == 1
    )
    assert f"{first.name} differs" in capsys.readouterr().out


def run_in_process(nb) -> list[tuple[nbformat.NotebookNode, BaseException | None]]:
    """Execute the code cells in one namespace; what each raised (or None)."""
    namespace: dict = {}
    results = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            exec(compile(cell.source, f"<cell {cell.get('id')}>", "exec"), namespace)
            results.append((cell, None))
        except Exception as error:  # noqa: BLE001 - recorded and asserted on
            results.append((cell, error))
    return results


@pytest.mark.parametrize("name", NAMES)
def test_stub_fails_every_check_and_nothing_else(name, capsys):
    nb = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    assert grader_cells(nb), "an exercise without checks"
    for cell, error in run_in_process(nb):
        if "grader" in cell.metadata.get("tags", []):
            assert isinstance(error, CheckFailed), cell.source
            assert "is not written yet (Exercise " in str(error)
        else:
            assert error is None, (cell.source, error)


@pytest.mark.parametrize("name", NAMES)
def test_every_region_is_stubbed_with_its_exercise(name):
    solution = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    student = student_version(solution, name)
    regions = notebook_regions(student)
    assert len(regions) == len(notebook_regions(solution)) > 0
    for region in regions:
        assert region.body.strip().startswith('raise NotImplementedError("Exercise ')
        assert region.body.strip().endswith(f': {region.function}")')
    assert student.cells[0].source.startswith("# Exercises")
    assert student.metadata["rnn_grading"] == {"exercise": name}
    assert [c for c in student.cells if "solution" in c.metadata.get("tags", [])] == []
    # the checks and their points survive release
    assert [c[1:] for c in grader_cells(student)] == [
        c[1:] for c in grader_cells(solution)
    ]


@pytest.mark.parametrize("name", NAMES)
def test_grader_cells_are_locked_and_no_other_cell_is(name):
    nb = nbformat.read(ROOT / "exercises" / f"{name}.ipynb", as_version=4)
    for cell in nb.cells:
        locked = GRADER_TAG in cell.metadata.get("tags", [])
        assert cell.metadata.get("deletable", True) is not locked, cell.id
        assert cell.metadata.get("editable", True) is not locked, cell.id
    solution = nbformat.read(SOLUTIONS / f"{name}.ipynb", as_version=4)
    assert all("editable" not in c.metadata for c in solution.cells)


def test_the_solutions_ship_with_the_package():
    assert [p.read_bytes() for p in solution_paths()] == [
        p.read_bytes() for p in solution_paths(SOLUTIONS)
    ]
    assert released() == released(SOLUTIONS)


def test_no_solutions_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(
        FileNotFoundError, match=f"no solution notebooks .* in {tmp_path}"
    ):
        solution_paths(tmp_path)
    monkeypatch.setattr(release_module, "PACKAGED", tmp_path / "solutions")
    with pytest.raises(FileNotFoundError, match="pass --solutions FOLDER"):
        solution_paths()


SOURCE = '''def f(x):
    """doc"""
    ### BEGIN SOLUTION
    y = x + 1
    return y
    ### END SOLUTION

def g():
    ### BEGIN SOLUTION
    return 2
    ### END SOLUTION'''


def test_cell_regions_finds_bodies_and_functions():
    regions = cell_regions(SOURCE, 4, "abc")
    assert [(r.function, r.position, r.body) for r in regions] == [
        ("f", 0, "    y = x + 1\n    return y"),
        ("g", 1, "    return 2"),
    ]
    assert (regions[0].cell_index, regions[0].cell_id) == (4, "abc")


@pytest.mark.parametrize(
    "source, message",
    [
        ("### BEGIN SOLUTION\nx = 1", "BEGIN SOLUTION without"),
        ("x = 1\n### END SOLUTION", "END SOLUTION without"),
        (
            "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
            "inside another region",
        ),
    ],
)
def test_unpaired_markers_raise(source, message):
    with pytest.raises(ValueError, match=message):
        cell_regions(source)


def _notebook(*sources, ids=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    for cell, cell_id in zip(nb.cells, ids or []):
        cell.id = cell_id
    return nb


def test_regions_match_by_id_then_function_then_order():
    pristine = notebook_regions(_notebook(SOURCE, ids=["a"]))
    # same id: matched by id even when the functions were renamed
    renamed = notebook_regions(_notebook(SOURCE.replace("def f", "def h"), ids=["a"]))
    assert match_regions(pristine, renamed) == renamed
    # ids lost (Colab) and cells split and swapped: matched by function
    split = SOURCE.split("\n\n")
    moved = notebook_regions(_notebook(split[1], split[0], ids=["x", "y"]))
    assert [m.function for m in match_regions(pristine, moved)] == ["f", "g"]
    # no ids, no functions, but as many regions: matched by order
    bare = "### BEGIN SOLUTION\n1\n### END SOLUTION\n### BEGIN SOLUTION\n2\n### END SOLUTION"
    by_order = notebook_regions(_notebook(bare, ids=["z"]))
    assert match_regions(pristine, by_order) == by_order
    # a region missing altogether
    assert (
        match_regions(pristine, notebook_regions(_notebook(split[1], ids=["q"])))[0]
        is None
    )


def test_fill_puts_only_the_regions_into_the_pristine_notebook():
    pristine = _notebook(
        SOURCE.replace("y = x + 1\n    return y", "raise NotImplementedError"),
        ids=["a"],
    )
    submission = _notebook("print('tampered')\n" + SOURCE, ids=["a"])
    filled, missing, notes = fill_notebook(pristine, notebook_regions(submission))
    assert filled.cells[0].source == SOURCE
    assert (missing, notes) == ([], [])
    empty, missing, _ = fill_notebook(pristine, [])
    assert empty.cells[0].source == pristine.cells[0].source
    assert missing == ["f", "g"]


def test_unpaired_markers_in_a_submission_are_skipped_not_fatal():
    nb = _notebook("### BEGIN SOLUTION\nx = 1", SOURCE)
    assert [r.function for r in notebook_regions(nb, strict=False)] == ["f", "g"]
    with pytest.raises(ValueError):
        notebook_regions(nb)


def test_fill_takes_the_code_the_way_the_notebook_runs_it():
    stub = SOURCE.replace("y = x + 1\n    return y", "raise NotImplementedError")
    pristine = _notebook(stub, "check(f)", ids=["a", "checks"])
    helper = "### BEGIN SOLUTION\ndef helper(x):\n    return x + 1\n### END SOLUTION"
    solved = SOURCE.replace("y = x + 1", "y = helper(x)")
    # the stub left in its cell, a helper cell, a solved copy below, then the check
    submission = _notebook(
        stub, helper, solved, "check(f)", ids=["a", "h", "copy", "c"]
    )
    filled, missing, notes = fill_notebook(pristine, notebook_regions(submission))
    sources = [cell.source for cell in filled.cells]
    # the helper runs first, as it did in the submission; the copy's code wins
    assert sources == ["def helper(x):\n    return x + 1", solved, "check(f)"]
    assert (missing, notes) == ([], [])


def test_a_region_in_a_function_of_its_own_is_left_out_and_said_so():
    pristine = _notebook(SOURCE, ids=["a"])
    extra = "def mine(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION"
    submission = _notebook(SOURCE, extra, ids=["a", "b"])
    _, _, notes = fill_notebook(pristine, notebook_regions(submission))
    assert len(notes) == 1 and "inside def mine (cell 1) was left out" in notes[0]
