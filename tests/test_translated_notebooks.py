"""Tests for the Chinese student notebooks (rnn_lib/grading/translation.py) and
for the markup check of tools/translations.py.

A notebook's prose is looked up block by block in the catalog Sphinx writes
for the book; these tests pin how a block becomes a message and how its
translation goes back into the Markdown, and that the check catches a
translation that lost a role, an equation or a code span.
"""

from pathlib import Path

import nbformat
import pytest
import translations

from rnn_lib.grading import release
from rnn_lib.grading.translation import (
    message_id,
    translate_markdown,
    translate_notebook,
)

SOURCE = """\
# Exercises for chapter 3

A paragraph on two lines, with $h_t$
and {glue:text}`answer:.2f`.

1. first item,
   continued
2. second item

| Symbol | Meaning |
|---|---|
| $h_t$ | hidden state |

> a quoted line
> and another

```{admonition} A title
:class: note

Inside the directive
on two lines.
```

$$
h_t = \\tanh(a_t)
$$"""

CHINESE = {
    "Exercises for chapter 3": "第 3 章练习",
    "A paragraph on two lines, with $h_t$ and {glue:text}`answer:.2f`.": "一段话，含 $h_t$ 与 {glue:text}`answer:.2f`。",
    "first item, continued": "第一项",
    "second item": "第二项",
    "Symbol": "符号",
    "Meaning": "含义",
    "hidden state": "隐状态",
    "a quoted line and another": "引用的一行",
    "Inside the directive on two lines.": "指令之内。",
    "A title": "标题",
}

EXPECTED = """\
# 第 3 章练习

一段话，含 $h_t$ 与 {glue:text}`answer:.2f`。

1. 第一项
2. 第二项

| 符号 | 含义 |
|---|---|
| $h_t$ | 隐状态 |

> 引用的一行

```{admonition} 标题
:class: note

指令之内。
```

$$
h_t = \\tanh(a_t)
$$"""


def test_every_block_is_replaced_by_its_translation():
    text, missing = translate_markdown(SOURCE, CHINESE)
    assert text == EXPECTED
    # $h_t$ alone has no prose but is still looked up: the catalogs hold it,
    # filled with itself
    assert missing == ["$h_t$"]


def test_a_message_is_the_block_with_its_line_breaks_as_spaces():
    # as Sphinx's gettext builder writes it: node.rawsource.replace("\n", " ").strip()
    assert message_id("one\ntwo \n") == "one two"


def test_untranslated_blocks_stay_english_and_are_reported():
    text, missing = translate_markdown("Hello\nworld.\n\n## Title", {"Title": "标题"})
    assert text == "Hello\nworld.\n\n## 标题"
    assert missing == ["Hello world."]


def test_a_translated_notebook_keeps_its_code_and_cells():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell("second item"),
            nbformat.v4.new_code_cell("x = 1  # second item"),
        ]
    )
    nb.cells[1].metadata["rnn_grading"] = {"exercise": "3.1"}
    chinese, missing = translate_notebook(nb, CHINESE)
    assert [c.source for c in chinese.cells] == ["第二项", "x = 1  # second item"]
    assert [c.id for c in chinese.cells] == [c.id for c in nb.cells]
    assert chinese.cells[1].metadata == nb.cells[1].metadata
    assert nb.cells[0].source == "second item"  # the original is untouched
    assert missing == []


