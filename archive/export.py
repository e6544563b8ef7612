"""Tidy exports: the archive's tables as CSV, JSON or JSON Lines (and WARC), for pandas or R.

One observation per row, plain columns, UTC text times, 0/1 flags. :func:`write_export`
writes JSON or JSON Lines to any text file object (``export -`` writes to standard output
through it); :func:`export` writes files, never overwriting the archive or, unless asked, an
existing output.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import IO, Any

from archive.atomic import atomic_output, created_directory
from archive.errors import UsageError
from archive.query import visible_versions
from archive.store import Archive
from archive.timeline import resolve_when
from archive.timeutil import utcnow_iso

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
               s.changed, s.suspect, s.error, s.outside_text_id, s.truncated
          FROM snapshots s JOIN pages p ON p.id = s.page_id
          {where} ORDER BY s.captured_at, s.id""",
    # The text around each capture's main content, as stored: each distinct text once as its
    # lines in order (snapshots.outside_text_id -> outside_texts), each distinct line once.
    "outside_texts": """
        SELECT o.id AS outside_text_id, CAST(j.key AS INTEGER) AS position,
               j.value AS line_id
          FROM outside_texts o, json_each(o.lines) j {where} ORDER BY o.id, j.key""",
    "text_lines": """
        SELECT l.id AS line_id, l.text FROM text_lines l {where} ORDER BY l.id""",
    # What reparse replaced: the old derivations whole (sections and items as JSON, as
    # stored), and which snapshot showed which version before and after.
    "superseded_versions": """
        SELECT sv.id AS superseded_id, p.url AS page_url, sv.version_id, sv.content_hash,
               sv.kind, sv.title, sv.updated_on, sv.first_seen, sv.parser_version,
               sv.superseded_at, sv.superseded_by_parser, sv.text, sv.sections, sv.items
          FROM superseded_versions sv JOIN pages p ON p.id = sv.page_id
          {where} ORDER BY p.url, sv.id""",
    "reparsed_snapshots": """
        SELECT rs.id AS reparse_id, rs.snapshot_id, p.url AS page_url, s.captured_at,
               rs.reparsed_at, rs.old_version_id, rs.old_parser_version, rs.superseded_id,
               rs.new_version_id, rs.new_parser_version
          FROM reparsed_snapshots rs JOIN snapshots s ON s.id = rs.snapshot_id
          JOIN pages p ON p.id = s.page_id {where} ORDER BY rs.id""",
    # The notifications, one per run and target, as sent (the target without its password).
    "outbox": """
        SELECT o.id AS outbox_id, o.run_id, r.seed_url, o.watch, o.target, o.subject,
               o.created_at, o.attempts, o.last_attempt_at, o.last_error, o.delivered_at,
               o.body_text, o.body_html
          FROM outbox o JOIN runs r ON r.id = o.run_id {where} ORDER BY o.id""",
}
EXPORT_TABLES = tuple(_EXPORT_SQL)
# The column that names a row's page, for the page filter (a watch's pages); a notification
# belongs to its run's seed. Tables without one are filtered in SQL (see _outside_scope).
_PAGE_COLUMN = {"pages": "url", "outbox": "seed_url", "outside_texts": None,
                "text_lines": None}


def _outside_scope(as_of: bool, pages: bool) -> str:
    """SQL for the ids of the outside texts the snapshots in scope show (captured by the
    as-of instant, of the pages given as a JSON array): the stored text has no page of its
    own, so it is exported when a snapshot exported shows it."""
    cond = " AND s.captured_at <= ?" if as_of else ""
    if pages:
        cond += " AND p.url IN (SELECT value FROM json_each(?))"
    return ("SELECT s.outside_text_id FROM snapshots s JOIN pages p ON p.id = s.page_id"
            f" WHERE s.outside_text_id IS NOT NULL{cond}")


