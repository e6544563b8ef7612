"""``show``, ``search``, ``sql``, ``export``, ``serve`` and ``rebuild-fts``: the archive as a
research dataset (library: :mod:`archive.query`; tables and views: docs/schema.md)."""

from __future__ import annotations

import csv
import json
import os
import sys
import textwrap
from typing import Any

import click

from scraper.cli import EXIT_USAGE, Exit, db_option, handle_errors, printable


def _out(text: str) -> None:
    """Print scraped text for a person: control characters neutralised (scraper.cli.printable)."""
    click.echo(printable(text))


def _echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, indent=2, ensure_ascii=False))


def _print_page_view(view: Any, *, text: bool, outside: bool = False) -> None:
    """The human form of :class:`archive.query.PageView`."""
    _out(view.url)
    if view.status == "not_captured":
        first = f" (first captured {view.first_captured})" if view.first_captured else ""
        _out(f"as of {view.at}: not captured yet{first}")
        return
    latest = view.latest or {}
    if view.failed:
        why = latest.get("error") or ("looked like an error page" if latest.get("suspect")
                                      else latest.get("outcome"))
        _out(f"note: the capture at {latest.get('captured_at')} (snapshot "
                   f"{latest.get('id')}) failed: {why}; showing the last good capture")
    if view.status == "no_content":
        _out(f"as of {view.at}: no trustworthy capture yet")
        return
    snap = view.snapshot or {}
    if view.status == "gone":
        _out(f"as of {view.at}: GONE (HTTP {snap.get('http_status')} at "
                   f"{snap.get('captured_at')}, snapshot {snap.get('id')})")
        return
    span = view.version_span
    _out(f"as of {view.at}: snapshot {snap.get('id')} ({snap.get('captured_at')}, "
               f"{snap.get('outcome')}), version {view.version_id} "
               f"(seen {span.first_seen} .. {span.last_seen}, {span.snapshots} snapshot(s))")
    page = view.page
    _out(f"title:   {page.title}")
    _out(f"updated: {page.updated_on or '-'}")
    by_section: dict[int | None, list[Any]] = {}
    for item in page.items:
        by_section.setdefault(item.section, []).append(item)

    def items(of: int | None, indent: str) -> None:
        for item in by_section.get(of, []):
            link = f" <{item.url}>" if item.url else ""
            _out(f"{indent}- {item.title}{link}")
            if item.summary:
                _out(textwrap.fill(item.summary, width=96, initial_indent=indent + "    ",
                                         subsequent_indent=indent + "    "))

    for n, sec in enumerate(page.sections):
        _out("")
        _out(f"{'#' * max(sec.level, 1)} {sec.heading}")
        if sec.text:
            _out(textwrap.fill(sec.text, width=96))
        items(n, "  ")
    if by_section.get(None):
        _out("")
        _out("(items outside any section)")
        items(None, "  ")
    if text and page.text:
        _out("")
        _out("-- text --")
        _out(page.text)
    if outside and view.outside_text:
        _out("")
        _out("-- around the main content --")
        _out(view.outside_text)


@click.command()
@click.argument("url", required=False)
@db_option
@click.option("--as-of", "as_of", metavar="WHEN",
              help="ISO date/time (UTC unless it says otherwise), or a snapshot id written "
                   "#123 or id:123 (a bare 4-digit number is refused as ambiguous with a "
                   "year); default: the latest snapshot of the last whole run.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--text/--no-text", default=True, show_default=True,
              help="Also print the page's main text.")
@click.option("--outside", is_flag=True,
              help="Also print the text around the main content in that snapshot (menus, "
                   "asides, footers): kept, but never a reason for a version.")
@handle_errors
def show(url: str | None, db: str, as_of: str | None, as_json: bool, text: bool,
         outside: bool) -> None:
    """Print a page (default: the latest run's seed) as the archive showed it at WHEN:
    title, updated date, sections, items, text, and the snapshot and version it came from."""
    from archive.query import show_as_of
    from archive.store import Archive

    with Archive.open(db, readonly=True) as archive:
        view = show_as_of(archive, url, as_of)
    if as_json:
        _echo_json(view.to_dict())
    else:
        _print_page_view(view, text=text, outside=outside)


