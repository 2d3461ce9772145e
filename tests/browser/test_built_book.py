"""The built HTML book in a real browser, with no network.

Headless Chromium (Debian's ``chromium``, driven by Playwright's Python
package) opens every page of ``_build/html`` from a server on localhost while
every request to any other host is aborted and counted. Each test below checks
one promise of the book to its readers:

* nothing outside localhost is requested (MathJax, require.js and the widget
  manager are served from ``_static``, see ``_ext/offline_assets.py``);
* no console errors and no failed requests;
* every equation is rendered by MathJax, without errors, and no raw ``$$``,
  ``\\(`` or ``\\[`` is left in the text;
* every image loads; every internal link reaches a file, and its ``#anchor``
  an element of that page;
* every notebook page has a Colab button that opens that notebook;
* the search page finds "vanishing", and the Chinese edition's (under
  ``zh_CN/``, when the book has one) finds "梯度" (gradient);
* every page of the English edition has its Chinese page, and each links to
  the other;
* every ipywidgets output is rendered, and every explorer (a widget with a
  control to move) is followed by a static figure that loads: the HTML book
  has no kernel, so the figure carries the lesson.

It saves screenshots of two pages (three with a Chinese edition: one of its
chapters with math and a figure) under ``_build/screenshots/`` and the counts
under ``_build/browser_report.json``; pytest prints the counts at the end.

Run it after building the book::

    jupyter-book build .
    pytest tests/browser

Without a built book (or without Chromium) the tests skip; with
``REQUIRE_BROWSER_TEST=1`` (as in ``.ci/run``) they fail instead. ``BOOK_HTML``
points at another built book; ``CHROMIUM`` at another browser binary.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shutil
import threading
from dataclasses import asdict, dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html")).resolve()
BUILD = HTML.parent
BOOK_ROOT = BUILD.parent  # where the built book's _config.yml is
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
REQUIRED = os.environ.get("REQUIRE_BROWSER_TEST") == "1"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Folders of the build that hold assets, not pages.
CHINESE = "zh_CN"  # the Chinese edition's folder (_ext/chinese_edition.py)
CHINESE_QUERY = "梯度"
NOT_PAGES = {"_static", "_sources", "_images", "reports", "_downloads"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
# What a reader can move in a rendered widget (ipywidgets 8 draws sliders
# with noUiSlider).
WIDGET_CONTROLS = "input, select, textarea, button, .widget-slider, .noUi-target"
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\$[^\s$][^$]*?[^\s$\\]\$|\$[^\s$]\$")
TIMEOUT_MS = 30_000


def _unavailable(reason: str):
    if REQUIRED:
        pytest.fail(f"{reason} (REQUIRE_BROWSER_TEST=1)", pytrace=False)
    pytest.skip(reason)


@dataclass
class PageReport:
    """What one page showed the browser."""

    path: str
    equations: int = 0
    unrendered_math: list[str] = field(default_factory=list)
    math_errors: list[str] = field(default_factory=list)
    raw_tex: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    colab_links: list[str] = field(default_factory=list)
    is_notebook: bool = False
    widgets: int = 0
    explorers: int = 0
    widget_problems: list[str] = field(default_factory=list)


@dataclass
class Crawl:
    """Everything the browser saw, over every page."""

    base: str
    pages: list[PageReport] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)
    search_results: list[str] = field(default_factory=list)
    chinese_search_results: list[str] = field(default_factory=list)
    screenshots: list[str] = field(default_factory=list)


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # no log line per request
        pass


def _serve(directory: Path) -> ThreadingHTTPServer:
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _page_paths(html: Path) -> list[str]:
    """Every HTML page of the build (relative paths), redirect stubs left out."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        relative = path.relative_to(html)
        if NOT_PAGES.intersection(relative.parts):  # also the Chinese edition's
            continue
        if 'http-equiv="Refresh"' in path.read_text(encoding="utf-8")[:2000]:
            continue
        pages.append(relative.as_posix())
    return pages


