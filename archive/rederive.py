"""Re-deriving stored snapshots: the archive's side of ``reparse``.

The parser lives in the upper layer (:mod:`scraper.sources.reparse` re-derives each snapshot's
records from its stored body). This module reads what it needs (the pages and snapshots to
re-derive) and writes what it found, one page per transaction: snapshots repointed at the
current parser's versions, versions it derives identically relabelled with its
``parser_version``, versions no snapshot shows any more moved to ``superseded_versions`` (with
``reparsed_snapshots`` saying which snapshot showed which), and the page reconciled
(:func:`archive.reconcile.reconcile_page`: ``changed`` and new/unchanged recomputed). A kill
between pages leaves whole pages done and the rest untouched; a rerun finds the rest by their
versions' older ``parser_version``.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field

from archive.model import Page
from archive.reconcile import reconcile_page
from archive.store import Archive
from archive.timeutil import utcnow_iso
from archive.vocab import CONTENT_OUTCOMES, sql_list

__all__ = ["Derived", "PageReparse", "apply_reparse", "older_parsers", "pages_of_seed",
           "pages_to_reparse", "plan_reparse", "snapshots_of"]

_CONTENT = sql_list(CONTENT_OUTCOMES)


@dataclass(frozen=True)
class Derived:
    """What the current parser made of one snapshot's stored body."""

    snapshot_id: int
    page: Page
    suspect: bool


