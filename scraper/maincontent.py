"""Find a page's main content, check the pick against the whole page, and read what is left.

The pick (:func:`choose_main`), in the spirit of the extractors with published evaluations
(readability, jusText, trafilatura):

1. Markup that names the content: a Drupal body field, ``<main>``, ``<article>``,
   ``role=main``, an id ``content`` (:func:`find_hinted`).
2. Else the densest cluster of paragraphs (readability's vote, :func:`find_main`), widened to
   take in a sibling that holds a paragraph's worth of text (the intro above a table, a lead
   beside the h1), which the vote could not see; and, when the page's h1 is a few levels up
   with such a paragraph between them (a product's price and facts between its name and its
   description), read from the h1 through the pick (:func:`_up_to_h1`).
3. Either is checked: when the text it holds, links left out, is under :data:`DOUBT_SHARE` of
   the page's non-link text (a teaser, a table row, a pop-up, a "Page generated" line), or when
   nothing was found, the page's text mass decides: from ``<body>`` down into the child
   holding :data:`MASS_SHARE` of its parent's text, never leaving a paragraph behind. That
   walk reads chrome-looking blocks (a form, a ``<header>``, a "header" id) that hold a large
   part of the text, and skips blocks of links (counting the links the walk reads: a site
   header's menu inside the page wrapper does not make the wrapper a menu) and the short lines
   after the last paragraph (jusText's context rule).

A silent miss (an edit in text the pick left out) is the worst failure an archive can have, so
every rule errs towards taking more. The check is a few C serialisations per page; the
fallback weighs elements on demand, on doubtful pages only.

The rest of the page (menus, asides, footers) is read by :mod:`scraper.outside`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

from lxml import etree

from scraper import extract
from scraper.extract import Extracted, walk
from scraper.markup import (
    Element,
    Landmarks,
    collapse,
    first_child,
    in_chrome,
    is_excluded,
    is_hidden,
    nonspace,
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
# A chrome-looking element (a form, a "header" id) holding this share of the content's text is
# read, not skipped: the content is in it.
KEEP_SHARE = 0.25
# Inside the fallback, a block whose text is at least this share link text is skipped ...
LINK_DENSITY = 0.75
# ... when its links hold at least this many characters (one linked word is not a menu).
_MIN_LINK_BLOCK = 40

def _link_text(el: Element) -> str:
    """The text of the links inside ``el`` (not of a link ``el`` stands in), joined.

    Each outermost link below ``el`` read once by ``itertext`` (a link nested in it, which
    libxml2 makes of an unclosed ``<a>``, is read with it): a walk over the links, in C but
    for a step per link. Two XPaths did this before and were superlinear: ``descendant::a//
    text()`` merges one node-set per link (20,000 links: 0.85 s), and
    ``descendant::text()[count(ancestor::a) > $outer]`` counts every text node's ancestors,
    which the fallback asks again at each level it goes down (8,000 text nodes 240 levels
    deep: 24 s).
    """
    parts: list[str] = []
    inner: set[Element] = set()  # links inside a link already read; kept alive, so the same
    for a in el.iterdescendants("a"):  # proxies come back and compare by identity
        if inner and a in inner:
            continue
        # One C serialisation (itertext is an iterator and a step per piece), and a link
        # with no child element (nearly all) holds no link: no iterator to find none.
        parts.append(_text(a))
        if len(a):
            inner.update(a.iterdescendants("a"))
    return "".join(parts)


# -- candidates ----------------------------------------------------------------------------
_BODY_CLASSES = frozenset({"field-name-body", "field--name-body"})


# Candidates for the main content, best first, in document order. An attribute-only XPath is
# answered in C and hands back few values; "//*[@role='main']" and a Python loop over every
# element both cost far more. "descendant-or-self::*/@x" (from the root, the whole document)
# visits the elements only, where "//@x" visits every text node as well; the value tests in C
# hand back only the candidates (a page has a hundred ids), not a Python string for each.
# Every class holding a body-field token holds this substring, and a body field is a <div> or
# a <section> (named in the path: libxml2 then reads no other element's attributes): C
# filters, Python decides.
_BODY_CLASS_ATTRS = etree.XPath(
    "descendant-or-self::div/@class[contains(., 'name-body')]"
    " | descendant-or-self::section/@class[contains(., 'name-body')]")
_ROLE_ATTRS = etree.XPath("descendant-or-self::*/@role[. = 'main']")
_ID_ATTRS = etree.XPath("descendant-or-self::*/@id[. = 'content' or . = 'main-content']")


# The <div> half of _BODY_CLASS_ATTRS: the <section>s are among the landmarks, when gathered.
_BODY_DIV_CLASS_ATTRS = etree.XPath("descendant-or-self::div/@class[contains(., 'name-body')]")


def _body_fields(root: Element, marks: Landmarks | None = None) -> list[Element]:
    if marks is not None and "body_field" in marks:  # the compiled walk's gather() found them
        return [el for el in marks["body_field"] if _is_body_field(el.get("class"))]
    if marks is not None:
        # The few sections a page has are asked in Python, which spares the XPath a second
        # walk of the whole tree (and the union's sort) for them.
        sections = [el for el in marks["section"] if _is_body_field(el.get("class"))]
        if not sections:
            return _body_field_parents(_BODY_DIV_CLASS_ATTRS(root))
    return _body_field_parents(_BODY_CLASS_ATTRS(root))  # both, in document order


def _is_body_field(value: str | None) -> bool:
    return value is not None and "name-body" in value and not _BODY_CLASSES.isdisjoint(
        value.split())


def _body_field_parents(values: list[Any]) -> list[Element]:
    """The elements holding the class attributes ``values`` (XPath results: strings that
    know their element) that name a body field."""
    out = []
    for value in values:
        el = value.getparent()
        if el.tag in ("div", "section") and _is_body_field(value):
            out.append(el)
    return out


def _role_main(root: Element, marks: Landmarks | None = None) -> list[Element]:
    if marks is not None and "role_main" in marks:
        return marks["role_main"]
    return [value.getparent() for value in _ROLE_ATTRS(root)]


def _content_id(root: Element, marks: Landmarks | None = None) -> list[Element]:
    if marks is not None and "content_id" in marks:
        return marks["content_id"]
    return [value.getparent() for value in _ID_ATTRS(root)]


def _tagged(tag: str) -> Callable[[Element, Landmarks | None], list[Element]]:
    """A finder of the elements named ``tag``: gathered already (:func:`landmarks`), or by
    a walk of the tree."""
    def find(root: Element, marks: Landmarks | None = None) -> list[Element]:
        return marks[tag] if marks is not None else list(root.iter(tag))
    return find


# Each takes the root and, when the parse gathered them, its landmarks.
MAIN_FINDERS = (_body_fields, _tagged("main"), _tagged("article"), _role_main, _content_id)


def _has_text(el: Element) -> bool:
    """XPath's ``string-length(normalize-space(.)) > 0``, stopping at the first text that is
    not XML white space instead of building the whole string."""
    for s in el.itertext():
        if s.strip(" \t\r\n"):
            return True
    return False


# The elements that vote, found by one C walk in document order (what the XPath union
# "//p | //pre | //blockquote | //td" finds in four walks and a sort).
_DENSITY_TAGS = ("p", "pre", "blockquote", "td")



def find_main(root: Element) -> Element:
    """The element holding the page's main content, found by what it is, else by text density.

    Falls back to ``<body>`` (whose chrome the walk still skips) only when nothing else has text.
    """
    hinted = find_hinted(root)
    if hinted is not None:
        return hinted
    best = _densest(root)
    if best is not None:
        return best
    body = first_child(root, "body")
    return body if body is not None else root


def find_hinted(root: Element, marks: Landmarks | None = None) -> Element | None:
    """The first element the markup names as the main content (MAIN_FINDERS), or None.
    ``marks``: the tree's :func:`landmarks`, when gathered already."""
    for finder in MAIN_FINDERS:
        for el in finder(root, marks):
            if not in_chrome(el) and _has_text(el):
                return el
    return None


