"""Scraped text made safe to show: one rule for every renderer and the CLI.

Scraped strings must not reach a terminal or a cron mail raw: ESC (or the C1 CSI, U+009B)
starts an escape sequence that can recolour, retitle or rewrite the screen, a CR overwrites
the line, a BEL rings. :func:`printable` shows the white-space control characters (CR, form
feed, NEL...) as a space and the others as U+FFFD; new line and tab stay. Bidirectional
override and isolate characters, which reorder what follows them on screen, are U+FFFD too.

>>> printable("a\\x1b[31mb\\rc")
'a\ufffd[31mb c'
"""

from __future__ import annotations

#: C0 and C1 control characters and DEL, except new line and tab.
CONTROL_CHARS = (*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0))
#: Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069): a right-to-left
#: override in a scraped title would show the rest of a line, a URL too, reversed.
BIDI_CONTROLS = (*range(0x202A, 0x202F), *range(0x2066, 0x206A))
_VISIBLE = {c: " " if chr(c).isspace() else "\ufffd" for c in (*CONTROL_CHARS, *BIDI_CONTROLS)}


def printable(s: object) -> str:
    """Scraped text made safe for a terminal: control characters other than new line and tab
    shown as U+FFFD (the white-space ones, CR, form feed, NEL..., as a space). None is "".

    >>> printable("red \\x1b[31malert\\x07\\r\\u009b2J\\tok\\x0cpage\\n")
    'red \ufffd[31malert\ufffd \ufffd2J\\tok page\\n'
    >>> printable("evil\u202etxt.exe")
    'evil\ufffdtxt.exe'
    >>> printable(None)
    ''
    """
    return ("" if s is None else str(s)).translate(_VISIBLE)

#: The line and paragraph separators: line breaks to ``str.splitlines`` and to older
#: JavaScript, so raw inside a JSON string they would cut a JSON-lines record in two.
LINE_SEPARATORS = (0x2028, 0x2029)
#: Every control and bidirectional character, and the separators, as a JSON ``\u`` escape.
_JSON_ESCAPES = {c: f"\\u{c:04x}" for c in (*CONTROL_CHARS, *BIDI_CONTROLS, *LINE_SEPARATORS)}


def json_safe(text: str) -> str:
    """JSON written with ``ensure_ascii=False`` made safe for a terminal without changing its
    data: DEL, the C1 controls (U+009B starts an escape sequence), the bidirectional controls
    and the line and paragraph separators (U+2028, U+2029: a line break to ``splitlines``)
    written as ``\\u`` escapes. json escapes C0 itself, and the others can only occur inside
    strings, so the result is the same JSON.

    >>> json_safe('{"t": "evil\u202etxt \u009b2J"}')
    '{"t": "evil\\\\u202etxt \\\\u009b2J"}'
    >>> json_safe('{"t": "one\u2028two"}').splitlines()
    ['{"t": "one\\\\u2028two"}']
    """
    if text.isascii() and "\x7f" not in text:  # the common case, and the cheap test of it
        return text
    return text.translate(_JSON_ESCAPES)
