"""``notify`` (resend what is pending, or send a test message) and ``feed`` (Atom)."""

from __future__ import annotations

import json
import os

import click

from scraper.cli import EXIT_USAGE, Exit, handle_errors, printable
from scraper.cli.commands_config import (
    config_option,
    load_watchlist,
    resolve_db,
    watch_db_option,
)

# A notification could not be delivered: what was archived is kept and the message stays in
# the outbox for the next run or `notify --retry` (README, "Exit codes").
EXIT_UNDELIVERED = 4


@click.command()
@config_option
@watch_db_option
@click.option("--retry", is_flag=True,
              help="Deliver every message still pending in the archive's outbox.")
@click.option("--test", "probe", is_flag=True,
              help="Send a test message to every target (nothing is read or written in the "
                   "archive).")
@click.option("--notify", "extra", multiple=True, metavar="URL",
              help="An Apprise URL (mailto://, json://, slack://, ntfys:// ...) besides the "
                   "config's targets.")
@click.option("--watch", "watch_name", metavar="NAME",
              help="Only this watch's targets (and its messages, with --retry).")
@click.option("--wait", default=0.0, type=click.FloatRange(0, 86400), show_default=True,
              help="Seconds to wait for a running crawl to release the archive (else exit 75).")
@click.option("--json", "as_json", is_flag=True, help="Print each delivery as JSON.")
@handle_errors
def notify(config_path: str | None, db: str | None, retry: bool, probe: bool,
           extra: tuple[str, ...], watch_name: str | None, wait: float,
           as_json: bool) -> None:
    """Deliver pending notifications (--retry) or send a test message (--test).

    Targets are the config's [notify] urls and each watch's own, plus --notify URL. A
    message whose target is not among them stays pending. Exit 0 when everything was
    delivered, 4 when some delivery failed (it stays pending), 2 for a bad config or URL.
    """
    from scraper.notify import Delivery, probe_message, redact, send, target_problem

    if retry == probe:
        raise Exit("say --retry or --test", EXIT_USAGE)
    watchlist = load_watchlist(config_path)
    for url in extra:
        why = target_problem(url)
        if why is not None:
            raise Exit(f"--notify {redact(url)}: {why}", EXIT_USAGE)
    if watch_name is not None:
        targets = [*watchlist.targets(watchlist.watch(watch_name)), *extra]
    else:
        targets = [*watchlist.all_targets(), *extra]
    targets = list(dict.fromkeys(targets))
    deliveries: list[Delivery] = []
    if probe:
        if not targets:
            raise Exit("no notification targets: give [notify] urls in the config or "
                       "--notify URL", EXIT_USAGE)
        from scraper.notify import NotifyError

        for url in targets:
            try:
                send(url, probe_message())
                deliveries.append(Delivery(redact(url), True))
            except NotifyError as e:
                deliveries.append(Delivery(redact(url), False, str(e)))
    else:
        deliveries, left = _retry(resolve_db(db, watchlist), targets, watch_name, wait)
        for target, count in left.items():
            click.echo(printable(f"coop-archive: {count} message(s) for {target} left "
                                 "pending: that target is not in the config (give it with "
                                 "--notify URL)"), err=True)
    _report(deliveries, as_json=as_json)
    if any(not d.ok for d in deliveries):
        raise SystemExit(EXIT_UNDELIVERED)


def _retry(db: str, targets: list[str], watch: str | None,
           wait: float) -> tuple[list, dict[str, int]]:
    """Deliver what is pending; the deliveries, and per unknown target its pending count."""
    from archive import outbox
    from archive.lock import ArchiveLock
    from archive.store import Archive
    from scraper.notify import deliver, target_key

    if not os.path.exists(db):
        raise Exit(f"no archive at {db}", EXIT_USAGE)
    known = {target_key(u) for u in targets}
    # The writer's lock: a crawl delivering the same pending message at the same time would
    # send it twice.
    with ArchiveLock(db, wait=wait), Archive.open(db) as archive:
        deliveries = deliver(archive, targets, watch=watch)
        left: dict[str, int] = {}
        for entry in outbox.pending(archive):
            if entry.target_key not in known:
                left[entry.target] = left.get(entry.target, 0) + 1
    return deliveries, left


def _report(deliveries: list, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps([d.to_dict() for d in deliveries], indent=2, ensure_ascii=False))
    for d in deliveries:
        what = f"run {d.run_id} ({d.watch}) to {d.target}" if d.run_id else d.target
        if d.ok and not as_json:
            click.echo(printable(f"delivered: {what}"))
        elif not d.ok:
            click.echo(printable(f"coop-archive: not delivered: {what}: {d.error}"), err=True)
    if not deliveries and not as_json:
        click.echo("nothing to deliver")


@click.command()
@config_option
@watch_db_option
@click.option("--watch", "watch_name", metavar="NAME", help="Only this watch's changes.")
@click.option("--out", type=click.Path(dir_okay=False, allow_dash=True), default="-",
              show_default=True,
              help="Write the feed here, replacing the file atomically ('-': stdout).")
@click.option("--runs", default=50, show_default=True, type=click.IntRange(1, 100_000),
              help="How many of the latest runs the feed covers.")
@click.option("--self-url", metavar="URL", help="Where the feed is published (its rel=self "
                                                "link).")
@handle_errors
def feed(config_path: str | None, db: str | None, watch_name: str | None, out: str,
         runs: int, self_url: str | None) -> None:
    """Write an Atom 1.0 feed of the latest changes: one entry per changed page per run,
    with the change summary, the capture time and a link to the page."""
    from archive import feed as atom
    from archive.store import Archive

    watchlist = load_watchlist(config_path)
    path = resolve_db(db, watchlist)
    watch = watchlist.watch(watch_name) if watch_name is not None else None
    with Archive.open(path, readonly=True) as archive:
        text = atom.build(archive, seed_url=watch.url if watch else None,
                          label=watch.name if watch else None, runs=runs,
                          date_only=watchlist.notify.date_only,
                          failures=watchlist.notify.failures, self_link=self_url)
    if out == "-":
        click.echo(text, nl=False)
        return
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise Exit(f"directory does not exist: {parent}", EXIT_USAGE)
    atom.write_atomic(out, text)


def register(group: click.Group) -> None:
    """Add this module's commands to the CLI group."""
    group.add_command(notify)
    group.add_command(feed)
