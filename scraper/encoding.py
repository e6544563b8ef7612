"""Turn an HTML body into text without mojibake, whatever its headers claim.

Sources are tried in the order a browser trusts them, with one twist for old government sites,
which often declare UTF-8 and send windows-1252 (Word's curly quotes pasted into a CMS):

1. a byte-order mark (unambiguous, so it beats the header, as in the WHATWG encoding standard);
2. the HTTP ``charset`` parameter;
3. ``<meta charset>`` / ``<meta http-equiv="Content-Type">`` in the first few KB;
4. detection: valid UTF-8 is UTF-8, else charset-normalizer's best guess, else windows-1252.

A declared ``utf-8`` whose bytes are not UTF-8 is decoded as windows-1252 (or, when real UTF-8
and windows-1252 bytes are mixed in one document, repaired with bs4's ``UnicodeDammit.detwingle``).
``iso-8859-1``, ``latin-1`` and ``ascii`` labels mean windows-1252, as browsers have always read
them, except that bytes which are valid multi-byte UTF-8 throughout are read as UTF-8 (the
opposite lie: a server whose default charset is ISO-8859-1 sending UTF-8 pages). A declared
UTF-16 or UTF-32 over bytes with no NUL in them is ignored. Unknown labels fall through to the
next source. :func:`decode_html` never raises.

>>> decode_html(b"It\\x92s \\x93new\\x94 \\x96 ok", http_charset="utf-8")
('It’s “new” – ok', 'windows-1252')
"""

from __future__ import annotations

import codecs
import logging
import re

logger = logging.getLogger(__name__)

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Labels browsers read as windows-1252 (WHATWG "windows-1252" label list, the common ones).
_CP1252_LABELS = frozenset(
    {
        "ascii", "us-ascii", "ansi_x3.4-1968", "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1",
        "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1", "windows-1252",
        "cp1252", "x-cp1252",
    }
)
# UTF-16 declared inside the document cannot be true (we could read the declaration as ASCII),
# so, like browsers, we read it as UTF-8.
_UTF16_LABELS = frozenset({"utf-16", "utf-16le", "utf-16be", "utf16", "unicode", "ucs-2"})

