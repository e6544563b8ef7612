"""Text made safe to show: scraped strings go to terminals and cron mails.

>>> printable("ok\\tline\\n\\x1b[31mred\\rX")
'ok\\tline\\n\\ufffd[31mred\\ufffdX'
"""

from __future__ import annotations

_CONTROL = dict.fromkeys([*range(0, 9), *range(11, 32), 127, *range(128, 160)], "\ufffd")


def printable(text: str) -> str:
    """Scraped text made safe for a terminal or a cron mail: control characters (an ESC
    starting a terminal escape sequence, a bell, a carriage return that overwrites the line)
    become U+FFFD; new lines and tabs stay."""
    return text.translate(_CONTROL)
