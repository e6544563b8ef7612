"""``check``: the archive's integrity and invariants (and a migration, when it is older)."""

from __future__ import annotations

import click

from scraper.cli import EXIT_FAILED, Exit, db_option, handle_errors


@click.command()
@db_option
@click.option("--deep", is_flag=True, help="Also decompress every stored body and verify its hash.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--wait", default=0.0, type=click.FloatRange(0, 86400), show_default=True,
              help="Seconds to wait for a running crawl to finish (else exit 75).")
@handle_errors
def check(db: str, deep: bool, as_json: bool, wait: float) -> None:
    """Run SQLite's integrity check, the archive's own invariants and the full-text indexes'.

    Migrates an archive written by an older coop-archive first (after a backup copy beside
    it). Notes versions made by an older parser ('coop-archive reparse' updates them).
    Exit 0 when healthy, 3 when something is wrong (each problem on one line).
    """
    import os

    from archive.check import check as run_check
    from archive.lock import ArchiveLock
    from archive.report_query import render_check
    from archive.store import Archive
    from archive.text import printable

    if not os.path.exists(db):
        raise Exit(f"no archive at {db}", EXIT_FAILED)
    with ArchiveLock(db, wait=wait, existing=True), Archive.open(db, create=False) as archive:
        report = run_check(archive.conn, deep=deep)
    click.echo(render_check(report, db, as_json=as_json), nl=False)
    for p in report.problems:
        click.echo(f"coop-archive: {printable(p)}", err=True)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(check)
