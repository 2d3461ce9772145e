"""The test suite fails on a broken course: feed it broken trees and watch.

Each case builds a small course in a temporary folder (the real _config.yml
and pytest configuration, one intro page, one chapter), breaks one thing, and
runs pytest on it in a subprocess, as CI would.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import notebook_rules
from rnn_lib import environment

ROOT = notebook_rules.ROOT
CHAPTER = "book/01_chapter"


def make_course(tmp_path: Path, chapter_code: str = "print(sum(range(4)))") -> Path:
    """A minimal course that passes every check."""
    course = tmp_path / "course"
    (course / "book").mkdir(parents=True)
    (course / "tests").mkdir()
    shutil.copy(ROOT / "_config.yml", course / "_config.yml")
    shutil.copy(ROOT / "pyproject.toml", course / "pyproject.toml")
    shutil.copy(
        ROOT / "tests" / "nbval_sanitize.cfg", course / "tests" / "nbval_sanitize.cfg"
    )
    (course / "_toc.yml").write_text(
        f"format: jb-book\nroot: book/intro\nchapters:\n  - file: {CHAPTER}\n"
    )
    (course / "book" / "intro.md").write_text("# Intro\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A chapter"),
        nbformat.v4.new_code_cell(notebook_rules.setup_cell_source(course)),
        nbformat.v4.new_code_cell(chapter_code),
    ]
    nbformat.write(nb, course / f"{CHAPTER}.ipynb")
    notebook_rules.fix_notebook(course / f"{CHAPTER}.ipynb", course)
    return course


def run_structure_tests(course: Path) -> subprocess.CompletedProcess:
    """Run tests/test_book_structure.py against ``course``."""
    env = {**os.environ, "COURSE_ROOT": str(course)}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            str(ROOT / "tests" / "test_book_structure.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def run_notebook(course: Path) -> subprocess.CompletedProcess:
    """Run pytest on the course's chapter with the project's configuration."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"{CHAPTER}.ipynb"],
        cwd=course,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_clean_course_passes(tmp_path):
    course = make_course(tmp_path)
    result = run_structure_tests(course)
    assert result.returncode == 0, result.stdout
    result = run_notebook(course)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_chapter_that_raises_fails(tmp_path):
    course = make_course(tmp_path, chapter_code="1 / 0")
    result = run_notebook(course)
    assert result.returncode == 1, result.stdout
    assert "ZeroDivisionError" in result.stdout


def test_a_notebook_with_outputs_fails(tmp_path):
    course = make_course(tmp_path)
    path = course / f"{CHAPTER}.ipynb"
    nb = json.loads(path.read_text())
    code_cell = nb["cells"][2]
    code_cell["execution_count"] = 1
    code_cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "6\n"}]
    path.write_text(json.dumps(nb))
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert "carries stored outputs" in result.stdout
    assert "carries an execution count" in result.stdout


@pytest.mark.parametrize(
    "break_it, message",
    [
        (
            lambda c: (c / f"{CHAPTER}.ipynb").unlink(),
            "but no book/01_chapter.ipynb or .md exists",
        ),
        (
            lambda c: (c / "book" / "02_stray.md").write_text("# Stray\n"),
            "book/02_stray.md is not listed in _toc.yml",
        ),
    ],
    ids=["toc-entry-missing-on-disk", "page-missing-from-toc"],
)
def test_toc_and_book_disagreeing_fails(tmp_path, break_it, message):
    course = make_course(tmp_path)
    break_it(course)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert message in result.stdout


def test_a_notebook_without_the_setup_cell_fails(tmp_path):
    course = make_course(tmp_path)
    path = course / f"{CHAPTER}.ipynb"
    nb = nbformat.read(path, as_version=4)
    del nb.cells[1]
    nb.metadata["kernelspec"]["name"] = "julia"
    nbformat.write(nb, path)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert "the first code cell is not the shared setup cell" in result.stdout
    assert "kernelspec must be 'python3', got 'julia'" in result.stdout