def _densest(root: Element) -> Element | None:
    """Readability's idea, small: paragraphs vote their non-link text for parent and grandparent."""
    scores: dict[Element, float] = {}
    order: list[Element] = []
    for p, weight in _votes(root):
        parent = p.getparent()
        for target, share in ((parent, 1.0), (parent.getparent() if parent is not None else None,
                                              0.5)):
            if target is None or target.tag in ("html", "body"):
                continue
            if target not in scores:
                scores[target] = 0.0
                order.append(target)
            scores[target] += weight * share
    if not scores:
        return None
    return max(order, key=lambda el: scores[el])  # max keeps the first of equals: deterministic


def _votes(root: Element) -> Iterator[tuple[Element, int]]:
    """Each paragraph (``<p>``, ``<pre>``, ``<blockquote>``, ``<td>``) outside chrome with 25
    characters of text and 25 outside its links, in document order, with the latter count."""
    chrome: dict[Element, bool] = {}  # in_chrome, remembered: paragraphs share ancestors
    compiled = extract._cwalk
    measured = compiled.votes(root, _DENSITY_TAGS, 25) if compiled is not None else None
    if measured is not None:  # the lengths below, measured in C without a string for any
        for p, weight, links in measured:
            if not _in_chrome_memo(p, chrome) and weight - links >= 25:
                yield p, weight - links
        return
    # Each link's length, remembered: a link in nested density elements (a blockquote in a
    # blockquote) is counted at every level, and serialising it again each time cost 4 s for
    # 12,500 links 240 levels deep.
    link_len: dict[Element, int] = {}
    for p in root.iter(*_DENSITY_TAGS):
        # One C serialisation each (text_of, a Python step per text node, cost a nested
        # density element, a blockquote in a blockquote, as much again at each level). A
        # short one is turned away before its ancestors are asked whether they are chrome.
        # _text, inlined (most of these, table cells, are short and childless: the call
        # would be most of what they cost).
        kids = len(p)
        raw = (etree.tostring(p, method="text", encoding=str, with_tail=False) if kids
               else p.text)
        if raw is None or len(raw) < 25:  # collapsing and stripping only shorten it
            continue
        weight = len(collapse(raw).strip())  # collapse is _WS_RE.sub(" ", ...), without regex
        if weight < 25 or _in_chrome_memo(p, chrome):
            continue
        if kids:  # no child element, no link: no iterator to find none
            for a in p.iter("a"):
                got = link_len.get(a)
                if got is None:
                    got = link_len[a] = len(_text(a).strip())
                weight -= got
        if weight >= 25:
            yield p, weight