# Runs in the page once it has loaded: waits for MathJax and the images, then
# reports what it finds. Code, printed outputs and rendered math are not prose,
# so the raw-TeX search skips them.
INSPECT_JS = """
async ([widgetView, widgetControls]) => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  const images = [...document.images];
  images.forEach((img) => { img.loading = "eager"; });
  await Promise.all(images.map((img) => img.complete ? null :
    new Promise((done) => { img.onload = img.onerror = done; })));
  const short = (s) => s.replace(/\\s+/g, " ").trim().slice(0, 80);

  const math = [...document.querySelectorAll(".math")];
  const unrendered = math.filter((el) => !el.querySelector("mjx-container"));
  const errors = [...document.querySelectorAll("mjx-merror")].map(
    (el) => el.getAttribute("data-mjx-error") || short(el.textContent));

  const article = document.querySelector("article") || document.body;
  const skip = "pre, code, script, style, textarea, mjx-container, .highlight";
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  const prose = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!node.parentElement.closest(skip)) prose.push(node.textContent);
  }

  const isBroken = (img) => !img.complete || img.naturalWidth === 0;
  const inWidget = (el) => el.closest(".widget-subarea, .jupyter-widgets");
  const figures = images.filter((img) => !inWidget(img));
  // A widget output is rendered into the .widget-subarea just before its
  // <script>. It is an explorer when the reader could move something in it
  // (a slider, a menu, a box); a progress bar is not. Each explorer needs a
  // static figure after it, before the next explorer.
  const views = [...document.querySelectorAll(`script[type="${widgetView}"]`)];
  const controls = widgetControls;
  const widgetProblems = [];
  const explorers = [];
  views.forEach((view, i) => {
    const area = view.previousElementSibling;
    if (!area || !area.classList.contains("widget-subarea") ||
        area.childElementCount === 0) {
      widgetProblems.push(`widget output ${i + 1} was not rendered`);
    } else if (area.querySelector(controls)) {
      explorers.push([i + 1, view]);
    }
  });
  const follows = (a, b) => a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING;
  explorers.forEach(([number, view], j) => {
    const next = explorers[j + 1];
    const figure = figures.find((img) =>
      follows(view, img) && !(next && follows(next[1], img)));
    if (!figure) {
      widgetProblems.push(`widget explorer ${number} is not followed by a static figure`);
    } else if (isBroken(figure)) {
      widgetProblems.push(`the static figure after widget explorer ${number} did not load`);
    }
  });

  return {
    equations: math.length - unrendered.length,
    unrendered: unrendered.map((el) => short(el.textContent)),
    mathErrors: errors,
    prose: prose,
    images: images.length,
    broken: images.filter(isBroken).map((img) => img.getAttribute("src")),
    links: [...document.querySelectorAll("a[href]")].map((a) => a.href),
    colab: [...document.querySelectorAll("a[href*='colab.research.google.com']")]
      .map((a) => a.href),
    isNotebook: !!document.querySelector(".cell, .cell_output, .nb-cell"),
    widgets: views.length,
    explorers: explorers.length,
    widgetProblems: widgetProblems,
  };
}
"""

# Waits until the widget manager has rendered every widget output, or gives
# up (the inspection above then reports which one stayed empty).
WIDGETS_RENDERED_JS = """
(widgetView) => [...document.querySelectorAll(`script[type="${widgetView}"]`)]
  .every((view) => view.previousElementSibling &&
                   view.previousElementSibling.classList.contains("widget-subarea") &&
                   view.previousElementSibling.childElementCount > 0)
"""

SEARCH_DONE_JS = """
() => {
  const summary = document.querySelector("#search-results .search-summary");
  // English, or Sphinx's Chinese: "搜索完成，匹配到 N 页。"
  return summary && /found|match|找到|匹配/i.test(summary.textContent);
}
"""

# Scrolls the first element matching the selector (a hidden <script> by its
# parent) to near the top of the viewport.
SCROLL_TO_JS = """
(selector) => {
  let target = document.querySelector(selector);
  if (!target) return;
  if (target.tagName === "SCRIPT") target = target.parentElement;
  target.scrollIntoView({block: "start"});
  window.scrollBy(0, -200);
}
"""


def _settle(page) -> dict:
    """Wait for the widgets, MathJax and the images; return what INSPECT_JS saw."""
    try:
        page.wait_for_function(WIDGETS_RENDERED_JS, arg=WIDGET_VIEW, timeout=TIMEOUT_MS)
    except Exception:  # playwright's TimeoutError; INSPECT_JS reports which
        pass
    return page.evaluate(INSPECT_JS, [WIDGET_VIEW, WIDGET_CONTROLS])


