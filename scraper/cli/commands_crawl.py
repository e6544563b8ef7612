"""``crawl``, ``history`` and ``demo``."""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

import click

from scraper import DEFAULT_SEED, __version__
from scraper.cli import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    EXIT_USAGE,
    Exit,
    db_option,
    handle_errors,
    printable,
    setup_logging,
)

if TYPE_CHECKING:
    # Types only: importing scraper.crawl pulls in requests, lxml and the store, which
    # `coop-archive --help` and the query commands never need (start-up time).
    from scraper.crawl import PageReport, RunSummary

STATUS_EXIT = {"complete": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}


@contextmanager
def stop_on_signals() -> Iterator[tuple[threading.Event, list[int]]]:
    """SIGINT/SIGTERM set an event instead of killing the crawl mid-write; restored after."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop, received
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def run_crawl(db: str, seed: str, *, depth: int, delay: float, timeout: float, retries: int,
              max_bytes: int, backoff: float = 1.0, max_retry_after: float = 120.0,
              user_agent: str | None, ignore_robots: bool,
              allow_hosts: tuple[str, ...], wait: float, on_page: Any = None,
              source: str = "crawl", revalidate_days: float = 7.0,
              quiet: bool = False) -> tuple[RunSummary, list[int], str]:
    """Lock the archive, open it, crawl; return the summary, the signals received and the
    run's change summary (what changed, per page; "" when nothing did)."""
    from archive.lock import ArchiveLock
    from archive.store import Archive
    from archive.urls import normalize_url
    from scraper.crawl import crawl
    from scraper.fetch import Fetcher
    from scraper.robots import RobotsCache
    from scraper.safety import AddressPolicy

    check_seed(seed)
    parent = os.path.dirname(os.path.abspath(db))
    if not os.path.isdir(parent):
        raise Exit(f"directory does not exist: {parent}", EXIT_USAGE)
    with ArchiveLock(db, wait=wait), Archive.open(db) as archive:
        stale = archive.mark_stale_runs_interrupted()
        if stale:
            # Worth knowing once, not worth a cron mail: the log file keeps it when quiet.
            logging.getLogger("scraper.cli").info("marked stale run(s) %s interrupted", stale)
            if not quiet:
                click.echo(f"coop-archive: marked stale run(s) {stale} interrupted", err=True)
        previous = archive.conn.execute(
            "SELECT seed_url FROM runs WHERE source = ? ORDER BY id DESC LIMIT 1", (source,)
        ).fetchone()
        if previous is not None and previous[0] != normalize_url(seed) and not quiet:
            click.echo(f"coop-archive: note: the last crawl of this archive started from "
                       f"{previous[0]}; this one starts from {normalize_url(seed)}", err=True)
        policy = AddressPolicy(seed, allow_hosts=allow_hosts)
        fetcher = Fetcher(user_agent=user_agent, timeout=(min(timeout, 10.0), timeout),
                          max_bytes=max_bytes, retries=retries, backoff=backoff,
                          max_retry_after=max_retry_after, policy=policy)
        robots = RobotsCache(fetcher, user_agent=fetcher.user_agent, ignore=ignore_robots)
        options = {"depth": depth, "delay": delay, "timeout": timeout, "retries": retries,
                   "backoff": backoff,
                   "max_bytes": max_bytes, "ignore_robots": ignore_robots,
                   "allow_hosts": list(allow_hosts)}
        with fetcher, stop_on_signals() as (stop, received):
            summary = crawl(archive, seed, fetcher=fetcher, robots=robots, depth=depth,
                            delay=delay, stop=stop, on_page=on_page, options=options,
                            source=source,
                            revalidate_after=revalidate_days * 86400 if revalidate_days else 0)
        changes = change_summary(archive, summary)
        if changes:
            logging.getLogger("scraper.cli").info("run %d changes:\n%s", summary.run_id, changes)
        return summary, received, changes


def check_seed(seed: str) -> None:
    """A seed must be an absolute http(s) URL with a host: anything else is a usage error
    (exit 2) before the archive is even opened."""
    from archive.urls import url_problem

    problem = url_problem(seed)
    if problem is not None:
        raise Exit(f"{problem}: {seed!r}", EXIT_USAGE)


def change_summary(archive: Any, summary: RunSummary) -> str:
    """The per-page change lines of a run (archive.diff.summarize_run), "" if none changed."""
    if not summary.changed:
        return ""
    from archive.diff import summarize_run

    return summarize_run(archive, summary.run_id)


def _progress(report: PageReport) -> None:
    flag = " (suspect)" if report.suspect else ""
    click.echo(f"  {report.outcome:<12} {report.url}{flag}", err=True)


