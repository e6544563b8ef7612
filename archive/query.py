"""Reading the archive as a research dataset: as-of views, full-text search, read-only SQL,
tidy exports and Datasette metadata.

"As of WHEN" always means what :mod:`archive.timeline` says: the page's latest snapshot at or
before WHEN, and its content from the latest *trustworthy* snapshot (not failed, blocked or
suspect). Every function here reads; none writes except :func:`rebuild_fts`.

The tables, views and FTS indexes these functions read are documented in docs/schema.md.
"""

from __future__ import annotations

import csv
import json
import logging
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from archive import outside
from archive.errors import ArchiveCorruptError, UsageError
from archive.model import Page, norm_text
from archive.store import Archive
from archive.timeline import PageState, hub_at, page_state_at, pages_at, resolve_when
from archive.timeutil import utcnow_iso
from archive.urls import normalize_url

logger = logging.getLogger(__name__)

#: What a trustworthy snapshot that showed content looks like, in SQL.
_SHOWN = "suspect = 0 AND outcome IN ('new', 'unchanged', 'not_modified')"

# -- spans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """When the archive saw a version: its first and last trustworthy snapshots (UTC)."""

    first_seen: str | None
    last_seen: str | None
    snapshots: int


def version_spans(conn: sqlite3.Connection, version_ids: Iterable[int]) -> dict[int, Span]:
    """The :class:`Span` of each version id (same numbers as the ``version_spans`` view).

    Reads the partial index ``snapshots_version_good`` only, in chunks (SQLite caps the
    number of bound parameters).
    """
    ids = sorted(set(version_ids))
    out: dict[int, Span] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for vid, first, last, n in conn.execute(
            f"SELECT version_id, min(captured_at), max(captured_at), count(*) FROM snapshots"
            f" WHERE version_id IN ({marks}) AND {_SHOWN} GROUP BY version_id", chunk,
        ):
            out[vid] = Span(first, last, n)
    for vid in ids:
        out.setdefault(vid, Span(None, None, 0))
    return out


# -- show: a page as of a moment -----------------------------------------------------------


@dataclass
class PageView:
    """A page as the archive showed it at ``at``.

    ``status``:
    - ``ok``: ``page`` is the content of the latest trustworthy snapshot at or before ``at``.
    - ``gone``: the latest trustworthy snapshot found the page gone (404/410); ``page`` is None.
    - ``not_captured``: the page had no snapshot yet at ``at``.
    - ``no_content``: snapshots exist but none trustworthy (all failed, blocked or suspect).

    ``failed`` is true when the latest snapshot at ``at`` itself failed or looked like an error
    page: the content shown then comes from the earlier ``good`` snapshot.
    """

    url: str
    at: str
    status: str
    failed: bool = False
    page: Page | None = None
    version_id: int | None = None
    version_span: Span | None = None
    snapshot: dict[str, Any] | None = None  # the trustworthy snapshot the content comes from
    latest: dict[str, Any] | None = None  # the latest snapshot at ``at``, whatever its outcome
    first_captured: str | None = None
    # The visible text outside the main content in the snapshot shown (menus, asides,
    # footers): kept, not part of the version (see archive/outside.py).
    outside_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        d = asdict(self)
        d["page"] = self.page.to_dict() if self.page else None
        return d


_SNAPSHOT_FIELDS = ("id", "run_id", "captured_at", "outcome", "http_status", "suspect",
                    "error", "version_id")


