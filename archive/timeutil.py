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
from datetime import date, datetime, time, timedelta, timezone

from archive.errors import UsageError

ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
#: How far past our clock a capture date may lie (clocks disagree a little). Later dates are
#: refused on import and backfill, and reported by ``check``: a forged 2099 capture would
#: otherwise be what "the latest" means for ever.
CLOCK_SKEW = timedelta(minutes=10)
#: No web page was captured before the web existed: an earlier date is a mistake or a forgery.
EARLIEST_CAPTURE = "1991-01-01T00:00:00.000000Z"
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def to_iso(dt: datetime) -> str:
    """Format an aware datetime (naive means UTC) as the archive's fixed-width UTC text."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    dt = dt.astimezone(timezone.utc)
    # Not strftime("%Y"): glibc writes year 1 as "1", which would not sort as text.
    return f"{dt.year:04d}-" + dt.strftime(ISO_FORMAT[3:])


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


def future_horizon(now: str | None = None) -> str:
    """The latest capture date accepted: ``now`` (default: the clock) plus :data:`CLOCK_SKEW`.

    >>> future_horizon("2016-10-21T12:00:00.000000Z")
    '2016-10-21T12:10:00.000000Z'
    """
    return to_iso(from_iso(now or utcnow_iso()) + CLOCK_SKEW)


def capture_date_problem(when: str, *, now: str | None = None) -> str | None:
    """Why ``when`` (archive time text) cannot be a capture's date, or None when it can.

    >>> capture_date_problem("2016-10-21T12:00:00.000000Z") is None
    True
    >>> capture_date_problem("0001-01-01T00:00:00.000000Z")
    'capture date 0001-01-01T00:00:00.000000Z is before 1991, when the web began'
    >>> capture_date_problem("2099-01-01T00:00:00.000000Z", now="2026-01-01T00:00:00Z")
    'capture date 2099-01-01T00:00:00.000000Z is in the future (after 2026-01-01T00:10:00.000000Z)'
    """
    try:
        value = to_iso(from_iso(when))
    except (ValueError, OverflowError):
        return f"capture date {when!r} is not a real date and time"
    if value < EARLIEST_CAPTURE:
        return f"capture date {value} is before {EARLIEST_CAPTURE[:4]}, when the web began"
    horizon = future_horizon(now)
    if value > horizon:
        return f"capture date {value} is in the future (after {horizon})"
    return None
