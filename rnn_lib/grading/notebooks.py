"""Solution regions in exercise notebooks: find them, match them, fill them.

Used by ``python -m rnn_lib.grading release`` (:mod:`rnn_lib.grading.release`
stubs the regions) and ``grade`` (which fills a submission's regions into a
pristine student version, the way the student's own notebook runs them:
:func:`fill_notebook`); the Exercises part of the book. The source of truth
is ``exercises/solutions/NN_name.ipynb``: the code a student writes sits
between the nbgrader markers

    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

inside a function whose signature and docstring stay outside the markers. The
cell's metadata names the exercise (``"rnn_grading": {"exercise": "3.1"}``).
Cells tagged ``grader`` call one check each and carry
``"rnn_grading": {"check": "3.1 rnn_step", "points": 1}``; cells tagged
``solution`` (worked explanations) are left out of the student version.
Read next: :mod:`rnn_lib.grading.release`.
"""

from __future__ import annotations

import copy
import dataclasses
import re

import nbformat

BEGIN = "### BEGIN SOLUTION"
END = "### END SOLUTION"
GRADER_TAG = "grader"
SOLUTION_TAG = "solution"
METADATA_KEY = "rnn_grading"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


@dataclasses.dataclass
class Region:
    """One solution region of a code cell.

    Attributes:
        cell_index: the cell's position in the notebook.
        cell_id: the cell's nbformat id ('' if it has none).
        position: which region of the cell this is (0 for the first).
        function: the ``def`` the region sits in ('' at the top level).
        start, stop: the region's lines are ``lines[start:stop]`` of the
            cell, the marker lines excluded.
        body: those lines, joined.
    """

    cell_index: int
    cell_id: str
    position: int
    function: str
    start: int
    stop: int
    body: str


def cell_regions(source: str, cell_index: int = 0, cell_id: str = "") -> list[Region]:
    """The solution regions of one cell's source.

    Raises:
        ValueError: if the markers do not pair up (a BEGIN without its END,
            an END without a BEGIN, or a BEGIN inside a region).
    """
    lines = source.split("\n")
    regions, begin, function = [], None, ""
    for number, line in enumerate(lines):
        match = _DEF.match(line)
        if match and begin is None:
            function = match.group(1)
        marker = line.strip()
        if marker == BEGIN:
            if begin is not None:
                raise ValueError(f"line {number + 1}: {BEGIN} inside another region")
            begin = number
        elif marker == END:
            if begin is None:
                raise ValueError(f"line {number + 1}: {END} without {BEGIN}")
            body = "\n".join(lines[begin + 1 : number])
            regions.append(
                Region(
                    cell_index, cell_id, len(regions), function, begin + 1, number, body
                )
            )
            begin = None
    if begin is not None:
        raise ValueError(f"line {begin + 1}: {BEGIN} without {END}")
    return regions


def notebook_regions(nb: nbformat.NotebookNode, strict: bool = True) -> list[Region]:
    """Every solution region of a notebook, in order.

    With ``strict=False`` (a student's submission), a cell whose markers do
    not pair up contributes no region instead of raising.
    """
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            found.extend(cell_regions(cell.source, index, cell.get("id", "")))
        except ValueError:
            if strict:
                raise
    return found


def match_regions(
    pristine: list[Region], submitted: list[Region]
) -> list[Region | None]:
    """For each pristine region, the submitted region that fills it (or None).

    A region is matched by its cell's id and position first (Jupyter keeps
    cell ids), then by the function it sits in (cell ids lost, e.g. Colab),
    then by order when the submission has exactly as many regions.
    """
    by_id = {(r.cell_id, r.position): r for r in submitted if r.cell_id}
    by_function: dict[str, list[Region]] = {}
    for region in submitted:
        by_function.setdefault(region.function, []).append(region)
    used: set[int] = set()
    matches: list[Region | None] = []
    for region in pristine:
        found = by_id.get((region.cell_id, region.position)) if region.cell_id else None
        if found is None or id(found) in used:
            candidates = [
                r for r in by_function.get(region.function, []) if id(r) not in used
            ]
            found = candidates[0] if region.function and candidates else None
        matches.append(found)
        if found is not None:
            used.add(id(found))
    if any(m is None for m in matches) and len(submitted) == len(pristine):
        matches = [m if m is not None else s for m, s in zip(matches, submitted)]
    return matches


