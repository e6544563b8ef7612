"""``check``: the archive's integrity and invariants (and a migration, when it is older)."""

from __future__ import annotations

import json

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
    """Run SQLite's integrity check and the archive's own invariants.

    Migrates an archive written by an older coop-archive first (after a backup copy beside
    it). Exit 0 when healthy, 3 when something is wrong (each problem on one line).
    """
    import os

    from archive.check import check as run_check
    from archive.lock import ArchiveLock
    from archive.store import Archive

    if not os.path.exists(db):
        raise Exit(f"no archive at {db}", EXIT_FAILED)
    with ArchiveLock(db, wait=wait, existing=True), Archive.open(db, create=False) as archive:
        report = run_check(archive.conn, deep=deep)
    if as_json:
        click.echo(json.dumps({"ok": report.ok, "problems": report.problems,
                               "counts": report.counts, "running_runs": report.running_runs},
                              indent=2))
    elif report.ok:
        counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
        click.echo(f"ok: {db}: {counts}")
        if report.running_runs:
            click.echo(f"note: run(s) {report.running_runs} still marked running: a crawl in "
                       "progress, or one that died (the next crawl marks it interrupted)")
    for p in report.problems:
        click.echo(f"coop-archive: {p}", err=True)
    if not report.ok:
        raise SystemExit(EXIT_FAILED)


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(check)
