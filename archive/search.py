"""Full-text search over the archive's text, and rebuilding its FTS5 indexes.

A hit says where the text stood (page, section, item) and when the archive showed it: the
versions it was in and the span of their trustworthy snapshots
(:func:`archive.query.version_spans`).
The FTS indexes are documented in docs/schema.md.
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from archive.errors import ArchiveCorruptError, UsageError
from archive.model import norm_text
from archive.query import version_spans, visible_versions
from archive.reader_limits import (
    DEFAULT_READER_LIMITS,
    QueryLimitError,
    ReaderLimits,
    limited,
    stop_reason,
)
from archive.store import Archive
from archive.timeline import pages_at, resolve_when
from archive.vocab import CONTENT_OUTCOMES, sql_list

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
#: which never makes a version but is kept with each snapshot (archive/outside.py).
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



#: The longest search query, in characters and in terms: a query is a person's question, and
#: FTS5's cost grows with every term (5,000 terms took 42 s, 50,000 more than 11 minutes).
MAX_QUERY_CHARS = 1000
MAX_QUERY_TERMS = 64


def check_query(query: str) -> None:
    """Refuse (QueryLimitError) a query longer than :data:`MAX_QUERY_CHARS` or with more than
    :data:`MAX_QUERY_TERMS` terms (words, phrases and operators, as split on white space)."""
    if len(query) > MAX_QUERY_CHARS:
        raise QueryLimitError(f"search query too long: {len(query)} characters (at most "
                              f"{MAX_QUERY_CHARS})")
    terms = len(query.split())
    if terms > MAX_QUERY_TERMS:
        raise QueryLimitError(f"search query has too many terms: {terms} (at most "
                              f"{MAX_QUERY_TERMS})")


def search(archive: Archive, query: str, *, as_of: str | None = None, limit: int = 20,
           kinds: Sequence[str] = KINDS, mark: tuple[str, str] = ("[", "]"),
           snippet_tokens: int = 16, limits: ReaderLimits = DEFAULT_READER_LIMITS,
           stop: threading.Event | None = None) -> list[SearchHit]:
    """Ranked hits of the FTS5 ``query`` over page titles and text, section headings and
    text, item titles and summaries.

    ``as_of`` (a WHEN) keeps only text the archive showed at that moment (the versions of
    :func:`visible_versions`); the hits' ``versions`` and dates still cover the whole archive,
    so they say since when (and until when) that text was there. An FTS5 syntax error raises
    UsageError with a one-line message.

    bm25 ranks come from three indexes with their own statistics: comparable enough to merge,
    not to compare closely across kinds.

    The query is refused past :func:`check_query`'s limits; ``limits.seconds`` bounds the
    search (QueryLimitError) and ``stop`` ends it (QueryStopped): :mod:`archive.reader_limits`.
    """
    if not query.strip():
        raise UsageError("empty search query")
    check_query(query)
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        raise UsageError(f"unknown kind(s) {sorted(unknown)}; use {', '.join(ALL_KINDS)}")
    conn = archive.conn
    watch = None
    try:
        with limited(conn, limits, stop) as watch:
            return _search(conn, query, as_of, limit, kinds, mark, snippet_tokens)
    except sqlite3.Error as e:
        limit_hit = stop_reason(watch, e, limits) if watch is not None else None
        if limit_hit is None:
            raise
        raise limit_hit from None
    except UsageError:
        # An FTS5 error raised while the watch aborted the statement is the watch's doing.
        if watch is not None and watch.why:
            raise watch.error() from None
        raise


def _search(conn: sqlite3.Connection, query: str, as_of: str | None, limit: int,
            kinds: Sequence[str], mark: tuple[str, str],
            snippet_tokens: int) -> list[SearchHit]:
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
               AND s.outcome IN {sql_list(CONTENT_OUTCOMES)}""", list(texts))
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

    The archive indexes the rows it writes (and the delete and update triggers follow
    deletions and edits); this is for an index in doubt: rows another tool inserted (no insert
    triggers since schema 7), an archive edited by hand with the triggers dropped, a restored
    backup. One transaction: readers see the old index or the new one.
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