def _inspect(page, path: str) -> PageReport:
    found = _settle(page)
    # Text node by text node: a rendered equation splits the text around it.
    raw = [m.group(0) for text in found["prose"] for m in RAW_TEX.finditer(text)]
    return PageReport(
        path=path,
        equations=found["equations"],
        unrendered_math=found["unrendered"],
        math_errors=found["mathErrors"],
        raw_tex=raw[:10],
        images=found["images"],
        broken_images=found["broken"],
        links=found["links"],
        colab_links=found["colab"],
        is_notebook=found["isNotebook"],
        widgets=found["widgets"],
        explorers=found["explorers"],
        widget_problems=found["widgetProblems"],
    )


def _screenshot(page, url: str, selector: str, name: str) -> str:
    """Screenshot of the viewport with the first ``selector`` scrolled into view."""
    page.goto(url, wait_until="load")
    _settle(page)
    page.evaluate(SCROLL_TO_JS, selector)
    out = BUILD / "screenshots" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(out))
    return str(out)


def _crawl(html: Path) -> Crawl:
    from playwright.sync_api import sync_playwright

    shutil.rmtree(BUILD / "screenshots", ignore_errors=True)  # this run's only
    server = _serve(html)
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    crawl = Crawl(base=base)
    current = {"path": ""}

    def route(request_route):
        url = request_route.request.url
        if url.startswith(base):
            request_route.continue_()
        else:
            crawl.external_requests.append(f"{current['path']}: {url}")
            request_route.abort("blockedbyclient")

    def on_console(message):
        if message.type == "error":
            crawl.console_errors.append(f"{current['path']}: {message.text}")

    def on_request_failed(request):
        # A missing file is an HTTP error (on_response). net::ERR_ABORTED is a
        # request the browser cancelled itself, e.g. a speculative load of a
        # linked page when the test moved on: not a fault of the book.
        if request.url.startswith(base) and request.failure != "net::ERR_ABORTED":
            crawl.failed_requests.append(
                f"{current['path']}: {request.url} ({request.failure})"
            )

    def on_response(response):
        if response.status >= 400:
            crawl.failed_requests.append(
                f"{current['path']}: {response.url} (HTTP {response.status})"
            )

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
            )
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.route("**/*", route)
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.on("console", on_console)
            page.on(
                "pageerror",
                lambda error: crawl.console_errors.append(
                    f"{current['path']}: uncaught {error}"
                ),
            )
            page.on("requestfailed", on_request_failed)
            page.on("response", on_response)

            for path in _page_paths(html):
                current["path"] = path
                page.goto(base + path, wait_until="load")
                crawl.pages.append(_inspect(page, path))

            current["path"] = "search.html?q=vanishing"
            page.goto(base + current["path"], wait_until="load")
            page.wait_for_function(SEARCH_DONE_JS, timeout=TIMEOUT_MS)
            crawl.search_results = page.eval_on_selector_all(
                "#search-results ul.search li a", "links => links.map(a => a.href)"
            )

            if (html / CHINESE / "search.html").is_file():
                current["path"] = f"{CHINESE}/search.html?q={CHINESE_QUERY}"
                page.goto(base + current["path"], wait_until="load")
                page.wait_for_function(SEARCH_DONE_JS, timeout=TIMEOUT_MS)
                crawl.chinese_search_results = page.eval_on_selector_all(
                    "#search-results ul.search li a", "links => links.map(a => a.href)"
                )

            # A chapter with rendered math, and a widget explorer with its
            # static figure (else the page with the most figures).
            english = [p for p in crawl.pages if not _is_chinese(p.path)]
            by_math = max(english, key=lambda p: (p.is_notebook, p.equations))
            if any(p.explorers for p in english):
                second = max(english, key=lambda p: p.explorers)
                selector = f".widget-subarea:has({WIDGET_CONTROLS})"
                kind = "widget"
            else:
                others = [p for p in english if p is not by_math] or english
                second = max(others, key=lambda p: p.images)
                selector, kind = "img", "figure"
            current["path"] = "screenshots"
            crawl.screenshots = [
                _screenshot(
                    page,
                    base + by_math.path,
                    "div.math",
                    f"{Path(by_math.path).stem}-math.png",
                ),
                _screenshot(
                    page,
                    base + second.path,
                    selector,
                    f"{Path(second.path).stem}-{kind}.png",
                ),
            ]
            chinese = [p for p in crawl.pages if _is_chinese(p.path) and p.is_notebook]
            if chinese:  # a chapter with math and a figure
                shown = max(chinese, key=lambda p: (min(p.images, 1), p.equations))
                crawl.screenshots.append(
                    _screenshot(
                        page,
                        base + shown.path,
                        "div.math",
                        f"zh_CN-{Path(shown.path).stem}-math.png",
                    )
                )
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return crawl


