"""Each shortcut the parser takes for speed gives what the plain way gives."""

from __future__ import annotations

import random
import re

from lxml import etree

from scraper.maincontent import _body_fields, _content_id, _in_chrome_memo, _role_main
from scraper.markup import collapse, in_chrome, landmarks, origin_of, resolve_link

BASES = ["https://example.gov/page", "http://Ex.GOV:80/a/b?x=1", "https://h.gov:8443/a/",
         "https://u:p@h.gov/x", "https://[::1]/a", "ftp://h/x", "https:///x", "not a url",
         "https://h.gov./a", "HTTPS://H.GOV/A", "https://h_x.gov/", "https://h.gov:abc/"]
PARTS = ["/", "a", "b", ".", "..", "%2e", "\u00e9", " ", "\t", "?", "#", ";", "\\", "//", "x.htm",
         "\x01", ":", "@", "~", "=", "&"]


def test_origin_shortcut_resolves_as_normalize_url() -> None:
    rng = random.Random(1)
    for base in BASES:
        origin = origin_of(base)
        for _ in range(1500):
            href = "/" + "".join(rng.choice(PARTS) for _ in range(rng.randint(0, 8)))
            if rng.random() < 0.2:
                href = " " + href
            assert resolve_link(href, base, origin) == resolve_link(href, base), (base, href)


def test_collapse_is_the_white_space_regex() -> None:
    ws = re.compile(r"[ \t\n\r\f\v]+")
    rng = random.Random(2)
    for _ in range(2000):
        s = "".join(rng.choice(["a", " ", "  ", "\n", "\t", "\r", "\f", "\v", "\u00a0", "b c"])
                    for _ in range(rng.randint(0, 40)))
        assert collapse(s) == ws.sub(" ", s)


PAGE = """<html><body><div class='menu'><div role='main'><p>in menu</p></div></div>
<form><div id='content' class='x field-name-body'><section class='field--name-body'>s</section>
<p>text</p></div></form><nav><div id='main-content'><td>t</td></div></nav>
<article hidden><div role='main' class='field-name-body'>h</div></article>
<main><div id='content'><p style='display:none'>x</p></div></main></body></html>"""


def test_main_candidates_as_element_loops() -> None:
    root = etree.fromstring(PAGE, etree.HTMLParser())
    want = [el for el in root.iter("div", "section")
            if {"field-name-body", "field--name-body"} & set((el.get("class") or "").split())]
    assert _body_fields(root) == want and _body_fields(root, landmarks(root)) == want
    assert _role_main(root) == [el for el in root.iter() if el.get("role") == "main"]
    assert _content_id(root) == [
        el for el in root.iter() if el.get("id") in ("content", "main-content")]
    memo: dict = {}
    for el in root.iter():
        assert _in_chrome_memo(el, memo) == in_chrome(el)


def test_new_item_is_the_dataclass_item() -> None:
    from archive.model import Item
    from scraper.markup import new_item

    for args in (("t", None, "", None), ("t", "https://x/", "s\nt", 3)):
        made, plain = new_item(*args), Item(*args)
        assert made == plain and hash(made) == hash(plain) and repr(made) == repr(plain)
        assert vars(made) == vars(plain)


def test_nonspace_counts_as_str_count() -> None:
    from scraper.markup import _SPACES, nonspace

    rng = random.Random(3)
    alphabet = [" ", "\n", "\t", "\r", "\u00a0", "a", "\u00e9", "\u4e2d", "\U0001f600",
                "\ud800", "\x0b", "\u2003", "\u00c2"]
    for _ in range(3000):
        s = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        assert nonspace(s) == len(s) - sum(map(s.count, _SPACES)), repr(s)
    long = "a b\u00a0\n" * 300_000  # past the length where the count is done in place
    assert nonspace(long) == 300_000 * 2


def test_item_rows_json_is_json_dumps() -> None:
    import json

    from archive.model import _items_json

    rng = random.Random(4)
    alphabet = ["a", " ", '"', "\\", "\x01", "\x1f", "\n", "\u00e9", "\u2028", "\x7f", "b"]

    def s() -> str:
        return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6)))

    for _ in range(5000):
        rows: list = [[s(), rng.choice([None, s()]), s(), rng.choice([None, 0, 3, -1, True])]
                      for _ in range(rng.randint(0, 4))]
        if rng.random() < 0.05:
            rows.append([1, 2, 3])
        assert _items_json(rows) == json.dumps(rows, ensure_ascii=False, sort_keys=True,
                                               separators=(",", ":")), rows


