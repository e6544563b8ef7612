"""The records a page is parsed into, and the hash that decides whether it changed.

A :class:`Page` is flat on purpose: sections and items are lists in document order, and a
section points at its parent (an index into ``sections``), an item at its section. Flat lists
store as rows, diff as sequences, and still rebuild the heading tree.

Text is kept as shown on the page. Only the content hash sees it normalised (Unicode NFC,
non-breaking and other spaces folded, runs of white space collapsed), so a page that differs
only in white space or in ``&nbsp;`` against `` `` is the same version.

>>> p = Page(url="http://x/", title="T\\u00a0 one", updated_on=None, text="a  b")
>>> q = Page(url="http://x/", title="T one", updated_on=None, text="a b")
>>> p.content_hash() == q.content_hash()
True
"""

from __future__ import annotations

import hashlib
import json
import json.encoder
import operator
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump when the parser's output changes shape for the same bytes. Stored on each version, so a
# researcher can tell which versions came from which parser.
# 2: the main content is checked against the page's whole text (scraper/maincontent.py); on
#    pages where the first pick was doubtful the content, and so the version, can differ.
# 3: a body libxml2 left in an unclosed <head> is read; a fallback keeps a page wrapper that
#    holds a chrome header's menu; a density pick below the h1 reaches up to it (issue 15).
# 4: a page whose text the density pick finds inside its <h1> is read (it was stored empty);
#    a page the parser runs out of memory on is a failure, not an empty version.
# 5: an index page (a title, then link lists and no paragraph of its own) keeps its lists as
#    its content; they were dropped as menus, and the page stored its title alone.
PARSER_VERSION = 5

# Zero-width characters that never show but often differ between renderings of one page.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)


def holds_any(s: str, chars: str | tuple[str, ...]) -> bool:
    """True when ``s`` holds one of ``chars``: a memchr-fast scan each, in a plain loop (a
    generator in ``any`` costs twice as much per character asked about)."""
    for ch in chars:
        if ch in s:
            return True
    return False


def norm_text(s: str | None) -> str:
    """Normalise text for comparison and hashing, never for display.

    NFC, zero-width characters and soft hyphens dropped, every kind of white space (including
    no-break spaces) folded to one space, trimmed.

    >>> norm_text("U.S.\\u00a0\\u00a0China\\u200b  cooperation ")
    'U.S. China cooperation'
    """
    if not s:
        return ""
    if not s.isascii():
        s = unicodedata.normalize("NFC", s)
        if holds_any(s, _INVISIBLE_CHARS):  # a C scan each; translate is per char
            s = s.translate(_INVISIBLE)
    # str.split() splits on exactly the Unicode white space \s matches (no-break spaces
    # included) and is several times faster than a regular expression on long texts.
    return " ".join(s.split())


# Every character str.split() splits on but " " and "\n" (checked: tests/unit/test_parse_hash.py).
_ODD_SPACES = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace() and ch not in " \n")
_ODD_SPACES_ASCII = "".join(ch for ch in _ODD_SPACES if ch < "\x80")


def _all_normal(strings: list[str]) -> bool:
    """True when ``norm_text(s) == s`` for every ``s``: proved for all at once by a few C scans
    of their join (a page's item titles and summaries, cleaned by the parser, almost always
    are), where norm_text would split each one into words."""
    filled = list(filter(None, strings))
    if len(filled) != len(strings) and strings.count("") != len(strings) - len(filled):
        return False  # a None, 0 or False (norm_text makes it ""): leave it to norm_text
    try:
        joined = " ".join(filled)  # the empty strings left out: "" is its own norm_text
    except TypeError:
        return False
    # Two spaces in a row are in a string or where one ends or the next begins with a space.
    if "  " in joined or joined[:1] == " " or joined[-1:] == " " or "\n" in joined:
        return False
    if joined.isascii():
        return not holds_any(joined, _ODD_SPACES_ASCII)
    # A space never composes, so the join is in NFC exactly when every string is.
    return not (holds_any(joined, _ODD_SPACES)
                or holds_any(joined, _INVISIBLE_CHARS)) and unicodedata.is_normalized(
        "NFC", joined)


