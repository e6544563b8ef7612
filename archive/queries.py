"""The readers' SQL: the few lookups that diff, show and the cron summary make.

:class:`archive.store.Archive` writes and :mod:`archive.timeline` resolves moments; what
:mod:`archive.compare`, :mod:`archive.query` and :mod:`archive.report_cron` read beyond
those is here, so no reader reaches into ``archive.conn`` itself. Every function reads.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from archive.store import Archive
from archive.vocab import CONTENT_OUTCOMES, sql_list


def run_at(archive: Archive, at: str) -> sqlite3.Row | None:
    """The run (``id``, ``seed_url``) of the archive's latest snapshot at or before ``at``."""
    row: sqlite3.Row | None = archive.conn.execute(
        """SELECT r.id, r.seed_url FROM snapshots s JOIN runs r ON r.id = s.run_id
            WHERE s.captured_at <= ? ORDER BY s.captured_at DESC, s.id DESC LIMIT 1""",
        (at,),
    ).fetchone()
    return row


def latest_seed(archive: Archive) -> str | None:
    """The seed URL of the newest run, or None when the archive holds no runs."""
    row = archive.conn.execute("SELECT seed_url FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    return str(row[0]) if row is not None else None


def page_url(archive: Archive, page_id: int) -> str:
    """The URL of page ``page_id``."""
    return str(archive.conn.execute("SELECT url FROM pages WHERE id = ?",
                                    (page_id,)).fetchone()[0])


def first_capture(archive: Archive, page_id: int) -> str | None:
    """When the page was first captured, whatever the outcome (None: never)."""
    row = archive.conn.execute("SELECT min(captured_at) FROM snapshots WHERE page_id = ?",
                               (page_id,)).fetchone()
    return row[0] if row else None


def page_capture_before(archive: Archive, page_id: int, to_at: str) -> str | None:
    """The page's capture before its latest one at or before ``to_at`` (None: none)."""
    conn = archive.conn
    row = conn.execute(
        """SELECT captured_at FROM snapshots WHERE page_id = ? AND captured_at <= ?
            ORDER BY captured_at DESC, id DESC LIMIT 1""", (page_id, to_at)).fetchone()
    if row is None:
        return None
    prev = conn.execute("SELECT max(captured_at) FROM snapshots"
                        " WHERE page_id = ? AND captured_at < ?", (page_id, row[0])).fetchone()
    return prev[0] if prev else None


def run_span(archive: Archive, run_id: int) -> tuple[str, str] | None:
    """The first and last capture times of run ``run_id`` (None: it captured nothing)."""
    first, last = archive.conn.execute(
        "SELECT min(captured_at), max(captured_at) FROM snapshots WHERE run_id = ?",
        (run_id,)).fetchone()
    return (first, last) if last is not None else None


def capture_before(archive: Archive, at: str) -> str | None:
    """The archive's last capture time strictly before ``at`` (None: none)."""
    row = archive.conn.execute("SELECT max(captured_at) FROM snapshots WHERE captured_at < ?",
                               (at,)).fetchone()
    return row[0] if row else None


def content_before(archive: Archive, page_id: int, at: str) -> int | None:
    """The version of the page's last trustworthy capture *with content* (not gone, failed,
    blocked or suspect) at or before ``at``: what a page back after a 404 is compared with.
    One indexed lookup (snapshots_page_time)."""
    row = archive.conn.execute(
        f"""SELECT version_id FROM snapshots
             WHERE page_id = ? AND captured_at <= ? AND suspect = 0
               AND version_id IS NOT NULL AND outcome IN {sql_list(CONTENT_OUTCOMES)}
             ORDER BY captured_at DESC, id DESC LIMIT 1""",
        (page_id, at)).fetchone()
    return int(row[0]) if row is not None else None


def parsers_of(archive: Archive, old_vid: int | None,
               new_vid: int | None) -> list[int] | None:
    """``[old, new]`` parser_version of two versions when they differ (a diff across a
    parser boundary, which ``reparse`` removes), else None."""
    if old_vid is None or new_vid is None or old_vid == new_vid:
        return None
    got = dict(archive.conn.execute("SELECT id, parser_version FROM versions WHERE id IN (?, ?)",
                                    (old_vid, new_vid)).fetchall())
    old, new = got.get(old_vid), got.get(new_vid)
    if old is None or new is None or old == new:
        return None
    return [int(old), int(new)]


def linked_by(archive: Archive, hub_id: int, url: str, to_at: str) -> dict[str, Any] | None:
    """The hub versions that first and last linked ``url`` (up to ``to_at``), with dates.

    ``first``: the earliest hub version listing it, first captured ``seen``. ``last``: the hub
    version shown by the latest hub snapshot that listed it, ``seen`` then. Indexed lookups
    (items_url, snapshots_page_time): a few rows, however long the history.
    """
    conn = archive.conn
    linking = """SELECT DISTINCT i.version_id FROM items i JOIN versions v ON v.id = i.version_id
                  WHERE i.url = ? AND v.page_id = ?"""
    first = conn.execute(
        f"""SELECT id, first_seen FROM versions WHERE id IN ({linking}) AND first_seen <= ?
             ORDER BY first_seen, id LIMIT 1""", (url, hub_id, to_at)).fetchone()
    if first is None:
        return None
    last = conn.execute(
        f"""SELECT version_id, captured_at FROM snapshots
             WHERE page_id = ? AND captured_at <= ? AND version_id IN ({linking})
             ORDER BY captured_at DESC, id DESC LIMIT 1""",
        (hub_id, to_at, url, hub_id)).fetchone()
    out: dict[str, Any] = {"first": {"version": first["id"], "seen": first["first_seen"]},
                           "last": None}
    if last is not None:
        out["last"] = {"version": last["version_id"], "seen": last["captured_at"]}
    return out


def page_ids(archive: Archive, urls: set[str]) -> set[int]:
    """The ids of the pages among ``urls`` that the archive holds."""
    ids: set[int] = set()
    for u in urls:
        row = archive.conn.execute("SELECT id FROM pages WHERE url = ?", (u,)).fetchone()
        if row:
            ids.add(int(row[0]))
    return ids


def pages_of_run(archive: Archive, run_id: int, at: str) -> set[int]:
    """The ids of the pages run ``run_id`` captured at or before ``at``."""
    return {int(r[0]) for r in archive.conn.execute(
        "SELECT DISTINCT page_id FROM snapshots WHERE run_id = ? AND captured_at <= ?",
        (run_id, at))}
