"""What markup means, before any walk: which elements are chrome or invisible, how a link
resolves, how text is cleaned. Shared by the main-content choice (:mod:`scraper.maincontent`)
and the walk (:mod:`scraper.extract`).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lxml import etree

from archive.model import Item, Section
from archive.urls import normalize_url

Element = Any  # lxml.html.HtmlElement; lxml ships no usable stubs


BLOCK_TAGS = frozenset(
    "address article aside blockquote body center dd details dialog dir div dl dt fieldset "
    "figcaption figure footer form h1 h2 h3 h4 h5 h6 header hr html legend li main menu nav ol "
    "p pre section summary table tbody td tfoot th thead tr ul caption".split()
)
HEADING_LEVELS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
# Never content, wherever they stand. Forms go too (search boxes, feedback forms, the hidden
# form_build_id/form_token inputs Drupal puts in them); a page wrapped whole in a form (ASP.NET)
# is still read, because the walk starts inside it.
SKIP_TAGS = frozenset(
    "script style noscript template head title meta link base input select option optgroup "
    "textarea button iframe frame frameset object embed applet svg math canvas audio video "
    "form nav aside footer dialog datalist map".split()
)
CHROME_ROLES = frozenset(
    "navigation banner contentinfo complementary search menu menubar dialog alertdialog "
    "tooltip".split()
)
# Class tokens of chrome and of text meant for screen readers only (Drupal 7's
# element-invisible "You are here", Drupal 8's visually-hidden, Bootstrap's sr-only ...).
CHROME_CLASSES = frozenset(
    "element-invisible element-hidden visually-hidden visuallyhidden sr-only screen-reader-text "
    "hidden invisible d-none breadcrumb breadcrumbs skip-link skip-links region-header "
    "region-footer region-navigation region-sidebar-first region-sidebar-second menu navbar "
    "nav site-header site-footer sidebar share print-share social-share addthis".split()
)
CHROME_IDS = frozenset(
    "header footer navigation nav sidebar breadcrumb breadcrumbs skip-link site-header "
    "site-footer top-nav left-nav main-menu mega-menu footer-links".split()
)
_HIDDEN_STYLE_RE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_WS_RE = re.compile(r"[ \t\n\r\f\v]+")
_WS_CONTROLS = ("\n", "\t", "\r", "\f", "\v")


def is_excluded(el: Element) -> bool:
    """True when ``el`` and everything in it is not content (chrome, hidden, script, form)."""
    tag = el.tag
    if not isinstance(tag, str):  # comment or processing instruction that survived the parser
        return True
    if tag in SKIP_TAGS:
        return True
    if tag == "header" and (el.get("role") == "banner" or el.find(".//nav") is not None
                            or el.find(".//ul") is not None):
        return True
    # One C call hands over the (few) attributes, where each attrib.get is one (and the
    # attrib proxy another): asked of every element the walk and the choice look at.
    for name, value in el.items():
        if name in _HIDING_ATTRS:
            if _hides(name, value):
                return True
        elif not value:
            continue
        elif name == "class":
            if not CHROME_CLASSES.isdisjoint(value.split()):
                return True
        elif name == "id":
            if value.lower() in CHROME_IDS:
                return True
        elif name == "role" and value in CHROME_ROLES:
            return True
    return False


_HIDING_ATTRS = frozenset({"hidden", "aria-hidden", "style"})


def _hides(name: str, value: str) -> bool:
    """Whether the attribute ``name="value"`` (one of _HIDING_ATTRS) hides its element:
    ``hidden`` whatever its value, ``aria-hidden="true"``, a style with ``display: none`` or
    ``visibility: hidden``."""
    if name == "hidden":
        return True
    if name == "aria-hidden":
        return value == "true"
    return bool(value and _HIDDEN_STYLE_RE.search(value))


# Tags skipped even when they hold text: never what a reader reads as the page's content.
HARD_SKIP_TAGS = SKIP_TAGS - {"form"}


def is_hidden(el: Element) -> bool:
    """True when ``el`` is never read whatever it holds: a never-content tag (script, nav,
    aside, footer ..., but not form), or hidden by an attribute or its style."""
    tag = el.tag
    if not isinstance(tag, str) or tag in HARD_SKIP_TAGS:
        return True
    for name, value in el.items():  # one C call (see is_excluded)
        if name in _HIDING_ATTRS and _hides(name, value):
            return True
    return False


def in_chrome(el: Element) -> bool:
    """True when ``el`` or an ancestor is chrome or hidden (candidate filter for main content).

    A form ancestor is not chrome here: ASP.NET pages (treasury.gov) wrap the whole page in one.
    """
    node = el
    while node is not None:
        if node.tag != "form" and is_excluded(node):
            return True
        node = node.getparent()
    return False


# An absolute URL that normalize_url leaves as it is: lower-case scheme and host, no port, no
# query, fragment, ";" parameters or white space, a path. Most links on these sites look like
# this, and skipping urlsplit/urljoin for them is a measurable part of the parse.
_PLAIN_URL_RE = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*/[^?#;\s\\]*\Z")


# A path-absolute href ("/doc/x.htm") without query, fragment, parameters, dot segments or
# empty segments: normalize_url(href, base) is the base's origin followed by it.
_ABS_PATH_RE = re.compile(r"/(?!/)[^?#;\s\\]*\Z")
_ORIGIN_RE = re.compile(r"https?://[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]+)?\Z")


@functools.lru_cache(maxsize=256)
def origin_of(base: str) -> str | None:
    """``scheme://host[:port]`` of ``base`` as normalize_url spells it, when plain; else None.

    Remembered per base (every walk asks, and a crawl's pages share a few bases): working it
    out through normalize_url cost more than the walk of a small page's text."""
    try:
        root = normalize_url("/", base)
    except ValueError:
        return None
    origin = root[:-1]
    return origin if root.endswith("/") and _ORIGIN_RE.match(origin) else None


def resolve_link(href: str | None, base: str, origin: str | None = None) -> str | None:
    """Absolute normalised http(s) URL for ``href``; None for fragments, mailto:, javascript: ..."""
    if not href:
        return None
    href = href.strip()
    if not href or href.startswith("#"):
        return None
    if (origin is not None and href[0] == "/" and _ABS_PATH_RE.match(href)
            and "/." not in href and "//" not in href):
        return origin + href  # what normalize_url(href, base) returns, without urllib
    if _PLAIN_URL_RE.match(href):
        return href  # already in normal form: normalize_url would return it unchanged
    try:
        url = normalize_url(href, base)
    except ValueError:  # malformed IPv6 literal, bad port ...
        return None
    return url if url.startswith(("http://", "https://")) else None


_new = object.__new__


def new_item(title: str, url: str | None, summary: str, section: int | None) -> Item:
    """``Item(title, url, summary, section)`` without the frozen dataclass's four
    ``object.__setattr__`` calls (a list entry or linked paragraph each makes one)."""
    item = _new(Item)
    d = item.__dict__
    d["title"] = title
    d["url"] = url
    d["summary"] = summary
    d["section"] = section
    return item


def first_child(el: Element, tag: str) -> Element | None:
    """``el.find(tag)`` for a plain tag name: its first child named ``tag``, or None.

    A loop over the children (an ``<html>`` has two) costs less than ElementPath's parse of
    the path and its generator, which is most of what ``find`` costs on a small page.
    """
    for kid in el:
        if kid.tag == tag:
            return kid
    return None


#: Tags whose elements a parse gathers in one walk of the tree (:func:`landmarks`): for the
#: base URL, the title and the main content's markup (a body field may be a section).
LANDMARK_TAGS = ("base", "h1", "main", "article", "section")
Landmarks = dict[str, list[Element]]


def landmarks(root: Element) -> Landmarks:
    """The elements of LANDMARK_TAGS in ``root``, each tag's in document order, as
    ``root.iter(tag)`` gives them: one C walk of the tree where four would each walk it all
    (a walk costs 1-2% of a small page's parse). Valid until elements are moved or removed."""
    found: Landmarks = {tag: [] for tag in LANDMARK_TAGS}
    for el in root.iter(*LANDMARK_TAGS):
        found[el.tag].append(el)
    return found


def new_section(heading: str, level: int, text: str, parent: int | None) -> Section:
    """``Section(heading, level, text, parent)`` as :func:`new_item` makes an Item: every
    heading of a page makes one in the walk, and again with its text when the text is
    joined."""
    section = _new(Section)
    d = section.__dict__
    d["heading"] = heading
    d["level"] = level
    d["text"] = text
    d["parent"] = parent
    return section


def text_of(el: Element) -> str:
    """All text in ``el``, as ``lxml.html``'s text_content() (the tree here is plain etree).

    libxml2's text content of the subtree, in one C call: what ``"".join(el.itertext())``
    joins (text and tails; no comment's or processing instruction's own text) without an
    iterator and a step per piece.
    """
    if not isinstance(el.tag, str):  # a comment or a processing instruction: no text
        return "".join(el.itertext())
    if len(el):
        return etree.tostring(el, method="text", encoding=str, with_tail=False)
    return el.text or ""  # no child node: its text is all (a fifth of the serialisation's cost)


def collapse(s: str) -> str:
    """Collapse runs of HTML white space (not no-break spaces) to one space, as a browser shows.

    Plain ``in`` tests first: most strings need nothing, and a regex per string was the walk's
    largest cost.
    """
    for ch in _WS_CONTROLS:  # str.replace is C-fast; str.translate with a table is not
        if ch in s:
            s = s.replace(ch, " ")
    while "  " in s:  # a few C passes halve every run; the regex went per character
        s = s.replace("  ", " ")
    return s


def clean(s: str) -> str:
    """:func:`collapse`, then strip all white space at the ends (nbsp too).

    No-break spaces inside the text stay: a browser shows them, so they are part of the text.
    """
    return collapse(s).strip()


def nonspace(s: str) -> int:
    """Characters of ``s`` that are not white space (what "how much text" means here).

    Counts the common white space only (a rare other space counts as text): a few C scans,
    where splitting a long text into words costs a list of them.
    """
    if len(s) > _NONSPACE_BYTES:  # no UTF-8 copy of a long text: a count per space
        return len(s) - sum(map(s.count, _SPACES))
    # One C pass over the UTF-8 deletes the four ASCII spaces, where str.count is a pass
    # each (and not a fast one): a third of the time. A no-break space is the one UTF-8
    # sequence C2 A0 (C2 only ever leads), counted apart when the text is not ASCII.
    utf8 = s.encode("utf-8", "surrogatepass")
    spaces = len(utf8) - len(utf8.translate(None, b" \n\t\r"))
    if len(utf8) != len(s):
        spaces += utf8.count(b"\xc2\xa0")
    return len(s) - spaces


_SPACES = (" ", "\n", "\t", "\r", "\xa0")
# Longer texts are counted in place (a 20 MB page's text need not be copied twice more).
_NONSPACE_BYTES = 1 << 20


# Characters the HTML parser puts in the tree (a form feed or \x01 in the page, &#1;, &#xFFFE;)
# but lxml takes in no string it is given.
_REFUSED_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _carrying(text: str) -> Element:
    """A <span> whose text is ``text``, made by the HTML parser, which keeps the characters lxml
    refuses; where it would read ``text`` otherwise, those characters become spaces. Rare:
    a parser of its own each time (a parser is not to be shared between threads)."""
    # A carriage return would come back a line feed (the parser normalises line ends).
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace("\r", "&#13;")
    span = etree.fromstring(f"<span>{escaped}</span>".encode("utf-8", "surrogatepass"),
                            etree.HTMLParser(encoding="utf-8")).find(".//span")
    if span is None or span.text != text:
        span = etree.Element("span")
        span.text = _REFUSED_RE.sub(" ", text)
    return span


def set_tail(el: Element, tail: str) -> None:
    """``el.tail = tail``, also when ``tail`` holds a character the parser kept but lxml refuses
    (a text read from the tree, changed): then an inline element right after ``el`` carries it.
    A failed assignment has already dropped the old tail."""
    try:
        el.tail = tail
    except ValueError:
        el.tail = None
        el.addnext(_carrying(tail))


def set_text(el: Element, text: str) -> None:
    """``el.text = text``, also when ``text`` holds a character lxml refuses (see set_tail):
    then an inline element first in ``el`` carries it."""
    try:
        el.text = text
    except ValueError:
        el.text = None
        el.insert(0, _carrying(text))
