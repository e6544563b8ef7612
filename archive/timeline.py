"""Moments in the archive: turning a user's WHEN into an instant, and a page's state at it.

"The page at D" means the latest snapshot captured at or before D (UTC). A failed or suspect
snapshot says the page could not be seen properly then, so the page's *content* at D is that of
the latest trustworthy snapshot at or before D; both are returned so callers can say so.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from dataclasses import dataclass

from archive.errors import UsageError
from archive.timeutil import parse_when
from archive.vocab import (
    BAD_OUTCOMES,
    CONTENT_OUTCOMES,
    GOOD_OUTCOMES,
    Outcome,
    RunStatus,
    Source,
    sql_list,
)

GOOD = GOOD_OUTCOMES  # a 404 is a good observation: the page was gone then
# Runs whose snapshots together are one picture of the site, taken over a few minutes: a crawl
# (or the demo). An import or a Wayback backfill dates each snapshot at its own historical
# capture time, so such a run can span years and has no "end of the run" worth snapping to.
WHOLE_RUN_SOURCES = (Source.CRAWL, Source.DEMO)
# A snapshot id written so it cannot be read as a year: "#123" or "id:123".
_SNAPSHOT_ID_RE = re.compile(r"^(?:#|id:)\s*(\d+)$", re.IGNORECASE)
_MAX_ID = 2**63 - 1  # SQLite's largest INTEGER


@dataclass(frozen=True)
class PageState:
    """A page as seen at an instant.

    ``latest`` is the last snapshot at or before the instant, whatever its outcome;
    ``good`` the last trustworthy one (not failed, blocked or suspect), whose ``version_id``
    is the content to show (None when the page was gone then, or never fetched well).
    """

    page_id: int
    url: str
    latest: sqlite3.Row
    good: sqlite3.Row | None

    @property
    def version_id(self) -> int | None:
        return self.good["version_id"] if self.good is not None else None

    @property
    def gone(self) -> bool:
        return self.good is not None and self.good["outcome"] == Outcome.GONE

    @property
    def failure(self) -> str | None:
        """What kept the latest observation from showing the page, or None if nothing did:
        ``blocked`` (robots.txt or the address policy said no: a rule, not an event),
        ``failed`` (the fetch failed) or ``suspect`` (it looked like an error page)."""
        outcome = self.latest["outcome"]
        if outcome in BAD_OUTCOMES:
            return str(outcome)
        return "suspect" if self.latest["suspect"] else None

    @property
    def failed(self) -> bool:
        """True when the latest observation did not show the page (failed, blocked or
        suspect): the content shown is then the last good one. Readers (``show``) say so;
        the diff distinguishes the kinds (:attr:`failure`), since a page that is blocked, or
        keeps failing the same way, is no news from one run to the next."""
        return self.failure is not None


def live_runs(conn: sqlite3.Connection) -> list[int]:
    """Runs being written right now: status 'running' and their process still alive.

    A crawl writes one page at a time, so a reader that looked at "the latest" mid-crawl would
    see half a run (the new hub, the old documents). Defaults skip these runs' snapshots; a run
    left 'running' by a dead process is stale and shown (the next crawl marks it interrupted).
    """
    live = []
    for run_id, pid in conn.execute("SELECT id, pid FROM runs WHERE status = ?",
                                    (RunStatus.RUNNING,)):
        if pid is None:
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            continue
        except (PermissionError, OverflowError, ValueError):
            pass  # exists but not ours to signal (PermissionError): alive
        live.append(int(run_id))
    return live


def parse_snapshot_id(text: str) -> int | None:
    """The snapshot id a WHEN names, or None if it names an instant (a date or time).

    ``#123`` and ``id:123`` are snapshot ids. A bare number is refused (UsageError, with
    both readings spelled out): ``12`` is not a date, and ``2017`` could be a year.

    >>> parse_snapshot_id("#2017"), parse_snapshot_id("id:12")
    (2017, 12)
    >>> parse_snapshot_id("2016-10-21") is None
    True
    >>> parse_snapshot_id("12")
    Traceback (most recent call last):
    ...
    archive.errors.UsageError: '12' is not a date: write #12 (or id:12) for snapshot 12
    """
    text = text.strip()
    m = _SNAPSHOT_ID_RE.match(text)
    if m:
        number = int(m.group(1))
        if number > _MAX_ID:  # SQLite could not even look it up
            raise UsageError(f"no snapshot with id {m.group(1)} (ids are at most {_MAX_ID})")
        return number
    if text[:1] == "#" or text[:3].lower() == "id:":
        raise UsageError(f"not a snapshot id: {text!r} (write #123 or id:123)")
    if text.isdigit():
        if len(text) == 4:
            raise UsageError(f"{text!r} is ambiguous: write {text}-12-31 for a date, "
                             f"or #{text} for snapshot {text}")
        raise UsageError(f"{text!r} is not a date: write #{text} (or id:{text}) for "
                         f"snapshot {text}")
    return None


def _is_whole_run(conn: sqlite3.Connection, run_id: int) -> bool:
    """A crawl-like run (WHOLE_RUN_SOURCES), or one re-imported from our own WARC export
    whose original was one (its warcinfo's ``coop-run`` and ``coop-source``, kept in
    ``runs.options``): the round trip keeps its snapshots together."""
    run = conn.execute("SELECT source, options FROM runs WHERE id = ?", (run_id,)).fetchone()
    if run is None:
        return False
    if run[0] in WHOLE_RUN_SOURCES:
        return True
    if run[0] != Source.IMPORT:
        return False
    try:
        options = json.loads(run[1] or "{}")
    except ValueError:
        return False
    return (isinstance(options, dict) and bool(options.get("coop-run"))
            and options.get("coop-source") in WHOLE_RUN_SOURCES)


def run_end(conn: sqlite3.Connection, instant: str, *,
            run_id: int | None = None) -> str:
    """``instant``, moved to the end of the crawl run it falls inside (if any).

    The run is ``run_id``'s, or that of the archive's latest snapshot at or before
    ``instant``. A crawl writes one page at a time, so an instant inside a run would show the
    new hub with the old documents; the end of the run is the run's whole picture. Runs that
    are not crawls (imports of other tools' WARCs, Wayback backfills: each snapshot at its own
    historical time) are left alone; a crawl run re-imported from our own export is a crawl.
    For a run still being written, its end is its latest snapshot so far.
    """
    if run_id is None:
        row = conn.execute("SELECT run_id FROM snapshots WHERE captured_at <= ?"
                           " ORDER BY captured_at DESC, id DESC LIMIT 1", (instant,)).fetchone()
        if row is None:
            return instant
        run_id = int(row[0])
    if not _is_whole_run(conn, run_id):
        return instant
    end = conn.execute("SELECT max(captured_at) FROM snapshots WHERE run_id = ?",
                       (run_id,)).fetchone()[0]
    return end if end is not None and end > instant else instant


def resolve_when(conn: sqlite3.Connection, when: str | None, *, page_id: int | None = None,
                 default: str = "latest", whole_run: bool = False) -> str:
    """Turn WHEN (ISO date/datetime, or a snapshot id: ``#123``, ``id:123``) into an instant
    in archive text.

    None means the latest snapshot (``default="latest"``; while a crawl is writing, the end
    of the last whole run). A snapshot id means that snapshot's capture time, or with
    ``whole_run`` (a whole-archive diff) the end of that snapshot's crawl run; with
    ``whole_run`` an instant inside a crawl run also means that run's end (:func:`run_end`).
    A bare four-digit number (a year?), an instant before the archive's (or the page's) first
    snapshot, or an unknown snapshot id raises UsageError.
    """
    where, args = ("WHERE page_id = ?", (page_id,)) if page_id is not None else ("", ())
    # Two queries, not one: SQLite answers a lone min() or max() from the index at once,
    # but scans the table for both together.
    first = conn.execute(f"SELECT min(captured_at) FROM snapshots {where}", args).fetchone()[0]
    last = conn.execute(f"SELECT max(captured_at) FROM snapshots {where}", args).fetchone()[0]
    if first is None:
        raise UsageError("the archive holds no snapshots yet" if page_id is None
                         else "that page has no snapshots")
    if when is None:
        if default != "latest":
            return first
        live = live_runs(conn)
        if live:
            # The latest instant no crawl in progress has written after: the last whole run.
            marks = ",".join("?" * len(live))
            done = conn.execute(
                f"SELECT max(captured_at) FROM snapshots {where}"
                f"{' AND' if where else ' WHERE'} captured_at < coalesce("
                f"(SELECT min(captured_at) FROM snapshots WHERE run_id IN ({marks})), '~')",
                (*args, *live)).fetchone()[0]
            return done if done is not None else last
        return last
    snapshot_id = parse_snapshot_id(when)
    if snapshot_id is not None:
        row = conn.execute("SELECT captured_at, run_id FROM snapshots WHERE id = ?",
                           (snapshot_id,)).fetchone()
        if row is None:
            raise UsageError(f"no snapshot with id {snapshot_id}")
        instant = str(row[0])
        return run_end(conn, instant, run_id=int(row[1])) if whole_run else instant
    instant = parse_when(when.strip())
    if instant < first:
        raise UsageError(f"{when} is before the first snapshot ({first})")
    return run_end(conn, instant) if whole_run else instant


def page_state_at(conn: sqlite3.Connection, page_id: int, at: str) -> PageState | None:
    """The page's state at instant ``at``, or None if it had not been captured by then."""
    latest = conn.execute(
        """SELECT s.*, p.url FROM snapshots s JOIN pages p ON p.id = s.page_id
            WHERE s.page_id = ? AND s.captured_at <= ?
            ORDER BY s.captured_at DESC, s.id DESC LIMIT 1""",
        (page_id, at),
    ).fetchone()
    if latest is None:
        return None
    good = latest
    if latest["outcome"] not in GOOD or latest["suspect"]:
        good = conn.execute(
            f"""SELECT s.*, p.url FROM snapshots s JOIN pages p ON p.id = s.page_id
                WHERE s.page_id = ? AND s.captured_at <= ? AND s.suspect = 0
                  AND s.outcome IN ({",".join("?" * len(GOOD))})
                ORDER BY s.captured_at DESC, s.id DESC LIMIT 1""",
            (page_id, at, *GOOD),
        ).fetchone()
    return PageState(page_id, latest["url"], latest, good)