def export_tables(archive: Archive, *, as_of: str | None = None,
                  pages: Collection[str] | None = None,
                  ) -> Iterator[tuple[str, list[str], Iterator[tuple[Any, ...]]]]:
    """(name, columns, rows) of each tidy table, optionally as of WHEN.

    As of WHEN: ``items``, ``versions`` and ``sections`` hold only the version each page showed
    then; ``snapshots`` and ``reparsed_snapshots`` only those captured at or before it;
    ``pages`` the pages captured by then; ``outside_texts`` and ``text_lines`` the texts those
    snapshots show; ``superseded_versions`` those first seen by then; ``outbox`` the
    notifications created by then. Dates in the versions/items rows still span the whole
    archive. ``pages`` (URLs): only the rows of those pages (a watch's,
    :func:`archive.changes.watch_pages`); a notification is its run's seed's.
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
        wheres["reparsed_snapshots"] = "WHERE s.captured_at <= ?"
        args["reparsed_snapshots"] = (instant,)
        wheres["superseded_versions"] = "WHERE sv.first_seen <= ?"
        args["superseded_versions"] = (instant,)
        wheres["outbox"] = "WHERE o.created_at <= ?"
        args["outbox"] = (instant,)
    if as_of is not None or pages is not None:
        scope = _outside_scope(as_of is not None, pages is not None)
        scope_args = (*((instant,) if as_of is not None else ()),
                      *((json.dumps(sorted(pages)),) if pages is not None else ()))
        wheres["outside_texts"] = f"WHERE o.id IN ({scope})"
        wheres["text_lines"] = ("WHERE l.id IN (SELECT j.value FROM outside_texts o,"
                                f" json_each(o.lines) j WHERE o.id IN ({scope}))")
        args["outside_texts"] = args["text_lines"] = scope_args
    for name, sql in _EXPORT_SQL.items():
        cur = conn.execute(sql.format(where=wheres[name], snap_cond=snap_cond), args[name])
        columns = [d[0] for d in cur.description]
        rows = (tuple(r) for r in cur)
        column = _PAGE_COLUMN.get(name, "page_url")
        if pages is not None and column is not None:
            at = columns.index(column)
            rows = (r for r in rows if r[at] in pages)
        yield name, columns, rows


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
    if not out.strip():
        raise UsageError("the output name is empty; give a file name (or - for stdout)")
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
           force: bool = False, pages: Collection[str] | None = None) -> ExportStats:
    """Write the tidy tables to ``out``.

    - ``csv``: ``out`` is a directory (created), one ``<table>.csv`` per table, UTF-8, header
      row, NULL as an empty field.
    - ``json``: one file ``{"exported_at", "as_of", "tables": {name: [row objects]}}``.
    - ``jsonl``: one file, one JSON object per row of ``table`` (default: items).
    - ``warc``: delegated to :func:`archive.warc_export.export_warc` (``as_of`` is its ``to_at``:
      captures up to WHEN; ``from_at`` its start).

    Never overwrites the archive, and an existing output only with ``force``
    (:func:`check_export_target`). ``pages``: only those pages' rows (tables only).
    """
    out = os.fspath(out)
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; use {', '.join(EXPORT_FORMATS)}")
    check_export_target(archive.path, out, directory=(fmt == "csv"), force=force)
    if fmt == "warc" and pages is not None:
        raise UsageError("a WARC export is of the whole archive (the page filter goes with "
                         "the table formats)")
    if fmt == "warc":
        from archive.warc_export import export_warc

        counts = export_warc(archive, out, from_at=from_at, to_at=as_of)
        return ExportStats("warc", {k: v for k, v in dict(counts).items()
                                    if isinstance(v, int)}, [out])
    if table not in EXPORT_TABLES:
        raise UsageError(f"unknown table {table!r}; use {', '.join(EXPORT_TABLES)}")
    tables = export_tables(archive, as_of=as_of, pages=pages)
    rows: dict[str, int] = {}
    if fmt == "csv":
        files = []
        with created_directory(out):
            for name, columns, data in tables:
                path = os.path.join(out, f"{name}.csv")
                with atomic_output(path, "w", encoding="utf-8", newline="") as f:
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
    with atomic_output(out, "w", encoding="utf-8") as f:
        rows = write_export(archive, f, fmt, as_of=as_of, table=table, pages=pages)
    return ExportStats(fmt, rows, [out])


def write_export(archive: Archive, f: IO[str], fmt: str, *, as_of: str | None = None,
                 table: str = "items", pages: Collection[str] | None = None
                 ) -> dict[str, int]:
    """Write ``json`` (every table, one document) or ``jsonl`` (one row of ``table`` per line)
    to the text file object ``f``; returns the rows written per table. The shapes are
    :func:`export`'s; this is what ``export -`` streams to standard output."""
    if fmt not in ("json", "jsonl"):
        raise UsageError(f"--format {fmt} cannot go to a stream; use json or jsonl")
    if table not in EXPORT_TABLES:
        raise UsageError(f"unknown table {table!r}; use {', '.join(EXPORT_TABLES)}")
    rows: dict[str, int] = {}
    tables = export_tables(archive, as_of=as_of, pages=pages)
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
        return rows
    doc: dict[str, Any] = {"exported_at": utcnow_iso(), "as_of": as_of, "tables": {}}
    for name, columns, data in tables:
        doc["tables"][name] = [dict(zip(columns, r, strict=True)) for r in data]
        rows[name] = len(doc["tables"][name])
    json.dump(doc, f, ensure_ascii=False, indent=1)
    f.write("\n")
    return rows


def _parent_exists(path: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"directory does not exist: {parent}")
