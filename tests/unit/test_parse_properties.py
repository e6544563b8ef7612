"""Property tests: parse survives any markup and is a pure function of its bytes."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive.urls import normalize_url
from scraper.markup import _PLAIN_URL_RE
from scraper.parse import parse

TAGS = ["div", "p", "span", "a", "ul", "ol", "li", "h1", "h2", "h3", "h6", "strong", "b", "em",
        "br", "table", "tr", "td", "pre", "script", "style", "nav", "footer", "header", "main",
        "article", "section", "form", "input", "img", "template", "noscript", "aside", "title",
        "base", "meta", "x-custom", "svg"]
ATTRS = [
    ("class", st.sampled_from(["field-name-body", "element-invisible", "breadcrumb", "menu", "x"])),
    ("href", st.sampled_from(["/a", "#f", "javascript:x()", "mailto:a@b", "http://[::1", "?_=1",
                              "https://A.gov:443/b?itok=z", "file:///etc/passwd", " ", "//h/p"])),
    ("role", st.sampled_from(["main", "navigation", "banner"])),
    ("style", st.sampled_from(["display:none", "color:red"])),
    ("id", st.sampled_from(["content", "main-content", "footer"])),
    ("hidden", st.just("")),
]
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30
) | st.sampled_from(["Updated: Friday, October 21, 2016", "June 7, 2016", "\u00b7 bullet",
                     "IV. Heading", "\u00a0", "&nbsp;", "&amp;", "<", ">", "&#0;", "]]>"])


@st.composite
def attributes(draw) -> str:
    out = []
    for name, values in draw(st.lists(st.sampled_from(ATTRS), max_size=3)):
        value = draw(values).replace('"', "&quot;")
        out.append(f' {name}="{value}"')
    return "".join(out)


def html_tree(depth: int = 0) -> st.SearchStrategy[str]:
    leaf = TEXT
    if depth > 4:
        return leaf

    @st.composite
    def node(draw) -> str:
        tag = draw(st.sampled_from(TAGS))
        children = draw(st.lists(html_tree(depth + 1), max_size=4))
        close = draw(st.booleans())  # unclosed tags on purpose
        return f"<{tag}{draw(attributes())}>{''.join(children)}" + (f"</{tag}>" if close else "")

    return st.one_of(leaf, node())


SETTINGS = settings(max_examples=150, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(html=st.lists(html_tree(), min_size=1, max_size=5).map("".join),
       encoding=st.sampled_from(["utf-8", "cp1252", "utf-16"]),
       charset=st.sampled_from([None, "utf-8", "iso-8859-1", "bogus"]))
def test_parse_never_raises_and_is_deterministic(html, encoding, charset):
    body = html.encode(encoding, "replace")
    first = parse(body, url="https://www.transportation.gov/r2ze/x", http_charset=charset)
    second = parse(body, url="https://www.transportation.gov/r2ze/x", http_charset=charset)
    assert first.content_hash() == second.content_hash()
    assert first.to_dict() == second.to_dict()
    for link in first.links:
        assert link.startswith(("http://", "https://")) and "#" not in link
        assert link == normalize_url(link)
    for item in first.items:
        assert item.url is None or item.url.startswith(("http://", "https://"))
        assert item.section is None or 0 <= item.section < len(first.sections)
    for i, section in enumerate(first.sections):
        assert section.parent is None or section.parent < i
        assert 1 <= section.level <= 6


@SETTINGS
@given(body=st.binary(max_size=2000))
def test_parse_survives_binary_junk(body):
    for ctype in (None, "text/html"):
        page = parse(body, url="https://a.gov/", content_type=ctype)
        assert page.content_hash() == parse(body, url="https://a.gov/",
                                            content_type=ctype).content_hash()


# Fewer examples: each PDF parse starts the bounded reader process (a fresh interpreter that
# imports pypdf, a few tenths of a second); what junk does to pypdf itself is pypdf's own
# fuzzing's business, and tests/integration/test_parse_budgets.py covers the reader's
# failures one by one.
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=st.binary(max_size=2000))
def test_parse_survives_binary_junk_declared_pdf(body):
    page = parse(body, url="https://a.gov/", content_type="application/pdf")
    assert page.kind == "pdf"
    assert page.content_hash() == parse(body, url="https://a.gov/",
                                        content_type="application/pdf").content_hash()


@settings(max_examples=300, deadline=None)
@given(url=st.from_regex(r"\Ahttps?://[a-z0-9.-]{1,20}/[ -~\u00e9\u4e2d]{0,30}\Z"))
def test_plain_url_shortcut_agrees_with_normalize_url(url):
    """The parser skips normalize_url for URLs it deems already normal; they must be."""
    if _PLAIN_URL_RE.match(url):
        assert normalize_url(url) == url


def test_ten_thousand_levels_of_nesting():
    depth = 10_000
    html = ("<div>" * depth + "<p>deep <a href='/x'>text</a></p>" + "</div>" * depth
            + "<main><p>after</p></main>").encode()
    start = time.perf_counter()
    page = parse(html, url="https://a.gov/")
    assert time.perf_counter() - start < 2.0
    assert page.kind == "html"  # libxml2 caps the depth; whatever it kept, no RecursionError
    nested_lists = ("<ul><li><a href='/a'>x</a>" * 3000).encode()
    assert parse(nested_lists, url="https://a.gov/").kind == "html"
