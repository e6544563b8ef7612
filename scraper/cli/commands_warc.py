"""``import`` (WARC files into the archive) and ``backfill`` (from the Wayback Machine)."""

from __future__ import annotations

import json

import click

from scraper import DEFAULT_SEED
from scraper.cli import (
    conclude,
    db_option,
    end_overrun,
    handle_errors,
    settings_options,
    setup_logging,
    stop_on_signals,
    wait_option,
)
from scraper.settings import DEFAULT_WAYBACK, BackfillSettings, CrawlSettings

#: The settings the ``backfill`` command takes as options.
BACKFILL_OPTIONS = ("delay", "depth", "timeout", "retries", "max_retry_after",
                    "max_run_seconds")


@click.command(name="import")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False))
@db_option
@wait_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
@click.option("--json", "as_json", is_flag=True, help="Print the import report as JSON.")
@settings_options(CrawlSettings, "max_bytes")
@handle_errors
def import_(files: tuple[str, ...], db: str, wait: float, quiet: bool, as_json: bool,
            max_bytes: int) -> None:
    """Import the HTML and PDF captures of WARC files (.warc or .warc.gz) as snapshots.

    ARC files (.arc, .arc.gz) are read too. Each response (and each resource record holding
    HTML or PDF) becomes a snapshot at its WARC-Date; revisits take their original's body;
    captures already in the archive are skipped, so importing twice changes nothing. A
    damaged file imports what is whole and each problem is named on stderr, as is a record
    whose payload exceeds --max-bytes once decompressed (skipped); records that are not pages
    (images, stylesheets, revisits of them) are counted, not reported.

    Exit codes: 0 imported (or nothing new, or no page captures in the files), 1 some
    records damaged or unusable, 2 usage, 3 nothing readable (damage, or not a WARC file),
    75 archive locked.
    """
    from scraper.sources.warc_import import import_into

    setup_logging("INFO", None, quiet=quiet or as_json)
    with stop_on_signals() as (stop, received):
        report = import_into(db, list(files), wait=wait, stop=stop, max_bytes=max_bytes)
    if received:
        click.echo(f"coop-archive: import interrupted by signal {received[0]}; what was "
                   "imported is kept", err=True)
        conclude(report.status, received)
    for problem in report.problems:
        click.echo(f"coop-archive: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif not quiet and report.captures == 0 and not report.problems:
        click.echo(f"no page captures in {', '.join(files)}: {report.records} record(s), "
                   "none an HTML or PDF page; nothing imported")
    elif not quiet:
        ids = ", ".join(map(str, report.run_ids))
        run = f"run(s) {ids}" if ids else "no new run"
        click.echo(f"import {report.status} ({run}): {report.captures} capture(s) found, "
                   f"{report.imported} imported, {report.new_versions} new version(s), "
                   f"{report.duplicates} already in the archive, "
                   f"{len(report.problems)} problem(s)")
    conclude(report.status, received)


@click.command()
@click.argument("url", required=False, default=DEFAULT_SEED)
@db_option
@click.option("--from", "from_date", metavar="DATE",
              help="Earliest capture of URL (YYYY, YYYY-MM or YYYY-MM-DD).")
@click.option("--to", "to_date", metavar="DATE", help="Latest capture of URL (same forms).")
@click.option("--wayback-url", default=DEFAULT_WAYBACK, show_default=True,
              metavar="BASE", help="The Wayback Machine (or a compatible CDX + replay server).")
@settings_options(BackfillSettings, *BACKFILL_OPTIONS)
@wait_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
@click.option("--json", "as_json", is_flag=True, help="Print the backfill report as JSON.")
@handle_errors
def backfill(url: str, db: str, from_date: str | None, to_date: str | None, wayback_url: str,
             wait: float, quiet: bool, as_json: bool, **options: object) -> None:
    """Store URL's past captures from the Wayback Machine as snapshots (source 'wayback').

    Lists captures with the CDX API (status 200, identical digests collapsed), fetches each
    capture's original bytes (its id_ URL) and stores it at the capture time; with --depth 1
    the documents each historical page lists are backfilled as they were at that time.
    Polite (--delay between requests, Retry-After honoured, stops on a lasting 429) and
    resumable: rerun to continue, captures already stored are not fetched again. A backfill
    that outlasts --max-run-seconds stops there, keeps what it stored and frees the archive.

    Exit codes: 0 complete, 1 some captures failed, or stopped (a lasting 429, failures in a
    row, the time budget; rerun to resume), 2 usage, 3 nothing could be listed, 75 archive
    locked, 130/143 interrupted (rerun to resume).
    """
    from scraper.sources.wayback import backfill_into

    setup_logging("INFO", None, quiet=quiet or as_json)
    settings = BackfillSettings(**options)  # type: ignore[arg-type]
    settings.checked()

    def progress(page_url: str, at: str, origin: str) -> None:
        if not quiet and not as_json:
            click.echo(f"  {at} {page_url}", err=True)

    with stop_on_signals() as (stop, received):
        report = backfill_into(db, url, settings, cdx_base=wayback_url, from_date=from_date,
                               to_date=to_date, wait=wait, stop=stop, on_capture=progress,
                               on_overrun=end_overrun)
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
    conclude(report.status, received)


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(import_)
    group.add_command(backfill)
