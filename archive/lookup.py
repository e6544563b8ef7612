"""What the sources ask the archive before they write: is this capture stored already, when was
the last full body, which body does a revisit stand for.

The sources (crawl, WARC import, Wayback backfill) never write SQL themselves: these queries
live here, beside :mod:`archive.store`, so the storage boundary stays in the archive layer.
"""

from __future__ import annotations

import sqlite3

from archive.store import Archive
from archive.vocab import FULL_OUTCOMES, Source, sql_list

_FULL_BODY = sql_list(FULL_OUTCOMES)


def last_full_capture_at(archive: Archive, url: str) -> str | None:
    """When ``url`` last answered a trustworthy 200 (a full body, not a 304), or None."""
    row = archive.conn.execute(
        f"""SELECT max(s.captured_at) FROM snapshots s JOIN pages p ON p.id = s.page_id
             WHERE p.url = ? AND s.outcome IN {_FULL_BODY} AND s.suspect = 0""",
        (url,)).fetchone()
    return row[0] if row else None


def has_capture(archive: Archive, url: str, at: str, *, body_sha256: str | None = None,
                outcome: str | None = None) -> bool:
    """True when ``url`` has a snapshot captured at ``at`` (with this body, or this outcome)."""
    sql = """SELECT 1 FROM snapshots s JOIN pages p ON p.id = s.page_id
              WHERE p.url = ? AND s.captured_at = ?"""
    params: list[str | bytes] = [url, at]
    if body_sha256 is not None:
        sql += " AND s.body_id = (SELECT id FROM blobs WHERE sha256 = ?)"
        params.append(bytes.fromhex(body_sha256))
    if outcome is not None:
        sql += " AND s.outcome = ?"
        params.append(str(outcome))
    return archive.conn.execute(sql + " LIMIT 1", params).fetchone() is not None


def has_later_capture(archive: Archive, url: str, at: str) -> bool:
    """True when ``url`` has any snapshot captured after ``at``."""
    return archive.conn.execute(
        """SELECT 1 FROM snapshots s JOIN pages p ON p.id = s.page_id
            WHERE p.url = ? AND s.captured_at > ? LIMIT 1""", (url, at)).fetchone() is not None


def body_captured_at(archive: Archive, url: str, final_url: str, at: str) -> str | None:
    """The body hash of the capture of ``url`` (or one that landed on ``final_url``) at ``at``."""
    row = archive.conn.execute(
        """SELECT lower(hex(b.sha256)) FROM snapshots s JOIN pages p ON p.id = s.page_id
             JOIN blobs b ON b.id = s.body_id
            WHERE (p.url = ? OR s.final_url = ?) AND s.captured_at = ? LIMIT 1""",
        (url, final_url, at)).fetchone()
    return row[0] if row else None


def has_origin(archive: Archive, source: Source | str, origin_uri: str) -> bool:
    """True when a snapshot of this source came from ``origin_uri`` (a replay URL, a record)."""
    return archive.conn.execute(
        "SELECT 1 FROM snapshots WHERE source = ? AND origin_uri = ? LIMIT 1",
        (str(source), origin_uri)).fetchone() is not None


def versions_from(archive: Archive, url: str, source: Source | str) -> list[tuple[str, int]]:
    """(captured_at, version id) of every trustworthy capture of ``url`` by ``source``, in
    time order."""
    rows = archive.conn.execute(
        """SELECT s.captured_at, s.version_id FROM snapshots s
             JOIN pages p ON p.id = s.page_id
            WHERE p.url = ? AND s.source = ? AND s.version_id IS NOT NULL
              AND s.suspect = 0 ORDER BY s.captured_at""", (url, str(source))).fetchall()
    return [(r[0], int(r[1])) for r in rows]


def last_seed(archive: Archive, source: Source | str) -> str | None:
    """The seed URL of the latest run of ``source``, or None."""
    row = archive.conn.execute(
        "SELECT seed_url FROM runs WHERE source = ? ORDER BY id DESC LIMIT 1",
        (str(source),)).fetchone()
    return row[0] if row else None


def run_sources_of(path: str) -> set[str]:
    """The sources of the runs in the archive file at ``path``, read without opening it as an
    archive (no migration, no lock); ``{"?"}`` when it is not a readable archive."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return {r[0] for r in conn.execute("SELECT DISTINCT source FROM runs")}
        finally:
            conn.close()
    except sqlite3.DatabaseError:
        return {"?"}