def _in_chrome_memo(el: Element, memo: dict[Element, bool]) -> bool:
    """:func:`in_chrome`, remembering the answer for ``el`` and each ancestor it looked at."""
    path = []
    node = el
    verdict = False
    while node is not None:
        known = memo.get(node)
        if known is not None:
            verdict = known
            break
        path.append(node)
        if node.tag != "form" and is_excluded(node):
            verdict = True
            break
        node = node.getparent()
    # Everything on the path below the first chrome (or known) node shares its verdict.
    for node in path:
        memo[node] = verdict
    return verdict


# -- the check --------------------------------------------------------------------------------


def _text_weight(el: Element) -> int:
    """Non-link text in ``el`` (hidden text counts). The parser took scripts and styles out."""
    links = _link_text(el)
    return max(0, nonspace(_text(el)) - nonspace(links))


@dataclass
class MainContent:
    """The element chosen, what the walk read in it, and how it was chosen."""

    element: Element
    found: Extracted
    fallback: bool = False
    # Elements inside ``element`` the walk did not read (:func:`_up_to_h1`): outside text.
    skipped: tuple[Element, ...] = ()


def choose_main(root: Element, *, base_url: str, page_url: str,
                source_size: int | None = None, marks: Landmarks | None = None) -> MainContent:
    """Find the main content, walk it, and check the pick; fall back when it is doubtful.

    ``source_size``, when given, is the length in bytes of the document the tree was parsed
    from: every character of the tree's text comes from at least one of its bytes (a
    reference from several), so it bounds the body's text from above, for free. ``marks``:
    the tree's :func:`landmarks`, when the caller gathered them.
    """
    body = first_child(root, "body")
    if body is None:
        body = root
    main = find_hinted(root, marks)
    skipped: tuple[Element, ...] = ()
    if main is None:
        main = _densest(root)
        if main is not None:
            # Picked by paragraph density: widen it while a sibling holds a paragraph's worth
            # (the intro above a table, the lead next to the h1), which the vote of its
            # paragraphs could not see.
            main, skipped = _up_to_h1(_widened(main, body), root, body, marks)
    if main is None or main is body:
        # Nothing looked like content: decide by text mass, so a page picks the same
        # element with or without a stray paragraph of chrome.
        return _fallback(body, base_url=base_url, page_url=page_url)
    # The body's whole text bounds its non-link text from above, in one C call (its length
    # bounds it again, without counting the white space): most picks pass on those alone, and
    # only the rest pay for the body's links. A long page's is measured before the walk, so
    # that this copy of its text is gone before the walk makes its own; a short page's only
    # when the pick holds less than DOUBT_SHARE of the source's bytes, which bound it too.
    size = mass = -1
    if source_size is None or source_size > _MEASURE_AFTER_WALK:
        size, mass = _size_and_mass(body)
    found = walk(main, base_url=base_url, page_url=page_url, keep=_keeper(main),
                 drop=frozenset(skipped))
    held = found.mass - found.link_chars
    if source_size is not None and held >= DOUBT_SHARE * source_size:
        return MainContent(main, found, skipped=skipped)
    if size < 0:
        size, mass = _size_and_mass(body)
    if (held >= DOUBT_SHARE * size or held >= DOUBT_SHARE * mass
            or held >= DOUBT_SHARE * _text_weight(body)):
        return MainContent(main, found, skipped=skipped)
    return _fallback(body, base_url=base_url, page_url=page_url)


