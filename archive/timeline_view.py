"""The archive's history as data to look at: what :mod:`archive.site` draws.

Two views, both read-only and both from the snapshots table:

- :func:`page_summaries`: every page with its captures, changes and failures per month (the
  index's small charts), its number of versions and its last change.
- :func:`page_timeline`: one page's history in time order: each *stretch* (one version shown
  by consecutive trustworthy snapshots, with the span of dates it was seen, its title and
  Updated date, and a one-line summary of what changed from the previous version), and the
  *events* between them: failed, blocked or suspect captures, the page found gone, and gaps
  in the capture rhythm.

A version that comes back (A, B, then A again) is two stretches: the timeline shows what a
reader of the page saw, in order. Pure reads: no printing, no writing.
"""

from __future__ import annotations

import sqlite3
import statistics
from dataclasses import dataclass, field
from itertools import pairwise

from archive.diff import PageDiff, diff_pages
from archive.errors import UsageError
from archive.store import Archive
from archive.timeline import live_runs
from archive.timeutil import from_iso

#: Outcomes of a snapshot that showed the page's content (when not suspect).
SHOWN = ("new", "unchanged", "not_modified")
#: A pause between two captures of a page is a *gap* when it is this many times the page's
#: median pause, and at least GAP_MIN_DAYS long: a daily watch that missed a week, not the
#: ordinary rhythm of a page captured now and then.
GAP_FACTOR = 3.0
GAP_MIN_DAYS = 2.0
# SHOWN as an SQL list (constants of ours, not input).
_SHOWN_SQL = ",".join(f"'{o}'" for o in SHOWN)


@dataclass(frozen=True)
class Month:
    """One calendar month (UTC) of a page's captures."""

    month: str  # YYYY-MM
    captures: int = 0
    changes: int = 0  # snapshots that showed something new: a version, gone, or back
    failures: int = 0  # failed, blocked or suspect captures


@dataclass
class PageSummary:
    """A page at a glance: the index's row."""

    page_id: int
    url: str
    title: str
    status: str  # current | gone | never (never showed content)
    captures: int
    versions: int
    failures: int
    first_seen: str
    last_checked: str | None
    last_change: str | None  # the latest snapshot that showed something new
    months: dict[str, Month] = field(default_factory=dict)


@dataclass
class Stretch:
    """One version, shown by consecutive trustworthy snapshots ``first_seen``..``last_seen``.

    ``snapshot_id`` is the first of them (what a diff or the raw capture link names);
    ``number`` counts the page's versions in order of first appearance (a version that comes
    back keeps its number); ``summary`` says in one line what changed from the previous
    stretch's version, ``flags`` the diff's (``silent_edit``, ``date_only``, ``trivial``)
    and ``returned`` when the page came back after being gone.
    """

    version_id: int
    number: int
    snapshot_id: int
    first_seen: str
    last_seen: str
    snapshots: int
    title: str
    updated_on: str | None
    kind: str
    has_body: bool
    summary: str = ""
    flags: list[str] = field(default_factory=list)

    @property
    def start(self) -> str:
        """When the stretch began (entries sort by it)."""
        return self.first_seen


@dataclass
class Event:
    """Something between versions: ``failed``, ``blocked``, ``suspect`` (an error page served
    as 200), ``gone`` (404/410) or ``gap`` (no capture for unusually long), from ``start`` to
    ``end``, ``count`` consecutive snapshots (0 for a gap); ``detail`` says why."""

    kind: str
    start: str
    end: str
    count: int
    detail: str = ""
    snapshot_id: int | None = None


@dataclass
class PageTimeline:
    """One page's history: stretches and events in time order (see the module docstring)."""

    page_id: int
    url: str
    title: str
    entries: list[Stretch | Event]
    months: dict[str, Month]

    @property
    def stretches(self) -> list[Stretch]:
        """The stretches alone, oldest first."""
        return [e for e in self.entries if isinstance(e, Stretch)]


def archive_months(conn: sqlite3.Connection) -> list[str]:
    """Every month (YYYY-MM) from the archive's first snapshot to its last: the shared time
    axis of the charts, so pages can be compared by eye. Empty for an empty archive."""
    first = conn.execute("SELECT min(captured_at) FROM snapshots").fetchone()[0]
    last = conn.execute("SELECT max(captured_at) FROM snapshots").fetchone()[0]
    if first is None or last is None:
        return []
    return month_range(str(first)[:7], str(last)[:7])


def month_range(first: str, last: str) -> list[str]:
    """The months from ``first`` to ``last`` (YYYY-MM), inclusive.

    >>> month_range("2016-11", "2017-02")
    ['2016-11', '2016-12', '2017-01', '2017-02']
    """
    year, month = int(first[:4]), int(first[5:7])
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