def test_a_setup_cell_without_its_hide_input_tag_fails(tmp_path):
    course = make_course(tmp_path)
    path = course / f"{CHAPTER}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, path)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert "the setup cell lacks the 'hide-input' tag" in result.stdout


# ---------------------------------------------------------------------------
# Figures, numbers in the prose, and the built book (issue 13's guard)
# ---------------------------------------------------------------------------


def add_cells(course: Path, *cells) -> None:
    """Append cells to the course's chapter."""
    path = course / f"{CHAPTER}.ipynb"
    nb = nbformat.read(path, as_version=4)
    nb.cells.extend(cells)
    nbformat.write(nb, path)


GLUED_FIGURE = """\
import matplotlib.pyplot as plt
from rnn_lib import glue
fig, ax = plt.subplots()
ax.plot([0, 1], [1, 0])
glue("ch1_line", fig, display=False)
plt.close(fig)"""


def figure_directive(options: str, caption: str) -> str:
    return f"```{{glue:figure}} ch1_line\n{options}\n{caption}\n```"


def test_a_captioned_named_figure_with_alt_text_passes(tmp_path):
    course = make_course(tmp_path)
    add_cells(
        course,
        nbformat.v4.new_code_cell(GLUED_FIGURE),
        nbformat.v4.new_markdown_cell(
            figure_directive(
                ":name: ch1-fig-line\n:alt: A line falling from 1 to 0.\n",
                "The line falls: what to see.",
            )
        ),
        nbformat.v4.new_markdown_cell(
            "Exercise 3.1 and exercises 3.2 and 3.3 run on Python 3.11 and "
            "ipywidgets 7.x; $0.5$, `0.25` and {glue:text}`ch1_loss:.2f` are not "
            "typed in the prose."
        ),
    )
    result = run_structure_tests(course)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    "options, caption, message",
    [
        (":alt: A line.\n", "The caption.", "lacks a :name:"),
        (":name: ch1-fig-line\n", "The caption.", "lacks an :alt: text"),
        (":name: ch1-fig-line\n:alt: A line.\n", "", "lacks a caption"),
        (
            ":name: ch1-fig-line\n:alt: 3f2a.png\n",
            "The caption.",
            "an :alt: text that describes it (not a file name)",
        ),
    ],
    ids=["no-name", "no-alt", "no-caption", "alt-is-a-file-name"],
)
def test_a_figure_without_a_name_a_caption_or_alt_text_fails(
    tmp_path, options, caption, message
):
    course = make_course(tmp_path)
    add_cells(
        course,
        nbformat.v4.new_code_cell(GLUED_FIGURE),
        nbformat.v4.new_markdown_cell(figure_directive(options, caption)),
    )
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert message in result.stdout


@pytest.mark.parametrize(
    "code, metadata, message",
    [
        (
            "import matplotlib.pyplot as plt\nplt.plot([0, 1])",
            {},
            "draws a figure that the book shows without a caption",
        ),
        (
            "from rnn_lib import glue, plotting\n"
            "fig = plotting.plot_unrolled_rnn(2)\n"
            "glue('ch1_fig', fig, display=False)",
            {},
            "glues a figure without closing it",
        ),
        (
            "import matplotlib.pyplot as plt\nplt.plot([0, 1])",
            {"mystnb": {"figure": {"caption": "A line.", "name": "ch1-fig-a"}}},
            "lacks image alt text (mystnb.image.alt)",
        ),
    ],
    ids=["drawn-bare", "glued-not-closed", "metadata-without-alt"],
)
def test_a_cell_that_shows_a_figure_without_caption_or_twice_fails(
    tmp_path, code, metadata, message
):
    course = make_course(tmp_path)
    cell = nbformat.v4.new_code_cell(code)
    cell.metadata.update(metadata)
    add_cells(course, cell)
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert message in result.stdout