def _complete_catalog(tmp_path, name, skip: int | None = None):
    """A catalog translating every message of exercise ``name`` (but number ``skip``)."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    student = release.student_versions(release.PACKAGED)[name]
    _, messages = translate_notebook(student, {})
    catalog = Catalog(locale="zh_CN")
    for i, message in enumerate(messages):
        if i != skip:
            catalog.add(message, "练习" if i == 0 else f"译文 {i}")
    with (tmp_path / f"{name}.po").open("wb") as file:
        write_po(file, catalog)
    return messages


def test_release_writes_a_chinese_notebook_where_a_catalog_is(tmp_path):
    name = release.solution_paths(release.PACKAGED)[0].stem
    _complete_catalog(tmp_path, name)
    texts = release.released(release.PACKAGED, tmp_path)
    assert f"zh_CN/{name}.ipynb" in texts
    assert sum(path.startswith("zh_CN/") for path in texts) == 1
    chinese = nbformat.reads(texts[f"zh_CN/{name}.ipynb"], as_version=4)
    english = nbformat.reads(texts[f"{name}.ipynb"], as_version=4)
    assert any(c.source.startswith("# 练习") for c in chinese.cells)
    assert [c.source for c in chinese.cells if c.cell_type == "code"] == [
        c.source for c in english.cells if c.cell_type == "code"
    ]


def test_release_refuses_a_chinese_notebook_with_an_untranslated_message(tmp_path):
    name = release.solution_paths(release.PACKAGED)[0].stem
    messages = _complete_catalog(tmp_path, name, skip=1)
    with pytest.raises(ValueError, match="1 message\\(s\\) of .* not translated"):
        release.released(release.PACKAGED, tmp_path)
    assert len(messages) > 2


@pytest.mark.parametrize(
    "chinese, problem",
    [
        ("答案是 {glue:text}`answer:.3f`，$h_t$，`x`。", "roles missing"),
        ("答案是 {glue:text}`answer:.2f`，$h_{t}$，`x`。", "math missing"),
        ("答案是 {glue:text}`answer:.2f`，$h_t$，x。", "code missing"),
        (
            "答案是 {glue:text}`answer:.2f`，$h_t$，`x`，见{ref}`记号 <notation>`。",
            "roles not in",
        ),
    ],
    ids=["glue-format", "math", "code", "added-role"],
)
def test_the_check_catches_lost_markup(chinese, problem):
    english = "The answer is {glue:text}`answer:.2f`, $h_t$ and `x`."
    problems = translations.markup_problems(english, chinese)
    assert any(p.startswith(problem) for p in problems), problems


def test_the_check_accepts_a_translated_link_title():
    english = "See the {ref}`notation page <notation-page>` and {term}`hidden state`."
    chinese = "见{ref}`记号页 <notation-page>`与{term}`隐状态 <hidden state>`。"
    assert translations.markup_problems(english, chinese) == []
    # but not a changed target
    wrong = "见{ref}`记号页 <notation>`与{term}`隐状态`。"
    assert len(translations.markup_problems(english, wrong)) == 2


@pytest.mark.parametrize(
    "message, prose",
    [
        ("\nh_t = \\tanh(a_t)\n", False),
        ("`(N, H_out)`", False),
        ("$W_{ih}$, $W_{hh}$", False),
        ("{doc}`05_backpropagation_through_time`", False),
        ("the hidden state $h_t$", True),
        ("{ref}`notation page <notation-page>`", True),
    ],
)
def test_messages_without_prose_are_recognised(message, prose):
    assert translations.has_prose(message) is prose


CHINESE_STUDENTS = Path(__file__).resolve().parents[1] / "exercises" / "zh_CN"


@pytest.mark.slow
@pytest.mark.parametrize("name", ["03_rnn_step", "05_bptt", "10_parallel_scan"])
def test_a_chinese_notebook_answered_correctly_gets_full_marks(tmp_path, name):
    """The grader grades a Chinese student notebook exactly as the English one."""
    from rnn_lib.grading.grade import Settings, grade
    from rnn_lib.grading.notebooks import notebook_regions

    chinese = CHINESE_STUDENTS / f"{name}.ipynb"
    if not chinese.is_file():
        pytest.skip("no Chinese student notebooks yet (exercises/zh_CN)")
    solution = nbformat.read(release.PACKAGED / f"{name}.ipynb", as_version=4)
    bodies = {r.function: r.body for r in notebook_regions(solution)}
    nb = nbformat.read(chinese, as_version=4)
    for region in notebook_regions(nb):
        cell = nb.cells[region.cell_index]
        lines = cell.source.split("\n")
        lines[region.start : region.stop] = bodies[region.function].split("\n")
        cell.source = "\n".join(lines)
    folder = tmp_path / name
    folder.mkdir()
    nbformat.write(nb, folder / "answered.ipynb")
    settings = Settings(cell_timeout=60, timeout=300, memory_mb=3072)
    (result,) = grade([folder / "answered.ipynb"], None, settings=settings, log=str)
    assert result.status == "ok", result
    assert result.total == result.max_points > 0, result


def test_a_chinese_notebook_names_itself_in_its_commands():
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_markdown_cell(
                "用 `pytest --nbval exercises/05_bptt.ipynb` 评分。"
            ),
            nbformat.v4.new_code_cell("path = 'exercises/05_bptt.ipynb'"),
        ]
    )
    release._name_itself(nb, "05_bptt")
    assert (
        nb.cells[0].source == "用 `pytest --nbval exercises/zh_CN/05_bptt.ipynb` 评分。"
    )
    assert nb.cells[1].source == "path = 'exercises/05_bptt.ipynb'"  # code unchanged