_MONTHS_SQL = f"""
SELECT page_id, substr(captured_at, 1, 7) AS month, count(*) AS captures,
       sum(changed = 1 AND suspect = 0 AND outcome IN ('gone', {_SHOWN_SQL}))
         AS changes,
       sum(outcome IN ('failed', 'blocked') OR suspect = 1) AS failures
  FROM snapshots {{where}} GROUP BY page_id, month"""


def _settled(conn: sqlite3.Connection) -> tuple[str, tuple[int, ...]]:
    """An SQL condition on snapshots leaving out the runs being written right now
    (:func:`archive.timeline.live_runs`), and its arguments: like the other readers, the
    timeline shows whole runs, never a crawl's new hub beside its old documents."""
    live = tuple(live_runs(conn))
    return f"run_id NOT IN ({','.join('?' * len(live))})", live


def _months(conn: sqlite3.Connection, page_id: int | None = None) -> dict[int, dict[str, Month]]:
    """Per page, its months with captures (one pass over the snapshots)."""
    settled, live = _settled(conn)
    where, args = (f"WHERE {settled}" + (" AND page_id = ?" if page_id is not None else ""),
                   live + ((page_id,) if page_id is not None else ()))
    out: dict[int, dict[str, Month]] = {}
    for pid, month, captures, changes, failures in conn.execute(
            _MONTHS_SQL.format(where=where), args):
        out.setdefault(int(pid), {})[month] = Month(month, captures, changes or 0, failures or 0)
    return out


def page_summaries(conn: sqlite3.Connection) -> list[PageSummary]:
    """Every page the archive tried, in first-seen order, with its counts and months."""
    months = _months(conn)
    settled, live = _settled(conn)
    latest = {int(r["page_id"]): r for r in conn.execute(
        "SELECT page_id, title, status FROM latest_versions")}
    stats = {int(r[0]): r for r in conn.execute(
        f"""SELECT page_id, count(*),
                   count(DISTINCT CASE WHEN suspect = 0 AND outcome IN ({_SHOWN_SQL})
                                       THEN version_id END),
                   sum(outcome IN ('failed', 'blocked') OR suspect = 1),
                   max(CASE WHEN suspect = 0 AND outcome NOT IN ('failed', 'blocked')
                            THEN captured_at END),
                   max(CASE WHEN changed = 1 AND suspect = 0
                             AND outcome IN ('gone', {_SHOWN_SQL})
                            THEN captured_at END)
              FROM snapshots WHERE {settled} GROUP BY page_id""", live)}
    out = []
    for pid, url, first_seen in conn.execute(
            "SELECT id, url, first_seen FROM pages ORDER BY first_seen, id"):
        pid = int(pid)
        row = latest.get(pid)
        s = stats.get(pid)
        out.append(PageSummary(
            page_id=pid, url=url, title=(row["title"] or "") if row is not None else "",
            status=str(row["status"]) if row is not None else "never",
            captures=int(s[1]) if s else 0, versions=int(s[2]) if s else 0,
            failures=int(s[3] or 0) if s else 0, first_seen=first_seen,
            last_checked=s[4] if s else None, last_change=s[5] if s else None,
            months=months.get(pid, {})))
    return out


def page_url(archive: Archive, page_id: int) -> str:
    """The URL of page ``page_id``; UsageError when there is none."""
    row = archive.conn.execute("SELECT url FROM pages WHERE id = ?", (page_id,)).fetchone()
    if row is None:
        raise UsageError(f"no page with id {page_id}")
    return str(row[0])


def page_heading(archive: Archive, page_id: int) -> tuple[str, str]:
    """Page ``page_id``'s URL and the title of the last version a capture showed ("" if
    none): what names the page without reading its whole timeline. UsageError if no page."""
    url = page_url(archive, page_id)
    row = archive.conn.execute("SELECT title FROM latest_versions WHERE page_id = ?",
                               (page_id,)).fetchone()
    return url, str(row[0] or "") if row is not None else ""


