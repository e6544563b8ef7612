"""``show``, ``search``, ``sql``, ``export``, ``serve`` and ``rebuild-fts``: the archive as a
research dataset (library: :mod:`archive.query`, :mod:`archive.search`,
:mod:`archive.sql_readonly`, :mod:`archive.export`; renderers: :mod:`archive.report_query`;
tables and views: docs/schema.md)."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from archive.reader_limits import DEFAULT_READER_LIMITS, QueryStopped
from archive.vocab import RunStatus
from scraper.cli import (
    EXIT_USAGE,
    WHEN_FORMS,
    Exit,
    db_option,
    exit_code,
    handle_errors,
    stop_on_signals,
)
from scraper.cli.commands_config import watch_option, watch_target

F = TypeVar("F", bound=Callable[..., Any])


def timeout_option(func: F) -> F:
    """``--timeout SECONDS``: the reader's time limit."""
    return click.option(
        "--timeout", default=DEFAULT_READER_LIMITS.seconds, show_default=True,
        type=click.FloatRange(0.1, 86400),
        help="Seconds the query may run; it is stopped after that (exit 2).",
    )(func)


@contextmanager
def stoppable_reader() -> Iterator[threading.Event]:
    """SIGINT/SIGTERM stop the query in progress (exit 130/143), whatever SQLite is doing."""
    with stop_on_signals() as (stop, received):
        try:
            yield stop
        except QueryStopped:
            sys.exit(exit_code(RunStatus.INTERRUPTED, received))


@click.command()
@click.argument("url", required=False)
@db_option
@watch_option
@click.option("--as-of", "as_of", metavar="WHEN",
              help=f"{WHEN_FORMS[0].upper()}{WHEN_FORMS[1:]}; default: the latest snapshot "
                   "of the last whole run.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--text/--no-text", default=True, show_default=True,
              help="Also print the page's main text.")
@click.option("--outside", is_flag=True,
              help="Also print the text around the main content in that snapshot (menus, "
                   "asides, footers): kept, but never a reason for a version.")
@handle_errors
def show(url: str | None, db: str, watch_name: str | None, config_path: str | None,
         as_of: str | None, as_json: bool, text: bool, outside: bool) -> None:
    """Print a page (URL, or the page of --watch NAME; default: the latest run's seed) as the
    archive showed it at WHEN: title, updated date, sections, items, text, and the snapshot
    and version it came from."""
    from archive.query import show_as_of
    from archive.report_query import render_page_view, to_json
    from archive.store import Archive

    url, db = watch_target(url, watch_name, config_path, db)
    with Archive.open(db, readonly=True) as archive:
        view = show_as_of(archive, url, as_of)
    click.echo(to_json(view.to_dict()) if as_json else render_page_view(view, text=text,
                                                                        outside=outside),
               nl=as_json)


@click.command()
@click.argument("query")
@db_option
@watch_option
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
@timeout_option
@handle_errors
def search(query: str, db: str, watch_name: str | None, config_path: str | None,
           as_of: str | None, kinds: tuple[str, ...], limit: int, as_json: bool,
           timeout: float) -> None:
    """Full-text search (SQLite FTS5 syntax: words, "a phrase", OR, NOT, prefix*) over page
    titles and text, section headings and text, item titles and summaries; with --kind
    outside, also the text around each page's main content.

    Each hit: the page, the section, a snippet with [matches] marked, and the versions and
    dates (UTC) during which that text was in the archive. --watch NAME: only the pages
    that watch covers (its seed and the documents its runs captured). A query has at most 64
    terms and 1000 characters.
    """
    from dataclasses import replace

    from archive.report_query import render_hits, to_json
    from archive.search import KINDS
    from archive.search import search as do_search
    from archive.store import Archive

    seed, db = watch_target(None, watch_name, config_path, db)
    limits = replace(DEFAULT_READER_LIMITS, seconds=timeout)
    with stoppable_reader() as stop, Archive.open(db, readonly=True) as archive:
        if seed is None:
            hits = do_search(archive, query, as_of=as_of, limit=limit, kinds=kinds or KINDS,
                             limits=limits, stop=stop)
        else:
            from archive.changes import watch_pages  # only here: it loads the diff

            pages = watch_pages(archive, seed)
            hits = [h for h in do_search(archive, query, as_of=as_of, limit=0,
                                         kinds=kinds or KINDS, limits=limits, stop=stop)
                    if h.page_url in pages]
            hits = hits[:limit] if limit else hits
    if as_json:
        click.echo(to_json([h.to_dict() for h in hits]))
    elif not hits:
        click.echo("no matches", err=True)
    else:
        click.echo(render_hits(hits), nl=False)


@click.command()
@click.argument("query")
@db_option
@click.option("-p", "--param", "params", multiple=True, nargs=2, metavar="NAME VALUE",
              help="Bind :NAME to VALUE (repeatable).")
@click.option("--json", "fmt", flag_value="json", help="A JSON array of row objects.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row.")
@click.option("--max-width", default=60, show_default=True, type=click.IntRange(8, 10_000),
              help="Truncate cells to this width in the table output.")
@timeout_option
@click.option("--max-rows", default=DEFAULT_READER_LIMITS.max_rows, show_default=True,
              type=click.IntRange(1, 100_000_000),
              help="Refuse a result of more rows than this (exit 2).")
