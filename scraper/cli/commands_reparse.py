"""``reparse``: re-derive stored snapshots with the current parser (docs/schema.md)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from scraper.cli import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    Exit,
    conclude,
    handle_errors,
    stop_on_signals,
    wait_option,
)
from scraper.cli.commands_config import (
    config_option,
    load_watchlist,
    resolve_db,
    watch_db_option,
)

if TYPE_CHECKING:  # the library is imported when the command runs (scraper.cli._register)
    from scraper.sources.reparse import ReparseReport


@click.command()
@click.argument("url", required=False)
@config_option
@watch_db_option
@click.option("--watch", "watch_name", metavar="NAME",
              help="Only the pages the watch's crawls captured.")
@click.option("--all", "every", is_flag=True,
              help="Re-derive every page, not only those with versions of an older parser "
                   "(finds a parser change nobody numbered).")
@click.option("--dry-run", is_flag=True,
              help="Say how many versions would change, per page, with a sample diff; write "
                   "nothing.")
@wait_option
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but problems.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@handle_errors
def reparse(url: str | None, config_path: str | None, db: str | None, watch_name: str | None,
            every: bool, dry_run: bool, wait: float, quiet: bool, as_json: bool) -> None:
    """Re-derive snapshots' records from their stored bodies with the current parser.

    Pages holding versions made by an older parser (every page with --all; URL alone, or a
    watch's pages) are parsed again from the raw bodies and headers kept: snapshots whose
    records differ are repointed at new versions, identical ones relabelled, versions no
    snapshot shows any more kept in superseded_versions; changed flags are recomputed. One
    page per transaction: after an interruption, run it again to finish.

    Exit codes: 0 done (or nothing to do), 1 some snapshot could not be re-derived,
    2 usage, 3 unusable archive, 75 archive locked, 130/143 interrupted (rerun to finish).
    """
    from archive.rederive import PageReparse
    from scraper.sources.reparse import reparse_into

    if url is not None and watch_name is not None:
        raise Exit("reparse: give a URL or --watch, not both", EXIT_USAGE)
    seed = None
    if watch_name is not None or db is None:
        watchlist = load_watchlist(config_path)
        if watch_name is not None:
            seed = watchlist.watch(watch_name).url
        db = resolve_db(db, watchlist)

    def progress(page: PageReparse) -> None:
        if not quiet and not as_json and page.changed:
            click.echo(f"  {page.url}: {page.repointed} snapshot(s) repointed, "
                       f"{page.versions_before} -> {page.versions_after} version(s)", err=True)

    with stop_on_signals() as (stop, received):
        report = reparse_into(db, url=url, seed=seed, every=every, dry_run=dry_run,
                              wait=wait, stop=stop, on_page=progress)
    for problem in report.problems:
        click.echo(f"coop-archive: {problem}", err=True)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    elif not quiet:
        _print(report)
    if received:
        click.echo(f"coop-archive: reparse interrupted by signal {received[0]}; pages done "
                   "are kept, run it again to finish", err=True)
        conclude("interrupted", received)
    raise SystemExit(EXIT_PARTIAL if report.problems else EXIT_OK)


def _print(report: ReparseReport) -> None:
    """The human summary: per page in a dry run, one line otherwise."""
    older = ", ".join(f"{n} by parser {v}" for v, n in report.older.items())
    changed = report.changed_pages
    if report.dry_run:
        click.echo(f"reparse --dry-run (parser {report.parser_version}): {len(report.pages)} "
                   f"page(s) examined, {len(changed)} would change"
                   + (f"; older versions: {older}" if older else ""))
        for p in changed:
            click.echo(f"  {p.url}: {p.repointed} of {p.snapshots} snapshot(s) would be "
                       f"repointed, {p.versions_before} -> {p.versions_after} version(s)"
                       f" ({p.new_versions} new, {p.superseded} superseded)")
        for sample in report.samples:
            click.echo("sample diff (stored records -> re-derived):")
            click.echo(sample, nl=False)
        return
    if not report.pages:
        click.echo(f"reparse: nothing to do: every version was made by the current parser "
                   f"({report.parser_version})")
        return
    if not changed:
        click.echo(f"reparse (parser {report.parser_version}): {len(report.pages)} page(s) "
                   "re-derived, nothing changed")
        return
    click.echo(f"reparse (parser {report.parser_version}): {len(report.pages)} page(s) "
               f"re-derived, {len(changed)} changed: "
               f"{sum(p.repointed for p in changed)} snapshot(s) repointed, "
               f"{sum(p.new_versions for p in changed)} new version(s), "
               f"{sum(p.superseded for p in changed)} superseded (kept in "
               "superseded_versions)")


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(reparse)