def _snap(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return {k: row[k] for k in _SNAPSHOT_FIELDS} if row is not None else None


def default_url(archive: Archive) -> str:
    """What ``show`` shows without a URL: the hub (:func:`archive.timeline.hub_at`), i.e. the
    seed of the latest run that captured its seed; else the latest run's seed."""
    hub = hub_at(archive.conn)
    if hub is not None:
        return hub
    row = archive.conn.execute("SELECT seed_url FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    if row is None:
        raise UsageError("the archive holds no runs yet")
    return str(row[0])


def page_id_for(archive: Archive, url: str) -> int:
    """The page id of ``url`` (normalised first); UsageError if the archive never saw it."""
    norm = normalize_url(url)
    pid = archive.page_id(norm)
    if pid is None:
        raise UsageError(f"no page {url} in the archive")
    return pid


def show_as_of(archive: Archive, url: str | None, at: str | None) -> PageView:
    """The page ``url`` (default: the latest run's seed) as the archive showed it at ``at``.

    ``at`` is a WHEN (see :func:`archive.timeline.resolve_when`: an ISO date or time, a
    snapshot id, or None for the latest snapshot in the archive).
    """
    url = url or default_url(archive)
    pid = page_id_for(archive, url)
    conn = archive.conn
    instant = resolve_when(conn, at)
    norm = normalize_url(url)
    first = conn.execute("SELECT min(captured_at) FROM snapshots WHERE page_id = ?",
                         (pid,)).fetchone()[0]
    state: PageState | None = page_state_at(conn, pid, instant)
    if state is None:
        return PageView(norm, instant, "not_captured", first_captured=first)
    view = PageView(state.url, instant, "ok", failed=state.failed, latest=_snap(state.latest),
                    snapshot=_snap(state.good), first_captured=first)
    if state.good is None:
        view.status = "no_content"
    elif state.gone:
        view.status = "gone"
    else:
        vid = state.version_id
        assert vid is not None
        view.version_id = vid
        view.page = archive.load_version(vid)
        view.version_span = version_spans(conn, [vid])[vid]
        tid = state.good["outside_text_id"]
        if tid is not None:
            view.outside_text = outside.load(conn, tid)
    return view


# -- full-text search ----------------------------------------------------------------------

#: The FTS5 indexes, what they cover, and the bm25 weights of their columns (a word in a title
#: or heading counts more than one in running text).
FTS_TABLES: dict[str, tuple[str, tuple[str, ...], tuple[float, ...]]] = {
    "versions_fts": ("versions", ("title", "text"), (5.0, 1.0)),
    "sections_fts": ("sections", ("heading", "text"), (3.0, 1.0)),
    "items_fts": ("items", ("title", "summary"), (3.0, 1.0)),
    "text_lines_fts": ("text_lines", ("text",), (1.0,)),
}

_KIND_TABLE = {"page": "versions_fts", "section": "sections_fts", "item": "items_fts"}
#: What ``search`` looks in by default: the main content of every version.
KINDS = tuple(_KIND_TABLE)
#: ... and on request, "outside": the text around the main content (menus, asides, footers),
#: which never makes a version but is kept with each snapshot.
ALL_KINDS = (*KINDS, "outside")


@dataclass
class SearchHit:
    """One piece of text that matched, and when the archive showed it.

    A hit groups the same text across versions: for ``kind`` "item" the same item (URL, title,
    summary) of one page, for "section" the same heading and text of one page, for "page" the
    page itself (its title or main text matched in each of ``versions``). ``first_seen`` /
    ``last_seen`` span the trustworthy snapshots of those versions (UTC); ``rank`` is FTS5's
    bm25 of the best match (lower is better). ``snippet`` marks matches with ``mark``.
    """

    kind: str
    page_url: str
    page_title: str | None
    section: str | None
    title: str | None
    url: str | None
    snippet: str
    rank: float
    versions: list[int] = field(default_factory=list)
    first_seen: str | None = None
    last_seen: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return asdict(self)


# Per kind: the matching rows with what groups them and what a hit reports.
_MATCH_SQL = {
    "page": """
        SELECT f.rowid AS rid, bm25(versions_fts, {w}) AS rank, v.id AS version_id,
               v.page_id, p.url AS page_url, v.title AS page_title, NULL AS section,
               NULL AS title, NULL AS url, '' AS body
          FROM versions_fts f JOIN versions v ON v.id = f.rowid
          JOIN pages p ON p.id = v.page_id
         WHERE versions_fts MATCH ?""",
    "section": """
        SELECT f.rowid AS rid, bm25(sections_fts, {w}) AS rank, s.version_id,
               v.page_id, p.url AS page_url, v.title AS page_title, s.heading AS section,
               s.heading AS title, NULL AS url, s.text AS body
          FROM sections_fts f JOIN sections s ON s.id = f.rowid
          JOIN versions v ON v.id = s.version_id JOIN pages p ON p.id = v.page_id
         WHERE sections_fts MATCH ?""",
    "item": """
        SELECT f.rowid AS rid, bm25(items_fts, {w}) AS rank, i.version_id,
               v.page_id, p.url AS page_url, v.title AS page_title, sec.heading AS section,
               i.title AS title, i.url AS url, i.summary AS body
          FROM items_fts f JOIN items i ON i.id = f.rowid
          JOIN versions v ON v.id = i.version_id JOIN pages p ON p.id = v.page_id
          LEFT JOIN sections sec ON sec.id = i.section_id
         WHERE items_fts MATCH ?""",
}


def _fts_error(query: str, e: sqlite3.Error) -> UsageError:
    msg = str(e).removeprefix("fts5: ")
    return UsageError(f"bad search query {query!r}: {msg} (FTS5 syntax: words, \"phrases\", "
                      "AND/OR/NOT, prefix*, NEAR(a b))")


_FTS_SYNTAX = re.compile(r'["*()^:+]|\b(AND|OR|NOT|NEAR)\b')


def _literal_if_needed(conn: sqlite3.Connection, query: str) -> str:
    """A query written as plain words, which FTS5 rejects only because of punctuation
    (``U.S.-China``, ``S&ED``), is searched as those words, each a quoted phrase. A query that
    uses FTS5 syntax itself is left alone, so its errors reach the user."""
    try:
        conn.execute("SELECT 1 FROM items_fts WHERE items_fts MATCH ? LIMIT 1", (query,)).fetchall()
        return query
    except sqlite3.OperationalError:
        if _FTS_SYNTAX.search(query):
            return query
        return " ".join('"' + w.replace('"', '""') + '"' for w in query.split())


def visible_versions(conn: sqlite3.Connection, at: str) -> set[int]:
    """The version ids the archive showed at instant ``at``, one per page at most."""
    return {s.version_id for s in pages_at(conn, at) if s.version_id is not None}


def search(archive: Archive, query: str, *, as_of: str | None = None, limit: int = 20,
           kinds: Sequence[str] = KINDS, mark: tuple[str, str] = ("[", "]"),
           snippet_tokens: int = 16) -> list[SearchHit]:
    """Ranked hits of the FTS5 ``query`` over page titles and text, section headings and
    text, item titles and summaries.

    ``as_of`` (a WHEN) keeps only text the archive showed at that moment (the versions of
    :func:`visible_versions`); the hits' ``versions`` and dates still cover the whole archive,
    so they say since when (and until when) that text was there. An FTS5 syntax error raises
    UsageError with a one-line message.

    bm25 ranks come from three indexes with their own statistics: comparable enough to merge,
    not to compare closely across kinds.
    """
    if not query.strip():
        raise UsageError("empty search query")
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        raise UsageError(f"unknown kind(s) {sorted(unknown)}; use {', '.join(ALL_KINDS)}")
    conn = archive.conn
    allowed = visible_versions(conn, resolve_when(conn, as_of)) if as_of is not None else None
    query = _literal_if_needed(conn, query)

    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for kind in kinds:
        if kind == "outside":
            continue
        table = _KIND_TABLE[kind]
        weights = ", ".join(str(w) for w in FTS_TABLES[table][2])
        try:
            rows = conn.execute(_MATCH_SQL[kind].format(w=weights), (query,)).fetchall()
        except sqlite3.OperationalError as e:
            raise _fts_error(query, e) from None
        for r in rows:
            if kind == "page":
                key: tuple[Any, ...] = (kind, r["page_id"])
            else:
                key = (kind, r["page_id"], r["url"], norm_text(r["title"]), norm_text(r["body"]))
            g = groups.setdefault(key, {"versions": set(), "rank": None})
            g["versions"].add(r["version_id"])
            if allowed is not None and r["version_id"] not in allowed:
                continue
            # The representative match (its snippet and rank): the best rank, then the newest
            # version; as of WHEN, among the versions shown then.
            if g["rank"] is None or (r["rank"], -r["version_id"]) < (g["rank"],
                                                                      -g["version_id"]):
                g.update(kind=kind, table=table, rid=r["rid"], rank=r["rank"],
                         version_id=r["version_id"], page_url=r["page_url"],
                         page_title=r["page_title"], section=r["section"], title=r["title"],
                         url=r["url"])
    # A group without a representative matched only in versions not shown at WHEN.
    found = [g for g in groups.values() if g["rank"] is not None]
    best = sorted(found, key=lambda g: (g["rank"], g["page_url"], g["rid"]))
    best = best[:limit] if limit > 0 else best
    spans = version_spans(conn, [v for g in best for v in g["versions"]])
    hits = []
    for g in best:
        table = g["table"]
        snippet = conn.execute(
            f"SELECT snippet({table}, -1, ?, ?, '…', ?) FROM {table}"
            f" WHERE {table} MATCH ? AND rowid = ?",
            (mark[0], mark[1], snippet_tokens, query, g["rid"]),
        ).fetchone()[0]
        seen = [spans[v] for v in g["versions"]]
        firsts = [s.first_seen for s in seen if s.first_seen]
        lasts = [s.last_seen for s in seen if s.last_seen]
        hits.append(SearchHit(
            kind=g["kind"], page_url=g["page_url"], page_title=g["page_title"],
            section=g["section"], title=g["title"], url=g["url"], snippet=snippet,
            rank=round(g["rank"], 6), versions=sorted(g["versions"]),
            first_seen=min(firsts) if firsts else None, last_seen=max(lasts) if lasts else None,
        ))
    if "outside" in kinds:
        hits += _outside_hits(conn, query, as_of=as_of, mark=mark,
                              snippet_tokens=snippet_tokens)
        hits.sort(key=lambda h: (h.rank, h.page_url))
        hits = hits[:limit] if limit > 0 else hits
    return hits


def _outside_hits(conn: sqlite3.Connection, query: str, *, as_of: str | None,
                  mark: tuple[str, str], snippet_tokens: int) -> list[SearchHit]:
    """Hits in the text outside the main content: one per page and matching line, dated by
    the trustworthy snapshots that showed that line (as of WHEN: the snapshots shown then)."""
    try:
        lines = {r[0]: r[1] for r in conn.execute(
            "SELECT rowid, bm25(text_lines_fts) FROM text_lines_fts WHERE text_lines_fts MATCH ?",
            (query,))}
    except sqlite3.OperationalError as e:
        raise _fts_error(query, e) from None
    if not lines:
        return []
    marks = ",".join("?" * len(lines))
    texts: dict[int, set[int]] = {}
    for oid, lid in conn.execute(
            f"SELECT o.id, j.value FROM outside_texts o, json_each(o.lines) j"
            f" WHERE j.value IN ({marks})", list(lines)):
        texts.setdefault(oid, set()).add(lid)
    if not texts:
        return []
    shown = None
    if as_of is not None:
        shown = {st.good["id"] for st in pages_at(conn, resolve_when(conn, as_of))
                 if st.good is not None}
    groups: dict[tuple[int, int], dict[str, Any]] = {}
    rows = conn.execute(
        f"""SELECT s.id, s.page_id, s.captured_at, s.version_id, s.outside_text_id,
                   p.url, v.title
              FROM snapshots s JOIN pages p ON p.id = s.page_id
              LEFT JOIN versions v ON v.id = s.version_id
             WHERE s.outside_text_id IN ({",".join("?" * len(texts))}) AND s.suspect = 0
               AND s.outcome IN ('new', 'unchanged', 'not_modified')""", list(texts))
    for sid, pid, at, vid, oid, url, title in rows:
        for lid in texts[oid]:
            g = groups.setdefault((pid, lid), {"url": url, "snaps": [], "versions": set(),
                                               "shown": False})
            g["snaps"].append(at)
            g["versions"].add(vid)
            g["title"] = title
            g["shown"] = g["shown"] or shown is None or sid in shown
    hits = []
    for (_pid, lid), g in groups.items():
        if not g["shown"]:
            continue
        snippet = conn.execute(
            "SELECT snippet(text_lines_fts, -1, ?, ?, '…', ?) FROM text_lines_fts"
            " WHERE text_lines_fts MATCH ? AND rowid = ?",
            (mark[0], mark[1], snippet_tokens, query, lid)).fetchone()[0]
        hits.append(SearchHit(
            kind="outside", page_url=g["url"], page_title=g["title"], section=None, title=None,
            url=None, snippet=snippet, rank=round(lines[lid], 6),
            versions=sorted(v for v in g["versions"] if v is not None),
            first_seen=min(g["snaps"]), last_seen=max(g["snaps"])))
    return hits


def rebuild_fts(archive: Archive) -> dict[str, int]:
    """Rebuild every FTS index from its table (FTS5 'rebuild'); returns rows indexed per index.

    The triggers keep the indexes in step; this is for an index in doubt (an archive edited
    by hand with the triggers dropped, a restored backup). One transaction: readers see the old
    index or the new one.
    """
    if archive.readonly:
        raise UsageError("rebuild-fts needs the archive writable")
    import sqlite_utils

    counts: dict[str, int] = {}
    with archive.transaction() as c:
        db = sqlite_utils.Database(c)
        for fts, (table, _cols, _w) in FTS_TABLES.items():
            # sqlite-utils finds each index by the layout its enable_fts() makes, which ours
            # follows; its atomic() nests as a savepoint inside our transaction.
            t = db.table(table)
            if t.detect_fts() != fts:
                raise ArchiveCorruptError(f"full-text index {fts} of {table} is missing")
            t.rebuild_fts()
            counts[fts] = t.count
    for fts in FTS_TABLES:
        # Outside the transaction: an integrity-check failure is worth an exception here.
        archive.conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")
    return counts


# -- read-only SQL -------------------------------------------------------------------------

# Statements that write or manage transactions. The authorizer below is the real guard; this
# catches one it never sees as a write (VACUUM INTO writes a new file) and gives the clearest
# message for the rest. Anything else goes to SQLite, which reports its own syntax errors.
_WRITE_KEYWORDS = {
    "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER", "ATTACH",
    "DETACH", "REINDEX", "ANALYZE", "VACUUM", "BEGIN", "COMMIT", "END", "ROLLBACK",
    "SAVEPOINT", "RELEASE",
}
_COMMENT_RE = re.compile(r"\s+|--[^\n]*(\n|$)|/\*.*?(\*/|$)", re.S)

# PRAGMAs that only report. A pragma with an argument is refused unless listed in the second
# set (their argument names what to report on, it does not set anything).
_PRAGMA_READ = {
    "user_version", "schema_version", "application_id", "page_count", "page_size",
    "freelist_count", "encoding", "journal_mode", "data_version", "compile_options",
    "database_list", "collation_list", "function_list", "module_list", "pragma_list",
    "table_list", "foreign_keys", "integrity_check", "quick_check", "foreign_key_check",
}
_PRAGMA_ARG = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "integrity_check", "quick_check", "foreign_key_check",
}

_ACTION_NAMES = {
    sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_DELETE: "DELETE", sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_DETACH: "DETACH", sqlite3.SQLITE_TRANSACTION: "a transaction",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE", sqlite3.SQLITE_REINDEX: "REINDEX",
    sqlite3.SQLITE_ANALYZE: "ANALYZE", sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
}


class _ReadOnlyAuthorizer:
    """A ``set_authorizer`` callback that allows reading and nothing else.

    ``mode=ro`` already stops writes to the archive, but not ATTACH of a new file, CREATE TEMP
    TABLE or VACUUM INTO, which write elsewhere; this denies those too and remembers what it
    denied so the message can say.
    """

    def __init__(self) -> None:
        self.denied: str | None = None

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None,
                 trigger: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() == "load_extension":
                return self._deny("load_extension()")
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if (arg2 is None and name in _PRAGMA_READ) or (arg2 is not None
                                                           and name in _PRAGMA_ARG):
                return sqlite3.SQLITE_OK
            return self._deny(f"PRAGMA {name}" + (f" = {arg2}" if arg2 is not None else ""))
        if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
            # SQLite asks this while it loads the schema; mode=ro makes any real write fail.
            return sqlite3.SQLITE_OK
        what = _ACTION_NAMES.get(action, "CREATE/DROP" if action <= 17 else f"action {action}")
        return self._deny(what + (f" on {arg1}" if arg1 and action != sqlite3.SQLITE_ATTACH
                                  else ""))

    def _deny(self, what: str) -> int:
        self.denied = self.denied or what
        return sqlite3.SQLITE_DENY


@dataclass
class QueryResult:
    """Columns and rows of a read-only query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name (a repeated name keeps its last value)."""
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def _first_keyword(sql: str) -> str:
    pos = 0
    while True:
        m = _COMMENT_RE.match(sql, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    word = re.match(r"[A-Za-z]+", sql[pos:])
    return word.group(0).upper() if word else ""


def run_sql(archive: Archive, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
            max_rows: int | None = None) -> QueryResult:
    """Run one read-only SQL statement on an archive opened with ``readonly=True``.

    Three guards: the connection is ``mode=ro``; a statement starting with a writing keyword
    (INSERT, DELETE, VACUUM, ATTACH, BEGIN...) is refused unread; and an authorizer denies
    anything but reading (ATTACH, temp tables, PRAGMA setters, load_extension). A refusal or an
    SQL error raises UsageError with one line. ``max_rows`` stops reading after that many rows.
    """
    if not archive.readonly:
        raise UsageError("run_sql needs an archive opened with readonly=True")
    if not _first_keyword(sql):
        raise UsageError("empty SQL query")
    keyword = _first_keyword(sql)
    if keyword in _WRITE_KEYWORDS:
        raise UsageError(f"refused: {keyword} (coop-archive sql only reads; "
                         "the archive is opened read-only)")
    guard = _ReadOnlyAuthorizer()
    conn = archive.conn
    conn.set_authorizer(guard)
    try:
        cur = conn.execute(sql, params)
        columns = [d[0] for d in cur.description or ()]
        rows = [tuple(r) for r in (cur.fetchmany(max_rows) if max_rows else cur.fetchall())]
    except sqlite3.Warning as e:  # e.g. "You can only execute one statement at a time."
        raise UsageError(f"SQL: {e}") from None
    except sqlite3.Error as e:
        if guard.denied:
            raise UsageError(f"refused: {guard.denied} (coop-archive sql only reads; "
                             "the archive is opened read-only)") from None
        if "readonly" in str(e) or "read-only" in str(e):
            raise UsageError(f"refused: {e} (coop-archive sql only reads)") from None
        raise UsageError(f"SQL error: {e}") from None
    finally:
        conn.set_authorizer(None)
    return QueryResult(columns, rows)


# -- exports -------------------------------------------------------------------------------

EXPORT_FORMATS = ("csv", "json", "jsonl", "warc")

# Tidy tables: one observation per row, plain columns, UTC text times, 0/1 flags.
_EXPORT_SQL: dict[str, str] = {
    "items": """
        SELECT item_id, version_id, page_url, position, section, title, url, summary,
               version_first_seen, version_last_seen, version_replaced_at
          FROM hub_items {where} ORDER BY page_url, version_id, position""",
    "versions": """
        SELECT vs.version_id, vs.page_url, v.content_hash, v.kind, v.title, v.updated_on,
               vs.first_seen, vs.last_seen, vs.replaced_at, vs.snapshots,
               v.parser_version, v.text
          FROM version_spans vs JOIN versions v ON v.id = vs.version_id
          {where} ORDER BY vs.page_url, vs.version_id""",
    "sections": """
        SELECT s.id AS section_id, s.version_id, p.url AS page_url, s.position, s.level,
               s.heading, par.heading AS parent_heading, s.text
          FROM sections s JOIN versions v ON v.id = s.version_id
          JOIN pages p ON p.id = v.page_id LEFT JOIN sections par ON par.id = s.parent_id
          {where} ORDER BY p.url, s.version_id, s.position""",
    "pages": """
        SELECT p.id AS page_id, p.url, p.first_seen, p.last_seen,
               (SELECT count(*) FROM versions v WHERE v.page_id = p.id) AS versions,
               (SELECT count(*) FROM snapshots s WHERE s.page_id = p.id {snap_cond})
                 AS snapshots
          FROM pages p {where} ORDER BY p.url""",
    "snapshots": """
        SELECT s.id AS snapshot_id, s.run_id, p.url AS page_url, s.captured_at, s.source,
               s.outcome, s.http_status, s.final_url, s.content_type, s.version_id,
               s.changed, s.suspect, s.error
          FROM snapshots s JOIN pages p ON p.id = s.page_id
          {where} ORDER BY s.captured_at, s.id""",
}
EXPORT_TABLES = tuple(_EXPORT_SQL)


def export_tables(archive: Archive, *, as_of: str | None = None
                  ) -> Iterator[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    """(name, columns, rows) of each tidy table, optionally as of WHEN.

    As of WHEN: ``items``, ``versions`` and ``sections`` hold only the version each page showed
    then; ``snapshots`` only those captured at or before it; ``pages`` the pages captured by
    then. Dates in the versions/items rows still span the whole archive.
    """
    conn = archive.conn
    wheres = dict.fromkeys(_EXPORT_SQL, "")
    snap_cond = ""
    args: dict[str, tuple[Any, ...]] = dict.fromkeys(_EXPORT_SQL, ())
    if as_of is not None:
        instant = resolve_when(conn, as_of)
        ids = sorted(visible_versions(conn, instant))
        marks = ",".join(str(int(i)) for i in ids) or "NULL"  # ints only: safe to inline
        wheres["items"] = f"WHERE version_id IN ({marks})"
        wheres["versions"] = f"WHERE vs.version_id IN ({marks})"
        wheres["sections"] = f"WHERE s.version_id IN ({marks})"
        wheres["pages"] = "WHERE p.first_seen <= ?"
        wheres["snapshots"] = "WHERE s.captured_at <= ?"
        snap_cond = "AND s.captured_at <= ?"
        args["pages"] = (instant, instant)
        args["snapshots"] = (instant,)
    for name, sql in _EXPORT_SQL.items():
        cur = conn.execute(sql.format(where=wheres[name], snap_cond=snap_cond), args[name])
        columns = [d[0] for d in cur.description]
        yield name, columns, (tuple(r) for r in cur)


@dataclass
class ExportStats:
    """What an export wrote: rows per table and the files."""

    format: str
    rows: dict[str, int]
    files: list[str]


def check_export_target(db_path: str, out: str, *, directory: bool, force: bool) -> None:
    """Refuse an export target that would destroy something: the archive itself (or its WAL
    and shared-memory files), an existing file unless ``force``, a file where a directory is
    wanted and the other way round. Raises UsageError with one line."""
    archive_files = [db_path, db_path + "-wal", db_path + "-shm", db_path + ".lock"]
    for f in archive_files:
        if os.path.exists(f) and os.path.exists(out) and os.path.samefile(f, out):
            raise UsageError(f"{out} is the archive itself; choose another output")
        if os.path.abspath(out) == os.path.abspath(f):
            raise UsageError(f"{out} is the archive's own file; choose another output")
    if directory:
        if os.path.exists(out) and not os.path.isdir(out):
            raise UsageError(f"{out} exists and is not a directory (csv writes a directory)")
        if os.path.isdir(out) and os.listdir(out) and not force:
            names = ", ".join(sorted(os.listdir(out))[:3])
            raise UsageError(f"{out} is not empty ({names} ...); use --force to overwrite")
        return
    if os.path.isdir(out):
        raise UsageError(f"{out} is a directory; give a file name")
    if os.path.exists(out) and not force:
        raise UsageError(f"{out} exists; use --force to overwrite it")


def export(archive: Archive, out: str | os.PathLike[str], fmt: str, *,
           as_of: str | None = None, from_at: str | None = None, table: str = "items",
           force: bool = False) -> ExportStats:
    """Write the tidy tables to ``out``.

    - ``csv``: ``out`` is a directory (created), one ``<table>.csv`` per table, UTF-8, header
      row, NULL as an empty field.
    - ``json``: one file ``{"exported_at", "as_of", "tables": {name: [row objects]}}``.
    - ``jsonl``: one file, one JSON object per row of ``table`` (default: items).
    - ``warc``: delegated to :func:`archive.warc_export.export_warc` (``as_of`` is its ``to_at``:
      captures up to WHEN; ``from_at`` its start).

    Never overwrites the archive, and an existing output only with ``force``
    (:func:`check_export_target`).
    """
    out = os.fspath(out)
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
    check_export_target(archive.path, out, directory=(fmt == "csv"), force=force)
    if fmt == "warc":
        from archive.warc_export import export_warc

        counts = export_warc(archive, out, from_at=from_at, to_at=as_of)
        return ExportStats("warc", {k: v for k, v in dict(counts).items()
                                    if isinstance(v, int)}, [out])
    if table not in EXPORT_TABLES:
        raise UsageError(f"unknown table {table!r}; use {', '.join(EXPORT_TABLES)}")
    tables = export_tables(archive, as_of=as_of)
    rows: dict[str, int] = {}
    if fmt == "csv":
        Path(out).mkdir(parents=True, exist_ok=True)
        files = []
        for name, columns, data in tables:
            path = os.path.join(out, f"{name}.csv")
            with open(path, "w", encoding="utf-8", newline="") as f:
                w = csv.writer(f)
                w.writerow(columns)
                n = 0
                for r in data:
                    w.writerow(r)
                    n += 1
            rows[name] = n
            files.append(path)
        return ExportStats("csv", rows, files)
    _parent_exists(out)
    tmp = out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        if fmt == "jsonl":
            for name, columns, data in tables:
                if name != table:
                    continue
                n = 0
                for r in data:
                    row = dict(zip(columns, r, strict=True))
                    f.write(json.dumps(row, ensure_ascii=False) + "\n")
                    n += 1
                rows[name] = n
        else:
            doc: dict[str, Any] = {"exported_at": utcnow_iso(), "as_of": as_of, "tables": {}}
            for name, columns, data in tables:
                doc["tables"][name] = [dict(zip(columns, r, strict=True)) for r in data]
                rows[name] = len(doc["tables"][name])
            json.dump(doc, f, ensure_ascii=False, indent=1)
            f.write("\n")
    os.replace(tmp, out)
    return ExportStats(fmt, rows, [out])


def _parent_exists(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"directory does not exist: {parent}")


# -- Datasette -----------------------------------------------------------------------------

METADATA_FILE = "datasette-metadata.json"
_METADATA_DB = "coop-archive"  # the database key in the JSON file: a file named coop-archive.db


def datasette_metadata(db_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The Datasette metadata (titles, descriptions, labels, FTS, canned queries) for the
    archive at ``db_path``: archive/datasette-metadata.json with its database key renamed to
    the file's stem, which is the name Datasette gives the database."""
    text = resources.files("archive").joinpath(METADATA_FILE).read_text(encoding="utf-8")
    meta: dict[str, Any] = json.loads(text)
    if db_path is not None:
        name = Path(os.fspath(db_path)).stem
        meta["databases"] = {name: meta["databases"][_METADATA_DB]}
    return meta


def canned_queries() -> dict[str, dict[str, Any]]:
    """The example queries of docs/schema.md, as Datasette canned queries (name -> config)."""
    queries: dict[str, dict[str, Any]] = datasette_metadata()["databases"][_METADATA_DB][
        "queries"]
    return queries