# Sources up to this many bytes have their body's text measured after the walk, if at all.
_MEASURE_AFTER_WALK = 1 << 20


def _size_and_mass(el: Element) -> tuple[int, int]:
    """The length of ``el``'s text and its characters that are not white space."""
    whole = _text(el)
    return len(whole), nonspace(whole)


def _keeper(main: Element) -> Callable[[Element], bool]:
    """What the walk of a pick asks about a chrome-looking element inside it: read an
    article's own ``<header>`` (the h1, the lead, the byline; a site banner says
    ``role=banner``), and a form or "chrome" block that holds KEEP_SHARE of the pick's text."""
    weigh = _Weigher()

    def keep(el: Element) -> bool:
        if el.tag == "header":
            return el.get("role") != "banner"
        if len(_text(el)) < PARAGRAPH:  # a search box, a share bar: no need to count
            return False
        return weigh(el) >= KEEP_SHARE * weigh(main)
    return keep


def _fallback(body: Element, *, base_url: str, page_url: str) -> MainContent:
    """The element the text mass points at (:func:`_heaviest`), walked without blocks of
    links and trailing crumbs, but with the chrome-looking blocks that hold its text."""
    weigh = _Weigher()
    chosen = _heaviest(body, weigh)
    # Blocks that are mostly links (menus, "Trending now", "Related") are what jusText and
    # readability drop first; with no markup to trust, so do we.
    drop = {el for el in _link_blocks(chosen) if weigh.link_dense(el)}
    drop |= _trailing_crumbs(chosen, weigh, drop)
    threshold = KEEP_SHARE * weigh(chosen)
    found = walk(chosen, base_url=base_url, page_url=page_url,
                 keep=lambda el: weigh(el) >= threshold, drop=drop)
    if found.mass - found.link_chars < PARAGRAPH:
        index = _index_page(body, weigh, base_url=base_url, page_url=page_url)
        if index is not None:
            return index
    return MainContent(chosen, found, fallback=True)