@handle_errors
def sql(query: str, db: str, params: tuple[tuple[str, str], ...], fmt: str | None,
        max_width: int, timeout: float, max_rows: int) -> None:
    """Run one read-only SQL query on the archive and print the rows.

    The archive is opened read-only (mode=ro) and anything but reading (INSERT, UPDATE,
    DELETE, ATTACH, CREATE, PRAGMA setters, VACUUM) is refused with exit code 2. The query
    is bounded: --timeout, --max-rows, and 20 MB per value, 100 MB per result (exit 2);
    Ctrl-C stops it.
    """
    from dataclasses import replace

    from archive.report_query import render_rows_csv, render_rows_json, render_table
    from archive.sql_readonly import run_sql
    from archive.store import Archive

    limits = replace(DEFAULT_READER_LIMITS, seconds=timeout, max_rows=max_rows)
    with stoppable_reader() as stop, Archive.open(db, readonly=True) as archive:
        # Positional ? placeholders with a dict are deprecated in Python 3.12: pass () then.
        result = run_sql(archive, query, dict(params) if params else (), limits=limits,
                         stop=stop)
    if fmt == "json":
        click.echo(render_rows_json(result), nl=False)
    elif fmt == "csv":
        click.echo(render_rows_csv(result), nl=False)
    else:
        click.echo(render_table(result, max_width=max_width), nl=False)


@click.command()
@click.argument("out", type=click.Path())
@db_option
@watch_option
@click.option("--format", "fmt", required=True,
              type=click.Choice(["csv", "json", "jsonl", "warc"]),
              help="csv: OUT is a directory of CSV files; json: one file; jsonl: one row per "
                   "line of --table; warc: the captured responses as a WARC file.")
@click.option("--as-of", "--to", "as_of", metavar="WHEN",
              help="Only what the archive showed at WHEN (warc: captures up to WHEN).")
@click.option("--from", "from_when", metavar="WHEN",
              help="warc only: captures from WHEN on.")
@click.option("--table", default="items", show_default=True,
              type=click.Choice(["items", "versions", "sections", "pages", "snapshots",
                                 "outside_texts", "text_lines", "superseded_versions",
                                 "reparsed_snapshots", "outbox"]),
              help="The table --format jsonl writes.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file or directory.")
@handle_errors
def export(out: str, db: str, watch_name: str | None, config_path: str | None, fmt: str,
           as_of: str | None, from_when: str | None, table: str, force: bool) -> None:
    """Write tidy tables (one row per item per version, with page URL, section and dates;
    plus versions, sections, pages, snapshots, the text around the main content as stored
    (outside_texts, text_lines), what reparse replaced (superseded_versions,
    reparsed_snapshots) and the notifications (outbox)) that load straight into pandas or R.
    --watch NAME: only the rows of the pages that watch covers."""
    from archive.export import export as do_export
    from archive.export import write_export
    from archive.store import Archive

    seed, db = watch_target(None, watch_name, config_path, db)
    with Archive.open(db, readonly=True) as archive:
        pages = None
        if seed is not None:
            from archive.changes import watch_pages  # only here: it loads the diff

            pages = watch_pages(archive, seed)
        if from_when is not None and fmt != "warc":
            raise Exit("--from goes with --format warc (tables are as of one moment)",
                       EXIT_USAGE)
        if out == "-":
            # jsonl and json are made to be piped: streamed to stdout as UTF-8, whatever the
            # locale says.
            if fmt not in ("json", "jsonl"):
                raise Exit(f"--format {fmt} cannot go to standard output ('-')", EXIT_USAGE)
            stream = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="")
            try:
                write_export(archive, stream, fmt, as_of=as_of, table=table, pages=pages)
                stream.flush()
            finally:
                stream.detach()  # leave sys.stdout's buffer open for click
            return
        stats = do_export(archive, out, fmt, as_of=as_of, from_at=from_when, table=table,
                          force=force, pages=pages)
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

    from archive.datasette_meta import datasette_metadata
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

    from scraper.datasette_timeline import PREFIX, install

    install()  # the timeline pages (/-/timeline), before Datasette collects its routes
    # In-process rather than `datasette serve` in a child: SIGTERM/Ctrl-C stop one process,
    # and the metadata needs no temporary file. The default (mutable) mode opens the file
    # with mode=ro and notices a crawl's new rows; immutable skips that check.
    ds = Datasette(files=[] if immutable else [db], immutables=[db] if immutable else [],
                   metadata=datasette_metadata(db))
    asyncio.run(ds.invoke_startup())
    _check_port_free(host, port)  # a busy port is said before "serving", not after it
    click.echo(f"serving {db} read-only at http://{host}:{port}/ (Ctrl-C to stop); "
               f"timeline at http://{host}:{port}{PREFIX}", err=True)
    uvicorn.run(ds.app(), host=host, port=port, log_level="warning", lifespan="on")


def _check_port_free(host: str, port: int) -> None:
    """Exit (usage, one line) when ``host:port`` cannot be listened on (busy, not ours)."""
    import socket

    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, kind, proto, _, address = infos[0]
        with socket.socket(family, kind, proto) as probe:
            # As uvicorn will: a port in TIME_WAIT is free, one with a listener is not.
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind(address)
    except OSError as e:
        raise Exit(f"cannot serve on {host}:{port}: {e.strerror or e}", EXIT_USAGE) from None


@click.command("rebuild-fts")
@db_option
@handle_errors
def rebuild_fts(db: str) -> None:
    """Rebuild the full-text indexes from the tables and check them (the archive keeps them
    in step as it writes; use this if one is in doubt, or after another tool inserted rows)."""
    from archive.lock import ArchiveLock
    from archive.search import rebuild_fts as do_rebuild
    from archive.store import Archive

    with ArchiveLock(db, existing=True), Archive.open(db, create=False) as archive:
        counts = do_rebuild(archive)
    click.echo(", ".join(f"{name}: {n} rows" for name, n in counts.items()))


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    for command in (show, search, sql, export, serve, rebuild_fts):
        group.add_command(command)