def _chosen(pristine: list[Region], submitted: list[Region]) -> list[Region | None]:
    """For each pristine region, the submitted one whose code the notebook ends up running.

    That is the match of :func:`match_regions`, unless the same function has a
    region further down (a copy of the cell, solved below the stub): the
    later definition is the one a notebook run in order keeps.
    """
    functions = {region.function for region in pristine if region.function}
    last = {r.function: r for r in submitted if r.function in functions}
    return [
        last.get(region.function, match) if region.function else match
        for region, match in zip(pristine, match_regions(pristine, submitted))
    ]


def fill_notebook(
    pristine: nbformat.NotebookNode, submitted: list[Region]
) -> tuple[nbformat.NotebookNode, list[str], list[str]]:
    """A copy of the student version with the submitted code put in, as it would run.

    Each pristine region gets the body of its chosen submitted region
    (:func:`_chosen`). A submitted region at the top level of a cell that
    fills no pristine region (a helper the student added, between markers)
    becomes a cell of its own, after the solution cell whose region precedes
    it in the submission, so that the code runs in the submission's order.
    A region inside a function the exercise does not have is left out (its
    ``def`` line lies outside the markers) and said so.

    Returns:
        the notebook; the names of the functions whose region the submission
        lacks (their stubs stay); sentences about regions left out.
    """
    nb = copy.deepcopy(pristine)
    regions = notebook_regions(nb)
    chosen = _chosen(regions, submitted)
    missing = []
    by_cell: dict[int, list[tuple[Region, Region]]] = {}
    for region, match in zip(regions, chosen):
        if match is None:
            missing.append(
                region.function
                or f"region {region.position} of cell {region.cell_index}"
            )
        else:
            by_cell.setdefault(region.cell_index, []).append((region, match))
    for index, pairs in by_cell.items():
        lines = nb.cells[index].source.split("\n")
        for region, match in reversed(pairs):
            lines[region.start : region.stop] = match.body.split("\n")
        nb.cells[index].source = "\n".join(lines)
    helpers, notes = _helpers(regions, chosen, submitted)
    for index in sorted(helpers, reverse=True):
        cells = [nbformat.v4.new_code_cell(body) for body in helpers[index]]
        nb.cells[index + 1 : index + 1] = cells
    return nb, missing, notes


def _helpers(
    regions: list[Region], chosen: list[Region | None], submitted: list[Region]
) -> tuple[dict[int, list[str]], list[str]]:
    """The top-level regions that fill nothing, by the pristine cell they follow."""
    cell_of = {id(match): region.cell_index for region, match in zip(regions, chosen)}
    first_solution = min((region.cell_index for region in regions), default=0)
    helpers: dict[int, list[str]] = {}
    notes = []
    after = first_solution - 1  # before the first solution cell, until one is seen
    for region in submitted:
        if id(region) in cell_of:
            after = cell_of[id(region)]
        elif not region.function:
            helpers.setdefault(after, []).append(region.body)
        elif region.function not in {r.function for r in regions}:
            notes.append(
                f"the solution region inside def {region.function} (cell "
                f"{region.cell_index}) was left out: {region.function} is not one of "
                "the exercise's functions, and only the code between the markers is "
                "graded; define helpers inside a region of their own, at the top level"
            )
    return helpers, notes


def grader_cells(nb: nbformat.NotebookNode) -> list[tuple[int, str, float]]:
    """``(cell index, check name, points)`` for each grader cell, in order."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and GRADER_TAG in cell.metadata.get("tags", []):
            info = cell.metadata.get(METADATA_KEY, {})
            found.append(
                (
                    index,
                    info.get("check", f"cell {index}"),
                    float(info.get("points", 1)),
                )
            )
    return found
