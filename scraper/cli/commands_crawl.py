"""``crawl``, ``history`` and ``demo``."""

from __future__ import annotations

import json
import os
import sys

import click

from archive.run_report import PageReport, RunReport, cron_summary, history_text
from scraper import DEFAULT_SEED
from scraper.cli import (
    EXIT_PARTIAL,
    EXIT_USAGE,
    Exit,
    conclude,
    db_option,
    handle_errors,
    settings_options,
    setup_logging,
    stop_on_signals,
    wait_option,
)
from scraper.settings import CrawlSettings

#: The crawl settings the ``crawl`` command takes as options (all of them).
CRAWL_OPTIONS = ("depth", "delay", "timeout", "retries", "backoff", "max_retry_after",
                 "max_bytes", "user_agent", "ignore_robots", "revalidate_days", "allow_hosts",
                 "same_network")


def _progress(report: PageReport) -> None:
    flag = " (suspect)" if report.suspect else ""
    click.echo(f"  {report.outcome:<12} {report.url}{flag}", err=True)


def print_summary(report: RunReport, changes: str, *, quiet: bool) -> None:
    """The human summary (:func:`archive.run_report.cron_summary`): silent when quiet and
    nothing changed or failed."""
    text = cron_summary(report, changes, quiet=quiet)
    for line in text.problems:
        click.echo(line, err=True)
    if text.out:
        click.echo(text.out)


@click.command()
@click.argument("seed_url", required=False, default=DEFAULT_SEED)
@db_option
@settings_options(CrawlSettings, *CRAWL_OPTIONS)
@wait_option
@click.option("--quiet", "-q", is_flag=True,
              help="Print nothing unless something changed; failures still go to stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Append a log here.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Level for --log-file (stderr shows warnings and up).")
@handle_errors
def crawl(seed_url: str, db: str, wait: float, quiet: bool, as_json: bool,
          log_file: str | None, log_level: str, **options: object) -> None:
    """Fetch SEED_URL and the documents its content links to; store dated snapshots.

    Exit codes: 0 complete, 1 partial, 2 usage, 3 failed, 75 archive locked,
    130/143 interrupted.
    """
    from scraper.sources.crawl import crawl_into

    setup_logging(log_level, log_file, quiet=quiet or as_json)
    settings = CrawlSettings(**options).checked()  # type: ignore[arg-type]
    progress = _progress if (sys.stderr.isatty() and not quiet and not as_json) else None

    def note(text: str) -> None:
        if not (quiet or as_json):
            click.echo(f"coop-archive: {text}", err=True)

    with stop_on_signals() as (stop, received):
        report, changes = crawl_into(db, seed_url, settings, wait=wait, stop=stop,
                                     on_page=progress, on_note=note)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_summary(report, changes, quiet=quiet)
    if received:
        click.echo(f"coop-archive: interrupted by signal {received[0]}; captured pages kept",
                   err=True)
    seed = report.pages[0] if report.pages else None
    why = seed.error if seed and seed.error else "nothing could be archived"
    conclude(report.status, received, failure=f"crawl failed: {why}")


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
            raise Exit(f"no page {url} in {db}", EXIT_USAGE)
        rows = archive.history(norm)
    text = history_text(rows, as_json=as_json)
    if text:
        click.echo(text)


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
    from archive.compare import diff_between
    from archive.lock import ArchiveLock
    from archive.report import render
    from archive.store import Archive
    from scraper.demo import run_demo

    setup_logging("WARNING", None, quiet=False)

    def on_run(snapshot: str, summary: RunReport) -> None:
        c = summary.counts()
        click.echo(f"crawled the site as of {snapshot}: run {summary.run_id} {summary.status}, "
                   f"{c['fetched']} pages, {c['new_versions']} new versions, "
                   f"{c.get('gone', 0)} gone", err=True)

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
                   f"  {exe} search --db {db} 'Paris Agreement'\n"
                   "The timeline of every page, in a browser:\n"
                   f"  {exe} serve --db {db}    # then open http://127.0.0.1:8001/-/timeline\n"
                   f"  {exe} publish --db {db} demo-site    # a static site: "
                   f"demo-site/index.html", err=True)
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