# -- canonical JSON -------------------------------------------------------------------------------
# json.dumps escapes per character; long texts almost never need it, and a few memchr scans
# (``in`` with one character) prove that. The output is byte for byte json.dumps's with
# sort_keys=True, separators=(",", ":"), ensure_ascii=False (tests/unit/test_parse_hash.py).
# It is produced in parts, so the content hash never holds the whole JSON, nor its UTF-8.
_JSON_CONTROLS = tuple(map(chr, range(0x20)))
_encode_str = json.encoder.encode_basestring  # the C one when available; ensure_ascii=False
_LONG = 256
# Characters of a long text escaped and encoded at a time: what the hash holds of it at once.
_SLICE = 1 << 20
# json.dumps's own encoder (in C), built once: for lists of short strings (items) one C call
# beats a Python call per cell.
_encode_list = json.JSONEncoder(ensure_ascii=False, sort_keys=True,
                                separators=(",", ":")).encode


_QUOTE_ESCAPES = ('"', "\\", *_JSON_CONTROLS)


def _items_json(rows: list[Any]) -> str:
    """``_encode_list(rows)`` for :meth:`Page.records`'s item rows (``[title, url, summary,
    section]``): when no string needs escaping (a few memchr scans of them all, joined),
    each row is its strings quoted, where json's C encoder looks at every character."""
    strings = []
    for row in rows:
        if type(row) is not list or len(row) != 4:
            return _encode_list(rows)
        title, url, summary, section = row
        if (type(title) is not str or type(summary) is not str
                or not (url is None or type(url) is str)
                or not (section is None or type(section) is int)):
            return _encode_list(rows)  # anything else (a bool is not an int here) as json does
        strings.append(title)
        strings.append(summary)
        if url is not None:
            strings.append(url)
    joined = "".join(strings)
    if holds_any(joined, _QUOTE_ESCAPES):
        return _encode_list(rows)
    return "[" + ",".join([
        '["' + title + ('",null,"' if url is None else '","' + url + '","') + summary
        + ('",null]' if section is None else '",' + int.__repr__(section) + "]")
        for title, url, summary, section in rows]) + "]"


class _Spaced:
    """A text whose ``norm_text`` is itself with its line breaks made spaces (the parser
    proved it): hashed a slice at a time, never copied whole."""

    __slots__ = ("raw",)

    def __init__(self, raw: str) -> None:
        self.raw = raw


def _escaped(s: str) -> str:
    """The inside of ``s``'s JSON string (no quotes), for a long ``s``."""
    for ch in _JSON_CONTROLS:
        if ch in s:
            return _encode_str(s)[1:-1]
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if '"' in s:
        s = s.replace('"', '\\"')
    return s


def _json_str(s: str) -> str:
    if len(s) < _LONG:
        return _encode_str(s)
    return '"' + _escaped(s) + '"'


def _str_parts(v: str | _Spaced) -> Iterator[str]:
    """JSON for a str (or a :class:`_Spaced`) in parts; escaping is per character, so
    slices escape alone."""
    spaced = type(v) is _Spaced
    raw: str = v.raw if spaced else v  # type: ignore[union-attr,assignment]
    if not spaced and len(raw) < _LONG:
        yield _encode_str(raw)
        return
    yield '"'
    if len(raw) <= _SLICE:
        yield _escaped(raw.replace("\n", " ") if spaced else raw)
    else:
        for start in range(0, len(raw), _SLICE):
            piece = raw[start:start + _SLICE]
            yield _escaped(piece.replace("\n", " ") if spaced else piece)
    yield '"'