def test_dateline_shortcut_keeps_every_match() -> None:
    from scraper.parse import _DATELINE_RE, _dateline_in, _to_iso

    rng = random.Random(5)
    pieces = ["May 2, 2016", "5/2/2016", "2016-05-02", " ", "\u00a0", "\u2003", "\t", "x",
              "Monday, ", "\u0663", "12", "\u00b2", "\n", "\r"]
    for n in range(6000):
        # Long ones too: a date on the 25th line counts, one on the 26th does not.
        size = rng.randint(0, 12) if n % 3 else rng.randint(20, 90)
        text = "".join(rng.choice(pieces) for _ in range(size))
        if n % 5 == 0:
            text = "\n" * rng.randint(20, 27) + text
        want = None
        for line in text.split("\n")[:25]:
            m = _DATELINE_RE.match(line)
            if m and (want := _to_iso(m)):
                break
        assert _dateline_in(text) == want, repr(text)


def _excluded_by_attrib(el: etree._Element) -> bool:
    """is_excluded as it was written with ``el.attrib`` lookups: the reference."""
    from scraper.markup import (
        _HIDDEN_STYLE_RE,
        CHROME_CLASSES,
        CHROME_IDS,
        CHROME_ROLES,
        SKIP_TAGS,
    )

    tag = el.tag
    if not isinstance(tag, str) or tag in SKIP_TAGS:
        return True
    attrib = el.attrib
    if tag == "header" and (attrib.get("role") == "banner" or el.find(".//nav") is not None
                            or el.find(".//ul") is not None):
        return True
    if not attrib:
        return False
    if "hidden" in attrib or attrib.get("aria-hidden") == "true":
        return True
    if attrib.get("role") in CHROME_ROLES:
        return True
    style = attrib.get("style")
    if style and _HIDDEN_STYLE_RE.search(style):
        return True
    cls = attrib.get("class")
    if cls and not CHROME_CLASSES.isdisjoint(cls.split()):
        return True
    ident = attrib.get("id")
    return bool(ident and ident.lower() in CHROME_IDS)


def test_chrome_tests_read_attributes_as_attrib_does() -> None:
    from scraper.markup import _HIDDEN_STYLE_RE, HARD_SKIP_TAGS, is_excluded, is_hidden

    rng = random.Random(6)
    attrs = ["hidden", "hidden=''", "hidden=hidden", "aria-hidden=true", "aria-hidden=false",
             "aria-hidden=''", "role=main", "role=navigation", "role=''", "style='display: none'",
             "style='color:red'", "style=''", "class='menu x'", "class=''", "class='main'",
             "id=Header", "id=''", "id=content", "title=x", "data-x=1", "class"]
    tags = ["div", "p", "header", "nav", "span", "form", "section"]
    html = []
    for _ in range(800):
        tag = rng.choice(tags)
        inner = rng.choice(["", "<nav></nav>", "<ul><li>x</li></ul>", "text"])
        html.append(f"<{tag} {' '.join(rng.sample(attrs, rng.randint(0, 3)))}>{inner}</{tag}>")
    root = etree.fromstring("<html><body>" + "".join(html) + "</body></html>",
                            etree.HTMLParser())
    for el in root.iter():
        assert is_excluded(el) == _excluded_by_attrib(el), etree.tostring(el)
        attrib = el.attrib
        style = attrib.get("style")
        hidden = (not isinstance(el.tag, str) or el.tag in HARD_SKIP_TAGS
                  or "hidden" in attrib or attrib.get("aria-hidden") == "true"
                  or bool(style and _HIDDEN_STYLE_RE.search(style)))
        assert is_hidden(el) == hidden, etree.tostring(el)