def page_timeline(archive: Archive, page_id: int) -> PageTimeline:
    """The history of page ``page_id`` (UsageError when there is no such page)."""
    url = page_url(archive, page_id)
    conn = archive.conn
    settled, live = _settled(conn)
    rows = conn.execute(
        f"""SELECT s.id, s.captured_at, s.outcome, s.suspect, s.version_id, s.http_status,
                  s.error, s.body_id, v.title, v.updated_on, v.kind
             FROM snapshots s LEFT JOIN versions v ON v.id = s.version_id
            WHERE s.page_id = ? AND s.{settled} ORDER BY s.captured_at, s.id""",
        (page_id, *live)).fetchall()
    entries: list[Stretch | Event] = []
    numbers: dict[int, int] = {}
    current: Stretch | None = None  # the open stretch
    previous: Stretch | None = None  # the last stretch, across gone and failures
    open_event: Event | None = None
    after_gone = False
    for r in rows:
        bad = _event_kind(r)
        if bad is None:
            open_event = None
            vid = int(r["version_id"])
            if current is not None and current.version_id == vid:
                current.last_seen = r["captured_at"]
                current.snapshots += 1
                continue
            numbers.setdefault(vid, len(numbers) + 1)
            current = Stretch(vid, numbers[vid], int(r["id"]), r["captured_at"],
                              r["captured_at"], 1, r["title"] or "", r["updated_on"],
                              r["kind"] or "html", r["body_id"] is not None)
            _summarise(archive, previous, current, returned=after_gone)
            entries.append(current)
            previous, after_gone = current, False
            continue
        kind, detail = bad
        if kind == "gone":
            current, after_gone = None, True
        if open_event is not None and open_event.kind == kind and open_event.detail == detail:
            open_event.end = r["captured_at"]
            open_event.count += 1
        else:
            open_event = Event(kind, r["captured_at"], r["captured_at"], 1, detail, int(r["id"]))
            entries.append(open_event)
    entries += _gaps([str(r["captured_at"]) for r in rows])
    entries.sort(key=lambda e: (e.start, 0 if isinstance(e, Stretch) else 1))
    title = previous.title if previous is not None else ""
    return PageTimeline(page_id, url, title, entries, _months(conn, page_id).get(page_id, {}))


def _event_kind(r: sqlite3.Row) -> tuple[str, str] | None:
    """(kind, detail) of a snapshot that did not show content, or None if it did."""
    if r["suspect"]:
        return "suspect", "kept, not trusted"
    outcome = r["outcome"]
    if outcome in SHOWN and r["version_id"] is not None:
        return None
    if outcome == "gone":
        return "gone", f"HTTP {r['http_status']}" if r["http_status"] else ""
    return str(outcome), str(r["error"] or "")


def _summarise(archive: Archive, previous: Stretch | None, current: Stretch, *,
               returned: bool) -> None:
    """Set ``current.summary`` and ``flags``: what changed from ``previous``'s version."""
    if previous is None:
        current.summary = "first capture"
        return
    lead = ["back after being gone"] if returned else []
    if previous.version_id == current.version_id:
        current.summary = "; ".join([*lead, "unchanged"])
        return
    diff = diff_pages(archive.load_version(previous.version_id),
                      archive.load_version(current.version_id))
    current.flags = list(diff.flags)
    current.summary = "; ".join([*lead, *change_parts(diff)]) or "changed"


_ITEM_WORDS = (("added", "added"), ("removed", "removed"), ("changed", "edited"),
               ("moved", "moved"))
_FLAG_WORDS = {"silent_edit": "silent edit (Updated date unchanged)",
               "date_only": "date-only bump", "trivial": "typographic only"}


def change_parts(diff: PageDiff) -> list[str]:
    """The phrases of a :class:`archive.diff.PageDiff`'s one-line summary: items added,
    removed, edited, moved; sections; title; text; the Updated date; the diff's flags."""
    counts = diff.counts()
    fields = diff.fields
    parts = []
    for noun, numbers in (("item", counts["items"]), ("section", counts["sections"])):
        bits = [f"{numbers[c]} {word}" for c, word in _ITEM_WORDS + (("renamed", "renamed"),)
                if numbers.get(c)]
        if bits:
            n, rest = bits[0].split(" ", 1)
            bits[0] = f"{n} {noun}{'' if n == '1' else 's'} {rest}"
            parts.append(", ".join(bits))
    if "title" in fields:
        parts.append("title changed")
    if diff.text_diff and not diff.items and not diff.sections:
        if "date_only" not in diff.flags:
            parts.append("text edited")
    if "updated" in fields:
        old, new = fields["updated"]
        parts.append(f"Updated {old or '-'} → {new or '-'}")
    parts += [_FLAG_WORDS[f] for f in diff.flags if f in _FLAG_WORDS]
    return parts


def _days(a: str, b: str) -> float:
    return (from_iso(b) - from_iso(a)).total_seconds() / 86400


def _gaps(times: list[str]) -> list[Event]:
    """Pauses between consecutive captures that break the page's rhythm (GAP_FACTOR)."""
    if len(times) < 3:
        return []
    pauses = [_days(a, b) for a, b in pairwise(times)]
    usual = statistics.median(pauses)
    limit = max(GAP_FACTOR * usual, GAP_MIN_DAYS)
    return [Event("gap", a, b, 0, f"no capture for {pause:.0f} days")
            for (a, b), pause in zip(pairwise(times), pauses, strict=True) if pause > limit]
