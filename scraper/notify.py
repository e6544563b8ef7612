"""Notifications: a run's changes, sent through Apprise, never lost.

A run's message is built from its diff (:mod:`archive.changes`), put in the archive's outbox
(:mod:`archive.outbox`) once per target, then delivered. A delivery that fails stays in the
outbox with its error and is tried again at the next run or by ``coop-archive notify
--retry``; a failure never touches the archive's snapshots.

Targets are Apprise URLs (mailto://, slack://, matrix://, ntfy://, json:// and the rest). The
archive stores a target's key (a hash) and its URL without its secrets, never the URL
itself, so a secret in it does not end up in a file that ``serve`` publishes: a retry finds
the URL again in the config (or ``--notify``) by its key.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
import shlex
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from archive import outbox
from archive.changes import news, only, run_diff
from archive.compare import ArchiveDiff, PageChange
from archive.errors import CoopError
from archive.outbox import Message
from archive.report import render
from archive.store import Archive

logger = logging.getLogger(__name__)


def _apprise() -> Any:
    """The apprise module, its plugins loaded.

    Loading them imports ``imghdr`` (through PGPy, for encrypted mail), deprecated since
    Python 3.11: that warning is theirs, not ours, and must not fail a run (or our tests,
    which turn warnings into errors).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
        from apprise.manager_plugins import NotificationManager

        NotificationManager().schemas()  # the one place every plugin module gets imported
    return apprise


@contextmanager
def _apprise_logs() -> Iterator[Any]:
    """Apprise's log lines for the block, captured (and kept off our stderr)."""
    apprise = _apprise()
    log = logging.getLogger("apprise")
    propagate = log.propagate
    log.propagate = False
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            yield captured
    finally:
        log.propagate = propagate


def _schemes() -> set[str]:
    _apprise()
    from apprise.manager_plugins import NotificationManager

    return {s.lower() for s in NotificationManager().schemas()}


def target_problem(url: str) -> str | None:
    """Why Apprise cannot send to ``url`` (None when it can): an unknown scheme, or the
    plugin's own complaint."""
    apprise = _apprise()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme or scheme not in _schemes():
        return f"unknown notification scheme {scheme + '://' if scheme else url!r}"
    with _apprise_logs() as captured:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        return lines[0] if lines else "not a usable notification URL"
    return None