@pytest.mark.parametrize(
    "prose, number",
    [
        ("The run took 1.5 s.", "1.5"),
        ("It made 5,514 steps in its minute.", "5,514"),
        ("```{admonition} Measured\nThe loss reached 1.549 nats.\n```", "1.549"),
        ("```{exercise} After 0.25 s\n:label: ch1-ex\n\nWhy?\n```", "0.25"),
    ],
    ids=["decimal", "thousands", "inside-a-directive", "in-a-title"],
)
def test_a_number_typed_in_the_prose_fails(tmp_path, prose, number):
    course = make_course(tmp_path)
    add_cells(course, nbformat.v4.new_markdown_cell(prose))
    result = run_structure_tests(course)
    assert result.returncode == 1
    assert f"the number {number} is typed in the prose" in result.stdout


def run_built_tests(course: Path, html: Path) -> subprocess.CompletedProcess:
    """Run tests/test_built_pages.py against ``course`` built into ``html``."""
    env = {**os.environ, "COURSE_ROOT": str(course), "BOOK_HTML": str(html)}
    env.pop("REQUIRE_BROWSER_TEST", None)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            str(ROOT / "tests/test_built_pages.py"),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def fake_build(course: Path, article: str, outputs: list) -> Path:
    """A built book in the layout jupyter-book writes: html/ and jupyter_execute/."""
    html = course / "_build" / "html"
    (html / "book").mkdir(parents=True)
    (html / "_images").mkdir()
    (html / "_images" / "a1.png").write_bytes(PNG)
    (html / "_images" / "b2.png").write_bytes(PNG)  # the same picture again
    (html / "search.html").write_text("<html></html>")
    (html / "book" / "01_chapter.html").write_text(
        f"<html><body><article class='bd-article'>{article}</article></body></html>"
    )
    executed = course / "_build" / "jupyter_execute" / "book"
    executed.mkdir(parents=True)
    nb = nbformat.read(course / f"{CHAPTER}.ipynb", as_version=4)
    nb.cells[-1].outputs = [nbformat.from_dict(output) for output in outputs]
    nbformat.write(nb, executed / "01_chapter.ipynb")
    return html


GOOD_FIGURE = (
    "<figure id='ch1-fig-line'><img alt='A line falling' src='../_images/a1.png'>"
    "<figcaption><p>The line falls.</p></figcaption></figure>"
)


def test_a_clean_build_passes(tmp_path):
    course = make_course(tmp_path)
    html = fake_build(
        course,
        GOOD_FIGURE,
        [{"output_type": "stream", "name": "stdout", "text": "6\n"}],
    )
    result = run_built_tests(course, html)
    assert result.returncode == 0, result.stdout
    assert "4 passed" in result.stdout


@pytest.mark.parametrize(
    "article, outputs, message",
    [
        (
            "<img alt='../_images/a1.png' src='../_images/a1.png'>",
            [],
            "the image ../_images/a1.png is shown without a caption",
        ),
        (
            "<figure id='f'><img alt='../_images/a1.png' src='../_images/a1.png'>"
            "<figcaption>A line.</figcaption></figure>",
            [],
            "has no alt text",
        ),
        (
            GOOD_FIGURE.replace("id='ch1-fig-line'", ""),
            [],
            "has no name to reference it",
        ),
        (
            GOOD_FIGURE + GOOD_FIGURE.replace("a1.png", "b2.png"),
            [],
            "is embedded twice",
        ),
        (
            GOOD_FIGURE,
            [
                {
                    "output_type": "stream",
                    "name": "stderr",
                    "text": "  0%|          | 0/300 [00:00<?, ?it/s]",
                }
            ],
            "writes to stderr",
        ),
        (
            GOOD_FIGURE,
            [
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"text/plain": "  0%|          | 0/300 [00:00<?, ?it/s]"},
                }
            ],
            "shows a progress bar",
        ),
        (
            GOOD_FIGURE,
            [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": "model.py:3: UserWarning: dropout does nothing here\n",
                }
            ],
            "shows a warning",
        ),
    ],
    ids=[
        "image-without-figure",
        "alt-is-the-file-name",
        "figure-without-name",
        "image-twice",
        "stderr",
        "progress-bar",
        "warning",
    ],
)
def test_a_built_chapter_that_a_reader_would_see_wrong_fails(
    tmp_path, article, outputs, message
):
    course = make_course(tmp_path)
    html = fake_build(course, article, outputs)
    result = run_built_tests(course, html)
    assert result.returncode == 1, result.stdout
    assert message in result.stdout


