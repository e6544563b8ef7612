"""Check the main content :func:`scraper.extract.find_main` picked against the whole page.

``find_main`` trusts markup (a body field, ``<main>``, ``<article>``, ``role=main``, an id) and
else the densest cluster of paragraphs. On pages nobody tuned it for that pick can be a teaser,
a table row, a pop-up or a "Page generated" line, and what it misses is a silent miss: the
version, the diff and the search never see an edit there. So the pick is measured: when the
text it holds, links left out, is less than :data:`DOUBT_SHARE` of the page's visible
non-link text, the pick is doubtful and the page's text mass decides instead (jusText and
readability both fall back the same way when their first answer is too short): the deepest
element holding at least :data:`MASS_SHARE` of that text. Chrome markers (a form, a
``<header>``, a "header" id) inside it are read when they hold a large part of its text.

The measure costs two C serialisations and two XPath answers per page; the fallback, which
visits every text node, runs only on doubtful pages.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from lxml import etree

from scraper.extract import (
    Element,
    Extracted,
    find_hinted,
    find_main,
    is_excluded,
    is_hidden,
    walk,
)

logger = logging.getLogger(__name__)

# A pick holding less than this share of the page's non-link text is doubtful. The pages
# bundled with coop-archive hold 50% or more; the misses of issue 15 held a few percent (a
# pop-up of 1,240 characters on a page of 21,800, a table row of 8).
DOUBT_SHARE = 0.15
# The fallback goes down from <body> into the child holding at least this share of its text ...
MASS_SHARE = 0.8
# ... and leaving no sibling with this much text (a paragraph, not a caption or a date line).
PARAGRAPH = 150
# How far up a paragraph-density pick is widened to take in a sibling paragraph.
WIDEN_LEVELS = 4
# Fewer characters than this make a short block (jusText's length_low is 70).
SHORT = 70
# Inside the fallback, a chrome-looking element holding this share of its text is read.
KEEP_SHARE = 0.25
# Inside the fallback, a block whose text is at least this share link text is skipped ...
LINK_DENSITY = 0.75
# ... when its links hold at least this many characters (one linked word is not a menu).
_MIN_LINK_BLOCK = 40

_NOT_TEXT = "script style noscript template".split()
_NOT_TEXT_XPATH = etree.XPath(
    "descendant::script//text() | descendant::style//text() | descendant::noscript//text()"
    " | descendant::template//text()")
_LINK_TEXT_XPATH = etree.XPath("descendant::a//text()")
_TEXT_NODES_XPATH = etree.XPath(
    "descendant::text()[not(ancestor::script or ancestor::style or ancestor::noscript"
    " or ancestor::template or ancestor::a)]")


def nonspace(s: str) -> int:
    """Characters of ``s`` that are not white space (what "how much text" means here)."""
    return len(s) - sum(s.count(ch) for ch in " \n\t\r\xa0") if s.isascii() else len(
        "".join(s.split()))


def _text_weight(el: Element) -> int:
    """Non-link visible text in ``el``, scripts and styles left out (hidden text counts)."""
    whole = etree.tostring(el, method="text", encoding=str, with_tail=False)
    scripts = "".join(_NOT_TEXT_XPATH(el))
    links = "".join(_LINK_TEXT_XPATH(el))
    return max(0, nonspace(whole) - nonspace(scripts) - nonspace(links))


@dataclass
class MainContent:
    """The element chosen, what the walk read in it, and how it was chosen."""

    element: Element
    found: Extracted
    fallback: bool = False


def choose_main(root: Element, *, base_url: str, page_url: str) -> MainContent:
    """Find the main content, walk it, and check the pick; fall back when it is doubtful."""
    main = find_main(root)
    found = walk(main, base_url=base_url, page_url=page_url)
    body = root.find("body")
    if body is None:
        body = root
    page = _text_weight(body)
    if page == 0:
        return MainContent(main, found)
    links = nonspace("".join(_LINK_TEXT_XPATH(main)))
    held = max(0, nonspace(found.text) - links)
    # find_main settling for <body> means nothing looked like content: decide by text mass
    # then too, so a page picks the same element with or without a stray paragraph of chrome.
    hinted = main is not body and find_hinted(root) is main
    if main is not body and held >= DOUBT_SHARE * page and hinted:
        return MainContent(main, found)
    weights, link_weights = _mass(body)
    # Blocks that are mostly links (menus, "Trending now", "Related") are what jusText and
    # readability drop first; with no markup to trust, so do we.
    drop = {el for el, lw in link_weights.items()
            if lw >= _MIN_LINK_BLOCK and lw >= LINK_DENSITY * (lw + weights.get(el, 0))}
    if main is not body and held >= DOUBT_SHARE * page:
        # Picked by paragraph density: widen it while a sibling holds a paragraph's worth
        # (the intro above a table, the lead next to the h1), which the vote of its
        # paragraphs could not see.
        chosen = _widened(main, body, weights, drop)
        if chosen is main:
            return MainContent(main, found)
    else:
        chosen = _heaviest(body, weights)
    drop.discard(chosen)
    drop |= _trailing_crumbs(chosen, weights, drop)
    threshold = KEEP_SHARE * weights.get(chosen, 0)
    keep = {el for el, w in weights.items() if w >= threshold}
    again = walk(chosen, base_url=base_url, page_url=page_url, keep=keep, drop=drop)
    logger.debug("main content: %s held %d of %d characters; took %s instead",
                 main.tag, held, page, chosen.tag)
    return MainContent(chosen, again, fallback=True)


def _mass(body: Element) -> tuple[dict[Element, int], dict[Element, int]]:
    """Non-link text and link text held by every element under ``body`` (hidden subtrees
    count nothing)."""
    hidden: dict[Element, bool] = {}
    out = []
    for xpath in (_TEXT_NODES_XPATH, _LINK_TEXT_XPATH):
        own: dict[Element, int] = {}
        for t in xpath(body):
            n = nonspace(t)
            if not n:
                continue
            parent = t.getparent()
            if t.is_tail:
                parent = parent.getparent()
            if parent is not None:
                own[parent] = own.get(parent, 0) + n
        total: dict[Element, int] = {}
        for el, n in own.items():
            chain = [el, *el.iterancestors()]
            if any(_hidden_memo(a, hidden) for a in chain):
                continue
            for a in chain:
                total[a] = total.get(a, 0) + n
                if a is body:
                    break
        out.append(total)
    return out[0], out[1]


def _hidden_memo(el: Element, memo: dict[Element, bool]) -> bool:
    got = memo.get(el)
    if got is None:
        got = memo[el] = is_hidden(el)
    return got


def _heaviest(body: Element, weights: dict[Element, int]) -> Element:
    """From ``body`` down, the child holding MASS_SHARE of its parent's text, as long as what
    it leaves behind is crumbs: no sibling holding a paragraph's worth (a lead next to the
    h1, an intro above a table) is ever cut off. Relative to the parent, so a line of chrome
    at the top of the page does not move the choice further down."""
    node = body
    while True:
        kids = sorted((c for c in node if weights.get(c, 0)), key=weights.__getitem__,
                      reverse=True)
        if not kids or weights[kids[0]] < MASS_SHARE * weights.get(node, 0):
            return node
        if len(kids) > 1 and weights[kids[1]] >= PARAGRAPH:
            return node
        node = kids[0]


def _widened(main: Element, body: Element, weights: dict[Element, int],
             drop: set[Element]) -> Element:
    """``main``, or its highest ancestor (``<body>`` at most, WIDEN_LEVELS up at most) that has
    a child beside the path holding a paragraph's worth of text and not marked as chrome."""
    node = widest = main
    for _ in range(WIDEN_LEVELS):
        parent = node.getparent()
        if parent is None:
            break
        # The parent's own text (runs between its children) counts as a sibling too.
        own = weights.get(parent, 0) - sum(weights.get(c, 0) for c in parent)
        if own >= PARAGRAPH or any(weights.get(c, 0) >= PARAGRAPH for c in parent
                                   if c is not node and c not in drop and not is_excluded(c)):
            widest = parent
        if parent is body:
            break
        node = parent
    return widest


def _trailing_crumbs(chosen: Element, weights: dict[Element, int],
                     drop: set[Element]) -> set[Element]:
    """Short blocks after the last block holding a paragraph's worth: the page footer's lines
    (copyright, "Page generated", counters). jusText's rule: a short block takes the class of
    its neighbours, and after the last good block there are none."""
    kids = [c for c in chosen if weights.get(c, 0) and c not in drop]
    last = max((n for n, c in enumerate(kids) if weights[c] >= PARAGRAPH), default=None)
    if last is None:
        return set()
    return {c for c in kids[last + 1:] if weights[c] < SHORT}