def target_key(url: str) -> str:
    """The outbox's name for a target: a hash of its URL (the URL may hold a password)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def redact(url: str) -> str:
    """``url`` without its secrets, for the outbox, logs and messages: Apprise's own privacy
    form (it knows where each service keeps its tokens: a Slack URL's path, a password),
    without the query string; else the URL without its password and query."""
    with _apprise_logs():
        plugin = _apprise().Apprise.instantiate(url)
    if plugin is not None:
        return str(plugin.url(privacy=True)).split("?", 1)[0]
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url).split("?", 1)[0]


def targets_by_key(urls: Iterable[str]) -> dict[str, str]:
    """Each URL by its :func:`target_key`."""
    return {target_key(u): u for u in urls}


class NotifyError(CoopError):
    """A message could not be delivered to a target (``target`` is its URL, redacted)."""

    def __init__(self, message: str, *, target: str) -> None:
        super().__init__(f"{target}: {message}")
        self.target = target


@dataclass(frozen=True)
class Delivery:
    """One try to deliver one outbox entry (``entry_id`` None for ``notify --test``)."""

    target: str
    ok: bool
    error: str | None = None
    entry_id: int | None = None
    run_id: int | None = None
    watch: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (``--json``)."""
        return {"target": self.target, "ok": self.ok, "error": self.error,
                "outbox_id": self.entry_id, "run_id": self.run_id, "watch": self.watch}


def build_message(result: ArchiveDiff, pages: list[PageChange], *, watch: str,
                  db: str) -> Message:
    """The notification for a run's news ``pages`` (from :func:`archive.changes.news`): the
    diff report of those pages, in plain text and HTML, and the command that shows the whole
    diff."""
    shown = only(result, pages)
    n = len(pages)
    subject = f"coop-archive: {watch}: {n} page{'' if n == 1 else 's'} changed"
    command = (f"coop-archive diff --db {shlex.quote(db)} --from {result.from_at or ''} "
               f"--to {result.to_at}")
    text = (f"{subject}\n\n{render(shown, 'text').rstrip()}\n\n"
            f"The whole diff: {command}\n")
    page = render(shown, "html")
    footer = f"<p>The whole diff: <code>{html.escape(command)}</code></p>\n"
    page = page.replace("</body>", footer + "</body>", 1) if "</body>" in page \
        else page + footer
    return Message(subject, text, page)


def send(url: str, message: Message) -> None:
    """Deliver ``message`` to one Apprise URL now; NotifyError (with Apprise's reason) if it
    was not delivered.

    A target whose format is HTML (mail, unless its URL says ``?format=text``; any target
    with ``?format=html``) gets the HTML (mail adds Apprise's plain-text rendering of it);
    one that takes text (a JSON webhook, ntfy, Slack ...) gets our plain text, with the word
    diff's ``[-removed-]{+added+}`` marks, not a conversion of the HTML.
    """
    apprise = _apprise()
    target = redact(url)
    with _apprise_logs() as captured:
        plugin = apprise.Apprise.instantiate(url)
        if plugin is None:
            raise NotifyError(target_problem(url) or "not a usable notification URL",
                              target=target)
        # Apprise 2 plugins may take several formats (resolve_format picks the URL's
        # ?format= or the plugin's first); older ones have one.
        resolve = getattr(plugin, "resolve_format", None)
        if (resolve() if resolve is not None else plugin.notify_format) \
                == apprise.NotifyFormat.HTML:
            body, fmt = message.html, apprise.NotifyFormat.HTML
        else:
            body, fmt = message.text, apprise.NotifyFormat.TEXT
        box = apprise.Apprise()
        box.add(plugin)
        ok = box.notify(body=body, title=message.subject, body_format=fmt)
    if not ok:
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        raise NotifyError(lines[-1] if lines else "not delivered", target=target)


def deliver(archive: Archive, urls: Iterable[str], *, run_id: int | None = None,
            watch: str | None = None) -> list[Delivery]:
    """Try every pending outbox entry whose target is one of ``urls`` (of run ``run_id``, of
    watch ``watch``, when given); record each try. Entries for targets not in ``urls`` are
    left alone (their URL is not known here). Never raises for a failed delivery: it is in
    the result and in the outbox."""
    known = targets_by_key(urls)
    out: list[Delivery] = []
    for entry in outbox.pending(archive, run_id=run_id):
        url = known.get(entry.target_key)
        if url is None or (watch is not None and entry.watch != watch):
            continue
        try:
            send(url, entry.message)
        except NotifyError as e:
            outbox.mark_failed(archive, entry.id, str(e))
            logger.warning("notification of run %d to %s not delivered: %s", entry.run_id,
                           entry.target, e)
            out.append(Delivery(entry.target, False, str(e), entry.id, entry.run_id,
                                entry.watch))
        else:
            outbox.mark_delivered(archive, entry.id)
            logger.info("notification of run %d delivered to %s", entry.run_id, entry.target)
            out.append(Delivery(entry.target, True, None, entry.id, entry.run_id, entry.watch))
    return out


def queue_run(archive: Archive, run_id: int, urls: Iterable[str], *, watch: str, db: str,
              date_only: bool = False, failures: bool = False) -> Message | None:
    """Put run ``run_id``'s news in the outbox for each of ``urls``; the message, or None
    when there is nothing to tell (no change, only noise, or the watch's first capture)."""
    urls = list(urls)
    if not urls:
        return None
    result = run_diff(archive, run_id)
    if result is None:
        return None
    pages = news(result, date_only=date_only, failures=failures)
    if not pages:
        return None
    message = build_message(result, pages, watch=watch, db=db)
    for url in urls:
        outbox.enqueue(archive, run_id, target_key=target_key(url), target=redact(url),
                       message=message, watch=watch)
    return message


def notify_run(archive: Archive, run_id: int, urls: Iterable[str], *, watch: str, db: str,
               date_only: bool = False, failures: bool = False) -> list[Delivery]:
    """After a run: queue its news for ``urls`` (:func:`queue_run`), then deliver everything
    pending for those targets, earlier runs' undelivered messages included. A delivery that
    fails is reported in the result, never raised: the run's archive write stands."""
    urls = list(urls)
    queue_run(archive, run_id, urls, watch=watch, db=db, date_only=date_only,
              failures=failures)
    return deliver(archive, urls)


def probe_message() -> Message:
    """What ``notify --test`` sends."""
    text = "coop-archive can reach this target: notifications of changes will come here."
    return Message("coop-archive: test notification", text,
                   f"<!DOCTYPE html>\n<html><body><p>{html.escape(text)}</p></body></html>\n")


@dataclass
class AfterCrawl:
    """What :func:`after_crawl` did: every delivery tried, and the feed's fate."""

    deliveries: list[Delivery]
    feed_written: str | None = None
    feed_error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every delivery went through and the feed (if any) was written."""
        return all(d.ok for d in self.deliveries) and self.feed_error is None


def after_crawl(archive: Archive, runs: Iterable[tuple[int, Any]], *, watchlist: Any,
                db: str, extra: Iterable[str] = ()) -> AfterCrawl:
    """The end of a crawl job over a watch list (``runs``: each run id with its
    :class:`scraper.config.Watch`): queue each run's news for its watch's targets (and
    ``extra``, the command line's), deliver everything pending for those targets once, then
    rewrite the config's feed file. Nothing here raises for a failed delivery or an
    unwritable feed: the runs are archived whatever happens; the result says what failed.
    """
    from archive.feed import build, write_atomic

    extra = list(extra)
    settings = watchlist.notify
    targets: dict[str, None] = {}
    for run_id, watch in runs:
        urls = [*watchlist.targets(watch), *extra]
        targets.update(dict.fromkeys(urls))
        queue_run(archive, run_id, urls, watch=watch.name, db=db,
                  date_only=settings.date_only, failures=settings.failures)
    result = AfterCrawl(deliver(archive, targets))
    if watchlist.feed:
        try:
            write_atomic(watchlist.feed, build(archive, date_only=settings.date_only,
                                               failures=settings.failures))
            result.feed_written = watchlist.feed
        except OSError as e:
            result.feed_error = f"cannot write the feed {watchlist.feed}: {e.strerror or e}"
            logger.warning("%s", result.feed_error)
    return result
