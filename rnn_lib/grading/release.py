"""``python -m rnn_lib.grading release``: the student notebooks from the solutions.

Each ``exercises/solutions/NN_name.ipynb`` becomes ``exercises/NN_name.ipynb``
(:func:`student_version`): each solution region becomes a stub, the worked
explanations go, and the grader cells are locked (``deletable`` and
``editable`` false in their metadata, as nbgrader's ``LockCells`` does) so
that a student cannot remove them by accident. ``grade`` runs every
submission inside the same student versions (:func:`student_versions`). The
output depends only on the solutions, so a test can regenerate the student
notebooks and compare them with the committed ones (``release --check``). The Chinese student notebooks come from the same
student versions and the Chinese edition's catalogs.

The solutions ship with the package: ``rnn_lib/grading/solutions`` is a link
to ``exercises/solutions`` in the repository, and a wheel built from it holds
the notebooks themselves, so ``grade`` finds them from any folder. Read next:
:mod:`rnn_lib.grading.grade`.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from rnn_lib.grading.notebooks import (
    GRADER_TAG,
    METADATA_KEY,
    SOLUTION_TAG,
    cell_regions,
)

PACKAGED = Path(__file__).parent / "solutions"


def solution_paths(solutions: Path | None = None) -> list[Path]:
    """The solution notebooks ``NN_name.ipynb`` in ``solutions``, sorted by name.

    Args:
        solutions: their folder; None for the ones that ship with the package.

    Raises:
        FileNotFoundError: if the folder holds none.
    """
    paths = sorted((PACKAGED if solutions is None else solutions).glob("[0-9]*.ipynb"))
    if paths:
        return paths
    if solutions is not None:
        raise FileNotFoundError(f"no solution notebooks (NN_name.ipynb) in {solutions}")
    raise FileNotFoundError(
        f"no solution notebooks (NN_name.ipynb) came with this installation of "
        f"rnn_lib (in {PACKAGED}): pass --solutions FOLDER, the exercises/solutions "
        "folder of the course repository"
    )


def stub_line(indent: str, number: str, function: str) -> str:
    name = f"Exercise {number}: {function}" if function else f"Exercise {number}"
    return f'{indent}raise NotImplementedError("{name}")'


def _exercise_numbers(cell: nbformat.NotebookNode) -> list[str]:
    number = cell.metadata.get(METADATA_KEY, {}).get("exercise")
    if number is None:
        raise ValueError(
            f"cell {cell.get('id', '?')} has a solution region but no "
            f'"{METADATA_KEY}": {{"exercise": ...}} metadata'
        )
    return [number] if isinstance(number, str) else list(number)


def _stub_regions(cell: nbformat.NotebookNode) -> None:
    """Replace each solution region of a code cell by its stub, markers kept."""
    regions = cell_regions(cell.source)
    if not regions:
        return
    numbers = _exercise_numbers(cell)
    if len(numbers) != len(regions):
        raise ValueError(
            f"cell {cell.get('id', '?')} has {len(regions)} regions but names "
            f"{len(numbers)} exercises"
        )
    lines = cell.source.split("\n")
    for region, number in zip(reversed(regions), reversed(numbers)):
        marker = lines[region.start - 1]
        indent = marker[: len(marker) - len(marker.lstrip())]
        lines[region.start : region.stop] = [stub_line(indent, number, region.function)]
    cell.source = "\n".join(lines)


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return cell.metadata.get("tags", [])


def student_version(
    solution: nbformat.NotebookNode, name: str
) -> nbformat.NotebookNode:
    """The student version of a solution notebook.

    Each region becomes a stub that raises ``NotImplementedError("Exercise
    3.1: rnn_step")``, the markers kept so that ``grade`` can find what the
    student wrote; cells tagged ``solution`` are dropped; grader cells are
    locked; a title ``# Solutions ...`` becomes ``# Exercises ...``; outputs
    are stripped.
    """
    nb = copy.deepcopy(solution)
    nb.cells = [cell for cell in nb.cells if SOLUTION_TAG not in _tags(cell)]
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# Solutions"):
            cell.source = "# Exercises" + cell.source[len("# Solutions") :]
            break
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        _stub_regions(cell)
        if GRADER_TAG in _tags(cell):
            cell.metadata["deletable"] = False
            cell.metadata["editable"] = False
    nb.metadata[METADATA_KEY] = {"exercise": name}
    return nb


def student_versions(solutions: Path | None = None) -> dict[str, nbformat.NotebookNode]:
    """The student version of every exercise, by name (``'03_rnn_step'``)."""
    return {
        path.stem: student_version(nbformat.read(path, as_version=4), path.stem)
        for path in solution_paths(solutions)
    }


def released(
    solutions: Path | None = None, translations: Path | None = None
) -> dict[str, str]:
    """Each student notebook's path under ``exercises/`` and its text, as ``release`` writes it.

    With ``translations``, a folder of the Chinese edition's catalogs
    (``locales/zh_CN/LC_MESSAGES/exercises``), also ``zh_CN/NN_name.ipynb``
    for each exercise that has one there (:mod:`rnn_lib.grading.translation`).
    """
    texts = {}
    for name, nb in student_versions(solutions).items():
        texts[f"{name}.ipynb"] = nbformat.writes(nb) + "\n"
        catalog = translations / f"{name}.po" if translations is not None else None
        if catalog is not None and catalog.is_file():
            from rnn_lib.grading.translation import (
                read_translations,
                translate_notebook,
            )

            chinese, missing = translate_notebook(nb, read_translations(catalog))
            if missing:  # a half-English notebook is not the Chinese edition
                raise ValueError(
                    f"{catalog}: {len(missing)} message(s) of {name} not translated "
                    f"(or fuzzy), the first: {missing[0][:80]!r}; translate them "
                    "(python tools/translations.py update, then fill in the catalog)"
                )
            _name_itself(chinese, name)
            texts[f"zh_CN/{name}.ipynb"] = nbformat.writes(chinese) + "\n"
    return texts


def _name_itself(nb, name: str) -> None:
    """Point a Chinese notebook's commands at itself, not at the English one.

    The catalog's text is the book page's, which names ``exercises/NN.ipynb``
    (``pytest --nbval exercises/NN.ipynb``); a student of the Chinese notebook
    runs ``exercises/zh_CN/NN.ipynb``.
    """
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace(
                f"exercises/{name}.ipynb", f"exercises/zh_CN/{name}.ipynb"
            )


def release(solutions: Path, out: Path, translations: Path | None = None) -> list[Path]:
    """Write the student notebooks into ``out``; returns their paths."""
    written = []
    for name, text in released(solutions, translations).items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def stale(solutions: Path, out: Path, translations: Path | None = None) -> list[str]:
    """The student notebooks in ``out`` that differ from what ``release`` writes."""
    differing = []
    for name, text in released(solutions, translations).items():
        path = out / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            differing.append(name)
    return differing
