"""A page whose body libxml2 leaves inside <head> is read as a browser shows it."""

from __future__ import annotations

from archive.model import Page
from scraper.parse import parse

URL = "http://127.0.0.1:8000/page"
P1 = ("The committee met for three hours on Monday and agreed on a plan for the harbour, "
      "which had been waiting for a decision since the storm damaged its eastern wall.")


def _page(html: str) -> Page:
    return parse(html.encode(), url=URL, content_type="text/html; charset=utf-8")


def test_a_body_inside_an_unknown_element_after_a_leading_script_is_read() -> None:
    # No <head>: a script before <html> opens one, and libxml2 keeps the unknown <doc> element
    # (and the <body> in it) there. A browser ends the head at <doc> and shows the body.
    page = _page(f"""<script>var t = 1;</script><html><doc><body><div id="main">
      <h1>Harbour plan</h1><p>{P1}</p><p>Work starts in spring.</p></div></body></doc></html>""")
    assert P1 in page.text and "Work starts in spring." in page.text
    assert page.title == "Harbour plan"


def test_text_in_an_unknown_element_of_the_head_comes_before_the_body() -> None:
    page = _page(f"""<html><head><title>Plan</title><notice>Office closed on Friday</notice>
      </head><body><p>{P1}</p></body></html>""")
    assert "Office closed on Friday" in page.text + page.outside_text
    assert P1 in page.text


def test_metadata_and_empty_elements_stay_in_the_head() -> None:
    page = _page(f"""<html><head><title>Plan</title><meta name="x" content="Hidden words">
      <custom-marker></custom-marker><link rel="stylesheet" href="/s.css"></head>
      <body><p>{P1}</p></body></html>""")
    assert page.text == P1 and "Hidden words" not in page.outside_text


def test_many_elements_of_the_head_move_in_order_with_their_tails() -> None:
    """Every element from the first unknown one on (40 of them, metadata between) moves to the
    start of the body, in order, each with the white space after it, and the body's own first
    text follows them: the tree
    ``body.insert(n, el)`` for each made (scraper.parse._rehome_head)."""
    import copy

    from lxml import etree

    from scraper.parse import _rehome_head

    html = ("<html><head><title>T</title><meta name=a content=b>"
            + "".join(f"<notice>note {i}<b>bold {i}</b> tail {i}</notice>\n"
                      + ("<meta name=m>" if i % 3 else "")
                      for i in range(40))
            + "</head><body>body text<p>para</p>after</body></html>").encode()
    root = etree.fromstring(html, etree.HTMLParser())
    expected = copy.deepcopy(root)
    head, body = expected.find("head"), expected.find("body")
    moved = list(head)[2:]
    for n, el in enumerate(moved):
        body.insert(n, el)
    moved[-1].tail = (moved[-1].tail or "") + body.text
    body.text = None
    _rehome_head(root)
    assert etree.tostring(root) == etree.tostring(expected)
    assert len(moved) > 60 and len(root.find("body")) == len(moved) + 1
    page = _page(html.decode())
    assert page.text.index("note 0") < page.text.index("tail 0") < page.text.index("note 39")
    assert page.text.index("tail 39") < page.text.index("body text") < page.text.index("para")