@click.command()
@click.argument("query")
@db_option
@click.option("--as-of", "as_of", metavar="WHEN",
              help="Only text the archive showed at WHEN (ISO date/time, or a snapshot id "
                   "written #123).")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["page", "section", "item", "outside"]),
              help="Only hits of this kind (repeatable; default page, section and item: the "
                   "main content). outside: the text around it (menus, asides, footers).")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(0, 100_000),
              help="Most hits to show (0: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@handle_errors
def search(query: str, db: str, as_of: str | None, kinds: tuple[str, ...], limit: int,
           as_json: bool) -> None:
    """Full-text search (SQLite FTS5 syntax: words, "a phrase", OR, NOT, prefix*) over page
    titles and text, section headings and text, item titles and summaries; with --kind
    outside, also the text around each page's main content.

    Each hit: the page, the section, a snippet with [matches] marked, and the versions and
    dates (UTC) during which that text was in the archive.
    """
    from archive import query as q
    from archive.store import Archive

    with Archive.open(db, readonly=True) as archive:
        hits = q.search(archive, query, as_of=as_of, limit=limit, kinds=kinds or q.KINDS)
    if as_json:
        _echo_json([h.to_dict() for h in hits])
        return
    if not hits:
        click.echo("no matches", err=True)
        return
    for n, h in enumerate(hits, 1):
        where = h.page_url + (f"  § {h.section}" if h.section else "")
        _out(f"{n:>3}. [{h.kind}] {where}")
        if h.kind == "item":
            _out(f"     item: {h.title}" + (f" <{h.url}>" if h.url else ""))
        _out(textwrap.fill(h.snippet.replace("\n", " "), width=96,
                                 initial_indent="     ", subsequent_indent="     "))
        versions = ",".join(str(v) for v in h.versions)
        _out(f"     seen {h.first_seen} .. {h.last_seen} in version(s) {versions}"
                   f"  (rank {h.rank:.3f})")


def _plain(v: Any) -> Any:
    """A BLOB as hex (what sqlite3's own shell shows as X'..'), anything else as is."""
    return v.hex() if isinstance(v, (bytes, bytearray, memoryview)) else v


def _cell(v: Any, width: int) -> str:
    v = _plain(v)
    s = "NULL" if v is None else printable(str(v)).replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


@click.command()
@click.argument("query")
@db_option
@click.option("-p", "--param", "params", multiple=True, nargs=2, metavar="NAME VALUE",
              help="Bind :NAME to VALUE (repeatable).")
@click.option("--json", "fmt", flag_value="json", help="A JSON array of row objects.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row.")
@click.option("--max-width", default=60, show_default=True, type=click.IntRange(8, 10_000),
              help="Truncate cells to this width in the table output.")
@handle_errors
def sql(query: str, db: str, params: tuple[tuple[str, str], ...], fmt: str | None,
        max_width: int) -> None:
    """Run one read-only SQL query on the archive and print the rows.

    The archive is opened read-only (mode=ro) and anything but reading (INSERT, UPDATE,
    DELETE, ATTACH, CREATE, PRAGMA setters, VACUUM) is refused with exit code 2.
    """
    from archive.query import run_sql
    from archive.store import Archive

    with Archive.open(db, readonly=True) as archive:
        # Positional ? placeholders with a dict are deprecated in Python 3.12: pass () then.
        result = run_sql(archive, query, dict(params) if params else ())
    if fmt == "json":
        _echo_json([{k: _plain(v) for k, v in row.items()} for row in result.dicts()])
    elif fmt == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(result.columns)
        w.writerows([_plain(v) for v in r] for r in result.rows)
    else:
        cells = [[_cell(v, max_width) for v in r] for r in result.rows]
        widths = [max([len(c)] + [len(r[i]) for r in cells])
                  for i, c in enumerate(result.columns)]
        header = zip(result.columns, widths, strict=True)
        click.echo("  ".join(c.ljust(w) for c, w in header).rstrip())
        click.echo("  ".join("-" * w for w in widths))
        for r in cells:
            click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