def pages_at(conn: sqlite3.Connection, at: str) -> list[PageState]:
    """Every page captured at or before ``at``, with its state then, in first-seen order."""
    out = []
    for (pid,) in conn.execute(
        "SELECT id FROM pages WHERE first_seen <= ? ORDER BY first_seen, id", (at,)
    ).fetchall():
        state = page_state_at(conn, pid, at)
        if state is not None:
            out.append(state)
    return out


def hub_at(conn: sqlite3.Connection, at: str | None = None) -> str | None:
    """The hub at instant ``at`` (default: now): the seed of the latest run that captured its
    seed page trustworthily by then. A run whose seed never answered (a typo, a failed
    backfill) does not take over what ``show`` and ``diff`` mean by "the hub"."""
    # Walks the snapshots backwards in time from ``at`` (the captured_at index): the first
    # trustworthy capture of a run's own seed is a few rows away, however long the archive.
    row = conn.execute(
        f"""SELECT r.seed_url FROM snapshots s
             JOIN runs r ON r.id = s.run_id JOIN pages p ON p.id = s.page_id
            WHERE s.captured_at <= coalesce(?, '~') AND p.url = r.seed_url AND s.suspect = 0
              AND s.outcome IN {sql_list(CONTENT_OUTCOMES)}
            ORDER BY s.captured_at DESC LIMIT 1""",
        (at,),
    ).fetchone()
    return str(row[0]) if row else None