def _index_page(body: Element, weigh: _Weigher, *, base_url: str,
                page_url: str) -> MainContent | None:
    """The page read from its title on with its link lists, when the text mass found no
    paragraph of the page's own and link lists follow the page's ``<h1>``: the page is an
    index (a publications list, a list of fact sheets), and those lists are what a reader
    reads and what a watch on it is for. Dropped as menus, every change to them would go
    unseen. Link lists before the title stay dropped (a site's menus come first). None when
    the page has no such title or no list after it (it is simply short)."""
    h1 = next((h for h in body.iter("h1") if _has_text(h) and not in_chrome(h)), None)
    if h1 is None:
        return None
    order = {el: n for n, el in enumerate(body.iter())}
    title_at = order[h1]
    holders = set(h1.iterancestors())
    lists = {el for el in _link_blocks(body) if weigh.link_dense(el)} - holders
    if not any(order[el] > title_at for el in lists):
        return None
    drop = {el for el in lists if order[el] < title_at}
    drop |= _trailing_crumbs(body, weigh, drop)
    threshold = KEEP_SHARE * weigh(body)
    found = walk(body, base_url=base_url, page_url=page_url,
                 keep=lambda el: weigh(el) >= threshold, drop=drop)
    return MainContent(body, found, fallback=True)


def _text(el: Element) -> str:
    """All text in the element ``el`` (libxml2's text content of the subtree)."""
    if len(el):
        return etree.tostring(el, method="text", encoding=str, with_tail=False)
    # No child node but text (a paragraph, a table cell, a link, most of them): its text is
    # what the serialisation gives, for a fifth of its cost.
    return el.text or ""


class _Weigher:
    """Non-link and link text of elements, measured in C (serialisations and XPath) and
    remembered: the fallback asks about the same elements more than once."""

    def __init__(self) -> None:
        self.memo: dict[Element, tuple[int, int]] = {}

    def both(self, el: Element) -> tuple[int, int]:
        got = self.memo.get(el)
        if got is None:
            if not isinstance(el.tag, str) or is_hidden(el):
                got = (0, 0)
            else:
                links = nonspace(_link_text(el))
                got = (max(0, nonspace(_text(el)) - links), links)
            self.memo[el] = got
        return got

    def __call__(self, el: Element) -> int:
        return self.both(el)[0]

    def link_dense(self, el: Element) -> bool:
        text, links = self.both(el)
        if text >= PARAGRAPH and _dense(text, links):
            # A block holding a paragraph's worth of text is a menu by the links the walk
            # reads, not by those of the chrome in it (a site header's mega menu inside the
            # page wrapper), which the walk skips anyway.
            skipped_text, skipped_links = self._chrome_in(el)
            text, links = text - skipped_text, links - skipped_links
        return _dense(text, links)

    def _chrome_in(self, el: Element) -> tuple[int, int]:
        """Non-link and link text of the outermost chrome elements in ``el`` (rare: asked
        only about dense blocks with a paragraph's worth of text)."""
        text = links = 0
        stack = [el]
        while stack:
            for child in stack.pop():
                if not isinstance(child.tag, str):
                    continue
                if is_excluded(child):
                    # As both() counted it in el's total: hidden text included.
                    got = nonspace(_link_text(child))
                    text += max(0, nonspace(_text(child)) - got)
                    links += got
                else:
                    stack.append(child)
        return text, links


def _dense(text: int, links: int) -> bool:
    return links >= _MIN_LINK_BLOCK and links >= LINK_DENSITY * (links + text)


def _link_blocks(chosen: Element) -> set[Element]:
    """Elements that could be a block of links: the parent, grandparent and great-grandparent
    of every link (``a`` < ``li`` < ``ul`` < ``div``), below ``chosen``."""
    out: set[Element] = set()
    for a in chosen.iter("a"):
        node = a.getparent()
        for _ in range(3):
            if node is None or node is chosen or node in out:
                break
            out.add(node)
            node = node.getparent()
    return out


def _heaviest(body: Element, weigh: _Weigher) -> Element:
    """From ``body`` down, the child holding MASS_SHARE of its parent's text, as long as what
    it leaves behind is crumbs: no sibling holding a paragraph's worth (a lead next to the
    h1, an intro above a table) is ever cut off. Relative to the parent, so a line of chrome
    at the top of the page does not move the choice further down."""
    node = body
    while True:
        kids = sorted((c for c in node if weigh(c)), key=weigh, reverse=True)
        if not kids or weigh(kids[0]) < MASS_SHARE * weigh(node):
            return node
        if len(kids) > 1 and weigh(kids[1]) >= PARAGRAPH:
            return node
        node = kids[0]


_TAIL = attrgetter("tail")


