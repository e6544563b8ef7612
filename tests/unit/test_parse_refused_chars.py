"""Control characters the HTML parser keeps but lxml refuses in any string it is given.

libxml2's HTML parser keeps a form feed, \\x01 or a reference like &#1; in the tree. Where the
parser changes a text it read (joins two, adds a line break), lxml refuses the new string,
raises ValueError and has already dropped the old one: the page was stored empty (parse's
catch-all) or without its outside text. Found by tests/unit/test_parse_catchall.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from lxml import etree

from scraper.markup import set_tail, set_text
from scraper.parse import parse

URL = "https://example.gov/page"
PARA = "This paragraph holds enough words to count as a paragraph of real text. " * 3
REFUSED = ("\x01", "\x0c", "\x1f", "\ufffe")


@pytest.fixture
def no_errors() -> Iterator[None]:
    """Fails the test when the parse logs an error (its catch-alls do)."""
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]
    logging.getLogger("scraper").addHandler(handler)
    yield
    logging.getLogger("scraper").removeHandler(handler)
    assert not errors, [r.getMessage() for r in errors]


def _as_with(c: str, text: str) -> str:
    """``text`` (read with "Q" where ``c`` stands) as the parse reads it with ``c``: white space
    to str.split() (a form feed, \\x1f) is folded like a space where lines are folded."""
    if not c.isspace():
        return text.replace("Q", c)
    return "\n".join(" ".join(line.split()) for line in text.replace("Q", " ").split("\n"))


@pytest.mark.parametrize("c", REFUSED)
def test_set_tail_and_set_text_keep_what_lxml_refuses(c: str) -> None:
    root = etree.fromstring(b"<div><p>one</p><i>two</i></div>", etree.HTMLParser())
    div, p = root.find(".//div"), root.find(".//p")
    set_tail(p, f"after{c}p")
    set_text(div, f"lead{c}in")
    assert etree.tostring(div, method="text", encoding=str) == f"lead{c}inoneafter{c}ptwo"
    i = root.find(".//i")
    set_tail(i, "plain")  # an ordinary string is simply set
    assert i.tail == "plain" and i.getnext() is None


@pytest.mark.parametrize("c", REFUSED)
def test_outside_text_with_control_characters_in_blocks(c: str, no_errors: None) -> None:
    """Line breaks added to a block's text or tail outside the main content."""
    template = ("<html><body><div class=menu>Menu{c}one<div>Sub{c}menu</div>tail{c}end</div>"
                "lead{c}in<p>before{c}</p>after{c}<main><p>" + PARA + "</p><p>" + PARA +
                "</p></main><footer><ul>Foot{c}er<li>item</li></ul>done{c}</footer></body></html>")
    page = parse(template.format(c=c).encode(), url=URL)
    letter = parse(template.format(c="Q").encode(), url=URL)
    assert "Menu" in letter.outside_text and "done" in letter.outside_text
    assert page.outside_text == _as_with(c, letter.outside_text)
    assert page.text == letter.text


@pytest.mark.parametrize("c", REFUSED)
def test_text_after_the_main_content_with_a_control_character(c: str, no_errors: None) -> None:
    """The main content's tail goes to what stands in for it in the outside text."""
    template = ("<html><body><div><main><p>" + PARA + "</p></main>after{c}main</div>"
                "<div>chrome</div></body></html>")
    page = parse(template.format(c=c).encode(), url=URL)
    letter = parse(template.format(c="Q").encode(), url=URL)
    assert letter.outside_text == "afterQmain\nchrome"
    assert page.outside_text == _as_with(c, letter.outside_text)


@pytest.mark.parametrize("c", REFUSED)
def test_ignored_elements_next_to_control_characters(c: str, no_errors: None) -> None:
    """The text after a dropped element joins the text before it (parse._select)."""
    template = ("<html><body><main><p>" + PARA + "<span class=c>visits</span>tail{c}x<b>b</b>"
                "<span class=c>2</span>t{c}</p></main></body></html>")
    page = parse(template.format(c=c).encode(), url=URL, ignore=[".c"])
    letter = parse(template.format(c="Q").encode(), url=URL, ignore=[".c"])
    assert letter.text.endswith("text. tailQxbtQ") and "visits" not in letter.text
    assert page.text == _as_with(c, letter.text) or c.isspace()
    assert page.text.replace(c, "Q") == letter.text or c.isspace()
    assert page.content_hash() != parse(b"", url=URL).content_hash()


@pytest.mark.parametrize("c", REFUSED)
def test_a_body_left_in_the_head_with_a_control_character(c: str, no_errors: None) -> None:
    """What libxml2 left in <head> moves to the body; the body's own text after it."""
    template = ("<script>x</script><x-widget>w</x-widget><body>body{c}text<p>" + PARA
                + "</p></body>")
    page = parse(template.format(c=c).encode(), url=URL)
    letter = parse(template.format(c="Q").encode(), url=URL)
    assert letter.text.startswith(PARA.strip()) and letter.outside_text == "wbodyQtext"
    assert page.text == letter.text
    assert page.outside_text == _as_with(c, letter.outside_text)


def test_a_carriage_return_beside_a_refused_character_is_kept() -> None:
    """The HTML parser reads a bare carriage return as a line feed: it goes in as &#13;, so the
    text carried is the text set (the compiled walk's outside text reads the tree as it is,
    and the two must agree)."""
    root = etree.fromstring(b"<div><p>one</p></div>", etree.HTMLParser())
    p = root.find(".//p")
    set_tail(p, "a\x01\rb&amp;<")
    assert etree.tostring(root.find(".//div"), method="text", encoding=str) == "onea\x01\rb&amp;<"


def test_a_text_the_html_parser_would_read_otherwise_loses_only_the_refused_characters() -> None:
    """A NUL the HTML parser would read as U+FFFD: the text is set as it is, but for the
    characters lxml refuses, which become spaces."""
    root = etree.fromstring(b"<div><p>one</p></div>", etree.HTMLParser())
    p = root.find(".//p")
    set_tail(p, "a\x01\x00b&amp;<")
    assert etree.tostring(root.find(".//div"), method="text", encoding=str) == "onea  b&amp;<"