def test_fold_lines_is_split_and_join_per_line() -> None:
    from scraper.outside import _fold_lines

    rng = random.Random(7)
    alphabet = ["a", "b c", " ", "  ", "\n", "\n\n", " \n ", "\t", "\r", "\x0b", "\x0c",
                "\x1c", "\u00a0", "\u2003", "\u3000", "\u00e9", "\x85"]
    for _ in range(5000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        want = "\n".join(line for line in (" ".join(raw.split()) for raw in text.split("\n"))
                         if line)
        assert _fold_lines(text) == want, repr(text)


def _lines_setting_every_block(body: etree._Element) -> str:
    """outside_text's lines as first written (a line break set on every block): the
    reference for the one that leaves a text that starts with one alone."""
    from scraper.maincontent import _text
    from scraper.outside import _LINE_TAGS, _WIDGETS, _fold_lines

    etree.strip_elements(body, *_WIDGETS, with_tail=False)
    for el in body.iter():
        if el.tag in _LINE_TAGS:
            el.tail = "\n" + (el.tail or "")
            if len(el):
                el.text = "\n" + (el.text or "")
    return _fold_lines(_text(body))


def test_outside_lines_as_when_every_block_is_marked() -> None:
    from scraper.outside import _lines

    rng = random.Random(8)
    tags = ["div", "p", "span", "li", "b", "td", "br", "select", "h2"]
    spaces = ["", " ", "\n", "\n  ", " \n", "\t", "\u00a0"]

    def build(depth: int) -> str:
        out = []
        for _ in range(rng.randint(0, 4)):
            out.append(rng.choice(spaces) + rng.choice(["", "w", "x y"]) + rng.choice(spaces))
            if depth < 4 and rng.random() < 0.6:
                tag = rng.choice(tags)
                out.append(f"<{tag}>{build(depth + 1)}</{tag}>")
        return "".join(out)

    for _ in range(1500):
        html = "<html><body>" + build(0) + "</body></html>"
        one = etree.fromstring(html, etree.HTMLParser()).find("body")
        two = etree.fromstring(html, etree.HTMLParser()).find("body")
        if one is None:
            continue
        assert _lines(one) == _lines_setting_every_block(two), html


def test_link_text_as_itertext_of_the_outermost_links() -> None:
    from scraper.maincontent import _link_text

    rng = random.Random(10)
    tags = ["a", "a", "span", "div", "p", "b"]

    def build(depth: int) -> str:
        out = []
        for _ in range(rng.randint(0, 3)):
            out.append(rng.choice(["", "w ", " x\n", "\u00e9"]))
            if depth < 5 and rng.random() < 0.7:
                tag = rng.choice(tags)
                # An unclosed <a> sometimes: libxml2 nests the next link in it.
                close = "" if tag == "a" and rng.random() < 0.2 else f"</{tag}>"
                out.append(f"<{tag} href='/x'>{build(depth + 1)}{close}")
        return "".join(out)

    for _ in range(1500):
        root = etree.fromstring("<html><body><div>" + build(0) + "</div></body></html>",
                                etree.HTMLParser())
        if root is None:
            continue
        for el in root.iter():
            outermost = [a for a in el.iterdescendants("a")
                         if not any(up.tag == "a" for up in a.iterancestors()
                                    if up in set(el.iterdescendants()))]
            assert _link_text(el) == "".join("".join(a.itertext()) for a in outermost)


def test_text_of_is_itertext_joined() -> None:
    from scraper.markup import text_of

    html = ("<html><head><title>T&amp;t</title></head><body><div>a<!-- c -->b<?pi x?>"
            "<p>c<b>d</b>e</p>f<br>g\u00e9 &#1; &nbsp;</div>tail<span></span></body></html>")
    for remove in (True, False):  # comments and processing instructions kept, and not
        root = etree.fromstring(html, etree.HTMLParser(remove_comments=remove,
                                                       remove_pis=remove))
        for el in root.iter(etree.Element):
            assert text_of(el) == "".join(el.itertext()), etree.tostring(el)


def test_the_reused_parser_carries_nothing_from_one_page_to_the_next() -> None:
    from concurrent.futures import ThreadPoolExecutor

    from scraper.parse import parse

    deep = b"<html><body>" + b"<div>" * 400 + b"<p>deep</p>" + b"</div>" * 400 + b"</body></html>"
    pages = [deep, b"<p>plain text of a page</p>", b"<p>ok<b></p></zz>", deep, b"<h1>T</h1>"]
    alone = [parse(body, url="https://example.gov/p") for body in pages]
    assert alone[0].truncated and alone[1].truncated is None and alone[3].truncated
    with ThreadPoolExecutor(4) as pool:  # a parser each: the same pages in threads, at once
        together = list(pool.map(lambda b: parse(b, url="https://example.gov/p"), pages * 20))
    for n, page in enumerate(together):
        want = alone[n % len(pages)]
        assert (page, page.truncated) == (want, want.truncated)


def test_a_tree_never_holds_more_text_than_its_source_has_bytes() -> None:
    """What choose_main's bound (source_size) stands on: every character of the body's text
    comes from at least one byte of the document, however the parser repairs it."""
    from pathlib import Path

    from scraper.maincontent import _text
    from scraper.parse import _PARSER_KW, _rehome_head

    fixtures = Path(__file__).resolve().parents[1] / "fixtures"
    sources = [p.read_bytes() for p in sorted(fixtures.rglob("*.htm*"))]
    rng = random.Random(12)
    pieces = ["<p>", "</p>", "&amp;", "&#1;", "&#x10FFFF;", "&NotEqualTilde;", "&nbsp", "\r\n",
              "\x00", "a", "\u00e9", "<custom>", "<head>", "<title>t", "<table><tr>x", "&",
              "<!--c-->", "<![CDATA[x]]>", "\ufeff", "<svg><title>s</title></svg>"]
    sources += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 40))).encode()
                for _ in range(3000)]
    for source in sources:
        root = etree.fromstring(source, etree.HTMLParser(encoding="utf-8", **_PARSER_KW))
        if root is None:
            continue
        etree.strip_elements(root, "script", "style", "noscript", "template", with_tail=False)
        _rehome_head(root)
        body = root.find("body")
        assert len(_text(body if body is not None else root)) <= len(source), source


