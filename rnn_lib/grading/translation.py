"""The Chinese student notebooks: an exercise's prose from its catalog.

``release`` writes ``exercises/zh_CN/NN_name.ipynb`` beside each student
notebook whose catalog ``locales/zh_CN/LC_MESSAGES/exercises/NN_name.po``
exists: the same cells, ids and metadata, so the same checks grade it, with
each Markdown paragraph, heading, list item and table cell replaced by its
translation. A message is looked up the way Sphinx's gettext builder writes
it for the book's Chinese edition (the paragraph's MyST source, its line
breaks as spaces), so the book and the notebooks share one catalog. Code, its
comments and the checks' feedback stay in English.

It needs the book's packages (``myst-parser`` and ``babel``, which
``requirements.txt`` installs), imported when first used. Read next:
:mod:`rnn_lib.grading.grade`.
"""

from __future__ import annotations

import copy
import functools
import re
from pathlib import Path

import nbformat

LOCALE = "zh_CN"
DIRECTIVE = re.compile(r"^\{([\w:-]+)\}\s*(.*)$")
OPTION = re.compile(r"^:[\w-]+:")


def read_translations(path: Path) -> dict[str, str]:
    """The translated, non-fuzzy messages of one ``.po`` catalog: English -> Chinese."""
    from babel.messages.pofile import read_po

    with Path(path).open("rb") as file:
        catalog = read_po(file, locale=LOCALE)
    return {m.id: m.string for m in catalog if m.id and m.string and not m.fuzzy}


@functools.cache
def _parser():
    # The book's MyST extensions (_config.yml), so blocks split as they do there.
    from myst_parser.config.main import MdParserConfig
    from myst_parser.mdit_to_docutils.base import DocutilsRenderer
    from myst_parser.parsers.mdit import create_md_parser

    extensions = {"amsmath", "dollarmath", "colon_fence", "deflist", "substitution"}
    return create_md_parser(
        MdParserConfig(enable_extensions=extensions), DocutilsRenderer
    )


def message_id(source: str) -> str:
    """A block's source as its gettext message: line breaks as spaces, stripped."""
    return source.replace("\n", " ").strip()


def translate_markdown(
    source: str, translations: dict[str, str]
) -> tuple[str, list[str]]:
    """``source`` with every translatable block replaced by its translation.

    Returns:
        the translated text and the messages that had no translation.
    """
    lines = source.split("\n")
    searched_from = [0] * len(lines)  # table cells share a line: left to right
    dropped: set[int] = set()
    missing = []
    replaced_bodies = []
    for token in _parser().parse(source):
        if token.type == "inline" and token.map and token.content.strip():
            message = message_id(token.content)
            if message not in translations:
                if message:
                    missing.append(message)
                continue
            first, *rest = token.content.split("\n")
            line = token.map[0]
            at = lines[line].find(first, searched_from[line])
            if at < 0:
                raise ValueError(f"cannot find {first!r} in line {line} of {source!r}")
            new = translations[message]
            lines[line] = lines[line][:at] + new + lines[line][at + len(first) :]
            searched_from[line] = at + len(new)
            for offset, part in enumerate(rest, start=1):
                lines[line + offset] = lines[line + offset].replace(part.strip(), "", 1)
                if not lines[line + offset].strip(" >"):
                    dropped.add(line + offset)
        elif token.type in ("fence", "colon_fence") and token.map:
            body = _translate_directive(token, translations, missing)
            if body is not None:
                replaced_bodies.append((token.map, body))
                lines[token.map[0]] = _translate_title(
                    lines[token.map[0]], translations, missing
                )
    for (start, end), body in reversed(replaced_bodies):
        indent = re.match(r"\s*", lines[start]).group(0)
        body_lines = [indent + line if line else line for line in body.split("\n")]
        lines[start + 1 : end - 1] = body_lines
    kept = [line for i, line in enumerate(lines) if i not in dropped]
    return "\n".join(kept), missing


def _translate_title(
    line: str, translations: dict[str, str], missing: list[str]
) -> str:
    """A directive's opening line with its title (an admonition's) translated."""
    fence, _, rest = line.partition("}")
    title = rest.strip()
    if not title:
        return line
    if title not in translations:
        missing.append(title)
        return line
    return f"{fence}}} {translations[title]}"


def _translate_directive(token, translations, missing) -> str | None:
    """A directive's body translated (its options kept), or None if not a directive."""
    directive = DIRECTIVE.match(token.info.strip())
    if not directive or directive.group(1) in (
        "math",
        "code-cell",
        "code-block",
        "code",
    ):
        return None
    body = token.content.rstrip("\n").split("\n")
    options = 0
    while options < len(body) and OPTION.match(body[options]):
        options += 1
    text, lost = translate_markdown("\n".join(body[options:]), translations)
    missing.extend(lost)
    return "\n".join(body[:options] + [text] if options else [text])


def translate_notebook(
    nb: nbformat.NotebookNode, translations: dict[str, str]
) -> tuple[nbformat.NotebookNode, list[str]]:
    """A copy of ``nb`` whose Markdown cells are translated; code cells unchanged.

    Returns:
        the notebook and the messages that had no translation.
    """
    translated = copy.deepcopy(nb)
    missing = []
    for cell in translated.cells:
        if cell.cell_type == "markdown":
            cell.source, lost = translate_markdown(cell.source, translations)
            missing.extend(lost)
    return translated, missing
