"""``crawl`` (one seed, or the watch list), ``history`` and ``demo``."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn

import click
from click.core import ParameterSource

from archive.run_report import PageReport, RunReport, cron_summary
from archive.vocab import RunStatus
from scraper import DEFAULT_SEED
from scraper.cli import (
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_USAGE,
    Exit,
    conclude,
    db_option,
    end_overrun,
    exit_code,
    handle_errors,
    printable,
    settings_options,
    setup_logging,
    stop_on_signals,
    wait_option,
)
from scraper.cli.commands_config import (
    config_option,
    watch_db_option,
    watch_option,
    watch_target,
)
from scraper.cli.commands_notify import EXIT_UNDELIVERED
from scraper.settings import CrawlSettings

if TYPE_CHECKING:  # imported when a command runs: `import scraper.cli` stays cheap
    from scraper.config import Watch, WatchList
    from scraper.sources.watchlist import WatchJob

#: The crawl settings the ``crawl`` command takes as options (all of them).
CRAWL_OPTIONS = ("depth", "delay", "timeout", "retries", "backoff", "max_retry_after",
                 "max_bytes", "user_agent", "ignore_robots", "revalidate_days", "allow_hosts",
                 "max_run_seconds", "same_network")


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
@click.argument("seed_url", required=False)
@config_option
@watch_db_option
@click.option("--watch", "watch_names", multiple=True, metavar="NAME",
              help="Crawl this watch of the watch list (repeatable; default: every watch).")
@click.option("--tag", "tags", multiple=True, metavar="TAG",
              help="Crawl the watches with this tag (repeatable).")
@click.option("--notify", "extra", multiple=True, metavar="URL",
              help="Also send the changes to this Apprise URL (mailto://, json://, slack:// "
                   "...), besides the config's targets.")
@settings_options(CrawlSettings, *CRAWL_OPTIONS)
@wait_option
@click.option("--quiet", "-q", is_flag=True,
              help="Print nothing unless something changed; failures still go to stderr.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.option("--log-file", type=click.Path(dir_okay=False), help="Append a log here.")
@click.option("--log-level", default="INFO", show_default=True,
              type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
              help="Level for --log-file (stderr shows warnings and up).")
@click.pass_context
@handle_errors
def crawl(ctx: click.Context, seed_url: str | None, config_path: str | None, db: str | None,
          watch_names: tuple[str, ...], tags: tuple[str, ...], extra: tuple[str, ...],
          wait: float, quiet: bool, as_json: bool, log_file: str | None, log_level: str,
          **options: object) -> None:
    """Fetch SEED_URL and the documents its content links to; store dated snapshots.

    Without SEED_URL, crawl every watch of the watch list (--config, $COOP_ARCHIVE_CONFIG or
    ./coop-archive.toml; without one, the cooperation page), or those named by --watch or
    tagged --tag: each its own run, in one archive. Options given here override the
    config's settings. Changes are then sent to the config's notification targets (and
    --notify URL), and the config's feed is rewritten.

    Exit codes: 0 complete, 1 partial (some page or watch failed), 2 usage or config,
    3 failed, 4 archived completely but a notification was not delivered (it stays pending),
    75 archive locked, 130/143 interrupted.
    """
    from scraper.cli.commands_config import load_watchlist, resolve_db

    setup_logging(log_level, log_file, quiet=quiet or as_json)
    # The config is read, and every problem in it reported, before the archive is touched.
    watchlist = load_watchlist(config_path)
    overrides = {name: value for name, value in options.items()
                 if ctx.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)}
    path = resolve_db(db, watchlist)
    if seed_url is not None and (watch_names or tags or extra):
        raise Exit("--watch, --tag and --notify go with the watch list: crawl without a "
                   "SEED_URL", EXIT_USAGE)
    for url in extra:
        _check_target(url)
    if seed_url is not None or (watchlist.path is None and not extra):
        # One seed, as before watch lists: the command line's URL, or the default watch.
        if seed_url is None:
            watchlist.select(names=watch_names, tags=tags)  # an unknown name is still an error
        _crawl_seed(seed_url or DEFAULT_SEED, path,
                    watchlist.settings.replace(**overrides), wait=wait, quiet=quiet,
                    as_json=as_json)
    _crawl_watchlist(watchlist, watchlist.select(names=watch_names, tags=tags), path,
                     overrides=overrides, extra=extra, wait=wait, quiet=quiet, as_json=as_json)


def _check_target(url: str) -> None:
    from scraper.notify import redact, target_problem

    why = target_problem(url)
    if why is not None:
        raise Exit(f"--notify {redact(url)}: {why}", EXIT_USAGE)


def _note(quiet: bool, as_json: bool) -> Callable[[str], None]:
    def note(text: str) -> None:
        if not (quiet or as_json):
            click.echo(f"coop-archive: {text}", err=True)

    return note


def _crawl_seed(seed_url: str, db: str, settings: CrawlSettings, *, wait: float, quiet: bool,
                as_json: bool) -> NoReturn:
    """``crawl SEED_URL``: one run."""
    from scraper.sources.crawl import crawl_into

    progress = _progress if (sys.stderr.isatty() and not quiet and not as_json) else None
    with stop_on_signals() as (stop, received):
        report, changes = crawl_into(db, seed_url, settings, wait=wait, stop=stop,
                                     on_page=progress, on_note=_note(quiet, as_json),
                                     on_overrun=end_overrun)
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
    else:
        print_summary(report, changes, quiet=quiet)
    if received:
        click.echo(f"coop-archive: interrupted by signal {received[0]}; captured pages kept",
                   err=True)
    elif report.status == RunStatus.INTERRUPTED:  # nothing but the budget stops it otherwise
        click.echo(f"coop-archive: the run's time budget (--max-run-seconds "
                   f"{settings.max_run_seconds:g}) ran out; captured pages kept", err=True)
    seed = report.pages[0] if report.pages else None
    why = seed.error if seed and seed.error else "nothing could be archived"
    conclude(report.status, received, failure=f"crawl failed: {why}")


def _crawl_watchlist(watchlist: WatchList, watches: list[Watch], db: str, *,
                     overrides: dict[str, Any], extra: tuple[str, ...], wait: float,
                     quiet: bool, as_json: bool) -> NoReturn:
    """``crawl`` over a watch list: every watch its own run, then notifications and feed.
    The whole job has the archive's run budget (``max-run-seconds``, as for one seed)."""
    from scraper.run_budget import RunBudget
    from scraper.sources.watchlist import crawl_watches

    progress = _progress if (sys.stderr.isatty() and not quiet and not as_json) else None
    budget = watchlist.settings.replace(**overrides).max_run_seconds
    with stop_on_signals() as (stop, received), \
            RunBudget(budget, stop, on_overrun=end_overrun):
        job = crawl_watches(db, watchlist, watches, overrides=overrides, extra_targets=extra,
                            wait=wait, stop=stop, on_page=progress,
                            on_note=_note(quiet, as_json))
    after = job.after
    deliveries = after.deliveries if after is not None else []
    if as_json:
        click.echo(json.dumps({
            "status": str(job.status),
            "watches": [r.to_dict() for r in job.runs],
            "notifications": [d.to_dict() for d in deliveries],
            "feed": after.feed_written if after is not None else None,
            "feed_error": after.feed_error if after is not None else None,
        }, indent=2, ensure_ascii=False))
    else:
        print_watch_summaries(job, quiet=quiet)
    for d in deliveries:
        if not d.ok:
            click.echo(printable(f"coop-archive: notification to {d.target} not delivered "
                                 f"(kept for the next run or notify --retry): {d.error}"),
                       err=True)
    if after is not None and after.feed_error:
        click.echo(printable(f"coop-archive: {after.feed_error}"), err=True)
    if received:
        click.echo(f"coop-archive: interrupted by signal {received[0]}; captured pages kept",
                   err=True)
    code = exit_code(job.status, received)
    if code == EXIT_OK and after is not None and not after.ok:
        code = EXIT_UNDELIVERED
    sys.exit(code)


