"""The rules every notebook of the course follows, and a fixer for them.

A notebook under ``book/`` or ``exercises/`` is stored without outputs or
execution counts, has the ``python3`` kernelspec, starts its code with the
shared setup cell (:data:`SETUP_TEMPLATE`, tagged ``hide-input`` so that the
book shows it folded), and is listed in ``_toc.yml``.

Every page also follows the rules a reader of the built book sees:

* every figure has a name to reference it by, a caption and alt text
  (:func:`figure_problems`);
* no number a reader could take for a measurement is typed in the prose: a
  decimal or thousands-separated number outside math, code and glue is glued
  from the code instead (:func:`prose_number_problems`); exercise, section,
  equation and version numbers are exempt by pattern, and
  ``tools/notebook_rules_allowlist.py`` holds the few others, each with its
  reason;
* in the built book (:func:`built_problems`, after ``jupyter-book build``):
  every image sits in a figure with a caption and alt text that is not its
  file name, no image is embedded twice on a page, and no executed chapter
  shows a progress bar or writes a warning (anything on stderr).

The allowlist's ``PENDING`` set names the pages these three rules skip while
they are being fixed.

    python tools/notebook_rules.py            # report problems, exit 1 if any
    python tools/notebook_rules.py --built _build/html   # the built book too
    python tools/notebook_rules.py --fix F..  # strip outputs, set kernelspec,
                                              # write the setup cell first
"""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_rules_allowlist as allowlist  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIRS = ("book", "exercises")
REPOSITORY_PLACEHOLDER = "{repository_url}"
SETUP_TAG = "hide-input"  # the book folds the setup cell away

# The first code cell of every notebook. ``{repository_url}`` is filled from
# _config.yml so that the URL lives in one place. RNN_LIB_SOURCE lets a test
# (or an instructor's mirror) install from elsewhere, e.g. a local checkout.
SETUP_TEMPLATE = """\
# Setup, the same in every notebook: import rnn_lib (installing it on Colab or
# a bare Jupyter), seed every generator, pick the device (CUDA, else CPU).
import os
import subprocess
import sys

try:
    import rnn_lib
except ImportError:
    source = os.environ.get(
        "RNN_LIB_SOURCE", "git+{repository_url}.git"
    )
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", source], check=True)
    import rnn_lib
device = rnn_lib.setup_notebook(seed=0)"""


