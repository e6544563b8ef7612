"""Each shortcut the parser takes for speed gives what the plain way gives."""

from __future__ import annotations

import random
import re

from lxml import etree

from scraper.maincontent import _body_fields, _content_id, _in_chrome_memo, _role_main
from scraper.markup import collapse, in_chrome, origin_of, resolve_link

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
    assert _body_fields(root) == [
        el for el in root.iter("div", "section")
        if {"field-name-body", "field--name-body"} & set((el.get("class") or "").split())]
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