@click.command()
@click.argument("out", type=click.Path())
@db_option
@click.option("--format", "fmt", required=True,
              type=click.Choice(["csv", "json", "jsonl", "warc"]),
              help="csv: OUT is a directory of CSV files; json: one file; jsonl: one row per "
                   "line of --table; warc: the captured responses as a WARC file.")
@click.option("--as-of", "--to", "as_of", metavar="WHEN",
              help="Only what the archive showed at WHEN (warc: captures up to WHEN).")
@click.option("--from", "from_when", metavar="WHEN",
              help="warc only: captures from WHEN on.")
@click.option("--table", default="items", show_default=True,
              type=click.Choice(["items", "versions", "sections", "pages", "snapshots"]),
              help="The table --format jsonl writes.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file or directory.")
@handle_errors
def export(out: str, db: str, fmt: str, as_of: str | None, from_when: str | None, table: str,
           force: bool) -> None:
    """Write tidy tables (one row per item per version, with page URL, section and dates;
    plus versions, sections, pages and snapshots) that load straight into pandas or R."""
    from archive.query import export as do_export
    from archive.store import Archive

    with Archive.open(db, readonly=True) as archive:
        if from_when is not None and fmt != "warc":
            raise Exit("--from goes with --format warc (tables are as of one moment)",
                       EXIT_USAGE)
        if out == "-":
            # jsonl and json are made to be piped: write a private temporary file, then copy
            # it to stdout (the library writes files, never stdout).
            if fmt not in ("json", "jsonl"):
                raise Exit(f"--format {fmt} cannot go to standard output ('-')", EXIT_USAGE)
            import shutil
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, f"export.{fmt}")
                do_export(archive, path, fmt, as_of=as_of, table=table)
                with open(path, "rb") as f:
                    shutil.copyfileobj(f, sys.stdout.buffer)
                sys.stdout.flush()
            return
        stats = do_export(archive, out, fmt, as_of=as_of, from_at=from_when, table=table,
                          force=force)
    counts = ", ".join(f"{n} {name}" for name, n in stats.rows.items())
    click.echo(f"wrote {', '.join(stats.files)}" + (f" ({counts})" if counts else ""), err=True)


@click.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to listen on (0.0.0.0 exposes the archive to the network).")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on.")
@click.option("--immutable", is_flag=True,
              help="Open as immutable (faster; only for a copy no crawl will write to).")
@handle_errors
def serve(db: str, host: str, port: int, immutable: bool) -> None:
    """Browse the archive in Datasette (read-only), with labels, links, search and the
    example queries of docs/schema.md. Needs: pip install 'coop-archive[datasette]'."""
    import importlib.util

    from archive.query import datasette_metadata
    from archive.store import Archive

    if importlib.util.find_spec("datasette") is None:
        raise Exit("Datasette is not installed: pip install 'coop-archive[datasette]'",
                   EXIT_USAGE)
    # Opening read-only first gives our one-line errors (missing, not an archive, too new,
    # not migrated) instead of Datasette's.
    Archive.open(db, readonly=True).close()
    import asyncio

    import uvicorn
    from datasette.app import Datasette

    # In-process rather than `datasette serve` in a child: SIGTERM/Ctrl-C stop one process,
    # and the metadata needs no temporary file. The default (mutable) mode opens the file
    # with mode=ro and notices a crawl's new rows; immutable skips that check.
    ds = Datasette(files=[] if immutable else [db], immutables=[db] if immutable else [],
                   metadata=datasette_metadata(db))
    asyncio.run(ds.invoke_startup())
    click.echo(f"serving {db} read-only at http://{host}:{port}/ (Ctrl-C to stop)", err=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")


@click.command("rebuild-fts")
@db_option
@handle_errors
def rebuild_fts(db: str) -> None:
    """Rebuild the full-text indexes from the tables and check them (the triggers keep them
    in step; use this if one is in doubt)."""
    from archive.lock import ArchiveLock
    from archive.query import rebuild_fts as do_rebuild
    from archive.store import Archive

    with ArchiveLock(db), Archive.open(db) as archive:
        counts = do_rebuild(archive)
    click.echo(", ".join(f"{name}: {n} rows" for name, n in counts.items()))


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    for command in (show, search, sql, export, serve, rebuild_fts):
        group.add_command(command)