@dataclass
class PageReparse:
    """What re-deriving one page did (or, in a dry run, would do)."""

    page_id: int
    url: str
    snapshots: int = 0  # snapshots re-derived
    repointed: int = 0  # snapshots now showing another version
    versions_before: int = 0  # distinct versions those snapshots showed
    versions_after: int = 0  # distinct versions they show now
    new_versions: int = 0  # versions the current parser made that were not stored
    superseded: int = 0  # versions no snapshot shows any more (moved to superseded_versions)
    relabelled: int = 0  # versions the current parser derives identically
    suspect_changed: int = 0
    reconciled: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when a snapshot shows other records than before."""
        return bool(self.repointed or self.suspect_changed)

    def to_dict(self) -> dict[str, object]:
        """The JSON form ``reparse --json`` prints per page."""
        return {"url": self.url, "snapshots": self.snapshots, "repointed": self.repointed,
                "versions_before": self.versions_before, "versions_after": self.versions_after,
                "new_versions": self.new_versions, "superseded": self.superseded,
                "relabelled": self.relabelled, "suspect_changed": self.suspect_changed,
                "problems": self.problems}


def older_parsers(conn: sqlite3.Connection, parser_version: int) -> dict[int, int]:
    """{parser_version: number of versions} for versions made by a parser older than
    ``parser_version`` (what ``check`` warns about and ``reparse`` updates)."""
    return {int(r[0]): int(r[1]) for r in conn.execute(
        "SELECT parser_version, count(*) FROM versions WHERE parser_version < ?"
        " GROUP BY parser_version ORDER BY parser_version", (parser_version,))}


def pages_to_reparse(archive: Archive, parser_version: int, *,
                     page_ids: list[int] | None = None,
                     every: bool = False) -> list[tuple[int, str]]:
    """(id, url) of the pages to re-derive, by id: those holding a version made by an older
    parser (every page with ``every``), among ``page_ids`` when given."""
    sql = "SELECT p.id, p.url FROM pages p"
    if not every:
        sql += (" WHERE EXISTS (SELECT 1 FROM versions v WHERE v.page_id = p.id"
                f" AND v.parser_version < {int(parser_version)})")
    rows = [(int(r[0]), str(r[1])) for r in archive.conn.execute(sql + " ORDER BY p.id")]
    if page_ids is not None:
        wanted = set(page_ids)
        rows = [r for r in rows if r[0] in wanted]
    return rows


def pages_of_seed(archive: Archive, seeds: tuple[str, ...]) -> list[int]:
    """The pages captured by runs from any of these seed URLs (a watch's pages)."""
    marks = ", ".join("?" * len(seeds))
    return [int(r[0]) for r in archive.conn.execute(
        "SELECT DISTINCT s.page_id FROM snapshots s JOIN runs r ON r.id = s.run_id"
        f" WHERE r.seed_url IN ({marks}) ORDER BY s.page_id", seeds)]


def snapshots_of(archive: Archive, page_id: int) -> list[sqlite3.Row]:
    """The page's snapshots that show a version, oldest first, with what re-deriving needs:
    the stored body's sha256, status, final URL, redirects and response headers (JSON), and
    the options of the run that captured it (a watch's selectors are among them)."""
    return archive.conn.execute(
        f"""SELECT s.id, s.captured_at, s.outcome, s.http_status, s.final_url, s.redirects,
                   s.body_id, lower(hex(b.sha256)) AS body_sha256, s.version_id, s.suspect,
                   h.response_headers, v.content_hash, v.parser_version,
                   r.options AS run_options
              FROM snapshots s
              JOIN snapshot_headers h ON h.snapshot_id = s.id
              JOIN versions v ON v.id = s.version_id
              JOIN runs r ON r.id = s.run_id
              LEFT JOIN blobs b ON b.id = s.body_id
             WHERE s.page_id = ? AND s.outcome IN {_CONTENT} AND s.body_id IS NOT NULL
             ORDER BY s.captured_at, s.id""", (page_id,)).fetchall()


def plan_reparse(archive: Archive, page_id: int, url: str,
                 derived: list[Derived]) -> tuple[PageReparse, int | None, Page | None]:
    """What :func:`apply_reparse` would do, from content hashes alone, writing nothing (a dry
    run); and the first snapshot that would change, as (its stored version id, its re-derived
    records), for a sample diff ((None, None) when none would)."""
    out = PageReparse(page_id, url, snapshots=len(derived))
    rows = {int(r["id"]): r for r in snapshots_of(archive, page_id)}
    stored = {str(r[0]): int(r[1]) for r in archive.conn.execute(
        "SELECT content_hash, id FROM versions WHERE page_id = ?", (page_id,))}
    before: set[int] = set()
    after: set[str] = set()
    kept: set[int] = set()
    sample: tuple[int | None, Page | None] = (None, None)
    for d in derived:
        row = rows[d.snapshot_id]
        old_vid = int(row["version_id"])
        h = d.page.content_hash()
        before.add(old_vid)
        after.add(h)
        if stored.get(h) == old_vid:
            kept.add(old_vid)
        else:
            out.repointed += 1
            if sample[0] is None:
                sample = (old_vid, d.page)
        if int(d.suspect) != int(row["suspect"]):
            out.suspect_changed += 1
    out.new_versions = len([h for h in after if h not in stored])
    reused = {stored[h] for h in after if h in stored}
    out.superseded = len(before - kept - reused)
    out.versions_before, out.versions_after = len(before), len(after)
    return out, sample[0], sample[1]


def _parser_of(c: sqlite3.Connection, version_id: int) -> int | None:
    row = c.execute("SELECT parser_version FROM versions WHERE id = ?", (version_id,)).fetchone()
    return int(row[0]) if row else None


def _supersede(archive: Archive, c: sqlite3.Connection, version_id: int, *, at: str,
               parser_version: int) -> int:
    """Move a version no snapshot shows to superseded_versions (its sections and items as
    JSON, in the shape of :meth:`archive.model.Page.records` but as shown); return its row id.
    The FTS triggers drop it from search as its rows are deleted."""
    v = c.execute("SELECT * FROM versions WHERE id = ?", (version_id,)).fetchone()
    page = archive.load_version(version_id)
    sections = [[s.heading, s.level, s.parent, s.text] for s in page.sections]
    items = [[i.title, i.url, i.summary, i.section] for i in page.items]
    cur = c.execute(
        """INSERT INTO superseded_versions (page_id, version_id, content_hash, kind, title,
             updated_on, text, first_seen, parser_version, sections, items, superseded_at,
             superseded_by_parser) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        (v["page_id"], version_id, v["content_hash"], v["kind"], v["title"], v["updated_on"],
         v["text"], v["first_seen"], v["parser_version"],
         json.dumps(sections, ensure_ascii=False), json.dumps(items, ensure_ascii=False),
         at, parser_version))
    # Items point at sections, sections at their parents: items first, then all sections of
    # the version in one statement (foreign keys are checked per statement).
    c.execute("DELETE FROM items WHERE version_id = ?", (version_id,))
    c.execute("DELETE FROM sections WHERE version_id = ?", (version_id,))
    c.execute("DELETE FROM versions WHERE id = ?", (version_id,))
    return int(cur.lastrowid or 0)


def apply_reparse(archive: Archive, page_id: int, url: str, derived: list[Derived], *,
                  parser_version: int, at: str | None = None) -> PageReparse:
    """Write one page's re-derivation in one transaction (see the module doc).

    ``derived`` holds the current parser's records for snapshots of the page (from
    :func:`snapshots_of`); ``parser_version`` is that parser's. Versions the page holds that
    no snapshot could be re-derived for (a missing body) keep their parser_version and are
    named in ``problems``.
    """
    at = at or utcnow_iso()
    out = PageReparse(page_id, url, snapshots=len(derived))
    with archive.transaction() as c:
        current = {int(r[0]): (r[1], int(r[2])) for r in c.execute(
            "SELECT id, version_id, suspect FROM snapshots WHERE page_id = ?", (page_id,))}
        before: set[int] = set()
        after: set[int] = set()
        moved: dict[int, list[int]] = {}  # old version id -> reparsed_snapshots rows
        for d in derived:
            old_vid, old_suspect = current[d.snapshot_id]
            before.add(old_vid)
            h = d.page.content_hash()
            row = c.execute("SELECT id, parser_version FROM versions"
                            " WHERE page_id = ? AND content_hash = ?", (page_id, h)).fetchone()
            if row is None:
                vid, _ = archive._store_version(c, page_id, d.page, at=_captured(c, d))
                out.new_versions += 1
            else:
                vid = int(row[0])
                if row[1] < parser_version:
                    out.relabelled += 1
            # Same content hash, same records: the current parser made (or makes) this one.
            c.execute("UPDATE versions SET parser_version = ? WHERE id = ?"
                      " AND parser_version != ?", (parser_version, vid, parser_version))
            after.add(vid)
            if vid != old_vid:
                cur = c.execute(
                    """INSERT INTO reparsed_snapshots (snapshot_id, reparsed_at, old_version_id,
                         old_parser_version, new_version_id, new_parser_version)
                       VALUES (?, ?, ?, ?, ?, ?)""",
                    (d.snapshot_id, at, old_vid, _parser_of(c, old_vid), vid, parser_version))
                moved.setdefault(old_vid, []).append(int(cur.lastrowid or 0))
                c.execute("UPDATE snapshots SET version_id = ? WHERE id = ?", (vid, d.snapshot_id))
                out.repointed += 1
            if int(d.suspect) != old_suspect:
                c.execute("UPDATE snapshots SET suspect = ? WHERE id = ?",
                          (int(d.suspect), d.snapshot_id))
                out.suspect_changed += 1
        for old_vid in sorted(moved):
            if c.execute("SELECT 1 FROM snapshots WHERE version_id = ? LIMIT 1",
                         (old_vid,)).fetchone():
                continue
            sid = _supersede(archive, c, old_vid, at=at, parser_version=parser_version)
            c.executemany("UPDATE reparsed_snapshots SET superseded_id = ? WHERE id = ?",
                          [(sid, rid) for rid in moved[old_vid]])
            out.superseded += 1
        out.reconciled = reconcile_page(c, page_id)
        # A version's first_seen is its earliest capture; snapshots moved away from a version
        # can make that later (reconcile_page only ever moves it back). Only the rows that
        # move: the update trigger re-indexes a version's text whatever column changed.
        c.execute("""UPDATE versions SET first_seen = (SELECT min(captured_at) FROM snapshots
                       WHERE version_id = versions.id)
                     WHERE page_id = ? AND first_seen IS NOT (SELECT min(captured_at)
                       FROM snapshots WHERE version_id = versions.id)
                     AND EXISTS (SELECT 1 FROM snapshots
                       WHERE version_id = versions.id)""", (page_id,))
        stale = [int(r[0]) for r in c.execute(
            "SELECT id FROM versions WHERE page_id = ? AND parser_version < ?",
            (page_id, parser_version))]
        if stale:
            out.problems.append(f"{url}: version(s) {', '.join(map(str, stale))} could not be "
                                "re-derived (no stored body to parse); kept as they were")
    out.versions_before, out.versions_after = len(before), len(after)
    return out


def _captured(c: sqlite3.Connection, d: Derived) -> str:
    return str(c.execute("SELECT captured_at FROM snapshots WHERE id = ?",
                         (d.snapshot_id,)).fetchone()[0])