def _canonical_parts(rec: dict[str, Any]) -> Iterator[str]:
    """The canonical JSON of :meth:`Page.records`'s shape, in order, in parts; TypeError for
    anything else (the caller then asks json.dumps). Short pieces are gathered into one part;
    a long text is a part (or slices) of its own."""
    out = ["{"]
    for n, key in enumerate(sorted(rec)):
        if type(key) is not str:
            raise TypeError(type(key))
        out.append(("," if n else "") + _encode_str(key) + ":")
        value = rec[key]
        if type(value) is not list:
            row: Any = (value,)
        elif key == "items":  # many rows of short strings
            out.append(_items_json(value))
            continue
        else:  # sections: a few rows, each with a long text
            row = value
        nested = row is value
        if nested:
            out.append("[")
        for i, cells in enumerate(row):
            if nested:
                if type(cells) is not list:
                    raise TypeError(type(cells))
                out.append("[" if not i else ",[")
            else:
                cells = (cells,)
            for j, v in enumerate(cells):
                if j:
                    out.append(",")
                t = type(v)
                if t is str and len(v) < _LONG:
                    out.append(_encode_str(v))
                elif v is None:
                    out.append("null")
                elif t is int:
                    out.append(int.__repr__(v))
                elif t is str or t is _Spaced:
                    yield "".join(out)
                    out.clear()
                    yield from _str_parts(v)
                else:
                    raise TypeError(t)
            if nested:
                out.append("]")
        if nested:
            out.append("]")
    out.append("}")
    yield "".join(out)


# A page whose texts together are at most this many characters is hashed from one JSON string
# (a copy of its texts, at most a few MiB); a longer one is streamed in slices.
_SMALL = 1 << 18
_ITEM_FIELDS = operator.attrgetter("title", "url", "summary", "section")
_SECTION_FIELDS = operator.attrgetter("heading", "level", "parent", "text")
_URL_TYPES = frozenset({str, type(None)})
_INDEX_TYPES = frozenset({int, type(None)})


def _plain_json(page: Page) -> str | None:
    """The canonical JSON of ``page.records()`` as one str, for a small page of the types the
    records are made of; None for anything else (:meth:`Page.content_hash` then streams it).

    On a page of a few kilobytes the per-part machinery (a generator, a dozen parts, each
    escaped, encoded and hashed alone) costs more than the characters: here the values are
    normalised, then a few memchr scans of all their strings joined prove that none needs an
    escape (almost always), and each string goes between quotes as it is.
    """
    kind, title, updated_on, text = page.kind, page.title, page.updated_on, page.text
    sections, items = page.sections, page.items
    if (type(kind) is not str or type(title) is not str or type(text) is not str
            or not (updated_on is None or type(updated_on) is str)
            or type(sections) is not list or type(items) is not list):
        return None
    secs = list(map(_SECTION_FIELDS, sections))
    budget = _SMALL - len(text)
    for heading, level, parent, stext in secs:
        if (type(heading) is not str or type(level) is not int or type(stext) is not str
                or not (parent is None or type(parent) is int)):
            return None
        budget -= len(stext)
    if budget < 0:
        return None
    hints = page.__dict__.get("_norm_hints") or {}
    flat = _hinted(hints, text)
    # Every string that goes between quotes, joined below for the escape check.
    strings = [kind, flat]
    if updated_on is not None:
        strings.append(updated_on)
    # The parser's text is its headings and section texts, a line each, in order: a section
    # text found there (startswith is a memcmp) is a slice of the flattened text, neither
    # flattened nor checked for escapes again.
    pos = 0 if _spaced(hints, text) else -1
    stexts = []
    for heading, _, _, stext in secs:
        if pos >= 0 and heading and text.startswith(heading, pos):
            pos += len(heading) + 1
        if pos >= 0 and stext and text.startswith(stext, pos) and _spaced(hints, stext):
            stexts.append(flat[pos:pos + len(stext)])
            pos += len(stext) + 1
            continue
        if stext:
            pos = -1
        stext = _hinted(hints, stext)
        stexts.append(stext)
        strings.append(stext)
    headings = [sec[0] for sec in secs]
    if items:
        titles, urls, summaries, indexes = zip(*map(_ITEM_FIELDS, items), strict=True)
        if not (_URL_TYPES.issuperset(map(type, urls))
                and _INDEX_TYPES.issuperset(map(type, indexes))):
            return None
        if not _all_normal([title, *headings, *titles, *summaries]):
            title = norm_text(title)
            headings = list(map(norm_text, headings))
            try:
                titles = tuple(map(norm_text, titles))
                summaries = tuple(map(norm_text, summaries))
            except (AttributeError, TypeError):  # not a str (norm_text(None) is "")
                return None
        strings += titles
        strings += summaries
        strings += [u for u in urls if u is not None]
    elif not _all_normal([title, *headings]):
        title = norm_text(title)
        headings = list(map(norm_text, headings))
    strings.append(title)
    strings += headings
    try:
        joined = "".join(strings)
    except TypeError:  # a norm_text hint that is not a str
        return None
    if holds_any(joined, _QUOTE_ESCAPES):  # rare: the general encoder, on the same values
        return _canonical_json({
            "kind": kind, "title": title, "updated_on": updated_on, "text": flat,
            "sections": [[h, sec[1], sec[2], t]
                         for sec, h, t in zip(secs, headings, stexts, strict=True)],
            "items": [list(row) for row in zip(titles, urls, summaries, indexes, strict=True)]
            if items else []})
    parts = ['{"items":[']
    if items:
        parts.append(",".join([
            '["' + t + ('",null,"' if u is None else '","' + u + '","') + s
            + ('",null]' if i is None else '",' + int.__repr__(i) + "]")
            for t, u, s, i in zip(titles, urls, summaries, indexes, strict=True)]))
    parts.append('],"kind":"' + kind + '","sections":[')
    for n, ((_, level, parent, _), heading, stext) in enumerate(
            zip(secs, headings, stexts, strict=True)):
        parts.append(('["' if not n else ',["') + heading + '",' + int.__repr__(level)
                     + (',null,"' if parent is None else "," + int.__repr__(parent) + ',"'))
        parts.append(stext)
        parts.append('"]')
    parts.append('],"text":"')
    parts.append(flat)
    parts.append('","title":"' + title + '","updated_on":'
                 + ("null}" if updated_on is None else '"' + updated_on + '"}'))
    return "".join(parts)


