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
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump when the parser's output changes shape for the same bytes. Stored on each version, so a
# researcher can tell which versions came from which parser.
# 2: the main content is checked against the page's whole text (scraper/maincontent.py); on
#    pages where the first pick was doubtful the content, and so the version, can differ.
# 3: a body libxml2 left in an unclosed <head> is read; a fallback keeps a page wrapper that
#    holds a chrome header's menu; a density pick below the h1 reaches up to it (issue 15).
PARSER_VERSION = 3

# Zero-width characters that never show but often differ between renderings of one page.
_INVISIBLE_CHARS = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS), None)


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
        if any(ch in s for ch in _INVISIBLE_CHARS):  # a C scan each; translate is per char
            s = s.translate(_INVISIBLE)
    # str.split() splits on exactly the Unicode white space \s matches (no-break spaces
    # included) and is several times faster than a regular expression on long texts.
    return " ".join(s.split())


# -- canonical JSON -------------------------------------------------------------------------------
# json.dumps escapes per character; long texts almost never need it, and a few memchr scans
# (``in`` with one character) prove that. The output is byte for byte json.dumps's with
# sort_keys=True, separators=(",", ":"), ensure_ascii=False (tests/unit/test_parse_hash.py).
_JSON_CONTROLS = tuple(map(chr, range(0x20)))
_encode_str = json.encoder.encode_basestring  # the C one when available; ensure_ascii=False
_LONG = 256


def _json_str(s: str) -> str:
    if len(s) < _LONG:
        return _encode_str(s)
    for ch in _JSON_CONTROLS:
        if ch in s:
            return _encode_str(s)
    if "\\" in s:
        s = s.replace("\\", "\\\\")
    if '"' in s:
        s = s.replace('"', '\\"')
    return '"' + s + '"'


def _json_scalar(v: Any) -> str | None:
    """JSON for a str, an int (not bool) or None; None for anything else."""
    if type(v) is str:
        return _json_str(v)
    if v is None:
        return "null"
    if type(v) is int:
        return int.__repr__(v)
    return None


def _canonical_json(rec: dict[str, Any]) -> str:
    """json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False) for
    :meth:`Page.records`'s shape; anything unexpected goes through json.dumps itself."""
    try:
        parts = []
        for key in sorted(rec):
            value = rec[key]
            if type(value) is list:
                rows = []
                for row in value:
                    if type(row) is not list:
                        raise TypeError
                    cells = [_json_scalar(v) for v in row]
                    if None in cells:
                        raise TypeError
                    rows.append("[" + ",".join(cells) + "]")  # type: ignore[arg-type]
                enc: str | None = "[" + ",".join(rows) + "]"
            else:
                enc = _json_scalar(value)
            if enc is None or type(key) is not str:
                raise TypeError
            parts.append(_json_str(key) + ":" + enc)
        return "{" + ",".join(parts) + "}"
    except TypeError:
        return json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
        norm = self._norm
        return {
            "kind": self.kind,
            "title": norm_text(self.title),
            "updated_on": self.updated_on,
            "text": norm(self.text),
            "sections": [
                [norm_text(s.heading), s.level, s.parent, norm(s.text)] for s in self.sections
            ],
            "items": [
                [norm_text(i.title), i.url, norm_text(i.summary), i.section] for i in self.items
            ],
        }

    def content_hash(self) -> str:
        """sha256 of the canonical JSON of :meth:`records` (the git-history recipe)."""
        blob = _canonical_json(self.records())
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _note_norm(self, raw: str, normalised: str) -> None:
        """Remember ``norm_text(raw)``, known to the parser for less than computing it costs.

        Keyed by the identity of ``raw`` (a str cannot change), so reassigning a field simply
        misses; not a field, so equality, ``to_dict`` and storage never see it.
        """
        hints = self.__dict__.setdefault("_norm_hints", {})
        hints[id(raw)] = (raw, normalised)

    def _norm(self, s: str) -> str:
        hints = self.__dict__.get("_norm_hints")
        if hints:
            hit = hints.get(id(s))
            if hit is not None and hit[0] is s:
                return hit[1]
        return norm_text(s)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the page as shown (not normalised); ``truncated`` only when
        set."""
        d = asdict(self)
        if d["truncated"] is None:
            del d["truncated"]
        return d
