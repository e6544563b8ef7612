"""Time as the archive keeps it: ISO 8601 UTC text, fixed width, so it sorts as text.

>>> to_iso(datetime(2016, 10, 21, 14, 3, 7, tzinfo=timezone.utc))
'2016-10-21T14:03:07.000000Z'
>>> parse_when("2016-10-21")
'2016-10-21T23:59:59.999999Z'
>>> parse_when("2016-10-21T14:03")
'2016-10-21T14:03:00.000000Z'
>>> parse_when("2016-10-21T16:03:00+02:00")
'2016-10-21T14:03:00.000000Z'
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timezone

from archive.errors import UsageError

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_iso(dt: datetime) -> str:
    """Format an aware datetime (naive means UTC) as the archive's fixed-width UTC text."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).strftime(ISO_FORMAT)


def utcnow_iso() -> str:
    """Now, as the archive's UTC text."""
    return to_iso(datetime.now(timezone.utc))


def from_iso(s: str) -> datetime:
    """Parse the archive's UTC text (or any ISO 8601 form) into an aware datetime."""
    dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def parse_when(when: str) -> str:
    """Turn a user's WHEN into the latest UTC instant it names, as archive text.

    A bare date means the end of that day in UTC (so "the snapshot at or before 2016-10-21"
    includes that day's captures); a datetime without a zone is UTC. Raises UsageError with a
    one-line message for anything else.
    """
    s = when.strip()
    try:
        if _DATE_RE.match(s):
            d = date.fromisoformat(s)
            return to_iso(datetime.combine(d, time.max, tzinfo=timezone.utc))
        return to_iso(from_iso(s))
    except ValueError:
        raise UsageError(
            f"not a date or time: {when!r} (use YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z|±HH:MM], "
            "or a snapshot id as #123)"
        ) from None