def _spaced(hints: dict[int, tuple[str, str | None]], s: str) -> bool:
    """True when the parser noted ``s`` as its own norm_text with line breaks made spaces."""
    hit = hints.get(id(s))
    return hit is not None and hit[0] is s and hit[1] is None


def _hinted(hints: dict[int, tuple[str, str | None]], s: str) -> str:
    """``Page._norm(s)``, given the page's hints."""
    hit = hints.get(id(s))
    if hit is not None and hit[0] is s:
        return hit[1] if hit[1] is not None else s.replace("\n", " ")
    return norm_text(s)


def _dumps(rec: dict[str, Any]) -> str:
    return json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _canonical_json(rec: dict[str, Any]) -> str:
    """json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False), built from
    :func:`_canonical_parts` (anything unexpected goes through json.dumps itself)."""
    try:
        return "".join(_canonical_parts(rec))
    except TypeError:
        return _dumps(rec)


@dataclass(frozen=True)
class Item:
    """A linked entry in a list: a fact sheet, a media note.

    ``section`` is the index in :attr:`Page.sections` of the section it stands in, or None.
    ``url`` is absolute and normalised (see :func:`archive.urls.normalize_url`), or None for
    an entry without a link.
    """

    title: str
    url: str | None = None
    summary: str = ""
    section: int | None = None


@dataclass(frozen=True)
class Section:
    """A heading and the text under it up to the next heading of the same or higher rank.

    ``level`` is 1-6 from h1-h6 (a bold-only paragraph acting as a heading gets the level below
    its enclosing heading). ``parent`` is the index of the enclosing section, or None. ``text``
    is the section's own text, not its subsections'.
    """

    heading: str
    level: int
    text: str = ""
    parent: int | None = None