def test_landmarks_are_each_tags_elements_in_document_order() -> None:
    from scraper.markup import LANDMARK_TAGS, landmarks

    root = etree.fromstring(
        "<html><head><base href='/a/'></head><body><main><h1>x</h1><article><h1>y</h1>"
        "</article></main><article><main></main></article><base href='/b/'><h1></h1>"
        "<section></section></body></html>", etree.HTMLParser())
    marks = landmarks(root)
    assert set(marks) == set(LANDMARK_TAGS)
    for tag in LANDMARK_TAGS:
        assert marks[tag] == list(root.iter(tag)) and marks[tag], tag


def test_an_ignored_base_still_resolves_the_links() -> None:
    from scraper.parse import parse

    body = (b"<html><head><base href='https://other.gov/dir/'></head><body><main>"
            b"<p>Read <a href='doc.htm'>the document</a> and more text here.</p></main>"
            b"</body></html>")
    plain = parse(body, url="https://example.gov/x")
    ignored = parse(body, url="https://example.gov/x", ignore=("base",))
    assert plain.links == ignored.links == ["https://other.gov/dir/doc.htm"]


def test_text_of_a_childless_element_is_its_serialised_text() -> None:
    from scraper.maincontent import _text
    from scraper.markup import text_of

    rng = random.Random(11)
    pieces = ["", "w", " x\n", "\u00e9", "&amp;", "&#1;", "&nbsp;", "\r\n", "<!-- c -->",
              "<?pi x?>", "<![CDATA[d]]>", "&#xFFFE;", "\U0001f600", "&bogus;"]
    tags = ["p", "td", "a", "pre", "blockquote", "b", "br"]

    def build(depth: int) -> str:
        out = []
        for _ in range(rng.randint(0, 3)):
            out.append(rng.choice(pieces))
            if depth < 4 and rng.random() < 0.5:
                tag = rng.choice(tags)
                out.append(f"<{tag}>{build(depth + 1)}</{tag}>")
        return "".join(out)

    for n in range(1500):
        parser = etree.HTMLParser(remove_comments=n % 2 == 0, remove_pis=n % 2 == 0)
        root = etree.fromstring(f"<html><body>{build(0)}</body></html>", parser)
        if root is None:
            continue
        for el in root.iter(etree.Element):
            want = etree.tostring(el, method="text", encoding=str, with_tail=False)
            assert _text(el) == want, etree.tostring(el)
            assert text_of(el) == want, etree.tostring(el)


def _random_page(rng: random.Random) -> etree._Element:
    """A small random page: nested blocks, some chrome, h1s, paragraphs of several sizes."""
    opens = ["<div>", "<section>", "<nav>", "<div class='hidden'>", "<article>", "<form>",
             "<div id='sidebar'>", "<table><tr><td>"]
    leaves = ["<h1>Title</h1>", "<h1></h1>", "<h1> <b>Bold</b> t</h1>", "<p>short</p>",
              "<p>" + "word " * 40 + "</p>", "<p>" + "<a href='/x'>link text</a> " * 12 + "</p>",
              "tail text " * 20, "<span>x</span>", "<h1 hidden>H</h1>"]

    def build(depth: int) -> str:
        out = []
        for _ in range(rng.randint(1, 4)):
            if depth < 4 and rng.random() < 0.5:
                tag = rng.choice(opens)
                close = "".join(f"</{t}>" for t in reversed(re.findall(r"<(\w+)", tag)))
                out.append(tag + build(depth + 1) + close)
            else:
                out.append(rng.choice(leaves))
        return "".join(out)

    return etree.fromstring(f"<html><body>{build(0)}</body></html>", etree.HTMLParser())


