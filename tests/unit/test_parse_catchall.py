"""Property test: parse() reads any nested document without reaching its catch-all.

``parse()`` never raises because it catches everything and stores an empty page: for an archive
that is a silent miss (no text, so no version, diff or search). The documents here are drawn
from a grammar of what the parser treats specially (headings, paragraphs, lists, links, bold
lines, <pre>, table cells, chrome, main-content hints, hidden elements, dates, <br>, <base>,
<title>, deep nesting), and the test fails on any error record the parse logs.

In the suite it is derandomized and short (a few seconds); to search for real, run it long
(20,000 documents, ten minutes or so: past the suite's per-test timeout) with a seed of your own::

    HYPOTHESIS_PROFILE=long .venv/bin/python -m pytest tests/unit/test_parse_catchall.py -q \
        --timeout=0 --hypothesis-seed=1
"""

from __future__ import annotations

import logging
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scraper.parse import parse

settings.register_profile(
    "catchall-ci", max_examples=120, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
settings.register_profile(
    "long", max_examples=20_000, deadline=None, derandomize=False, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
# Only this test follows the profile; the rest of the suite keeps its own settings.
PROFILE = settings.get_profile(
    "long" if os.environ.get("HYPOTHESIS_PROFILE") == "long" else "catchall-ci")

# Tags with a meaning to the parser, and a few without (span, div, section) to nest them in.
TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "ol", "ul", "a", "b", "strong", "pre",
        "table", "tr", "td", "th", "header", "nav", "aside", "footer", "form", "main",
        "article", "div", "span", "section", "blockquote", "dl", "dt", "dd", "em", "body",
        "html", "head", "title", "caption", "thead", "tbody"]
VOID = ["br", "hr", "img", "input", "base", "meta", "wbr"]
ATTRS = [
    ("class", st.sampled_from(["field-name-body", "field--name-body", "element-invisible",
                               "breadcrumb", "menu", "sidebar", "content", "main", "x",
                               "field-name-body breadcrumb", "region-footer", ""])),
    ("id", st.sampled_from(["content", "main-content", "footer", "header", "nav", "Sidebar",
                            "main", ""])),
    ("role", st.sampled_from(["main", "navigation", "banner", "contentinfo", "MAIN", ""])),
    ("style", st.sampled_from(["display:none", "display : NONE", "visibility:hidden",
                               "color:red", ""])),
    ("hidden", st.just("")),
    ("aria-hidden", st.just("true")),
    ("href", st.sampled_from(["/a", "#f", "x/y", "javascript:x()", "mailto:a@b", "http://[::1",
                              "?_=1", "https://A.gov:443/b", "//h/p", " ", "", "../../..",
                              "http://", "https://a.gov/\u00e9 z", "data:,x"])),
    ("lang", st.sampled_from(["en", "es"])),
]
TEXT = st.sampled_from([
    "word", " ", "", "\n", "\u00a0", "&nbsp;", "&amp;", "&#0;", "&#xD800;", "<", ">",
    "\x01", "\x0c", "&#1;", "&#12;", "&#xFFFE;",  # kept by the parser, refused by lxml
    "Updated: Friday, October 21, 2016", "Last updated 3/4/2019", "June 7, 2016",
    "Updated:", "Modified on: 2020-01-02", "Revised", "2016-13-45", "Updated: May 32, 2016",
    "IV. Heading", "\u00b7 bullet", "\u2022 item", "a\tb", "  spaced   out  ",
    "Home | Agency", "Title :: Site", "x \u2014 y", "\u0301", "\ufeff", "\u200b", "\r\n",
]) | st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12)


@st.composite
def attributes(draw) -> str:
    out = []
    for name, values in draw(st.lists(st.sampled_from(ATTRS), max_size=3)):
        value = draw(values).replace("&", "&amp;").replace('"', "&quot;")
        out.append(f' {name}="{value}"')
    return "".join(out)


@st.composite
def void(draw) -> str:
    return f"<{draw(st.sampled_from(VOID))}{draw(attributes())}>"


def tree(depth: int) -> st.SearchStrategy[str]:
    """A node ``depth`` levels down: text, a void element, or an element with children."""
    if depth <= 0:
        return TEXT | void()

    @st.composite
    def element(draw) -> str:
        tag = draw(st.sampled_from(TAGS))
        inner = "".join(draw(st.lists(tree(depth - 1), max_size=4)))
        close = draw(st.sampled_from(["match", "match", "none", "other"]))  # broken markup too
        end = {"match": f"</{tag}>", "none": "",
               "other": f"</{draw(st.sampled_from(TAGS))}>"}[close]
        return f"<{tag}{draw(attributes())}>{inner}{end}"

    return st.one_of(TEXT, void(), element())


@st.composite
def deep(draw) -> str:
    """One chain nested far deeper than ``tree`` goes (a few hundred levels)."""
    tags = draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=4))
    times = draw(st.integers(min_value=1, max_value=300))
    core = draw(tree(2))
    opens = "".join(f"<{t}>" for t in tags) * times
    closes = "".join(f"</{t}>" for t in reversed(tags)) * draw(st.sampled_from([0, times]))
    return opens + core + closes


@st.composite
def documents(draw) -> str:
    """A whole document: an optional prologue (<title>, <base>) and nested parts."""
    head = ""
    if draw(st.booleans()):
        head = (f"<head><title>{draw(TEXT)}</title>"
                + (f"<base{draw(attributes())}>" if draw(st.booleans()) else "") + "</head>")
    parts = draw(st.lists(tree(5) | deep(), min_size=1, max_size=5))
    return f"<html>{head}<body>{''.join(parts)}</body></html>"


class _Errors(logging.Handler):
    """Collects the error records the parse logs (its catch-alls log at ERROR)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


# A watch's selectors (parse's ``ignore`` and ``main``), as a config may hold them.
IGNORE = st.lists(st.sampled_from([".menu", "b", "li", "p > a", "#content", "td", "h2", "br"]),
                  max_size=2)
MAIN = st.sampled_from([None, None, "#content", "article", "p", "ul > li"])


def parses_cleanly(html: str, ignore: list[str] | None = None, main: str | None = None) -> None:
    """Assert that ``html`` parses without an error record and its Page hashes."""
    errors = _Errors()
    log = logging.getLogger("scraper")
    log.addHandler(errors)
    try:
        page = parse(html.encode("utf-8", "surrogatepass"), url="https://www.agency.gov/a/b",
                     content_type="text/html", ignore=ignore or (), main=main)
    finally:
        log.removeHandler(errors)
    failures = [(r.getMessage(), r.exc_info[1] if r.exc_info else None) for r in errors.records]
    assert not failures, failures
    # libxml2's depth cap is a truncation the page states, not a failure
    assert page.kind == "html"
    assert page.truncated is None or page.truncated.startswith("HTML nested deeper"), page
    assert len(page.content_hash()) == 64


@PROFILE
@given(html=documents(), ignore=IGNORE, main=MAIN)
def test_parse_never_reaches_its_catch_all(html, ignore, main):
    parses_cleanly(html, ignore, main)


def test_the_check_sees_the_catch_all(monkeypatch):
    """The check above fails when parse() does fall back to an empty page."""
    import scraper.parse as parse_module

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(parse_module, "choose_main", broken)
    try:
        parses_cleanly("<html><body><p>text</p></body></html>")
    except AssertionError as e:
        assert "boom" in str(e)
    else:
        raise AssertionError("the catch-all went unseen")
