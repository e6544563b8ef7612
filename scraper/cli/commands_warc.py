"""``import`` (WARC files into the archive) and ``backfill`` (from the Wayback Machine)."""

from __future__ import annotations

import json
import signal
import sys

import click

from scraper import DEFAULT_SEED
from scraper.cli import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_SIGINT,
    EXIT_SIGTERM,
    db_option,
    handle_errors,
    setup_logging,
)

STATUS_EXIT = {"complete": EXIT_OK, "partial": EXIT_PARTIAL, "failed": EXIT_FAILED}


@click.command(name="import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
@db_option
@click.option("--wait", default=0.0, type=click.FloatRange(0, 86400), show_default=True,
              help="Seconds to wait for another writer to release the archive (else exit 75).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@handle_errors
def import_(files: tuple[str, ...], db: str, wait: float, quiet: bool, as_json: bool) -> None:
    """Import the HTML and PDF captures of WARC files (.warc or .warc.gz) as snapshots.

    Each response becomes a snapshot at its WARC-Date; revisits take their original's body;
    captures already in the archive are skipped, so importing twice changes nothing. A
    damaged file imports what is whole and each problem is named on stderr.

    Exit codes: 0 imported (or nothing new), 1 some records damaged, 2 usage,
    3 no capture found, 75 archive locked.
    """
    from archive.lock import ArchiveLock
    from archive.store import Archive
    from scraper.sources.warc_import import import_warc, read_warcs

    setup_logging("INFO", None, quiet=quiet or as_json)
    from scraper.cli.commands_crawl import stop_on_signals

    # Read first: files holding no WARC record (a typo, /etc/passwd) never create, lock or
    # open the archive.
    with stop_on_signals() as (stop, received):
        reading = read_warcs(list(files))
    report = reading.report
    if reading.found and not received:
        with ArchiveLock(db, wait=wait), Archive.open(db) as archive, \
                stop_on_signals() as (stop, received):
            report = import_warc(archive, list(files), stop=stop, reading=reading)
    if received:
        click.echo(f"coop-archive: import interrupted by signal {received[0]}; what was "
                   "imported is kept", err=True)
        raise SystemExit(EXIT_SIGTERM if received[0] == signal.SIGTERM else EXIT_SIGINT)
    for problem in report.problems:
        click.echo(f"coop-archive: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif not quiet:
        ids = ", ".join(map(str, report.run_ids))
        run = f"run(s) {ids}" if ids else "no new run"
        click.echo(f"import {report.status} ({run}): {report.captures} capture(s) found, "
                   f"{report.imported} imported, {report.new_versions} new version(s), "
                   f"{report.duplicates} already in the archive, "
                   f"{len(report.problems)} problem(s)")
    sys.exit(STATUS_EXIT[report.status])


@click.command()
@click.argument("url", required=False, default=DEFAULT_SEED)
@db_option
@click.option("--from", "from_date", metavar="DATE",
              help="Earliest capture of URL (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "to_date", metavar="DATE", help="Latest capture of URL (same forms).")
@click.option("--wayback-url", default="https://web.archive.org", show_default=True,
              metavar="BASE", help="The Wayback Machine (or a compatible CDX + replay server).")
@click.option("--delay", default=4.0, show_default=True, type=click.FloatRange(0, 3600),
              help="Seconds between requests (CDX queries and captures alike).")
@click.option("--depth", default=1, show_default=True, type=click.IntRange(0, 1),
              help="1 also backfills the documents the historical pages list.")
@click.option("--timeout", default=60.0, show_default=True, type=click.FloatRange(0.1, 600),
              help="Read timeout in seconds.")
@click.option("--retries", default=3, show_default=True, type=click.IntRange(0, 10),
              help="Retries of a 429, 5xx or dropped connection (after Retry-After if sent).")
@click.option("--max-retry-after", default=300.0, show_default=True,
              type=click.FloatRange(0, 3600), help="Longest Retry-After honoured, seconds.")
@click.option("--wait", default=0.0, type=click.FloatRange(0, 86400), show_default=True,
              help="Seconds to wait for another writer to release the archive (else exit 75).")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
@click.option("--json", "as_json", is_flag=True, help="Print the backfill report as JSON.")
@handle_errors
def backfill(url: str, db: str, from_date: str | None, to_date: str | None, wayback_url: str,
             delay: float, depth: int, timeout: float, retries: int, max_retry_after: float,
             wait: float, quiet: bool, as_json: bool) -> None:
    """Store URL's past captures from the Wayback Machine as snapshots (source 'wayback').

    Lists captures with the CDX API (status 200, identical digests collapsed), fetches each
    capture's original bytes (its id_ URL) and stores it at the capture time; with --depth 1
    the documents each historical page lists are backfilled as they were at that time.
    Polite (--delay between requests, Retry-After honoured, stops on a lasting 429) and
    resumable: rerun to continue, captures already stored are not fetched again.

    Exit codes: 0 complete, 1 some captures failed, 2 usage, 3 nothing could be listed,
    75 archive locked, 130/143 interrupted (rerun to resume).
    """
    from archive.lock import ArchiveLock
    from archive.store import Archive
    from scraper.cli.commands_crawl import stop_on_signals
    from scraper.fetch import Fetcher
    from scraper.safety import AddressPolicy
    from scraper.sources.wayback import backfill as run_backfill
    from scraper.sources.wayback import check_base, check_range

    setup_logging("INFO", None, quiet=quiet or as_json)
    # Usage errors (a bad DATE, --from after --to, a base that is not http(s)) come before
    # the archive is opened, or created, or locked.
    check_range(from_date, to_date)
    wayback_url = check_base(wayback_url)

    def progress(page_url: str, at: str, origin: str) -> None:
        if not quiet and not as_json:
            click.echo(f"  {at} {page_url}", err=True)

    policy = AddressPolicy(wayback_url)
    with ArchiveLock(db, wait=wait), Archive.open(db) as archive, \
            Fetcher(timeout=(min(timeout, 10.0), timeout), retries=retries,
                    backoff=max(delay, 1.0), max_retry_after=max_retry_after,
                    policy=policy) as fetcher:
        with stop_on_signals() as (stop, received):
            report = run_backfill(archive, url, fetcher=fetcher, cdx_base=wayback_url,
                                  from_date=from_date, to_date=to_date, min_interval=delay,
                                  depth=depth, stop=stop, on_capture=progress)
    for failure in report.failures:
        click.echo(f"coop-archive: {failure}", err=True)
    if report.stopped:
        click.echo(f"coop-archive: backfill stopped: {report.stopped}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif not quiet:
        click.echo(f"backfill {report.status} (run {report.run_id}): {report.listed} "
                   f"capture(s) listed, {report.stored} stored, {report.new_versions} new "
                   f"version(s), {report.already} already stored, {report.documents} "
                   f"document(s), {len(report.failures)} failure(s)")
    if received:
        raise SystemExit(EXIT_SIGTERM if received[0] == signal.SIGTERM else EXIT_SIGINT)
    if report.status == "interrupted":
        sys.exit(EXIT_PARTIAL)
    sys.exit(STATUS_EXIT.get(report.status, EXIT_FAILED))


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(import_)
    group.add_command(backfill)
