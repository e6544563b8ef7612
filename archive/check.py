"""The archive's health: SQLite's own integrity check plus the invariants our writes keep.

Every snapshot is written in one transaction with what it points at, so none of these should
ever fail; :func:`check` is how cron, a researcher or a test proves it after a crash, a kill -9
or a copy across machines.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass, field

from archive import blobs

# (name, SQL returning offending rows, what a row means)
INVARIANTS: list[tuple[str, str, str]] = [
    ("good snapshot without version",
     "SELECT id FROM snapshots WHERE outcome IN ('new', 'unchanged', 'not_modified')"
     " AND (version_id IS NULL OR body_sha256 IS NULL)",
     "a successful capture must point at its version and body"),
    ("snapshot points at a missing blob",
     "SELECT s.id FROM snapshots s LEFT JOIN blobs b ON b.sha256 = s.body_sha256"
     " WHERE s.body_sha256 IS NOT NULL AND b.sha256 IS NULL",
     "raw body missing"),
    ("snapshot points at a missing version",
     "SELECT s.id FROM snapshots s LEFT JOIN versions v ON v.id = s.version_id"
     " WHERE s.version_id IS NOT NULL AND v.id IS NULL",
     "version missing"),
    ("snapshot version of another page",
     "SELECT s.id FROM snapshots s JOIN versions v ON v.id = s.version_id"
     " WHERE v.page_id != s.page_id",
     "a snapshot must show a version of its own page"),
    ("failed snapshot with content",
     "SELECT id FROM snapshots WHERE outcome IN ('failed', 'blocked')"
     " AND (version_id IS NOT NULL OR body_sha256 IS NOT NULL)",
     "a failure is never a version"),
    ("version never captured",
     "SELECT v.id FROM versions v WHERE NOT EXISTS"
     " (SELECT 1 FROM snapshots s WHERE s.version_id = v.id)",
     "a version exists only because a snapshot showed it"),
    ("item in a section of another version",
     "SELECT i.id FROM items i JOIN sections s ON s.id = i.section_id"
     " WHERE s.version_id != i.version_id",
     "items and sections of one version belong together"),
    ("delta blob with a bad base",
     "SELECT b.sha256 FROM blobs b LEFT JOIN blobs k ON k.sha256 = b.base_sha256"
     " WHERE b.codec = 'zstd-dict' AND (k.sha256 IS NULL OR k.codec != 'zstd')",
     "a delta's base must be a stored keyframe"),
    ("snapshot of a missing run",
     "SELECT s.id FROM snapshots s LEFT JOIN runs r ON r.id = s.run_id WHERE r.id IS NULL",
     "run missing"),
    ("content hash not unique per page",
     "SELECT page_id FROM versions GROUP BY page_id, content_hash HAVING count(*) > 1",
     "versions are stored once per page"),
]


@dataclass
class CheckReport:
    """What :func:`check` found: ``problems`` is empty for a healthy archive."""

    problems: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    running_runs: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check(conn: sqlite3.Connection, *, deep: bool = False, limit: int = 5) -> CheckReport:
    """Run ``PRAGMA integrity_check``, ``foreign_key_check`` and the archive's invariants.

    ``deep`` also decompresses every blob and verifies its sha256 (reads the whole archive).
    Each problem is one line naming the invariant and up to ``limit`` offending ids.
    """
    report = CheckReport()
    try:
        rows = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as e:
        report.problems.append(f"integrity_check: {e}")
        return report
    if rows != ["ok"]:
        report.problems.extend(f"integrity_check: {r}" for r in rows[:limit])
        return report  # the rest would read a damaged file
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    if fk:
        report.problems.append(
            "foreign_key_check: " + ", ".join(f"{r[0]} row {r[1]} -> {r[2]}" for r in fk[:limit]))
    for name, sql, meaning in INVARIANTS:
        bad = [str(r[0]) for r in conn.execute(sql + f" LIMIT {limit + 1}")]
        if bad:
            more = " ..." if len(bad) > limit else ""
            report.problems.append(f"{name} ({meaning}): {', '.join(bad[:limit])}{more}")
    for table in ("runs", "pages", "snapshots", "versions", "sections", "items", "blobs"):
        report.counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    report.running_runs = [r[0] for r in conn.execute("SELECT id FROM runs WHERE status='running'")]
    if deep:
        report.problems.extend(_check_blobs(conn, limit))
    return report


def _check_blobs(conn: sqlite3.Connection, limit: int) -> list[str]:
    bad: list[str] = []
    plain: dict[str, bytes] = {}
    for row in conn.execute(
        "SELECT sha256, codec, base_sha256, data FROM blobs ORDER BY codec = 'zstd-dict', rowid"
    ):
        sha, codec, base, data = row[0], row[1], row[2], row[3]
        try:
            if base is not None and base not in plain:
                b = conn.execute("SELECT codec, data FROM blobs WHERE sha256 = ?",
                                 (base,)).fetchone()
                plain[base] = blobs.decode(b[0], b[1])
            body = blobs.decode(codec, data, plain.get(base) if base else None)
        except Exception as e:  # any decoding failure is the finding, not a crash
            bad.append(f"{sha[:12]}: {type(e).__name__}")
            continue
        if hashlib.sha256(body).hexdigest() != sha:
            bad.append(f"{sha[:12]}: content does not match its hash")
        if codec == "zstd" and len(plain) < 64:
            plain[sha] = body
    if bad:
        more = " ..." if len(bad) > limit else ""
        return [f"blob damaged: {', '.join(bad[:limit])}{more}"]
    return []
