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
from archive.model import PARSER_VERSION
from archive.rederive import older_parsers
from archive.vocab import BAD_OUTCOMES, CONTENT_OUTCOMES, RunStatus, sql_list

# Writes keep chains to blobs.MAX_DEPTH deltas; anything near this is a cycle or damage.
CHAIN_LIMIT = 1000

# (name, SQL returning offending rows, what a row means)
INVARIANTS: list[tuple[str, str, str]] = [
    ("good snapshot without version",
     f"SELECT id FROM snapshots WHERE outcome IN {sql_list(CONTENT_OUTCOMES)}"
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
     f"SELECT id FROM snapshots WHERE outcome IN {sql_list(BAD_OUTCOMES)}"
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
     " WHERE (b.codec = 'zstd-dict') != (b.base_sha256 IS NOT NULL) OR"
     " (b.base_sha256 IS NOT NULL AND k.sha256 IS NULL)",
     "a delta's base must be a stored blob, and only a delta has one"),
    ("delta chain cyclic or too long",
     f"""WITH RECURSIVE walk(start, cur, n) AS (
           SELECT sha256, base_sha256, 1 FROM blobs WHERE base_sha256 IS NOT NULL
           UNION ALL
           SELECT w.start, b.base_sha256, w.n + 1 FROM walk w JOIN blobs b ON b.sha256 = w.cur
            WHERE w.cur IS NOT NULL AND w.n <= {CHAIN_LIMIT})
         SELECT DISTINCT start FROM walk WHERE n > {CHAIN_LIMIT}""",
     f"following base_sha256 must reach a keyframe within {CHAIN_LIMIT} steps"),
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
    notices: list[str] = field(default_factory=list)  # worth knowing, not a failure

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
    report.problems.extend(_check_fts(conn))
    for table in ("runs", "pages", "snapshots", "versions", "sections", "items", "blobs"):
        report.counts[table] = conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    report.running_runs = [r[0] for r in conn.execute("SELECT id FROM runs WHERE status = ?",
                                                      (RunStatus.RUNNING,))]
    older = older_parsers(conn, PARSER_VERSION)
    if older:
        made = ", ".join(f"{n} by parser {v}" for v, n in older.items())
        report.notices.append(
            f"{sum(older.values())} version(s) made by an older parser ({made}; the current "
            f"one is {PARSER_VERSION}): 'coop-archive reparse' re-derives them from the "
            "stored bodies ('--dry-run' first shows what would change)")
    if deep:
        report.problems.extend(_check_blobs(conn, limit))
    return report


# The FTS5 indexes over the tables (schema V2); their triggers keep them in step with every
# write, reparse's deletions and repointing included.
FTS_TABLES = ("versions_fts", "sections_fts", "items_fts")


def _check_fts(conn: sqlite3.Connection) -> list[str]:
    """FTS5's own integrity check of each full-text index against its table (``rank`` 1:
    compare with the external content too). It is a write statement that writes nothing, so
    a read-only connection skips it."""
    bad: list[str] = []
    for fts in FTS_TABLES:
        try:
            conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")
        except sqlite3.OperationalError as e:
            if "readonly" in str(e):
                return []
            bad.append(f"full-text index {fts}: {e} ('coop-archive rebuild-fts' rebuilds it)")
        except sqlite3.DatabaseError as e:
            bad.append(f"full-text index {fts} does not match its table ({e}); "
                       "'coop-archive rebuild-fts' rebuilds it")
    return bad


def _check_blobs(conn: sqlite3.Connection, limit: int) -> list[str]:
    """Decode every blob once, each from its base's plain body, and verify its sha256.

    Walks each delta tree depth first from its keyframe (iteratively), holding only the plain
    bodies of the path being walked, so the whole archive is read once and memory stays small.
    A blob no keyframe leads to (missing base, cycle) is reported too.
    """
    bad: list[str] = []
    children: dict[str | None, list[str]] = {}
    for sha, base in conn.execute("SELECT sha256, base_sha256 FROM blobs"):
        children.setdefault(base, []).append(sha)
    stack: list[tuple[str, bytes | None]] = [(sha, None) for sha in children.get(None, [])]
    reached = 0
    while stack:
        sha, base_plain = stack.pop()
        reached += 1
        codec, data = conn.execute("SELECT codec, data FROM blobs WHERE sha256 = ?",
                                   (sha,)).fetchone()
        try:
            body = blobs.decode(codec, data, base_plain)
        except Exception as e:  # any decoding failure is the finding, not a crash
            bad.append(f"{sha[:12]}: {type(e).__name__}")
            bad.extend(f"{k[:12]}: base damaged" for k in _descendants(children, sha))
            continue
        if hashlib.sha256(body).hexdigest() != sha:
            bad.append(f"{sha[:12]}: content does not match its hash")
        stack.extend((k, body) for k in children.get(sha, []))
    total = sum(len(v) for v in children.values())
    if reached < total:
        seen = {None, *_descendants(children, None)}
        bad.extend(f"{s[:12]}: no keyframe leads to it" for b, ks in children.items()
                   if b not in seen for s in ks)
    if bad:
        more = " ..." if len(bad) > limit else ""
        return [f"blob damaged: {', '.join(bad[:limit])}{more}"]
    return []


def _descendants(children: dict[str | None, list[str]], root: str | None) -> list[str]:
    out: list[str] = []
    todo = list(children.get(root, []))
    while todo:
        sha = todo.pop()
        out.append(sha)
        todo.extend(children.get(sha, []))
    return out
