"""The compiled walk (scraper/_cwalk.pyx) gives the records the Python walk gives.

scraper/extract.py's ``_Walker`` and loop are the specification; scraper/_cwalk.pyx is a port of
them to Cython, used whenever it is built. Every page here is parsed twice, once through each
walk, and everything the parse makes must be equal: the records, the content hash, the text
outside the main content. The pages: every HTML file the project keeps (the bundled site, the
test fixtures, the real-page corpus), the hostile shapes of bench/hostile.py, generated varied
pages (bench/pages.py), random nested documents (the grammar of test_parse_catchall), and the
same with a watch's ``main``/``ignore`` selectors.
"""

from __future__ import annotations

import hashlib
import itertools
import logging
import os
import shutil
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

from bench.hostile import SHAPES
from bench.pages import generate
from scraper import extract
from scraper.parse import parse
from tests.unit.test_parse_catchall import IGNORE, MAIN, PROFILE, documents

ROOT = Path(__file__).resolve().parents[2]
COMPILED = extract._cwalk
URL = "https://www.agency.gov/a/b"


def c_compiler() -> str | None:
    """The C compiler an install here builds with, when it and Python's headers are here."""
    cc = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    headers = Path(sysconfig.get_paths()["include"], "Python.h")
    return shutil.which(cc) if headers.is_file() else None


# Where the compiled walk could not be built (no C compiler), there is nothing to compare:
# the Python walk runs everywhere, which the rest of the suite tests.
needs_compiled = pytest.mark.skipif(COMPILED is None, reason="scraper/_cwalk is not built here")


def kept_pages() -> list[Path]:
    """Every HTML file under scraper/sitedata and tests/fixtures."""
    out = []
    for base in (ROOT / "scraper" / "sitedata", ROOT / "tests" / "fixtures"):
        out += [p for p in sorted(base.rglob("*"))
                if p.is_file() and p.suffix.lower() in (".html", ".htm", ".aspx")]
    return out


def _parsed(body: bytes, compiled: Any, **kw: Any) -> tuple[Any, ...]:
    saved = extract._cwalk
    extract._cwalk = compiled
    try:
        page = parse(body, url=URL, content_type="text/html", **kw)
    finally:
        extract._cwalk = saved
    return page.to_dict(), page.content_hash(), page.outside_text, page.truncated


def assert_same(body: bytes, **kw: Any) -> None:
    """Both walks give the same Page for ``body``."""
    reference = _parsed(body, None, **kw)
    assert _parsed(body, COMPILED, **kw) == reference


def test_the_compiled_walk_is_built_and_used_where_a_compiler_is() -> None:
    # The install compiles it (setup.py) where it can; elsewhere the install still succeeds and
    # the Python walk runs, several times slower. Where it can, it must have been built.
    if c_compiler() is None:
        pytest.skip("no C compiler or Python headers here: the Python walk runs")
    assert COMPILED is not None, "scraper/_cwalk is not built: reinstall with `pip install -e .`"
    assert COMPILED.BUILT_WITH_LXML == etree.__version__
    # Built from the source as it is now, not left over from before a failed build (the
    # install goes on without it, and keeps the last one it built).
    source = hashlib.sha256((ROOT / "scraper" / "_cwalk.pyx").read_bytes()).hexdigest()
    assert COMPILED.SOURCE_SHA256 == source, (
        "scraper/_cwalk is stale: its build from the current source failed (`pip install -v "
        "-e .` shows why)")


@needs_compiled
def test_a_compiled_walk_built_for_another_lxml_is_not_used(monkeypatch) -> None:
    # It reads lxml's C structures: against another lxml it could crash, so the Python walk runs.
    monkeypatch.setattr(etree, "__version__", "0.0.1")
    assert extract._compiled() is None
    monkeypatch.undo()
    assert extract._compiled() is COMPILED


class _DropsLinks:
    """A stand-in for the compiled module that loses the links."""

    @staticmethod
    def walk(main: Any, base_url: str, page_url: str, keep: Any, drop: Any) -> Any:
        extract._cwalk = None
        try:
            found = extract.walk(main, base_url=base_url, page_url=page_url, keep=keep,
                                 drop=drop)
        finally:
            extract._cwalk = _DropsLinks
        found.links = []
        return found