def test_title_widening_and_near_title_text_as_first_written() -> None:
    from scraper.maincontent import PARAGRAPH, WIDEN_LEVELS, _sibling_paragraph, _widened
    from scraper.markup import clean, is_excluded, nonspace, text_of
    from scraper.parse import _contains, _near_title_text, _title_h1

    def contains(ancestor: etree._Element, el: etree._Element) -> bool:
        return el is ancestor or any(a is ancestor for a in el.iterancestors())

    def title_h1(h1_elements: list, main: etree._Element) -> tuple:
        h1s = [(h1, text) for h1 in h1_elements if (text := clean(text_of(h1)))]
        for h1, text in h1s:
            if contains(main, h1) and not is_excluded(h1):
                return h1, text
        return next(((h1, text) for h1, text in h1s if not in_chrome(h1)), (None, ""))

    def widened(main: etree._Element, body: etree._Element) -> etree._Element:
        node = widest = main
        for _ in range(WIDEN_LEVELS):
            parent = node.getparent()
            if parent is None:
                break
            own = nonspace((parent.text or "") + "".join(c.tail or "" for c in parent))
            if own >= PARAGRAPH or any(_sibling_paragraph(c) for c in parent if c is not node):
                widest = parent
            if parent is body:
                break
            node = parent
        return widest

    def near_title_text(h1: etree._Element | None, main: etree._Element) -> str:
        if h1 is None:
            return ""
        h1_chain = list(h1.iterancestors())
        if any(a is main for a in h1_chain):
            return ""
        main_chain = [main, *main.iterancestors()]
        on_path = {id(a) for a in main_chain}
        h1_ids = {id(a) for a in h1_chain}
        node = next((a for a in main_chain if id(a) in h1_ids), None)
        pieces: list[str] = []
        while node is not None and node is not main:  # down the path, a level at a time
            kids = list(node)
            down = next((c for c in kids if id(c) in on_path), None)  # one child at most
            read = [c for c in kids if c is not down and isinstance(c.tag, str)
                    and not is_excluded(c)]
            pieces.append(node.text or "")
            for child in kids:
                if any(child is r for r in read):
                    pieces.append(" ".join(child.itertext()))
                pieces.append(child.tail or "")
            node = down
        return "\n".join(pieces)[:4000]

    rng = random.Random(12)
    for _ in range(150):
        root = _random_page(rng)
        body = root.find("body")
        elements = list(root.iter(etree.Element))
        h1s = list(root.iter("h1"))
        for main in rng.sample(elements, min(8, len(elements))):
            for el in elements:
                assert _contains(main, el) == contains(main, el)
            assert _title_h1(h1s, main) == title_h1(h1s, main)
            for h1 in h1s:
                assert _near_title_text(h1, main) == near_title_text(h1, main)
            assert _widened(main, body) is widened(main, body)


def test_body_fields_with_landmarks_as_the_xpath_finds_them() -> None:
    from scraper.maincontent import _body_fields

    rng = random.Random(13)
    classes = ["", "field-name-body", "x field--name-body", "field-name-bodyx", "name-body",
               "a field-name-body b", "FIELD-NAME-BODY"]

    def build(depth: int) -> str:
        out = []
        for _ in range(rng.randint(0, 3)):
            if depth < 4 and rng.random() < 0.6:
                tag = rng.choice(["div", "section", "p", "span"])
                out.append(f"<{tag} class='{rng.choice(classes)}'>t{build(depth + 1)}</{tag}>")
        return "".join(out)

    for _ in range(1500):
        root = etree.fromstring(f"<html><body>{build(0)}</body></html>", etree.HTMLParser())
        if root is None:
            continue
        want = [el for el in root.iter("div", "section")
                if {"field-name-body", "field--name-body"} & set((el.get("class") or "").split())]
        assert _body_fields(root, landmarks(root)) == want
        assert _body_fields(root) == want


def test_votes_as_when_every_paragraph_is_serialised() -> None:
    from scraper.maincontent import _in_chrome_memo, _votes

    def votes(root: etree._Element) -> list[tuple[etree._Element, int]]:
        def text(el: etree._Element) -> str:
            return etree.tostring(el, method="text", encoding=str, with_tail=False)

        chrome: dict = {}
        out = []
        for p in root.iter("p", "pre", "blockquote", "td"):
            raw = text(p)
            if len(raw) < 25:
                continue
            weight = len(collapse(raw).strip())
            if weight < 25 or _in_chrome_memo(p, chrome):
                continue
            for a in p.iter("a"):
                weight -= len(text(a).strip())
            if weight >= 25:
                out.append((p, weight))
        return out

    from scraper import extract

    compiled = extract._cwalk
    rng = random.Random(14)
    for _ in range(300):
        root = _random_page(rng)
        want = votes(root)
        try:  # the Python way (where scraper/_cwalk is not built) and the compiled one
            for walk in {None, compiled}:
                extract._cwalk = walk
                assert list(_votes(root)) == want
        finally:
            extract._cwalk = compiled