def repository_url(root: Path = ROOT) -> str:
    """The repository URL from _config.yml, without a trailing slash."""
    config = yaml.safe_load((root / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/")


def setup_cell_source(root: Path = ROOT) -> str:
    return SETUP_TEMPLATE.replace(REPOSITORY_PLACEHOLDER, repository_url(root))


def toc_files(root: Path = ROOT) -> list[str]:
    """Every ``file:`` entry of _toc.yml (root included), in order, no suffix."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    found = [toc["root"]]

    def walk(node):
        if isinstance(node, dict):
            if "file" in node:
                found.append(node["file"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk({k: v for k, v in toc.items() if k != "root"})
    return found


def page_files(root: Path = ROOT) -> list[Path]:
    """The pages on disk that belong in the book: notebooks and markdown."""
    pages = []
    for folder in NOTEBOOK_DIRS:
        for path in sorted((root / folder).rglob("*")):
            if ".ipynb_checkpoints" in path.parts or path.suffix not in {
                ".ipynb",
                ".md",
            }:
                continue
            pages.append(path)
    return pages


def notebook_problems(path: Path, root: Path = ROOT) -> list[str]:
    """What is wrong with one notebook, as readable sentences (empty if fine)."""
    name = path.relative_to(root).as_posix()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as error:  # nbformat raises several unrelated types
        return [f"{name}: not a readable notebook ({error})"]
    problems = []
    kernel = nb.metadata.get("kernelspec", {}).get("name")
    if kernel != "python3":
        problems.append(f"{name}: kernelspec must be 'python3', got {kernel!r}")
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if cell.get("outputs"):
            problems.append(f"{name}: cell {index} carries stored outputs")
        if cell.get("execution_count") is not None:
            problems.append(f"{name}: cell {index} carries an execution count")
    if not code:
        problems.append(f"{name}: has no code cell, so no setup cell")
    elif code[0].source.strip() != setup_cell_source(root):
        problems.append(f"{name}: the first code cell is not the shared setup cell")
    elif SETUP_TAG not in code[0].metadata.get("tags", []):
        problems.append(f"{name}: the setup cell lacks the {SETUP_TAG!r} tag")
    return problems


def toc_problems(root: Path = ROOT) -> list[str]:
    """Pages on disk missing from _toc.yml, and _toc.yml entries missing on disk."""
    listed = toc_files(root)
    problems = []
    for entry in listed:
        if not any(
            (root / f"{entry}{suffix}").exists() for suffix in (".ipynb", ".md")
        ):
            problems.append(
                f"_toc.yml lists {entry!r}, but no {entry}.ipynb or .md exists"
            )
    listed_set = set(listed)
    for page in page_files(root):
        entry = page.relative_to(root).with_suffix("").as_posix()
        if entry not in listed_set:
            problems.append(
                f"{page.relative_to(root).as_posix()} is not listed in _toc.yml"
            )
    if len(listed) != len(listed_set):
        duplicates = sorted({entry for entry in listed if listed.count(entry) > 1})
        problems.append(f"_toc.yml lists these more than once: {duplicates}")
    return problems


# ---------------------------------------------------------------------------
# What a reader sees: figures and the numbers in the prose
# ---------------------------------------------------------------------------

# A fence opens a code block or a MyST directive: ```lang, ```{name} args, :::{name}.
FENCE = re.compile(r"^\s*(`{3,}|~{3,}|:{3,})\s*(?:\{([^}\s]+)\})?\s*(.*?)\s*$")
OPTION = re.compile(r"^\s*:([\w-]+):\s*(.*?)\s*$")
# Directives whose body is code or math, not prose.
CODE_DIRECTIVES = {"code", "code-block", "code-cell", "math", "raw", "eval-rst"}
# Directives whose argument is a key, a path or a label, not a title.
REFERENCE_ARGUMENT = {
    "glue",
    "glue:any",
    "glue:figure",
    "glue:math",
    "glue:md",
    "figure",
    "image",
    "solution",
    "include",
    "literalinclude",
    "bibliography",
    "nb-exec-table",
}
FIGURE_DIRECTIVES = {"figure", "glue:figure"}
# Directive options whose value a reader reads (a screen reader, here).
PROSE_OPTIONS = {"alt"}
IMAGE_FILE = re.compile(r"\.(png|svg|jpe?g|gif|webp)$", re.IGNORECASE)
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")

# What is not prose: math, code spans, roles (glue, ref, cite ...), links' targets.
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.DOTALL)
ENVIRONMENT = re.compile(r"\\begin\{([\w*]+)\}.*?\\end\{\1\}", re.DOTALL)
INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\$)[^$\n]+?(?<!\\)\$")
ROLE = re.compile(r"\{[^}\s]+\}(`+)(.+?)\1", re.DOTALL)
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
LINK = re.compile(r"\[([^\]]*)\]\([^)]*\)")
URL = re.compile(r"<?https?://[^\s>)]+>?")
LABEL = re.compile(r"^\s*\([^)\s]+\)=\s*$", re.MULTILINE)
COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
MYST_COMMENT = re.compile(r"^\s*%.*$", re.MULTILINE)  # a MyST comment line

# A decimal, or a number with thousands separators.
NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)")
# Numbers that name something rather than measure it.
EXEMPT = [
    # exercise numbers: "Exercise 3.2", "exercises 3.1 and 3.2", "Solutions 3.1–3.2"
    re.compile(
        r"\b(?:[Ee]xercises?|[Ss]olutions?|[Cc]hecks?)\s+\d+\.\d+"
        r"(?:\s*(?:,|and|or|to|–|—|-)\s*\d+\.\d+)*"
    ),
    # section numbers: "section 2.3", "§ 2.3.1"
    re.compile(r"(?:\b[Ss]ections?\s+|§\s*)\d+(?:\.\d+)+"),
    # equation numbers written out: "equation 5.1", "eq. (5.1)"
    re.compile(r"\b(?:[Ee]quations?|[Ee]qs?\.)\s*\(?\d+\.\d+\)?"),
    # versions: "Python 3.11", "ipywidgets 7.x", "v1.2", "2.13.0"
    re.compile(
        r"\b(?:Python|PyTorch|torch|ipywidgets|Sphinx|Jupyter Book|jupyter-book|"
        r"myst-nb|MathJax|CUDA|cuDNN|Debian|Ubuntu|[Vv]ersions?)\s+v?\d+(?:\.(?:\d+|x))+"
    ),
    re.compile(r"\bv\d+(?:\.\d+)+"),
    re.compile(r"\b\d+\.\d+\.\d+(?:\.\d+)*\b"),
    re.compile(r"\b\d+\.x\b"),
]


def relative_name(path: Path, root: Path = ROOT) -> str:
    return path.relative_to(root).as_posix()


def is_pending(path: Path, root: Path = ROOT) -> bool:
    """True for a page the figure, number and built-output rules skip for now."""
    return relative_name(path, root) in allowlist.PENDING


def markdown_blocks(path: Path) -> list[tuple[str, str]]:
    """``(where, text)`` for every piece of markdown of a page: cells or the file."""
    if path.suffix == ".md":
        return [("", path.read_text(encoding="utf-8"))]
    nb = nbformat.read(path, as_version=4)
    blocks = []
    for index, cell in enumerate(nb.cells):
        where = f"cell {index} (id {cell.get('id', '?')})"
        if cell.cell_type == "markdown":
            blocks.append((where, cell.source))
        mystnb = cell.metadata.get("mystnb", {})
        for key, part in (("caption", "figure"), ("alt", "image")):
            text = mystnb.get(part, {}).get(key)
            if text:
                blocks.append((f"{where}, its figure's {key}", str(text)))
    return blocks


def directives(text: str) -> list[dict]:
    """The MyST directives of a markdown text, nested ones included.

    Each is ``{"name", "argument", "options", "body", "line"}``: the options
    are the ``:key: value`` lines that open the body, the body is what follows
    them (a figure's caption).
    """
    found, stack = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if stack and match and not match.group(2) and not match.group(3):
            fence = stack[-1]["fence"]
            if match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                found.append(stack.pop())
                continue
        if match and (match.group(2) or match.group(1)[0] != ":"):
            stack.append(
                {
                    "fence": match.group(1),
                    "name": match.group(2) or "",
                    "argument": match.group(3),
                    "options": {},
                    "body": [],
                    "line": number,
                    "in_options": True,
                }
            )
            continue
        if stack:
            block = stack[-1]
            option = OPTION.match(line)
            if block["in_options"] and option:
                block["options"][option.group(1)] = option.group(2)
                continue
            block["in_options"] = False
            block["body"].append(line)
            for outer in stack[:-1]:
                outer["body"].append(line)
    found.extend(stack)  # an unclosed fence runs to the end of the text
    for block in found:
        block["body"] = "\n".join(block["body"]).strip()
        del block["in_options"]
    return sorted(found, key=lambda block: block["line"])


def prose(text: str) -> str:
    """The text a reader reads as words: math, code, roles and options removed."""
    text = MYST_COMMENT.sub(" ", COMMENT.sub(" ", text))
    kept, stack = [], []
    for line in text.splitlines():
        match = FENCE.match(line)
        if stack and match and not match.group(2) and not match.group(3):
            fence = stack[-1][0]
            if match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                stack.pop()
                continue
        if match and (match.group(2) or match.group(1)[0] != ":"):
            name = match.group(2)
            is_code = name is None or name in CODE_DIRECTIVES
            if stack and stack[-1][1]:  # inside code: fences are code too
                is_code = True
            stack.append((match.group(1), is_code, True))
            if not is_code and name not in REFERENCE_ARGUMENT:
                kept.append(match.group(3))  # a title, e.g. an exercise's
            continue
        if stack:
            fence, is_code, in_options = stack[-1]
            if is_code:
                continue
            option = OPTION.match(line) if in_options else None
            if option:
                if option.group(1) in PROSE_OPTIONS:
                    kept.append(option.group(2))
                continue
            stack[-1] = (fence, is_code, False)
        kept.append(line)
    text = "\n".join(kept)
    text = LABEL.sub(" ", text)
    text = DISPLAY_MATH.sub(" ", text)
    text = ENVIRONMENT.sub(" ", text)
    text = ROLE.sub(" ", text)
    text = CODE_SPAN.sub(" ", text)
    text = INLINE_MATH.sub(" ", text)
    text = LINK.sub(r"\1", text)
    text = URL.sub(" ", text)
    return text


def typed_numbers(text: str) -> list[str]:
    """The decimal and thousands-separated numbers of the prose of ``text``."""
    words = prose(text)
    for pattern in EXEMPT:
        words = pattern.sub(" ", words)
    return NUMBER.findall(words)


def prose_number_problems(path: Path, root: Path = ROOT) -> list[str]:
    """Numbers typed in a page's prose that are neither exempt nor allowed."""
    name = relative_name(path, root)
    if is_pending(path, root):
        return []
    problems = []
    for where, text in markdown_blocks(path):
        for number in typed_numbers(text):
            if (name, number) in allowlist.NUMBERS:
                continue
            place = f"{name}: {where}" if where else name
            problems.append(
                f"{place}: the number {number} is typed in the prose; glue it from "
                "the code (rnn_lib.glue), or, if it is no measurement, add it to "
                "tools/notebook_rules_allowlist.py with its reason"
            )
    return problems


def _figure_directive_problems(block: dict) -> list[str]:
    missing = []
    if not block["options"].get("name"):
        missing.append("a :name:")
    alt = block["options"].get("alt", "")
    if not alt:
        missing.append("an :alt: text")
    elif IMAGE_FILE.search(alt):
        missing.append("an :alt: text that describes it (not a file name)")
    if not block["body"]:
        missing.append("a caption")
    return missing


def figure_problems(path: Path, root: Path = ROOT) -> list[str]:
    """Figures of a page without a name, a caption or alt text."""
    name = relative_name(path, root)
    if is_pending(path, root):
        return []
    problems = []
    for where, text in markdown_blocks(path):
        place = f"{name}: {where}" if where else name
        for block in directives(text):
            if block["name"] in FIGURE_DIRECTIVES:
                missing = _figure_directive_problems(block)
                if missing:
                    problems.append(
                        f"{place}: the {block['name']} {block['argument']!r} lacks "
                        + ", ".join(missing)
                    )
            elif block["name"] == "image":
                problems.append(
                    f"{place}: the image {block['argument']!r} has no caption; make "
                    "it a figure with a :name:, an :alt: text and a caption"
                )
        for image in MARKDOWN_IMAGE.findall(prose_with_code(text)):
            problems.append(
                f"{place}: the image {image} has no caption or name; make it a "
                "figure with a :name:, an :alt: text and a caption"
            )
    if path.suffix == ".ipynb":
        problems.extend(_drawing_cell_problems(path, name))
        nb = nbformat.read(path, as_version=4)
        for index, cell in enumerate(nb.cells):
            mystnb = cell.metadata.get("mystnb", {})
            figure = mystnb.get("figure")
            if cell.cell_type != "code" or figure is None:
                continue
            missing = [key for key in ("name", "caption") if not figure.get(key)]
            alt = mystnb.get("image", {}).get("alt", "")
            if not alt or IMAGE_FILE.search(alt):
                missing.append("image alt text (mystnb.image.alt)")
            if missing:
                problems.append(
                    f"{name}: cell {index} (id {cell.get('id', '?')}) shows a figure "
                    f"whose mystnb metadata lacks {', '.join(missing)}"
                )
    return problems


# A code cell that draws: a plotting function of the course, or matplotlib's own.
DRAWS = re.compile(r"\bplot_\w+\(|\bplt\.(?:subplots|figure|plot|imshow)\(|_explorer\(")
CLOSES = re.compile(r"\bplt\.close\(")
HIDDEN_OUTPUT = {"remove-output", "remove-cell"}


def _glues_a_figure(source: str) -> bool:
    """True when a cell passes a figure it drew to glue()."""
    figures = set()
    for line in source.splitlines():
        assigned = re.match(r"\s*([\w, ]+?)\s*=\s*(.*)", line)
        if assigned and DRAWS.search(assigned.group(2)):
            figures.add(assigned.group(1).split(",")[0].strip())
    for call in re.finditer(r"\bglue\((.*?)(?:\)\s*$|display=)", source, re.S | re.M):
        arguments = call.group(1)
        if DRAWS.search(arguments) or any(
            re.search(rf"\b{re.escape(figure)}\b", arguments) for figure in figures
        ):
            return True
    return False


def _glue_and_close_helpers(nb) -> set[str]:
    """Functions a notebook defines that glue their figure and close it.

    A chapter may write ``glue(name, fig, display=False); plt.close(fig)`` once,
    as a function (chapter 6's ``glue_figure``): a cell that calls it glues
    and closes.
    """
    helpers = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for match in re.finditer(
            r"^def (\w+)\(.*?\):\n((?:[ \t]+.*\n?|\n)+)", cell.source, re.M
        ):
            body = match.group(2)
            if re.search(r"\bglue\(", body) and CLOSES.search(body):
                helpers.add(match.group(1))
    return helpers


def _drawing_cell_problems(path: Path, name: str) -> list[str]:
    """Code cells that show a figure the book cannot caption, or show it twice.

    A cell that draws shows its figure as a plain output, without a caption,
    unless its ``mystnb.figure`` metadata gives one (or it glues the figure for
    a ``glue:figure`` directive and closes it, so that only the directive
    shows it). A cell that glues a figure without closing it shows it twice.
    """
    problems = []
    nb = nbformat.read(path, as_version=4)
    helpers = _glue_and_close_helpers(nb)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code" or not DRAWS.search(cell.source):
            continue
        if HIDDEN_OUTPUT & set(cell.metadata.get("tags", [])):
            continue
        place = f"{name}: cell {index} (id {cell.get('id', '?')})"
        captioned = "figure" in cell.metadata.get("mystnb", {})
        glued, closed = _glues_a_figure(cell.source), CLOSES.search(cell.source)
        if (glued and closed) or any(
            re.search(rf"\b{helper}\(", cell.source) for helper in helpers
        ):
            continue
        if glued:
            problems.append(
                f"{place} glues a figure without closing it (plt.close), so the "
                "page shows it twice: once bare, once in its glue:figure"
            )
        elif not captioned:
            problems.append(
                f"{place} draws a figure that the book shows without a caption, "
                "name or alt text: give the cell mystnb figure metadata (caption, "
                "name) and image alt text, or glue the figure, close it and show "
                "it with a glue:figure directive"
            )
    return problems


def prose_with_code(text: str) -> str:
    """``text`` without code blocks and code spans (so that ![...] in code is not an image)."""
    return CODE_SPAN.sub(
        " ", re.sub(r"^(`{3,}|~{3,}).*?^\1", " ", text, flags=re.S | re.M)
    )


def page_rule_problems(root: Path = ROOT) -> list[str]:
    """The figure and number rules over every page of the book."""
    problems = []
    for page in page_files(root):
        problems.extend(figure_problems(page, root))
        problems.extend(prose_number_problems(page, root))
    return problems


# ---------------------------------------------------------------------------
# The built book: what the HTML shows and what the chapters printed
# ---------------------------------------------------------------------------

PROGRESS_BAR = re.compile(r"\d+%\|| it/s\]|\?it/s")
PROGRESS_MODELS = {"FloatProgressModel", "IntProgressModel"}
WARNING = re.compile(r"\b[A-Z]\w*Warning\b:")


class _Images(HTMLParser):
    """The images of a page's article, each with its figure, caption and alt."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside <article>
        self.figures = []  # open figures: {"id", "caption"}
        self.in_caption = 0
        self.images = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self.depth += 1
        if not self.depth:
            return
        if tag == "figure":
            self.figures.append({"id": attrs.get("id", ""), "caption": ""})
        elif tag == "figcaption":
            self.in_caption += 1
        elif tag == "img":
            figure = self.figures[-1] if self.figures else None
            self.images.append(
                {"src": attrs.get("src", ""), "alt": attrs.get("alt"), "figure": figure}
            )

    def handle_endtag(self, tag):
        if tag == "article" and self.depth:
            self.depth -= 1
        elif tag == "figcaption" and self.in_caption:
            self.in_caption -= 1
        elif tag == "figure" and self.figures and self.depth:
            self.figures.pop()

    def handle_data(self, data):
        if self.in_caption and self.figures:
            self.figures[-1]["caption"] += data


def html_image_problems(page: Path, html_dir: Path, name: str) -> list[str]:
    """Images of one built page without a captioned, named figure or alt text,
    and images embedded more than once."""
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    problems, seen = [], {}
    for image in parser.images:
        src, alt, figure = image["src"], image["alt"], image["figure"]
        file = (page.parent / src).resolve()
        if figure is None or not figure["caption"].strip():
            problems.append(f"{name}: the image {src} is shown without a caption")
        elif not figure["id"]:
            problems.append(f"{name}: the figure of {src} has no name to reference it")
        if not alt or IMAGE_FILE.search(alt) or alt.strip() == src:
            problems.append(f"{name}: the image {src} has no alt text (alt={alt!r})")
        key = hashlib.sha256(file.read_bytes()).hexdigest() if file.is_file() else src
        if key in seen:
            problems.append(
                f"{name}: the image {src} is embedded twice (also as {seen[key]}); "
                "close a glued figure (plt.close) so that only the figure shows it"
            )
        seen.setdefault(key, src)
    return problems


def _output_text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    data = output.get("data", {})
    return data.get("text/plain", "") if isinstance(data, dict) else ""


def executed_notebook_problems(executed: Path, name: str) -> list[str]:
    """Progress bars and warnings in what an executed notebook printed."""
    nb = nbformat.read(executed, as_version=4)
    widgets = nb.metadata.get("widgets", {})
    state = widgets.get("application/vnd.jupyter.widget-state+json", {})
    progress_models = {
        model_id
        for model_id, model in state.get("state", {}).items()
        if model.get("model_name") in PROGRESS_MODELS
    }
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        place = f"{name}: cell {index} (id {cell.get('id', '?')})"
        for output in cell.get("outputs", []):
            text = _output_text(output)
            if isinstance(text, list):
                text = "".join(text)
            first = text.strip().splitlines()[0][:100] if text.strip() else ""
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                problems.append(f"{place} writes to stderr: {first!r}")
            elif PROGRESS_BAR.search(text):
                problems.append(f"{place} shows a progress bar: {first!r}")
            elif WARNING.search(text):
                problems.append(f"{place} shows a warning: {first!r}")
            view = output.get("data", {}).get(
                "application/vnd.jupyter.widget-view+json"
            )
            if view and view.get("model_id") in progress_models:
                problems.append(f"{place} shows a progress bar widget")
            elif view and _is_progress_box(view.get("model_id"), state):
                problems.append(f"{place} shows a progress bar widget")
    return problems


def _is_progress_box(model_id, state) -> bool:
    """True when a widget is a box that holds a progress bar (tqdm's HBox)."""
    model = state.get("state", {}).get(model_id, {})
    children = model.get("state", {}).get("children", [])
    for child in children:
        child_id = child.removeprefix("IPY_MODEL_") if isinstance(child, str) else ""
        if state["state"].get(child_id, {}).get("model_name") in PROGRESS_MODELS:
            return True
    return False


def built_problems(html_dir: Path, root: Path = ROOT) -> list[str]:
    """What a reader of the built book would see wrong, page by page.

    Reads ``html_dir`` (``_build/html``) and the executed notebooks next to it
    (``_build/jupyter_execute``). Pages missing from the build are left to
    ``tools/check_built_pages.py``.
    """
    executed_dir = html_dir.parent / "jupyter_execute"
    problems = []
    for entry in toc_files(root):
        source = next(
            (
                root / f"{entry}{suffix}"
                for suffix in (".ipynb", ".md")
                if (root / f"{entry}{suffix}").exists()
            ),
            None,
        )
        if source is None or is_pending(source, root):
            continue
        page = html_dir / f"{entry}.html"
        if page.is_file():
            problems.extend(html_image_problems(page, html_dir, f"{entry}.html"))
        executed = executed_dir / f"{entry}.ipynb"
        if executed.is_file():
            problems.extend(executed_notebook_problems(executed, f"{entry}.ipynb"))
    return problems


def all_problems(root: Path = ROOT) -> list[str]:
    problems = toc_problems(root)
    for page in page_files(root):
        if page.suffix == ".ipynb":
            problems.extend(notebook_problems(page, root))
    problems.extend(page_rule_problems(root))
    return problems


def fix_notebook(path: Path, root: Path = ROOT) -> None:
    """Strip outputs and counts, set the kernelspec, put the setup cell first."""
    nb = nbformat.read(path, as_version=4)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    nb.metadata.setdefault("language_info", {"name": "python"})
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    setup = setup_cell_source(root)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and _looks_like_setup(code[0].source):
        setup_cell = code[0]
        setup_cell.source = setup
    else:
        first_code = nb.cells.index(code[0]) if code else len(nb.cells)
        setup_cell = nbformat.v4.new_code_cell(setup)
        # Keep a leading title cell above the setup cell.
        nb.cells.insert(min(first_code, 1), setup_cell)
    tags = setup_cell.metadata.setdefault("tags", [])
    if SETUP_TAG not in tags:
        tags.append(SETUP_TAG)
    nbformat.write(nb, path)


def _looks_like_setup(source: str) -> bool:
    return bool(re.search(r"rnn_lib\.setup_notebook\(", source))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fix", nargs="+", type=Path, metavar="NOTEBOOK")
    parser.add_argument(
        "--built", type=Path, metavar="HTML_DIR", help="also check this built book"
    )
    args = parser.parse_args(argv)
    if args.fix:
        for path in args.fix:
            fix_notebook(path.resolve())
        return 0
    problems = all_problems()
    if args.built:
        problems.extend(built_problems(args.built.resolve()))
    print("\n".join(problems) if problems else "all notebooks follow the rules")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
