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
from archive.errors import ArchiveCorruptError
from archive.model import PARSER_VERSION
from archive.rederive import older_parsers
from archive.store import Archive
from archive.timeutil import future_horizon
from archive.vocab import BAD_OUTCOMES, CONTENT_OUTCOMES, RunStatus, sql_list

# Writes keep chains to blobs.MAX_DEPTH deltas; anything near this is a cycle or damage.
CHAIN_LIMIT = 1000
FTS_INDEXES = ("versions_fts", "sections_fts", "items_fts", "text_lines_fts")
# Our time format: fixed width, UTC, microseconds (archive.timeutil). A GLOB for its shape, and
# the same day coming back from a round trip rules out 2020-02-30 and friends.
_ISO_GLOB = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
             ".[0-9][0-9][0-9][0-9][0-9][0-9]Z")


def _bad_time(column: str) -> str:
    # date(julianday(x)) normalises (2016-02-30 becomes 2016-03-01); date(x) alone would not.
    return (f"({column} NOT GLOB '{_ISO_GLOB}' OR date(julianday(substr({column}, 1, 10)))"
            f" IS NOT substr({column}, 1, 10) OR time(substr({column}, 12, 8)) IS NOT"
            f" substr({column}, 12, 8))")

# (name, SQL returning offending rows, what a row means)
INVARIANTS: list[tuple[str, str, str]] = [
    ("good snapshot without version",
     f"SELECT id FROM snapshots WHERE outcome IN {sql_list(CONTENT_OUTCOMES)}"
     " AND (version_id IS NULL OR body_id IS NULL AND id NOT IN"
     " (SELECT snapshot_id FROM missing_blobs WHERE snapshot_id IS NOT NULL))",
     "a successful capture must point at its version and body"),
    ("snapshot points at a missing blob",
     "SELECT s.id FROM snapshots s LEFT JOIN blobs b ON b.id = s.body_id"
     " WHERE s.body_id IS NOT NULL AND b.id IS NULL"
     # a body already missing when schema 8 came (its hash is all that is left)
     " UNION SELECT snapshot_id FROM missing_blobs WHERE snapshot_id IS NOT NULL",
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
     " AND (version_id IS NOT NULL OR body_id IS NOT NULL OR id IN"
     " (SELECT snapshot_id FROM missing_blobs WHERE snapshot_id IS NOT NULL))",
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
     "SELECT lower(hex(b.sha256)) FROM blobs b LEFT JOIN blobs k ON k.id = b.base_id"
     " WHERE (b.codec = 'zstd-dict') != (b.base_id IS NOT NULL) OR"
     " (b.base_id IS NOT NULL AND k.id IS NULL)",
     "a delta's base must be a stored blob, and only a delta has one"),
    ("delta chain cyclic or too long",
     f"""WITH RECURSIVE walk(start, cur, n) AS (
           SELECT id, base_id, 1 FROM blobs WHERE base_id IS NOT NULL
           UNION ALL
           SELECT w.start, b.base_id, w.n + 1 FROM walk w JOIN blobs b ON b.id = w.cur
            WHERE w.cur IS NOT NULL AND w.n <= {CHAIN_LIMIT})
         SELECT lower(hex(b.sha256)) FROM blobs b
          WHERE b.id IN (SELECT start FROM walk WHERE n > {CHAIN_LIMIT})""",
     f"following base_id must reach a keyframe within {CHAIN_LIMIT} steps"),
    ("snapshot of a missing run",
     "SELECT s.id FROM snapshots s LEFT JOIN runs r ON r.id = s.run_id WHERE r.id IS NULL",
     "run missing"),
    ("content hash not unique per page",
     "SELECT page_id FROM versions GROUP BY page_id, content_hash HAVING count(*) > 1",
     "versions are stored once per page"),
    ("snapshot with a malformed time",
     f"SELECT id FROM snapshots WHERE {_bad_time('captured_at')}",
     "captured_at must be a real UTC time like 2016-10-21T14:03:07.000000Z"),
    ("run with a malformed time",
     f"SELECT id FROM runs WHERE {_bad_time('started_at')} OR"
     f" (finished_at IS NOT NULL AND {_bad_time('finished_at')})",
     "started_at and finished_at must be real UTC times"),
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

    Also: every full-text index agrees with its table (FTS5 'integrity-check'), every
    version's content hash matches its stored records, no capture is dated in the future
    (beyond :data:`archive.timeutil.CLOCK_SKEW`), and the body of the latest good capture of
    each page decodes to its sha256. ``deep`` also decompresses every blob and verifies its
    sha256 (reads the whole archive). Each problem is one line naming the invariant and up to
    ``limit`` offending ids.
    """
    # The archive's own readers (load_version, blob) read columns by name: any connection will
    # do, the caller's row factory is put back afterwards.
    factory, conn.row_factory = conn.row_factory, sqlite3.Row
    try:
        return _check(conn, deep=deep, limit=limit)
    finally:
        conn.row_factory = factory


def _check(conn: sqlite3.Connection, *, deep: bool, limit: int) -> CheckReport:
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
    report.running_runs = [r[0] for r in conn.execute("SELECT id FROM runs WHERE status = ?",
                                                      (RunStatus.RUNNING,))]
    report.problems.extend(_check_future(conn, limit))
    report.problems.extend(_check_fts(conn))
    report.problems.extend(_check_content_hashes(conn, limit))
    older = older_parsers(conn, PARSER_VERSION)
    if older:
        made = ", ".join(f"{n} by parser {v}" for v, n in older.items())
        report.notices.append(
            f"{sum(older.values())} version(s) made by an older parser ({made}; the current "
            f"one is {PARSER_VERSION}): 'coop-archive reparse' re-derives them from the "
            "stored bodies ('--dry-run' first shows what would change)")
    if deep:
        report.problems.extend(_check_blobs(conn, limit))
    else:
        report.problems.extend(_check_latest_bodies(conn, limit))
    return report


def _listed(name: str, meaning: str, bad: list[str], limit: int) -> list[str]:
    if not bad:
        return []
    more = " ..." if len(bad) > limit else ""
    return [f"{name} ({meaning}): {', '.join(bad[:limit])}{more}"]


def _check_future(conn: sqlite3.Connection, limit: int) -> list[str]:
    """Captures dated after now (plus the clock-skew allowance): forged or mistyped dates,
    which would otherwise become what "the latest" means for ever."""
    horizon = future_horizon()
    bad = [f"{r[0]} ({r[1]})" for r in conn.execute(
        f"SELECT id, captured_at FROM snapshots WHERE captured_at > ? AND NOT"
        f" {_bad_time('captured_at')} ORDER BY id LIMIT {limit + 1}", (horizon,))]
    return _listed("snapshot dated in the future", f"later than {horizon}", bad, limit)


def _check_fts(conn: sqlite3.Connection) -> list[str]:
    """Each full-text index against its table: an emptied or stale index makes search miss."""
    problems = []
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for fts in FTS_INDEXES:
        if fts not in present:
            problems.append(f"full-text index {fts} is missing (rebuild-fts cannot fix that)")
            continue
        try:
            # rank 1: compare the index with the external content table, not only itself.
            conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as e:
            problems.append(f"full-text index {fts} does not match its table ({e}); "
                            "'coop-archive rebuild-fts' rebuilds it")
    return problems


def _check_content_hashes(conn: sqlite3.Connection, limit: int) -> list[str]:
    """Every version's records hash to its content_hash: text edited in place is damage."""
    reader = Archive(conn, "", readonly=True)
    bad = []
    for vid, stored in conn.execute("SELECT id, content_hash FROM versions ORDER BY id"):
        try:
            ok = reader.load_version(vid).content_hash() == stored
        except (ArchiveCorruptError, sqlite3.DatabaseError):  # unreadable rows: the finding
            ok = False
        if not ok:
            bad.append(str(vid))
            if len(bad) > limit:
                break
    return _listed("version content does not match its hash",
                   "its title, text, sections or items were changed after it was stored",
                   bad, limit)


def _check_latest_bodies(conn: sqlite3.Connection, limit: int) -> list[str]:
    """The body of each page's latest good capture decodes to its sha256 (cheap: one body per
    page, not the whole archive as --deep does)."""
    reader = Archive(conn, "", readonly=True)
    ids = [r[0] for r in conn.execute(
        """SELECT DISTINCT (SELECT s.body_id FROM snapshots s
                             WHERE s.page_id = p.id AND s.body_id IS NOT NULL
                             ORDER BY s.captured_at DESC, s.id DESC LIMIT 1)
             FROM pages p""") if r[0] is not None]
    bad = []
    for blob_id in ids:
        row = conn.execute("SELECT sha256 FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        if row is None:
            continue  # reported by the "missing blob" invariant
        sha = bytes(row[0]).hex()
        try:
            ok = hashlib.sha256(reader.body(blob_id)).hexdigest() == sha
        except Exception as e:  # a damaged chain is the finding
            bad.append(f"{sha[:12]}: {type(e).__name__}")
            continue
        if not ok:
            bad.append(f"{sha[:12]}: content does not match its hash")
    return _listed("latest body damaged", "the last capture of a page cannot be read back",
                   bad, limit)


def _check_blobs(conn: sqlite3.Connection, limit: int) -> list[str]:
    """Decode every blob once, each from its base's plain body, and verify its sha256.

    Walks each delta tree depth first from its keyframe (iteratively), holding only the plain
    bodies of the path being walked, so the whole archive is read once and memory stays small.
    A blob no keyframe leads to (missing base, cycle) is reported too.
    """
    bad: list[str] = []
    children: dict[int | None, list[int]] = {}
    for blob_id, base in conn.execute("SELECT id, base_id FROM blobs"):
        children.setdefault(base, []).append(blob_id)

    def name(blob_id: int) -> str:  # a blob as the findings name it: its sha256's start
        row = conn.execute("SELECT sha256 FROM blobs WHERE id = ?", (blob_id,)).fetchone()
        return bytes(row[0]).hex()[:12]

    stack: list[tuple[int, bytes | None]] = [(b, None) for b in children.get(None, [])]
    reached = 0
    while stack:
        blob_id, base_plain = stack.pop()
        reached += 1
        sha, codec, data = conn.execute("SELECT sha256, codec, data FROM blobs WHERE id = ?",
                                        (blob_id,)).fetchone()
        try:
            body = blobs.decode(codec, data, base_plain)
        except Exception as e:  # any decoding failure is the finding, not a crash
            bad.append(f"{name(blob_id)}: {type(e).__name__}")
            bad.extend(f"{name(k)}: base damaged" for k in _descendants(children, blob_id))
            continue
        if hashlib.sha256(body).digest() != sha:
            bad.append(f"{name(blob_id)}: content does not match its hash")
        stack.extend((k, body) for k in children.get(blob_id, []))
    total = sum(len(v) for v in children.values())
    if reached < total:
        seen = {None, *_descendants(children, None)}
        bad.extend(f"{name(s)}: no keyframe leads to it" for b, ks in children.items()
                   if b not in seen for s in ks)
    if bad:
        more = " ..." if len(bad) > limit else ""
        return [f"blob damaged: {', '.join(bad[:limit])}{more}"]
    return []


def _descendants(children: dict[int | None, list[int]], root: int | None) -> list[int]:
    out: list[int] = []
    todo = list(children.get(root, []))
    while todo:
        sha = todo.pop()
        out.append(sha)
        todo.extend(children.get(sha, []))
    return out