@dataclass
class Page:
    """Everything we keep of one fetched document once parsed.

    ``updated_on`` is the page's own "Updated:" or publication date as ``YYYY-MM-DD``.
    ``kind`` is "html", "pdf" or "other" (stored raw, text empty).
    ``links`` are the absolute, normalised URLs of the main content's links, in order, without
    duplicates: what the crawler follows.
    ``suspect`` is set by the parser's caller when a 200 looks like an error page (see
    :mod:`scraper.ingest`); it is not part of the content.
    ``truncated`` says why the parser did not read the whole document, or None; it is not
    part of the content, and whoever records the page must record it with the snapshot. With
    text, the text is what a fixed budget let through (PDF pages or characters, HTML nesting
    depth): the same bytes always give the same text, so it is a stable version, marked. With
    no text, nothing could be read within a budget of time or memory: that is a failure, never
    a new version.
    ``outside_text`` is the visible text outside the main content (menus, asides, footers), one
    line per block: kept with each snapshot and searchable, but not part of the content, so it
    never makes a version (nor is it compared: two pages with the same content are equal).
    """

    url: str
    title: str = ""
    updated_on: str | None = None
    text: str = ""
    sections: list[Section] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    kind: str = "html"
    truncated: str | None = None
    outside_text: str = field(default="", compare=False)

    def records(self) -> dict[str, Any]:
        """The canonical, normalised form of the content: what is hashed and compared.

        Links are not in it (they are derived from items and text), nor the URL (a page that
        moved but says the same is the same content), nor the text outside the main content.
        """
        return self._records(self._norm)

    def _records(self, norm: Callable[[str], Any]) -> dict[str, Any]:
        items = self.items
        if _all_normal([i.title for i in items] + [i.summary for i in items]):
            rows = [[i.title, i.url, i.summary, i.section] for i in items]
        else:
            rows = [[norm_text(i.title), i.url, norm_text(i.summary), i.section] for i in items]
        return {
            "kind": self.kind,
            "title": norm_text(self.title),
            "updated_on": self.updated_on,
            "text": norm(self.text),
            "sections": [
                [norm_text(s.heading), s.level, s.parent, norm(s.text)] for s in self.sections
            ],
            "items": rows,
        }

    def content_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`records` (the git-history recipe).

        A small page's JSON (texts up to ``_SMALL`` characters in all) is built as one string
        and hashed once. A larger page's is hashed as it is produced, a part at a time, and
        texts the parser proved need only their line breaks made spaces are normalised a slice
        at a time: its hash never holds a second copy of its text.
        """
        plain = _plain_json(self)
        if plain is not None:
            return hashlib.sha256(plain.encode("utf-8")).hexdigest()
        h = hashlib.sha256()
        update = h.update
        try:
            for part in _canonical_parts(self._records(self._norm_lazy)):
                update(part.encode("utf-8"))
        except TypeError:
            return hashlib.sha256(_dumps(self.records()).encode("utf-8")).hexdigest()
        return h.hexdigest()

    def _note_norm(self, raw: str, normalised: str) -> None:
        """Remember ``norm_text(raw)``, known to the parser for less than computing it costs.

        Keyed by the identity of ``raw`` (a str cannot change), so reassigning a field simply
        misses; not a field, so equality, ``to_dict`` and storage never see it.
        """
        hints = self.__dict__.setdefault("_norm_hints", {})
        hints[id(raw)] = (raw, normalised)

    def _note_spaced(self, raw: str) -> None:
        """Remember that ``norm_text(raw)`` is ``raw`` with its line breaks made spaces (see
        :meth:`_note_norm`), without building that copy: the hash streams it."""
        hints = self.__dict__.setdefault("_norm_hints", {})
        hints[id(raw)] = (raw, None)

    def _norm(self, s: str) -> str:
        hints = self.__dict__.get("_norm_hints")
        if hints:
            hit = hints.get(id(s))
            if hit is not None and hit[0] is s:
                return hit[1] if hit[1] is not None else s.replace("\n", " ")
        return norm_text(s)

    def _norm_lazy(self, s: str) -> str | _Spaced:
        hints = self.__dict__.get("_norm_hints")
        if hints:
            hit = hints.get(id(s))
            if hit is not None and hit[0] is s:
                return hit[1] if hit[1] is not None else _Spaced(s)
        return norm_text(s)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the page as shown (not normalised); ``truncated`` only when
        set."""
        d = asdict(self)
        if d["truncated"] is None:
            del d["truncated"]
        return d