@needs_compiled
def test_a_compiled_walk_that_fails_to_load_is_not_used(monkeypatch) -> None:
    """Built against another lxml, its import can fail otherwise than with ImportError (lxml's
    C API checks signatures and struct sizes): the Python walk runs all the same."""
    import importlib.abc
    import sys

    import scraper

    class Refuses(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> None:
            if name == "scraper._cwalk":
                raise TypeError("C function lxml.etree.elementFactory has wrong signature")

    monkeypatch.delattr(scraper, "_cwalk")
    monkeypatch.delitem(sys.modules, "scraper._cwalk")
    monkeypatch.setattr(sys, "meta_path", [Refuses(), *sys.meta_path])
    assert extract._compiled() is None


@needs_compiled
def test_a_compiled_walk_whose_constants_drifted_is_not_used(monkeypatch) -> None:
    # It copies extract's flag bits as C constants: a change on one side alone must not pass.
    monkeypatch.setattr(extract, "_BR", extract._BR << 8)
    assert extract._compiled() is None
    monkeypatch.undo()
    assert extract._compiled() is COMPILED


@needs_compiled
def test_namespaced_elements_and_cdata_of_an_xml_tree() -> None:
    """What the HTML parser never makes (an XML parse's namespaces, CDATA, comments): the
    walks agree on those too."""
    xml = b"""<html xmlns="http://www.w3.org/1999/xhtml" xmlns:x="urn:x"><body><main>
      <h2>Head <![CDATA[with <cdata>]]></h2><p>Para <a href="/p">link</a> tail</p>
      <!-- a comment --><x:p>foreign</x:p><ul><li>one</li><li><b>two</b></li></ul>
      <pre>a
b</pre></main></body></html>"""

    def walked(compiled: Any) -> tuple[Any, ...]:
        root = etree.fromstring(xml, etree.XMLParser(strip_cdata=False))
        main = root[0][0]
        saved, extract._cwalk = extract._cwalk, compiled
        try:
            found = extract.walk(main, base_url=URL, page_url=URL)
        finally:
            extract._cwalk = saved
        return found.text, found.sections, found.items, found.links, found.mass

    reference = walked(None)
    assert "with <cdata>" in reference[0] and "foreign" in reference[0]
    assert walked(COMPILED) == reference


@needs_compiled
def test_the_comparison_sees_a_walk_that_differs() -> None:
    body = b"<html><body><h1>T</h1><p>See <a href='/x'>this</a> and more.</p></body></html>"
    assert _parsed(body, _DropsLinks) != _parsed(body, None)
    assert _parsed(body, COMPILED) == _parsed(body, None)


@needs_compiled
@pytest.mark.parametrize("path", kept_pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_kept_pages(path: Path) -> None:
    assert_same(path.read_bytes())


@needs_compiled
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_hostile_shapes(shape: str) -> None:
    assert_same(SHAPES[shape](480))


def _generated() -> Iterator[tuple[str, bytes]]:
    yield from generate(90)


@needs_compiled
@pytest.mark.parametrize("name,body", list(_generated()), ids=lambda v: v if isinstance(v, str)
                         else "")
def test_generated_pages(name: str, body: bytes) -> None:
    assert_same(body)


@needs_compiled
@pytest.mark.parametrize("main,ignore", [("article", [".menu"]), ("#content", ["li"]),
                                         ("p", []), (None, ["h2", "br"])])
def test_watch_selectors(main: str | None, ignore: list[str]) -> None:
    for path in kept_pages()[:40]:
        assert_same(path.read_bytes(), main=main, ignore=ignore)


# Every character the text rules treat apart (HTML white space, BREAK, no-break and other
# spaces), around letters of each width CPython stores strings in (1, 2 and 4 bytes); and the
# one-byte ones alone, which are scanned 16 at a time.
_LATIN_RULE_CHARS = " \t\n\r\f\v\x00\xa0\x85\x1f\x08\x0e!aZ\xe9\xff"
_RULE_CHARS = _LATIN_RULE_CHARS + "\u3000\u2028\u0100\u4e2d\U0001f600"


@needs_compiled
@PROFILE
@given(text=st.text(alphabet=st.sampled_from(_LATIN_RULE_CHARS), max_size=80)
       | st.text(alphabet=st.sampled_from(_RULE_CHARS), max_size=60)
       | st.text(max_size=60))
def test_the_text_rules_are_markups(text: str) -> None:
    """The compiled collapse (one pass over a table) and nonspace give markup's results, on
    strings of every width; with BREAK read as a space (collapse) or left out (nonspace)."""
    from scraper import markup

    assert COMPILED.text_rules(text) == (markup.collapse(text), markup.nonspace(text))
    folded, count = COMPILED.text_rules(text, True)
    assert folded == markup.collapse(text.replace(extract.BREAK, " "))
    assert count == markup.nonspace(text.replace(extract.BREAK, ""))


@needs_compiled
@PROFILE
@given(href=st.lists(st.sampled_from(list("/:.?#;\\ \t\u3000\x1c\xa0-aAz09s")
                                     + ["http://", "https://", "http:/", "//", ".."]),
                     max_size=20).map("".join)
       | st.text(max_size=30)
       | st.builds(lambda a, b: a + b, st.sampled_from(["http://", "https://", "/", "//"]),
                   st.text(alphabet=st.sampled_from(list("ab-0.9/?#;\\ \u3000\x85Z")),
                           max_size=20)))
def test_the_link_rules_are_markups_patterns(href: str) -> None:
    """The loops that stand for markup's _ABS_PATH_RE and _PLAIN_URL_RE match what they do."""
    from scraper import markup

    assert COMPILED.url_rules(href) == (bool(markup._ABS_PATH_RE.match(href)),
                                        bool(markup._PLAIN_URL_RE.match(href)))


@needs_compiled
def test_a_text_joined_at_once_and_one_joined_later() -> None:
    """The compiled walk joins a small text as it finishes and leaves a large one (over 256K
    characters) for later, as the Python walk always does: both give the Python walk's."""
    section = ("<h2>Part {n}</h2><p>" + "Words of the part. " * 40 + "</p><ul><li>One</li>"
               "<li>Two</li></ul><p>" + "More words. " * 30 + "</p>")
    for parts in (3, 900):  # about 1,500 and 440,000 characters of text
        html = "<h1>T</h1><article>" + "".join(section.format(n=n) for n in range(parts))
        assert_same((html + "<p>End.</p></article>").encode("utf-8"))


@needs_compiled
@PROFILE
@given(text=st.text(alphabet=st.sampled_from(_RULE_CHARS), max_size=60) | st.text(max_size=60))
def test_the_outside_text_is_folded_as_scraper_outside_folds_it(text: str) -> None:
    from scraper.outside import _fold_lines

    assert COMPILED.fold_lines(text) == _fold_lines(text)


_WORD_PIECES = ["pdated", "PDATED", "odified", "ODIFIED", "evised", "EVISED", "Updated",
                "pDated", "odifie", "dated", "d", "D", "ed", " ", "x" * 13, "\xe9", "\u4e2d"]


@needs_compiled
@PROFILE
@given(text=st.lists(st.sampled_from(_WORD_PIECES), max_size=14).map("".join),
       words=st.sampled_from([None, ("pdated", "x")]))
def test_the_updated_words_are_found_as_parse_finds_them(text: str,
                                                         words: tuple[str, ...] | None) -> None:
    """mentions_any (one pass stopping at each "d", for parse's fragments) is ``any(w in
    text for w in words)``, around the 16-byte blocks, in texts of every width."""
    from scraper.parse import _UPDATED_FRAGMENTS

    words = words or _UPDATED_FRAGMENTS
    assert COMPILED.UPDATED_FRAGMENTS == _UPDATED_FRAGMENTS
    assert COMPILED.mentions_any(text, words) == any(w in text for w in words)


_MARK_ATTRS = st.sampled_from([
    "", ' class="field-name-body"', ' class="x field--name-body"', ' class="name-bodyish"',
    ' class="NAME-BODY"', ' role="main"', ' role="Main"', ' role=" main"', ' role="m&#97;in"',
    ' id="content"', ' id="main-content"', ' id="Content"', ' id="content "',
    ' role="main" id="content" class="field-name-body"', ' xml:id="content"'])
_MARK_TAGS = st.sampled_from(["div", "section", "main", "article", "h1", "base", "p", "span",
                              "aside", "svg:g", "DIV"])


def _marked(tags: list[tuple[str, str, int]]) -> str:
    """Elements nested by depth (each a tag, its attributes, how many levels it closes)."""
    out, open_ = [], []
    for tag, attrs, close in tags:
        out.append(f"<{tag}{attrs}>x")
        open_.append(tag)
        for _ in range(min(close, len(open_))):
            out.append(f"</{open_.pop()}>")
    return "<html><body>" + "".join(out) + "".join(f"</{t}>" for t in reversed(open_))


@needs_compiled
@PROFILE
@given(tags=st.lists(st.tuples(_MARK_TAGS, _MARK_ATTRS, st.integers(0, 2)), max_size=12))
def test_the_landmarks_and_candidates_gathered_in_one_walk(tags: list[tuple[str, str, int]],
                                                          ) -> None:
    """gather() finds what markup.landmarks and maincontent's finders' XPaths find."""
    from scraper import maincontent
    from scraper.markup import landmarks

    root = etree.fromstring(_marked(tags), etree.HTMLParser())
    want = landmarks(root)
    want["body_field"] = [v.getparent() for v in maincontent._BODY_CLASS_ATTRS(root)]
    want["role_main"] = maincontent._role_main(root)
    want["content_id"] = maincontent._content_id(root)
    assert COMPILED.gather(root) == want


_VOTE_TEXT = st.lists(st.sampled_from(list("ab \t\n\x0b\xa0\u3000\x1c\xe9\u4e2d")
                                      + ["\U0001f600", "&amp;", "&nbsp;", "abcdefghij"]),
                      max_size=24).map("".join)
_VOTE_PIECE = st.tuples(st.sampled_from(["p", "td", "blockquote", "pre", "div", "a", "b",
                                          "nav"]), _VOTE_TEXT, st.integers(0, 2))


@needs_compiled
@PROFILE
@given(pieces=st.lists(_VOTE_PIECE, max_size=14))
def test_the_density_votes_measured_in_c(pieces: list[tuple[str, str, int]]) -> None:
    """maincontent's _votes gives the same paragraphs and weights whether their text and
    link lengths are measured in C or serialised and collapsed in Python: around the
    25-character bar, with every kind of white space, multi-byte characters, nested links."""
    from scraper import maincontent

    out, open_ = [], []
    for tag, text, close in pieces:
        attrs = ' href="/x"' if tag == "a" else ' class="menu"' if tag == "nav" else ""
        out.append(f"<{tag}{attrs}>{text}")
        open_.append(tag)
        for _ in range(min(close, len(open_))):
            out.append(f"</{open_.pop()}>")
    html = "<html><body>" + "".join(out) + "".join(f"</{t}>" for t in reversed(open_))
    root = etree.fromstring(html.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
    compiled = list(maincontent._votes(root))
    extract._cwalk = None
    try:
        assert compiled == list(maincontent._votes(root))
    finally:
        extract._cwalk = COMPILED


@needs_compiled
def test_the_density_votes_at_the_bar() -> None:
    """Paragraphs whose text is just under, at and over the 25 characters a vote needs, with
    white space that collapses, white space that only strips, a link taking some away."""
    from scraper import maincontent

    for n, pad, inner, link in itertools.product(
            range(22, 29), ["", " ", "\xa0", "\u3000", "\n\t "], ["", "  ", " \n "],
            ["", "<a href='/x'> ab </a>"]):
        word = "\u4e2d" * (n // 2) + "e" * (n - n // 2)
        text = pad + word[:n // 2] + inner + word[n // 2:] + pad
        html = f"<html><body><div><p>{text}{link}</p><td>{pad}{word}</td></div></body></html>"
        root = etree.fromstring(html.encode("utf-8"), etree.HTMLParser(encoding="utf-8"))
        compiled = list(maincontent._votes(root))
        extract._cwalk = None
        try:
            assert compiled == list(maincontent._votes(root)), (n, pad, inner, link)
        finally:
            extract._cwalk = COMPILED


@needs_compiled
def test_the_text_rules_at_every_place_in_the_16_byte_scans() -> None:
    """Two white-space characters (or BREAKs) at every pair of places in a string of letters
    long enough for three 16-byte blocks: a run that straddles two blocks is one run."""
    from scraper import markup

    for n, a, b in itertools.product((33, 40, 47), " \n\x00\xa0", " \t\x00"):
        for i, j in itertools.combinations(range(n), 2):
            chars = ["x"] * n
            chars[i], chars[j] = a, b
            text = "".join(chars)
            assert COMPILED.text_rules(text) == (markup.collapse(text), markup.nonspace(text))
            assert COMPILED.text_rules(text, True) == (
                markup.collapse(text.replace(extract.BREAK, " ")),
                markup.nonspace(text.replace(extract.BREAK, "")))


@needs_compiled
def test_paragraphs_near_the_heading_length() -> None:
    """Paragraphs of about MAX_PSEUDO_HEADING characters that are not white space, after white
    space of every kind, starting with a bullet, a Roman numeral or neither, bold or not,
    with a link or not, after a link-only paragraph or not: the compiled walk tells a long
    unbulleted paragraph without joining it, and must agree on every one."""
    size = extract._MAX_PSEUDO_HEADING
    leads = ["", " ", "\u3000", "\xa0", "<br>", "\n\t", "&#28;", "<span> </span>"]
    starts = ["", "• ", "·", "\uf0b7 ", "IV. "]
    for n, word, lead, start, bold, link, pending in itertools.product(
            (size - 10, size - 1, size, size + 1, size + 2), ("abcdefghi ", "a"), leads,
            starts, (False, True), ("", "part", "all"), (False, True)):
        n -= len(start.strip())  # n characters that are not spaces in all
        words = (word * n)[:n + n // 9] if " " in word else word * n
        inner = start + {"": words, "all": '<a href="/l">' + words + "</a>",
                         "part": words[:20] + '<a href="/l">' + words[20:40] + "</a>"
                         + words[40:]}[link]
        html = ("<h1>T</h1><div>" + ('<p><a href="/t">Title</a></p>' if pending else "")
                + "<p>" + lead + ("<b>" + inner + "</b>" if bold else inner) + "</p>"
                + "<p>" + "Some more text. " * 12 + "</p></div>")
        assert_same(html.encode("utf-8"))


@needs_compiled
@PROFILE
@given(html=documents(), ignore=IGNORE, main=MAIN)
def test_random_documents(html: str, ignore: list[str], main: str | None) -> None:
    logging.disable(logging.CRITICAL)  # libxml2's complaints about the markup are not at issue
    try:
        assert_same(html.encode("utf-8", "surrogatepass"), ignore=ignore, main=main)
    finally:
        logging.disable(logging.NOTSET)


OUTSIDE_PAGE = """<html><body>Lead<div class="top"><a href="/">Home</a> | <b>News</b><br>tail
<select><option>Pick</option></select>after the select</div>
<section id="wrap">before<aside>Side <textarea>typed</textarea> note</aside> mid
<article><p>Main text.</p><ul class="x"><li>one</li><li>two<svg><text>drawn</text></svg></li></ul>
<div class="slider"><p>Also bought</p></div>slider tail&#1;&#13;z<hr>hr tail
<table><tr><td>cell</td></tr></table></article>
after main<footer><p>© 2024</p><math><mi>x</mi></math>end</footer></section></body></html>"""


@needs_compiled
@pytest.mark.parametrize("skip", [(), ("ul",), ("ul", "div"), ("select",), ("table", "div"),
                                  ("hr", "div"),
                                  ("div", "p")])  # the last: one inside another
def test_text_outside_the_main_content_with_elements_moved_out(skip: tuple[str, ...]) -> None:
    """scraper.outside.outside_text, read in C or by the Python way (which takes the tree
    apart, so each gets its own): the main content's hole, the elements its walk skipped
    moved before it, widgets gone with their tails kept, line breaks at blocks."""
    from scraper.outside import outside_text

    def run(compiled: Any) -> str:
        root = etree.fromstring(OUTSIDE_PAGE, etree.HTMLParser())
        main = root.find(".//article")
        skipped = tuple(el for tag in skip for el in main.iter(tag))
        saved, extract._cwalk = extract._cwalk, compiled
        try:
            return outside_text(root, main, "", skipped)
        finally:
            extract._cwalk = saved

    reference = run(None)
    assert "Also bought" not in reference or "div" in skip
    assert "after the select" in reference and "Pick" not in reference
    assert run(COMPILED) == reference