def print_summary(summary: RunSummary, changes: str, *, quiet: bool) -> None:
    """The human summary: silent when quiet and nothing changed or failed."""
    c = summary.counts()
    changed = summary.changed
    problems = [p for p in summary.pages if p.outcome == "failed" or p.suspect]
    if summary.status == "failed":
        problems = problems[1:] if problems and problems[0] is summary.pages[0] else problems
    for p in problems:
        error = p.error or ""
        error = error[len(p.url) + 2:] if error.startswith(p.url + ": ") else error
        what = "looks like an error page (kept, flagged suspect)" if p.suspect else error
        click.echo(printable(f"coop-archive: {p.url}: {what}"), err=True)
    if quiet and not changed:
        return
    if not quiet:
        click.echo(
            f"run {summary.run_id} {summary.status}: {c['fetched']} fetched, "
            f"{c['new_versions']} new version(s), {c['changed']} changed, "
            f"{c.get('gone', 0)} gone, {c.get('failed', 0)} failed, "
            f"{c.get('blocked', 0)} blocked"
        )
    if changes:
        click.echo(printable(changes))


@click.command()
@click.argument("seed_url", required=False, default=DEFAULT_SEED)
@db_option
@click.option("--depth", default=1, show_default=True, type=click.IntRange(0, 5),
              help="Link levels to follow from the seed's main content.")
@click.option("--delay", default=1.0, show_default=True, type=click.FloatRange(0, 3600),
              help="Minimum seconds between requests to one host (robots Crawl-delay wins if "
                   "larger).")