def _widened(main: Element, body: Element) -> Element:
    """``main``, or its highest ancestor (``<body>`` at most, WIDEN_LEVELS up at most) that has
    a child beside the path holding a paragraph's worth of text and not marked as chrome."""
    node = widest = main
    for _ in range(WIDEN_LEVELS):
        parent = node.getparent()
        if parent is None:
            break
        kids = list(parent)  # one proxy per child, for both passes
        # The parent's own text (runs between its children) counts as a sibling too; the
        # tails read by C calls (map, filter), not a Python step per child.
        own = nonspace((parent.text or "") + "".join(filter(None, map(_TAIL, kids))))
        if own >= PARAGRAPH:
            widest = parent
        else:
            for c in kids:  # a loop, not any() over a generator
                if c is not node and _sibling_paragraph(c):
                    widest = parent
                    break
        if parent is body:
            break
        node = parent
    return widest


def _up_to_h1(main: Element, root: Element, body: Element,
              marks: Landmarks | None = None) -> tuple[Element, tuple[Element, ...]]:
    """A widened density pick below the page's h1, the two up to WIDEN_LEVELS apart with a
    paragraph's worth of text between them (a product's price and facts between its name and
    its description tabs), gives way to the block holding both, read from the h1's branch to
    the end of the pick's: the content runs from the title through the pick. Returns that
    block and the elements in it the walk skips: those before the h1's branch and after the
    pick's (a "customers also bought" slider), which stay outside text. Else ``main``."""
    h1s = marks["h1"] if marks is not None else root.iter("h1")
    h1 = None
    for h in h1s:
        if _has_text(h) and not in_chrome(h):
            h1 = h
            break
    else:
        return main, ()
    h1_path = {h1, *h1.iterancestors()}
    if main in h1_path:
        return main, ()
    path = [main]  # main and its ancestors, up to the block holding the h1
    for _ in range(WIDEN_LEVELS):
        parent = path[-1].getparent()
        if parent is None or parent is body:
            return main, ()
        path.append(parent)
        if parent in h1_path:
            break
    else:
        return main, ()
    holder = path[-1]
    kids = list(holder)
    # None when the block is the h1 itself: the pick is inside the title (broken markup that
    # puts a page's text in its <h1>), and stays as it is.
    h1_at = next((n for n, c in enumerate(kids) if c in h1_path), None)
    if h1_at is None:
        return main, ()
    main_at = kids.index(path[-2])
    if h1_at > main_at:
        return main, ()
    between = kids[h1_at:main_at] + [c for level, child in zip(path[1:-1], path[:-2], strict=True)
                                     for c in _before(level, child)]
    if not any(_sibling_paragraph(c) for c in between):
        return main, ()
    skipped = kids[:h1_at] + kids[main_at + 1:]
    for level, child in zip(path[1:-1], path[:-2], strict=True):
        skipped += _after(level, child)
    return holder, tuple(c for c in skipped if isinstance(c.tag, str))


def _before(parent: Element, child: Element) -> list[Element]:
    kids = list(parent)
    return kids[:kids.index(child)]


def _after(parent: Element, child: Element) -> list[Element]:
    kids = list(parent)
    return kids[kids.index(child) + 1:]


def _sibling_paragraph(el: Element) -> bool:
    """True when ``el`` holds a paragraph's worth of non-link text and is neither chrome nor
    a block of links."""
    if not isinstance(el.tag, str) or is_excluded(el):
        return False
    whole = nonspace(_text(el))
    if whole < PARAGRAPH:
        return False
    links = nonspace(_link_text(el))
    if links >= _MIN_LINK_BLOCK and links >= LINK_DENSITY * whole:
        return False
    return whole - links >= PARAGRAPH


def _trailing_crumbs(chosen: Element, weigh: _Weigher, drop: set[Element]) -> set[Element]:
    """Short blocks after the last block holding a paragraph's worth: the page footer's lines
    (copyright, "Page generated", counters). jusText's rule: a short block takes the class of
    its neighbours, and after the last good block there are none."""
    kids = [c for c in chosen if c not in drop and weigh(c)]
    last = max((n for n, c in enumerate(kids) if weigh(c) >= PARAGRAPH), default=None)
    if last is None:
        return set()
    return {c for c in kids[last + 1:] if weigh(c) < SHORT}