def test_pending_pages_are_not_checked_yet(tmp_path, monkeypatch):
    course = make_course(tmp_path)
    add_cells(course, nbformat.v4.new_markdown_cell("The run took 1.5 s."))
    path = course / f"{CHAPTER}.ipynb"
    assert notebook_rules.prose_number_problems(path, course)
    monkeypatch.setattr(notebook_rules.allowlist, "PENDING", {f"{CHAPTER}.ipynb"})
    assert notebook_rules.prose_number_problems(path, course) == []


MINIMAL_CONFIG = """\
title: A crafted course
only_build_toc_files: true
execute:
  execute_notebooks: force
  timeout: 120
sphinx:
  config:
    nb_execution_raise_on_error: true
"""


@pytest.mark.slow
def test_a_real_build_of_a_bad_chapter_fails_and_of_a_good_one_passes(tmp_path):
    """jupyter-book builds two crafted chapters; only the bad one's faults show."""
    course = make_course(tmp_path)
    (course / "_config.yml").write_text(MINIMAL_CONFIG)  # no offline assets
    (course / "_toc.yml").write_text(
        "format: jb-book\nroot: book/intro\nchapters:\n"
        f"  - file: {CHAPTER}\n  - file: book/02_bad\n"
    )
    add_cells(
        course,
        nbformat.v4.new_code_cell(GLUED_FIGURE),
        nbformat.v4.new_markdown_cell(
            figure_directive(
                ":name: ch1-fig-line\n:alt: A falling line.\n", "It falls."
            )
        ),
    )
    bad = nbformat.read(course / f"{CHAPTER}.ipynb", as_version=4)
    bad.cells = bad.cells[:2] + [
        # glued, not closed: shown bare and in its figure
        nbformat.v4.new_code_cell(GLUED_FIGURE.replace("plt.close(fig)", "")),
        nbformat.v4.new_markdown_cell(
            figure_directive(
                ":name: ch2-fig-line\n:alt: A falling line.\n", "It falls."
            )
        ),
        nbformat.v4.new_code_cell(
            "import warnings\nfrom tqdm.auto import tqdm\n"
            "for _ in tqdm(range(3)):\n    pass\nwarnings.warn('careful')"
        ),
    ]
    nbformat.write(bad, course / "book" / "02_bad.ipynb")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"  # the venv's
    # As the book's own build (_ext/execute_once.py) does: a glued figure is
    # then shown only where a figure directive pastes it.
    env = {**os.environ, environment.BOOK_BUILD: "1"}
    build = subprocess.run(
        [str(jupyter_book), "build", str(course)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    problems = notebook_rules.built_problems(course / "_build" / "html", course)
    assert problems, "the bad chapter's faults were not found"
    assert all("02_bad" in problem for problem in problems), "\n".join(problems)
    for message in (
        "is shown without a caption",
        "is embedded twice",
        "shows a progress bar",
        "writes to stderr",
    ):
        assert any(message in problem for problem in problems), (message, problems)


@pytest.mark.parametrize("closes, problems", [(True, 0), (False, 1)])
def test_a_notebooks_own_glue_and_close_helper_counts_only_if_it_closes(
    tmp_path, closes, problems
):
    close = "\n    plt.close(fig)" if closes else ""
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import matplotlib.pyplot as plt\nfrom rnn_lib import glue\n\n\n"
                f"def glue_figure(name, fig):\n    glue(name, fig, display=False){close}"
            ),
            nbformat.v4.new_code_cell(
                "from rnn_lib import plotting\n"
                "glue_figure('ch1_fig', plotting.plot_unrolled_rnn(2))"
            ),
        ]
    )
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    found = notebook_rules._drawing_cell_problems(path, "chapter.ipynb")
    assert len(found) == problems, found


def test_chinese_exercise_numbers_are_not_typed_numbers():
    assert notebook_rules.typed_numbers("见练习 7.5 至 7.7 与检查 3.1。") == []
    assert notebook_rules.typed_numbers("损失为 1.55 奈特。") == ["1.55"]