@click.option("--timeout", default=30.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Read timeout in seconds (connect timeout is the smaller of this and 10).")
@click.option("--retries", default=3, show_default=True, type=click.IntRange(0, 10),
              help="Retries of a transient failure (5xx, 429, timeout, dropped connection).")
@click.option("--backoff", default=1.0, show_default=True, type=click.FloatRange(0, 600),
              help="Base of the exponential backoff between retries, in seconds (with jitter).")
@click.option("--max-retry-after", default=120.0, show_default=True,
              type=click.FloatRange(0, 86400),
              help="Longest Retry-After honoured, in seconds; a longer one is capped.")
@click.option("--max-bytes", default=20_000_000, show_default=True,
              type=click.IntRange(1, 2**40), help="Largest body accepted, after decompression.")
@click.option("--user-agent", default=None,
              help=f"User-Agent header (default: coop-archive/{__version__} (+project URL)).")
@click.option("--ignore-robots", is_flag=True, help="Do not fetch or obey robots.txt.")
@click.option("--revalidate-days", default=7.0, show_default=True,
              type=click.FloatRange(0, 36500),
              help="Fetch a page in full (no If-None-Match / If-Modified-Since) when its last "
                   "full body is this old, so a server that wrongly answers 304 cannot hide a "
                   "change for ever; 0: never send validators.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="HOST",
              help="Allow this host even if it resolves to a private or loopback address.")
@click.option("--wait", default=0.0, type=click.FloatRange(0, 86400), show_default=True,
              help="Seconds to wait for another crawl to release the archive (else exit 75).")
@click.option("--quiet", "-q", is_flag=True,
              help="Print nothing unless something changed; failures still go to stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Append a log here.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Level for --log-file (stderr shows warnings and up).")
@handle_errors
def crawl(seed_url: str, db: str, depth: int, delay: float, timeout: float, retries: int,
          backoff: float, max_retry_after: float, max_bytes: int, user_agent: str | None,
          ignore_robots: bool, revalidate_days: float, allow_hosts: tuple[str, ...],
          wait: float, quiet: bool, as_json: bool, log_file: str | None,
          log_level: str) -> None:
    """Fetch SEED_URL and the documents its content links to; store dated snapshots.

    Exit codes: 0 complete, 1 partial, 2 usage, 3 failed, 75 archive locked,
    130/143 interrupted.
    """
    setup_logging(log_level, log_file, quiet=quiet or as_json)
    progress = _progress if (sys.stderr.isatty() and not quiet and not as_json) else None
    summary, received, changes = run_crawl(
        db, seed_url, depth=depth, delay=delay, timeout=timeout, retries=retries,
        backoff=backoff, max_retry_after=max_retry_after, max_bytes=max_bytes,
        user_agent=user_agent, ignore_robots=ignore_robots,
        allow_hosts=allow_hosts, wait=wait, on_page=progress, revalidate_days=revalidate_days,
        quiet=quiet or as_json,
    )
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_summary(summary, changes, quiet=quiet)
    if received:
        sig = received[0]
        click.echo(f"coop-archive: interrupted by signal {sig}; captured pages kept", err=True)
        raise SystemExit(EXIT_SIGTERM if sig == signal.SIGTERM else EXIT_SIGINT)
    if summary.status == "failed":
        seed = summary.pages[0] if summary.pages else None
        why = seed.error if seed and seed.error else "nothing could be archived"
        raise Exit(f"crawl failed: {why}", EXIT_FAILED)
    sys.exit(STATUS_EXIT.get(summary.status, EXIT_FAILED))


@click.command()
@click.argument("url", required=False)
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@handle_errors
def history(url: str | None, db: str, as_json: bool) -> None:
    """Every snapshot (of URL, or of every page): time, status, version, changed, error."""
    from archive.store import Archive
    from archive.urls import normalize_url

    with Archive.open(db, readonly=True) as archive:
        norm = normalize_url(url) if url else None
        if norm is not None and archive.page_id(norm) is None:
            raise Exit(f"no page {url} in {db}", 2)
        rows = archive.history(norm)
    # One write, not one per row: a ten-year archive has tens of thousands of snapshots.
    if as_json:
        out = [json.dumps(dict(r), ensure_ascii=False) for r in rows]
    else:
        out = []
        for r in rows:
            status = r["http_status"] if r["http_status"] is not None else "-"
            version = r["version_id"] if r["version_id"] is not None else "-"
            mark = "*" if r["changed"] else " "
            flags = " suspect" if r["suspect"] else ""
            # a new line inside an error would break the one-line-per-snapshot layout
            err = "  " + r["error"].replace("\n", " ") if r["error"] else ""
            out.append(f"{r['id']:>6} {r['captured_at']} {status!s:>4} v{version!s:<6}{mark} "
                       f"{r['outcome']:<12} {r['url']}{flags}{err}")
        out = [printable("\n".join(out))] if out else []  # JSON is escaped already
    if out:
        click.echo("\n".join(out))


@click.command()
@click.option("--db", default="demo-archive.db", show_default=True,
              type=click.Path(dir_okay=False),
              help="Where to write the demo archive (an earlier demo archive there is replaced).")
@click.option("--format", "fmt", default="text", show_default=True,
              type=click.Choice(["text", "json", "html"]), help="Format of the final diff.")
@handle_errors
def demo(db: str, fmt: str) -> None:
    """Crawl the bundled offline copy of the site at 2016-10-21 and 2016-11-15, then show
    what changed. Needs no network: the site is served on 127.0.0.1."""
    from archive.diff import diff_between
    from archive.report import render
    from archive.store import Archive
    from scraper.demo import run_demo

    setup_logging("WARNING", None, quiet=False)

    def on_run(snapshot: str, summary: RunSummary) -> None:
        c = summary.counts()
        click.echo(f"crawled the site as of {snapshot}: run {summary.run_id} {summary.status}, "
                   f"{c['fetched']} pages, {c['new_versions']} new versions, "
                   f"{c.get('gone', 0)} gone", err=True)

    from archive.lock import ArchiveLock

    with ArchiveLock(db):
        result = run_demo(db, on_run=on_run)
    with Archive.open(db, readonly=True) as archive:
        report = render(diff_between(archive, "2016-10-21", "2016-11-15"), fmt,
                        color=sys.stdout.isatty())
    click.echo(report.rstrip("\n"))
    if fmt == "text":
        exe = _how_to_call()
        click.echo(f"\nThe archive is {db}. Try:\n"
                   f"  {exe} history --db {db}\n"
                   f"  {exe} show --db {db} --as-of 2016-11-01\n"
                   f"  {exe} diff --db {db} --from 2016-10-21 --to 2016-11-15 "
                   f"--format html > diff.html\n"
                   f"  {exe} search --db {db} 'Paris Agreement'", err=True)
    if any(r.status != "complete" for r in result.runs):
        raise SystemExit(EXIT_PARTIAL)


def _how_to_call() -> str:
    """How the person who ran us can run us again: ``coop-archive`` when it is on PATH, else
    the path of this very script (``.venv/bin/coop-archive`` after ./dev.sh), else
    ``python -m scraper``."""
    import shutil

    if shutil.which("coop-archive"):
        return "coop-archive"
    script = sys.argv[0]
    if os.path.basename(script) == "coop-archive" and os.path.exists(script):
        rel = os.path.relpath(script)
        return rel if rel.startswith(".") or os.sep not in rel else f"./{rel}"
    return f"{os.path.relpath(sys.executable)} -m scraper"


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(crawl)
    group.add_command(history)
    group.add_command(demo)