@pytest.fixture(scope="module")
def crawl(browser_summary) -> Crawl:
    if not (HTML / "search.html").is_file():
        _unavailable(f"no built book at {HTML}: run `jupyter-book build .` first")
    if not CHROMIUM.is_file():
        _unavailable(
            f"no browser at {CHROMIUM}: `apt-get install chromium`, or set CHROMIUM"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        _unavailable("the playwright package is not installed")
    result = _crawl(HTML)
    summary = {
        "pages opened": len(result.pages),
        "equations rendered": sum(p.equations for p in result.pages),
        "images loaded": sum(p.images - len(p.broken_images) for p in result.pages),
        "internal links checked": _count_internal_links(result),
        "widget outputs": sum(p.widgets for p in result.pages),
        "widget explorers (each followed by a static figure)": sum(
            p.explorers for p in result.pages
        ),
        "search results for 'vanishing'": len(result.search_results),
        "Chinese pages opened": sum(_is_chinese(p.path) for p in result.pages),
        f"search results for '{CHINESE_QUERY}' in the Chinese edition": len(
            result.chinese_search_results
        ),
        "external requests attempted": len(result.external_requests),
        "console errors": len(result.console_errors),
        "failed requests": len(result.failed_requests),
        "screenshots": result.screenshots,
    }
    (BUILD / "browser_report.json").write_text(
        json.dumps({"summary": summary, "crawl": asdict(result)}, indent=1)
    )
    browser_summary.update(summary)
    return result


def _is_chinese(path: str) -> bool:
    return path.split("/", 1)[0] == CHINESE


def _internal_targets(crawl: Crawl):
    """(page, href, file, fragment) for every link that stays inside the book."""
    for report in crawl.pages:
        for href in report.links:
            if not href.startswith(crawl.base):
                continue
            parts = urlsplit(href)
            relative = unquote(parts.path).lstrip("/")
            target = HTML / relative
            if target.is_dir():
                target = target / "index.html"
            yield report.path, href, target, unquote(parts.fragment)


def _count_internal_links(crawl: Crawl) -> int:
    return sum(1 for _ in _internal_targets(crawl))


@functools.cache
def _ids(path: Path) -> frozenset[str]:
    text = path.read_text(encoding="utf-8", errors="replace")
    return frozenset(re.findall(r'\sid="([^"]+)"', text))


def _problems(crawl: Crawl, attribute: str) -> list[str]:
    return [f"{p.path}: {item}" for p in crawl.pages for item in getattr(p, attribute)]


def test_no_request_leaves_localhost(crawl):
    assert crawl.external_requests == [], (
        "pages requested files outside the book (a CDN?); serve them from _static "
        "(see _ext/offline_assets.py):\n" + "\n".join(crawl.external_requests)
    )


def test_no_console_errors(crawl):
    assert crawl.console_errors == [], "\n".join(crawl.console_errors)


def test_no_failed_requests(crawl):
    assert crawl.failed_requests == [], "\n".join(crawl.failed_requests)


def test_every_equation_is_rendered(crawl):
    assert sum(p.equations for p in crawl.pages) > 0, "no page has any rendered math"
    unrendered = _problems(crawl, "unrendered_math")
    assert unrendered == [], "MathJax left these unrendered:\n" + "\n".join(unrendered)
    errors = _problems(crawl, "math_errors")
    assert errors == [], "MathJax could not typeset:\n" + "\n".join(errors)
    raw = _problems(crawl, "raw_tex")
    assert raw == [], "raw TeX delimiters left in the prose:\n" + "\n".join(raw)


def test_every_image_loads(crawl):
    broken = _problems(crawl, "broken_images")
    assert broken == [], "images that did not load:\n" + "\n".join(broken)


def test_every_internal_link_resolves(crawl):
    broken = []
    for page, href, target, fragment in _internal_targets(crawl):
        if not target.is_file():
            broken.append(f"{page}: {href} (no file {target.relative_to(HTML)})")
        elif fragment and target.suffix == ".html" and fragment not in _ids(target):
            broken.append(f"{page}: {href} (no id {fragment!r} in {target.name})")
    assert broken == [], "links to nowhere:\n" + "\n".join(sorted(set(broken)))


def _expected_colab_url(page_path: str) -> str:
    config = yaml.safe_load((BOOK_ROOT / "_config.yml").read_text())
    repo = config["repository"]
    owner_name = urlsplit(repo["url"]).path.strip("/").removesuffix(".git")
    book = repo.get("path_to_book") or ""
    notebook = "/".join(part for part in (book.strip("/"), page_path) if part)
    notebook = re.sub(r"\.html$", ".ipynb", notebook)
    return (
        f"{config['launch_buttons']['colab_url'].rstrip('/')}/github/"
        f"{owner_name}/blob/{repo['branch']}/{notebook}"
    )


def test_every_notebook_page_has_a_colab_button(crawl):
    notebooks = [
        p
        for p in crawl.pages
        if (HTML / "_sources" / p.path).with_suffix(".ipynb").is_file()
    ]
    missing = [
        f"{p.path}: expected {_expected_colab_url(p.path)}, found {p.colab_links}"
        for p in notebooks
        if _expected_colab_url(p.path) not in p.colab_links
    ]
    assert missing == [], (
        "notebook pages without a working Colab button:\n" + "\n".join(missing)
    )


def test_search_finds_vanishing(crawl):
    assert crawl.search_results, "searching 'vanishing' on search.html found no page"


def test_widget_explorers_render_and_are_followed_by_a_static_figure(crawl):
    problems = _problems(crawl, "widget_problems")
    assert problems == [], "\n".join(problems)
    if not any(p.explorers for p in crawl.pages):
        # The chapters keep their explorers out of the HTML (an explorer
        # renders empty without a kernel); none shown is what they intend.
        pytest.skip("no page of the built book shows an ipywidgets explorer")


def _has_chinese_edition() -> bool:
    return (HTML / CHINESE / "index.html").is_file()


# Pages Sphinx generates rather than the book's sources: the search page, the
# general index and sphinx-proof's index of theorems.
GENERATED_INDEXES = {"search.html", "genindex.html", "prf-prf.html"}


def _require_chinese_edition() -> None:
    """Fail where the catalogs exist and the edition was not built; skip before."""
    if _has_chinese_edition():
        return
    if (ROOT / "locales" / "zh_CN" / "LC_MESSAGES").is_dir():
        _unavailable("the catalogs exist but the book has no Chinese edition")
    pytest.skip("no Chinese catalogs yet (locales/zh_CN/LC_MESSAGES)")


def test_the_chinese_search_finds_a_chinese_word(crawl):
    _require_chinese_edition()
    assert crawl.chinese_search_results, (
        f"searching {CHINESE_QUERY!r} on {CHINESE}/search.html found no page "
        "(is jieba installed? Sphinx indexes Chinese words with it)"
    )
    assert all(f"/{CHINESE}/" in link for link in crawl.chinese_search_results)


def test_every_page_has_its_other_edition_and_links_to_it(crawl):
    _require_chinese_edition()
    pages = {p.path: p for p in crawl.pages}
    problems = []
    for path, report in pages.items():
        other = path.split("/", 1)[1] if _is_chinese(path) else f"{CHINESE}/{path}"
        if path.split("/")[-1] in GENERATED_INDEXES:
            continue  # Sphinx's own pages, not the book's: no page body to link from
        if other not in pages:
            problems.append(f"{path}: no page {other}")
        elif crawl.base + other not in report.links:
            problems.append(f"{path}: no link to {other}")
    assert problems == [], "\n".join(problems)


def test_screenshots_saved(crawl):
    assert len(crawl.screenshots) == (3 if _has_chinese_edition() else 2)
    for shot in crawl.screenshots:
        assert Path(shot).stat().st_size > 10_000, f"{shot} looks empty"