def print_watch_summaries(job: WatchJob, *, quiet: bool) -> None:
    """Each watch's summary (:func:`print_summary`), under its name; a watch that failed
    says why on stderr."""
    for run in job.runs:
        name = run.watch.name
        if run.report is None:
            click.echo(printable(f"coop-archive: watch {name}: failed: {run.error}"), err=True)
            continue
        text = cron_summary(run.report, run.changes, quiet=quiet)
        if run.report.status == RunStatus.FAILED:
            seed = run.report.pages[0] if run.report.pages else None
            why = seed.error if seed and seed.error else "nothing could be archived"
            click.echo(printable(f"coop-archive: watch {name}: crawl failed: {why}"), err=True)
        for line in text.problems:
            click.echo(line.replace("coop-archive: ", f"coop-archive: watch {name}: ", 1),
                       err=True)
        if text.out:
            click.echo(f"== {name} ({run.watch.url})\n{text.out}")


@click.command()
@click.argument("url", required=False)
@db_option
@watch_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines instead of a table.")
@handle_errors
def history(url: str | None, db: str, watch_name: str | None, config_path: str | None,
            as_json: bool) -> None:
    """Every snapshot (of URL or the --watch's page, or of every page): time, status,
    version, changed, error."""
    from archive.history import history_listing
    from archive.store import Archive
    from archive.urls import normalize_url

    url, db = watch_target(url, watch_name, config_path, db)

    with Archive.open(db, readonly=True) as archive:
        norm = normalize_url(url) if url else None
        if norm is not None and archive.page_id(norm) is None:
            raise Exit(f"no page {url} in {db}", EXIT_USAGE)
        text = history_listing(archive, norm, as_json=as_json)
    if text:
        # color=True: nothing to strip, the listing holds no ESC (printable() or JSON escapes
        # took them out), and click would scan all of it (megabytes) for escape sequences
        click.echo(text, color=True)


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
