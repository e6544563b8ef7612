"""Parse a fetched document into a :class:`archive.model.Page`.

HTML is parsed once by lxml; :mod:`scraper.maincontent` picks the main content (or a watch's
``main`` selector names it), which :mod:`scraper.extract` walks once into the records (a
doubtful pick is walked again, rarely), and the rest of the page's text becomes
``Page.outside_text``, which is never hashed. PDFs are read with pypdf in a bounded child
process (:mod:`scraper.pdf`). Anything else is kept as kind "other" with no text.
:func:`parse` never raises: broken markup, binary junk or a PDF pypdf chokes on give a Page
with whatever could be found. A budget that stops the parse early (PDF pages, characters,
time or memory; HTML nested deeper than libxml2's 256 levels) is named in
:attr:`Page.truncated <archive.model.Page>`, never silent.

>>> page = parse(b"<h1>Hi</h1><div class=field-name-body><p>Updated: May 2, 2016</p></div>",
...              url="https://example.gov/x")
>>> page.title, page.updated_on, page.text
('Hi', '2016-05-02', 'Updated: May 2, 2016')
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import unicodedata
from collections.abc import Sequence
from datetime import date
from typing import Any

from lxml import etree

from archive import capture
from archive.model import _ODD_SPACES, _ODD_SPACES_ASCII, Page, holds_any
from archive.urls import normalize_url
from scraper import extract
from scraper.encoding import decode_html_exact
from scraper.extract import walk
from scraper.maincontent import choose_main
from scraper.markup import (
    Element,
    Landmarks,
    clean,
    first_child,
    in_chrome,
    is_excluded,
    landmarks,
    set_tail,
    set_text,
    text_of,
)
from scraper.outside import outside_text
from scraper.pdf import DEFAULT_LIMITS, PdfLimits, extract_pdf

logger = logging.getLogger(__name__)

# What parses as HTML: a web page, or XML (XHTML served as XML).
HTML_TYPES = capture.HTML_TYPES | capture.XML_TYPES
PDF_TYPES = capture.PDF_TYPES
#: ``Page.truncated`` of a parse that ran out of memory (no text: a failure, docs/limits.md).
OUT_OF_MEMORY = "parsing ran out of memory"
# Site names that follow a page's own title in <title>.
_TITLE_SEP_RE = re.compile(r"\s+(?:\||::|—|–)\s+")

_MONTHS = {
    name: i
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
         ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
         ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
         ("december", "dec")],
        start=1,
    )
    for name in names
}
_MONTH = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DATE = (
    rf"(?:{_WEEKDAY}{_MONTH}\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})"
    r"|(?P<m2>\d{1,2})/(?P<d2>\d{1,2})/(?P<y2>\d{4})"
    r"|(?P<y3>\d{4})-(?P<m3>\d{2})-(?P<d3>\d{2}))"
)
_UPDATED_FRAGMENTS = ("pdated", "PDATED", "odified", "ODIFIED", "evised", "EVISED")
_UPDATED_LOWER = ("pdated", "odified", "evised")
_UPDATED_HINT_RE = re.compile("updated|modified|revised", re.IGNORECASE)
_UPDATED_RE = re.compile(rf"(?:updated|modified|revised)(?:\s+on)?\s*:?\s*{_DATE}", re.IGNORECASE)
# A line that is a date and nothing else: the dateline of a fact sheet or press release.
_DATELINE_RE = re.compile(rf"^\s*{_DATE}\s*$", re.IGNORECASE)
_ANY_DATE_RE = re.compile(rf"\b{_DATE}", re.IGNORECASE)
_DATELINE_SCAN_LINES = 25
_NEVER_TEXT = ("script", "style", "noscript", "template")
_NEAR_TITLE_CHARS = 4000
_PARSER_KW: dict[str, Any] = {
    "remove_comments": True,  # comments never reach records, and their tails join up
    "remove_pis": True,
    "no_network": True,
    "collect_ids": False,  # we never look elements up by id through libxml2; saves ~8%
}


def parse(
    body: bytes,
    *,
    url: str,
    content_type: str | None = None,
    http_charset: str | None = None,
    pdf_limits: PdfLimits = DEFAULT_LIMITS,
    stop: threading.Event | None = None,
    main: str | None = None,
    ignore: Sequence[str] = (),
) -> Page:
    """Parse ``body`` fetched from ``url`` into a Page. Never raises; deterministic.

    ``content_type`` is the media type (parameters allowed), ``http_charset`` the charset the
    server declared. The kind is "pdf" for a PDF (by type or ``%PDF-`` magic), "other" for a
    non-HTML type, else "html". ``pdf_limits`` bound a PDF's extraction; ``stop``, when set,
    ends one at once (the Page then has no text and says why in ``truncated``). A watch's CSS
    selectors (checked by its config): the elements ``ignore`` matches are dropped before
    anything is read, so they never reach the records or the content hash; ``main`` names the
    main content (its first match), in place of the built-in detection, which still decides
    when it matches nothing.
    """
    media = (content_type or "").split(";", 1)[0].strip().lower()
    try:
        if media in PDF_TYPES or body[:1024].lstrip().startswith(b"%PDF-"):
            return _parse_pdf(body, url, pdf_limits, stop)
        if media and media not in HTML_TYPES and not media.startswith("text/html"):
            return Page(url=url, kind="other")
        return _parse_html(body, url, http_charset, main, tuple(ignore))
    except MemoryError:
        # Nothing could be read within the memory there is (the parser process's bound, or
        # the machine's): a failure with its reason, never an empty version of the page.
        logger.warning("%s: %s", url, OUT_OF_MEMORY)
        return Page(url=url, kind="html", truncated=OUT_OF_MEMORY)
    except Exception:  # the contract is "never raise": a capture must survive any input
        logger.exception("parse failed for %s; keeping an empty page", url)
        return Page(url=url, kind="html")


# -- HTML ---------------------------------------------------------------------------------------
def _parse_html(body: bytes, url: str, http_charset: str | None, main_css: str | None = None,
                ignore: tuple[str, ...] = ()) -> Page:
    text, _encoding, exact = decode_html_exact(body, http_charset=http_charset)
    if not text or text.isspace():  # not text.strip(), which copies the page to find out
        return Page(url=url)
    # lxml refuses str input with an XML declaration, so hand it UTF-8 bytes and say so: the
    # body itself when it is valid UTF-8 (no second copy of a large page), else the text's.
    utf8 = body if exact else text.encode("utf-8", "surrogatepass")
    del text  # the tree holds the text from here on; a 20 MB page need not be held thrice
    parser = _html_parser()
    root = etree.fromstring(utf8, parser)
    source_size = len(utf8)
    del utf8
    truncated = _resource_limit(parser)
    if root is None:
        return Page(url=url, truncated=truncated)
    # Never read, wherever they stand: gone at once (in C), so measuring how much text the page
    # holds (scraper.maincontent) is one serialisation. Their tails are text and stay.
    etree.strip_elements(root, *_NEVER_TEXT, with_tail=False)
    _rehome_head(root)
    # Gathered once the head's elements are where they stay; the walk and the check move
    # none, a watch's ignore selectors remove some (after the base URL is read, as ever).
    marks = _landmarks(root)
    base = _base_url(marks["base"], url)
    picked = _select(root, main_css, ignore)  # an lxml element's truth is its child count
    if ignore:
        marks = _landmarks(root)
    skipped: tuple[Element, ...] = ()
    chosen = None
    if picked is not None:
        main, found = picked, walk(picked, base_url=base, page_url=_self_url(url))
    else:
        chosen = choose_main(root, base_url=base, page_url=_self_url(url),
                             source_size=source_size, marks=marks)
        main, found, skipped = chosen.element, chosen.found, chosen.skipped
    h1, title = _title_h1(marks["h1"], main)
    if not title:
        title = _title_from_head(root)
    near = _near_title_text(h1, main)
    outside = ""
    try:  # last use of the tree: it takes it apart
        # The main content's text is joined here only when outside_text needs it (the whole
        # body was the main content); otherwise after the tree is gone, below.
        whole = main is root or main is first_child(root, "body") or main.getparent() is None
        outside = outside_text(root, main, found.text if whole else "", skipped)
    except Exception:  # the records are what matters: never lose them to the rest
        logger.exception("reading the text outside the main content of %s failed", url)
    # The tree (for a 20 MB page several times its size) goes before the text is joined.
    del root, main, h1, picked, skipped, chosen, marks
    text = found.text
    page = Page(
        url=url,
        title=title,
        updated_on=_find_updated(text, near),
        text=text,
        sections=found.sections,
        items=found.items,
        links=found.links,
        kind="html",
        truncated=truncated,
    )
    if not found.pre:
        _note_clean_lines(page)
    page.outside_text = outside
    return page


_PARSERS = threading.local()


def _html_parser() -> etree.HTMLParser:
    """This thread's HTML parser, made on first use (a parser is not to be shared between
    threads; making one for each page cost 5% of a small page's tree). Each parse starts
    with an empty error log, which :func:`_resource_limit` reads."""
    parser = getattr(_PARSERS, "parser", None)
    if parser is None:
        parser = _PARSERS.parser = etree.HTMLParser(encoding="utf-8", **_PARSER_KW)
    return parser


# What a browser keeps in <head> (HTML's metadata content); any other element ends the head.
_HEAD_TAGS = frozenset("title base link meta style script noscript template".split())


def _rehome_head(root: Element) -> None:
    """Move what libxml2 left in ``<head>`` that a browser shows to the start of ``<body>``.

    libxml2 keeps an element it does not know (a custom or XML tag) in the head, and with it
    everything after it, ``<body>`` included, when the head was opened by a script or a link
    before ``<html>`` and never closed: the page then has no body and we would store nothing.
    HTML5 tree building (what a browser does) ends the head at the first element that is not
    metadata and puts it and what follows in the body. Elements holding no text stay where
    they are, so a page's records change only where text was lost.
    """
    head = first_child(root, "head")
    if head is None:
        return
    # Scripts and styles are gone: a head whose text is its title's (nearly every page) is
    # told in C, without a Python object for each of its (sometimes 150) elements.
    title = first_child(head, "title")
    if len("".join(etree.tostring(head, method="text", encoding=str).split())) <= len(
            "".join((title.text or "").split()) if title is not None else ""):
        return
    kids = list(head)
    first = next((n for n, el in enumerate(kids)
                  if isinstance(el.tag, str) and el.tag not in _HEAD_TAGS), None)
    if first is None:
        return
    moved = kids[first:]
    if not any(text_of(el).strip() for el in moved):
        return
    body = first_child(root, "body")
    if body is None:
        body = etree.SubElement(root, "body")
    # Each after the one before (insert(n, ...) finds its place by counting n children: 50,000
    # unknown elements in a head took 6 s); moved with its tail, as insert does.
    body.insert(0, moved[0])
    for prev, el in zip(moved, moved[1:], strict=False):
        prev.addnext(el)
    if body.text:  # what the body held first comes after what the head held
        set_tail(moved[-1], (moved[-1].tail or "") + body.text)
        body.text = None
    etree.strip_tags(body, "body")  # a <body> tag inside: a browser merges it into the body


def _landmarks(root: Element) -> Landmarks:
    """markup.landmarks; with the compiled walk, also the candidates maincontent's finders
    would ask XPath for (scraper/_cwalk.pyx's gather), in one walk of the tree for all."""
    compiled = extract._cwalk
    return landmarks(root) if compiled is None else compiled.gather(root)


def _resource_limit(parser: etree.HTMLParser) -> str | None:
    """Why libxml2 stopped reading early, or None.

    libxml2 stops at a resource limit (an element nested deeper than 256 levels, a text node
    over 10 MB) and drops the rest of the document, silently as far as the tree shows: the
    page must say so. The limits themselves stay: they are what keeps a hostile page's tree
    small.
    """
    # The limit is fatal: parsing stops there, so it is the last error (no walk over the
    # thousands of errors sloppy markup can produce).
    err = parser.error_log.last_error
    if err is None or not (err.type_name == "ERR_RESOURCE_LIMIT"
                           or "Excessive depth" in err.message):
        return None
    why = err.message.split(",", 1)[0].strip().rstrip(":")
    if "depth" in why.lower():
        why = f"HTML nested deeper than {why.rsplit(' ', 1)[-1]} levels"
    return f"{why} at line {err.line}, column {err.column}: the rest of the document was not read"


def _select(root: Element, main_css: str | None, ignore: tuple[str, ...]) -> Element | None:
    """Apply a watch's selectors to the tree: drop what ``ignore`` matches (keeping the text
    that follows each dropped element, which belongs to its parent); the first element
    ``main_css`` matches, if any."""
    for selector in ignore:
        for el in _css(selector)(root):
            parent = el.getparent()
            if parent is None:
                continue
            if el.tail:
                prev = el.getprevious()
                if prev is not None:
                    set_tail(prev, (prev.tail or "") + el.tail)
                else:
                    set_text(parent, (parent.text or "") + el.tail)
            parent.remove(el)
    if main_css is None:
        return None
    found = _css(main_css)(root)
    return found[0] if found else None


@functools.lru_cache(maxsize=64)
def _css(selector: str) -> Any:
    """The compiled selector (HTML rules: case-insensitive names)."""
    from lxml.cssselect import CSSSelector

    return CSSSelector(selector, translator="html")


_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"  # what norm_text drops


def _note_clean_lines(page: Page) -> None:
    """Hand the content hash ``norm_text`` of the text and section texts, when it is free.

    Outside <pre>, the walk's lines are already collapsed (single spaces, none at the ends, no
    empty line). If the text also holds no other white space, no zero-width character and is in
    NFC, every line is its own ``norm_text``, so the text's (and each section's, made of the
    same lines) is the text with its line breaks made spaces. A few C scans prove it; the hash
    would otherwise split every text into words twice.
    """
    text = page.text
    if not text:
        return
    if text.isascii():
        if holds_any(text, _ODD_SPACES_ASCII):
            return
    elif (holds_any(text, _ODD_SPACES) or holds_any(text, _INVISIBLE)
          or not unicodedata.is_normalized("NFC", text)):
        return
    page._note_spaced(text)
    for section in page.sections:
        if section.text:
            page._note_spaced(section.text)


def _self_url(url: str) -> str:
    try:
        return normalize_url(url)
    except ValueError:
        return url


def _base_url(bases: list[Element], url: str) -> str:
    """The page URL, or the first http(s) ``<base href>`` of ``bases`` (the page's, in
    document order) resolved against it."""
    for el in bases:
        href = el.get("href")
        if href is None:
            continue
        try:
            base = normalize_url(href, url)
        except ValueError:
            break
        if base.startswith(("http://", "https://")):
            return base
    return url


def _title_h1(h1_elements: list[Element], main: Element) -> tuple[Element | None, str]:
    """The page's h1 (the first in the main content, else the first outside chrome) of its
    ``h1_elements`` (in document order) and its text, cleaned; (None, "") when none."""
    h1s = []  # those with text, each read once; the first in the main content ends the search
    for h1 in h1_elements:
        text = clean(text_of(h1))
        if not text:
            continue
        if _contains(main, h1) and not is_excluded(h1):
            return h1, text
        h1s.append((h1, text))
    for h1, text in h1s:
        if not in_chrome(h1):
            return h1, text
    return None, ""


def _title_from_head(root: Element) -> str:
    # The first <title> in document order ("//title"), found by a C walk that stops there
    # (in the head, at once), where the XPath built the list of them all.
    first = next(root.iter("title"), None)
    if first is None:
        return ""
    text = clean(text_of(first))
    parts = _TITLE_SEP_RE.split(text)
    # "Page | Section | Site": the site is the last part; keep what comes before it.
    return clean(" | ".join(parts[:-1])) if len(parts) > 1 else text


# -- dates --------------------------------------------------------------------------------------
def _to_iso(m: re.Match[str]) -> str | None:
    g = m.groupdict()
    try:
        if g.get("month"):
            d = date(int(g["year"]), _MONTHS[g["month"].lower()], int(g["day"]))
        elif g.get("m2"):
            d = date(int(g["y2"]), int(g["m2"]), int(g["d2"]))
        else:
            d = date(int(g["y3"]), int(g["m3"]), int(g["d3"]))
    except (ValueError, KeyError, TypeError):
        return None
    return d.isoformat() if 1990 <= d.year <= 2100 else None


def _updated_in(text: str) -> str | None:
    """The first "Updated: <date>" in ``text`` (also "Last modified", "Revised on")."""
    # Scanning a long text with a case-blind pattern is slow; most texts have no keyword at all.
    # Six memchr-fast scans for the fragments rule most texts out, with no lower() copy.
    # An ASCII text's lower-case copy needs three scans, not six; it lets through a few texts
    # (mixed case) that the exact test below still turns away. Not for other texts: CPython
    # lowers those through a buffer of 12 bytes a character (170 MB for a 20 MB page).
    compiled = extract._cwalk
    if compiled is not None:  # the fragments' test, in one pass that stops only at a "d"
        if not compiled.mentions_any(text, _UPDATED_FRAGMENTS):
            return None
    elif ((text.isascii() and not _mentions_lower(text))
          or not any(w in text for w in _UPDATED_FRAGMENTS)):
        return None
    for hit in _UPDATED_HINT_RE.finditer(text):
        m = _UPDATED_RE.match(text, hit.start())
        if m and (iso := _to_iso(m)):
            return iso
    return None


# Characters of a long text lowered at a time (a lower-case copy of a 20 MB page's text
# would be one more copy of it), overlapping by a keyword's length.
_LOWER_SLICE = 1 << 20
_LOWER_OVERLAP = max(map(len, _UPDATED_LOWER)) - 1


def _mentions_lower(text: str) -> bool:
    """Whether the ASCII ``text``, lowered, holds one of the keywords' fragments."""
    for start in range(0, len(text), _LOWER_SLICE):
        piece = text[start:start + _LOWER_SLICE + _LOWER_OVERLAP].lower()
        # Written out, not any() over a generator (a frame per text for three scans).
        if "pdated" in piece or "odified" in piece or "evised" in piece:
            return True
    return False


def _dateline_in(text: str) -> str | None:
    """The first of the first _DATELINE_SCAN_LINES lines of ``text`` that is a date, as
    YYYY-MM-DD; None when none is."""
    # The lines of text.split("\n", n)[:n], found in place: no copy of the rest of the text,
    # and none of a line that cannot be a date.
    start, size = 0, len(text)
    for _ in range(_DATELINE_SCAN_LINES):
        end = text.find("\n", start)
        if end < 0:
            end = size
        # Every form of a date ends in a digit (\d: a digit for str.isdigit too) that only
        # white space (\s: what str.rstrip strips) may follow: nearly every line is turned
        # away by its last character, at a fraction of the case-blind pattern's cost. One
        # ending in white space (rare: the lines of a <pre>) is stripped to find out.
        last = text[end - 1] if end > start else ""
        if last.isdigit() or (last.isspace() and text[start:end].rstrip()[-1:].isdigit()):
            m = _DATELINE_RE.match(text[start:end])
            if m and (iso := _to_iso(m)):
                return iso
        if end == size:
            break
        start = end + 1
    return None


def _near_title_text(h1: Element | None, main: Element) -> str:
    """Text around the title but outside the main content: where Drupal 7 put "Updated:".

    That is the smallest element holding both the h1 and the main content, read without the main
    content (searched already) and without chrome: subtrees off the path down to the main
    content are read whole (in C, by itertext), the path itself one level at a time.
    """
    if h1 is None:
        return ""
    # The lists keep these proxies alive, so lxml hands out the same objects for the same nodes
    # and their ids identify nodes.
    h1_chain = list(h1.iterancestors())
    # "in" compares in C, by identity first (an lxml element has no __eq__ of its own).
    if main in h1_chain:  # the title is in the main content (most pages)
        return ""
    main_chain = [main, *main.iterancestors()]
    on_path = {id(a) for a in main_chain}
    h1_ids = {id(a) for a in h1_chain}
    node = None
    for a in main_chain:
        if id(a) in h1_ids:
            node = a
            break
    pieces: list[str] = []
    while node is not None and node is not main:
        pieces.append(node.text or "")
        down = None
        for child in node:
            if id(child) in on_path:
                down = child
            elif isinstance(child.tag, str) and not is_excluded(child):
                pieces.append(" ".join(child.itertext()))
            pieces.append(child.tail or "")
        node = down
    return "\n".join(pieces)[:_NEAR_TITLE_CHARS]


def _contains(ancestor: Element, el: Element) -> bool:
    """True when ``el`` is ``ancestor`` or inside it."""
    # "in" compares in C, by identity first (an lxml element has no __eq__ of its own), and
    # ``ancestor`` keeps its proxy alive: the same object comes back for its node.
    return el is ancestor or ancestor in el.iterancestors()


def _find_updated(main_text: str, near: str) -> str | None:
    """The page's own "Updated:" date, else its dateline (publication date), as YYYY-MM-DD,
    from the main content's text and the text ``near`` the title (:func:`_near_title_text`)."""
    if not near:  # most pages: the title is in the main content
        return _updated_in(main_text) or _dateline_in(main_text)
    return (
        _updated_in(main_text)
        or _updated_in(near)
        or _dateline_in(near)
        or _dateline_in(main_text)
    )


# -- PDF ----------------------------------------------------------------------------------------
def _parse_pdf(body: bytes, url: str, limits: PdfLimits, stop: threading.Event | None) -> Page:
    got = extract_pdf(body, limits=limits, stop=stop)
    if got.failed is not None:
        if got.failed.startswith("pypdf could not read"):
            # An unreadable file is what it is, every time: a PDF page with no text.
            logger.warning("%s: %s", url, got.failed)
            return Page(url=url, kind="pdf")
        logger.warning("%s: %s; no text kept", url, got.failed)
        return Page(url=url, kind="pdf", truncated=got.failed)
    if got.truncated is not None:
        logger.warning("%s: %s; the text stops there", url, got.truncated)
    lines = [clean(line) for line in got.text.splitlines()]
    text = "\n".join(line for line in lines if line)
    title = got.title or next((line for line in text.split("\n") if line), "")
    updated = _updated_in(text)
    if updated is None:
        for m in _ANY_DATE_RE.finditer(text):
            if iso := _to_iso(m):
                updated = iso
                break
    return Page(url=url, title=title, updated_on=updated, text=text, kind="pdf",
                truncated=got.truncated)
