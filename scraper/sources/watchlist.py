"""A crawl of a watch list: every chosen watch as its own run, in one archive, under one lock.

The watches are crawled one after another, sharing one :class:`~scraper.throttle.Throttle`:
a host two watches share has at most one request in flight (each crawl has one worker per
host, and only one crawl runs at a time) and keeps its delay and robots.txt Crawl-delay from
one watch to the next. A watch that fails (its seed down, a bug) is recorded and reported; the
others run all the same. After the runs, :func:`scraper.notify.after_crawl` queues and
delivers their news and rewrites the feed; a failed delivery never touches what was archived.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from archive.errors import CoopError, UsageError
from archive.run_report import PageReport, RunReport
from archive.store import Archive
from archive.vocab import RunStatus, worst_status
from scraper.config import Watch, WatchList
from scraper.notify import AfterCrawl
from scraper.settings import CrawlSettings
from scraper.sources.crawl import crawl
from scraper.throttle import Throttle

logger = logging.getLogger(__name__)


@dataclass
class WatchRun:
    """One watch's part of the job: its run's report and change summary, or why it could not
    run at all (``error``)."""

    watch: Watch
    report: RunReport | None = None
    changes: str = ""
    error: str | None = None

    @property
    def status(self) -> RunStatus:
        """The run's status; ``failed`` when the watch could not run."""
        return RunStatus(self.report.status) if self.report is not None else RunStatus.FAILED

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form: the watch's name and URL, its status, and its run's report."""
        out: dict[str, Any] = {"watch": self.watch.name, "url": self.watch.url,
                               "status": str(self.status)}
        if self.report is not None:
            out.update(self.report.to_dict())
            out["status"] = str(self.status)
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class WatchJob:
    """What a watch-list crawl did: each watch's run, then the notifications and feed."""

    runs: list[WatchRun] = field(default_factory=list)
    after: AfterCrawl | None = None

    @property
    def status(self) -> RunStatus:
        """The job's outcome: the worst of its watches', except that failed watches beside
        watches that archived something make the job ``partial``, not ``failed``."""
        statuses = [r.status for r in self.runs]
        worst = worst_status(statuses)
        if worst == RunStatus.FAILED and any(s != RunStatus.FAILED for s in statuses):
            others = [s for s in statuses if s != RunStatus.FAILED]
            return worst_status([*others, RunStatus.PARTIAL])
        return worst


def watch_settings(watch: Watch, overrides: dict[str, Any]) -> CrawlSettings:
    """The watch's crawl settings with the command line's ``overrides`` applied (checked)."""
    return watch.settings.replace(**overrides)


def crawl_watches(db: str, watchlist: WatchList, watches: Iterable[Watch], *,
                  overrides: dict[str, Any] | None = None, extra_targets: Iterable[str] = (),
                  wait: float = 0.0, stop: threading.Event | None = None,
                  on_page: Callable[[PageReport], None] | None = None,
                  on_note: Callable[[str], None] | None = None,
                  throttle: Throttle | None = None) -> WatchJob:
    """Lock the archive file ``db`` (waiting up to ``wait`` seconds), open it, and crawl each
    of ``watches`` (of ``watchlist``) as its own run, its settings overridden by
    ``overrides`` (the command line's); then notify (``extra_targets`` besides each watch's
    own) and rewrite the feed. Setting ``stop`` ends the watch being crawled (``interrupted``)
    and runs no more of them. Each run records its watch's name in ``runs.options``.

    Raises UsageError, before anything is opened, for an archive in a directory that does not
    exist or settings out of range.
    """
    from archive.lock import ArchiveLock
    from archive.report_cron import summarize_run
    from scraper.notify import after_crawl

    watches = list(watches)
    overrides = overrides or {}
    settings = {w.name: watch_settings(w, overrides) for w in watches}  # checked up front
    parent = os.path.dirname(os.path.abspath(db))
    if not os.path.isdir(parent):
        raise UsageError(f"directory does not exist: {parent}")
    stop = stop or threading.Event()
    throttle = throttle or Throttle()
    note = on_note or (lambda text: None)
    job = WatchJob()
    with ArchiveLock(db, wait=wait), Archive.open(db) as archive:
        stale = archive.mark_stale_runs_interrupted()
        if stale:
            logger.info("marked stale run(s) %s interrupted", stale)
            note(f"marked stale run(s) {stale} interrupted")
        for watch in watches:
            if stop.is_set():
                break
            job.runs.append(_crawl_one(archive, watch, settings[watch.name], throttle=throttle,
                                       stop=stop, on_page=on_page, summarize=summarize_run))
        runs = [(r.report.run_id, r.watch) for r in job.runs
                if r.report is not None and r.report.run_ids]
        job.after = after_crawl(archive, runs, watchlist=watchlist, db=db,
                                extra=extra_targets)
    return job


def _crawl_one(archive: Archive, watch: Watch, settings: CrawlSettings, *,
               throttle: Throttle, stop: threading.Event,
               on_page: Callable[[PageReport], None] | None,
               summarize: Callable[..., str]) -> WatchRun:
    """One watch's run; a failure costs this watch only."""
    options = {**settings.run_options(), "watch": watch.name}
    if watch.main is not None or watch.ignore:
        # Recorded with the run: `reparse` must re-derive these pages with the same selectors.
        options.update(main=watch.main, ignore=list(watch.ignore))
    try:
        report = crawl(archive, watch.url, settings=settings, throttle=throttle, stop=stop,
                       on_page=on_page, options=options, main=watch.main, ignore=watch.ignore)
    except CoopError as e:
        logger.error("watch %s: %s", watch.name, e)
        return WatchRun(watch, error=str(e))
    except Exception as e:  # a bug must cost one watch, not the job
        logger.exception("watch %s: unexpected error", watch.name)
        return WatchRun(watch, error=f"internal error: {type(e).__name__}: {e}")
    changes = summarize(archive, report.run_id, own_pages=True) if report.changed else ""
    if changes:
        logger.info("watch %s, run %d changes:\n%s", watch.name, report.run_id, changes)
    return WatchRun(watch, report, changes)