_META_RE = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:\-]+)""", re.IGNORECASE
)
_META_SCAN_BYTES = 4096
# A well-formed multi-byte UTF-8 sequence; used to tell "all windows-1252" from "mixed".
_UTF8_MULTIBYTE_RE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_DETECT_BYTES = 64 * 1024
_HIGH_BYTES = bytes(range(0x80, 0x100))

# windows-1252 as browsers decode it: Python's cp1252 codec refuses 0x81 0x8D 0x8F 0x90 0x9D,
# browsers map them to the C1 controls. A charmap table of all 256 bytes (latin-1 with 0x80-0x9F
# replaced) gives exactly that in one C pass, and can never fail: str.translate with a dict,
# the earlier way, cost 50 times more (a dict lookup per character).
_CP1252_HIGH = {
    0x80 + i: ch
    for i, ch in enumerate(
        "€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ"
    )
}
_CP1252_TABLE = "".join(_CP1252_HIGH.get(i, chr(i)) for i in range(256))


def decode_cp1252(body: bytes) -> str:
    """Decode ``body`` as browsers decode windows-1252 (never raises).

    >>> decode_cp1252(bytes([0x93, 0x41, 0x94, 0x81, 0xe9]))
    '“A”\x81é'
    """
    return codecs.charmap_decode(body, "strict", _CP1252_TABLE)[0]


def canonical_charset(label: str | None) -> str | None:
    """Map a charset label to a Python codec name, or None if unknown or unusable.

    >>> canonical_charset("ISO-8859-1"), canonical_charset("UTF8"), canonical_charset("bogus")
    ('windows-1252', 'utf-8', None)
    """
    if not label:
        return None
    name = label.strip().strip("\"'").lower()
    if name in _CP1252_LABELS:
        return "windows-1252"
    if name in ("x-user-defined", "replacement"):
        return None
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError):
        return None
    # Python spells the codec "utf-8"; keep the name we report stable.
    return "utf-8" if info.name == "utf-8" else info.name


def _sniff_bom(body: bytes) -> tuple[str, int] | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name, len(bom)
    return None


def _sniff_meta(body: bytes) -> str | None:
    m = _META_RE.search(body[:_META_SCAN_BYTES])
    return m.group(1).decode("ascii", "replace") if m else None


def _decode_declared(body: bytes, codec: str) -> tuple[str, str, bool] | None:
    """Decode with a declared codec; None when the bytes plainly are not in it. The flag is
    True when the text is ``body`` read strictly as UTF-8 (so ``body`` is its UTF-8)."""
    if codec == "windows-1252":
        # The opposite lie, as common on old servers whose default charset is ISO-8859-1:
        # UTF-8 bytes under a latin-1 label. windows-1252 text almost never forms valid
        # multi-byte UTF-8 throughout, so bytes that do are UTF-8.
        if _UTF8_MULTIBYTE_RE.search(body):
            try:
                return body.decode("utf-8"), "utf-8", True
            except UnicodeDecodeError:
                pass
        return decode_cp1252(body), "windows-1252", False
    if codec.startswith(("utf-16", "utf-32")) and b"\x00" not in body[:1024]:
        return None  # UTF-16/32 text has NUL bytes in any markup; these bytes are not it
    if codec == "utf-8":
        try:
            return body.decode("utf-8"), "utf-8", True
        except UnicodeDecodeError:
            return (*_repair_utf8(body), False)
    try:
        return body.decode(codec), codec, False
    except (UnicodeDecodeError, LookupError):
        return None


def _repair_utf8(body: bytes) -> tuple[str, str]:
    """Bytes declared UTF-8 that are not: windows-1252 throughout, or a mix of both."""
    # Which is it? windows-1252 text can hold a few byte runs that happen to be valid UTF-8
    # ("é" + nbsp + "€" is), so count: mixed documents are mostly valid UTF-8 with strays.
    high = len(body) - len(body.translate(None, _HIGH_BYTES))
    covered = sum(len(m) for m in _UTF8_MULTIBYTE_RE.findall(body))
    if covered * 2 < high:
        return decode_cp1252(body), "windows-1252"
    # Real UTF-8 with windows-1252 pasted in: detwingle rewrites the stray bytes as UTF-8.
    from bs4.dammit import UnicodeDammit  # imported late: only the rare mixed case needs it

    try:
        fixed = UnicodeDammit.detwingle(body)
    except Exception:  # detwingle is best effort; never let it break a capture
        fixed = body
    return fixed.decode("utf-8", "replace"), "utf-8"


def _detect(body: bytes) -> tuple[str, str, bool]:
    try:
        return body.decode("utf-8"), "utf-8", True
    except UnicodeDecodeError:
        pass
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(body[:_DETECT_BYTES]).best()
    except Exception:  # detection is a guess; a failure just means "no guess"
        best = None
    if best is not None:
        codec = canonical_charset(best.encoding)
        if codec:
            got = _decode_declared(body, codec)
            if got is not None:
                return got
    return decode_cp1252(body), "windows-1252", False


def decode_html(body: bytes, *, http_charset: str | None = None) -> tuple[str, str]:
    """Decode an HTML body; return ``(text, encoding_used)``. Never raises.

    See the module docstring for the order of sources. ``encoding_used`` is a Python codec name
    (``"utf-8"``, ``"windows-1252"``, ``"utf-16-le"`` ...) describing how the bytes were read,
    which is not necessarily what the server declared.
    """
    text, encoding, _exact = decode_html_exact(body, http_charset=http_charset)
    return text, encoding


def decode_html_exact(body: bytes, *, http_charset: str | None = None) -> tuple[str, str, bool]:
    """:func:`decode_html`, and whether the text is ``body`` read strictly as UTF-8: then
    ``body`` itself is the text's UTF-8, and a parser can take it without a re-encoded copy."""
    if not body:
        return "", canonical_charset(http_charset) or "utf-8", False
    bom = _sniff_bom(body)
    if bom is not None:
        name, skip = bom
        return body[skip:].decode(name, "replace"), name, False
    for label, source in ((http_charset, "http"), (_sniff_meta(body), "meta")):
        codec = canonical_charset(label)
        if codec is None:
            if label:
                logger.debug("ignoring unknown %s charset %r", source, label)
            continue
        if source == "meta" and codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"
        got = _decode_declared(body, codec)
        if got is not None:
            return got
        logger.debug("%s charset %r does not fit the bytes", source, label)
    return _detect(body)
