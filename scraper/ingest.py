"""The one way a capture becomes a snapshot, and the one way a run is opened and closed.

Every source of captures (the live crawl, a WARC import, a Wayback backfill, the demo) goes
through here::

    report = RunReport(Source.IMPORT, seed)
    with RunContext(archive, report, reconcile=True) as run:
        run_id = run.begin(seed, options={...})
        for capture in captures:
            run.ingest(run_id, url, capture, captured_at=capture.fetched_at)
        run.close(RunStatus.COMPLETE)

:meth:`RunContext.ingest` parses a 2xx capture (:func:`parse_capture`), judges it suspect
(:func:`is_suspect`), records it (:meth:`archive.store.Archive.record_snapshot`) and reports it
(:class:`PageReport`). :meth:`RunContext.close` reconciles the pages the run touched when its
captures may have arrived out of order, and finishes every run it began with the same status;
leaving the ``with`` block on an exception finishes them ``interrupted`` (Ctrl-C, SIGTERM
turned into SystemExit) or ``failed`` (anything else is a bug, and cron must not read it as a
signal), so no run stays ``running``. One :class:`RunReport` says what happened, whatever the
source (:mod:`archive.run_report`); its ``to_dict`` keeps the JSON shape each command has
always printed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from archive.capture import Capture
from archive.model import Page
from archive.reconcile import reconcile_pages
from archive.run_report import PageReport, RunReport
from archive.store import Archive, PreviousCapture
from archive.timeutil import utcnow_iso
from archive.vocab import RunStatus, worst_status
from scraper.parse import parse

__all__ = ["PageReport", "RunContext", "RunReport", "is_suspect", "parse_capture"]

logger = logging.getLogger(__name__)

# A page whose text shrinks below this fraction of its last good version is suspect (an error
# or maintenance page served as 200), as long as that version had enough text to judge by.
SUSPECT_SHRINK = 0.2
SUSPECT_MIN_PREVIOUS = 300


def is_suspect(page: Page, result: Capture, previous: PreviousCapture | None) -> bool:
    """True when a 200 looks like an error page rather than the document.

    An empty body; a redirect that landed on the site's front page from a deeper URL (the
    classic soft 404); or text that shrank to almost nothing from a substantial last version.
    """
    if not result.body.strip():
        return True
    if result.redirects:
        asked, landed = urlsplit(result.url), urlsplit(result.final_url)
        if landed.path in ("", "/") and asked.path not in ("", "/"):
            return True
    if (page.kind == "html" and previous is not None
            and previous.text_length >= SUSPECT_MIN_PREVIOUS):
        # Both sides as stored (length(versions.text) is the shown text, not normalised).
        if len(page.text) < SUSPECT_SHRINK * previous.text_length:
            return True
    return False


def parse_capture(capture: Capture, *, main: str | None = None, ignore: Sequence[str] = (),
                  stop: threading.Event | None = None) -> Page | None:
    """The records of a 2xx capture (parsed at the URL it landed on); None for any other.

    ``main`` / ``ignore``: a watch's CSS selectors (:func:`scraper.parse.parse`). ``stop``,
    when set, ends a PDF extraction at once (the page then has no text, and
    :meth:`RunContext.ingest` records a failure)."""
    if not 200 <= capture.status < 300:
        return None
    return parse(capture.body, url=capture.final_url, content_type=capture.content_type,
                 http_charset=capture.charset, main=main, ignore=ignore, stop=stop)


def _without_url(error: str, url: str) -> str:
    """A FetchError's text starts with its URL; where the URL is said already, drop it."""
    return error[len(url) + 2:] if error.startswith(url + ": ") else error


class RunContext:
    """Opens runs, turns captures into snapshots, and closes the runs with one status.

    ``reconcile``: the captures may arrive older than what the archive holds (an import, a
    backfill), so the pages touched are reconciled (:func:`archive.reconcile.reconcile_pages`)
    when the run closes. ``on_page`` is called with each page's report. ``stop`` (the job's
    stop event) ends a PDF extraction in :meth:`ingest` at once.

    ``batch``: the snapshots are committed a few at a time (:meth:`Archive.begin_batch
    <archive.store.Archive.begin_batch>`: up to 64 or one second's worth) instead of one
    transaction each; for a source that delivers captures quickly (a crawl without delay, an
    import). A kill then loses at most the uncommitted snapshots, which the next run captures
    again; the source calls :meth:`flush` when it is about to wait, and :meth:`close` commits
    the rest before it finishes the runs, on an exception too.
    """

    def __init__(self, archive: Archive, report: RunReport, *,
                 clock: Callable[[], str] = utcnow_iso, reconcile: bool = False,
                 on_page: Callable[[PageReport], None] | None = None,
                 stop: threading.Event | None = None, batch: bool = False) -> None:
        self.archive, self.report, self.clock = archive, report, clock
        self.stop = stop
        self.reconcile, self.on_page = reconcile, on_page
        self.batch = batch
        self.touched: set[int] = set()
        self._floors: dict[int, tuple[str | None, str | None]] = {}
        self._closed = False

    def __enter__(self) -> RunContext:
        if self.batch:
            self.archive.begin_batch()
        return self

    def flush(self) -> None:
        """Commit the snapshots written so far (a batched source about to wait)."""
        if self.batch:
            self.archive.commit_batch()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if exc is not None:
            # Stopped from outside (Ctrl-C, SystemExit): interrupted. Anything else is a bug
            # that ended the run: failed.
            stopped = isinstance(exc, (KeyboardInterrupt, SystemExit))
            self.close(RunStatus.INTERRUPTED if stopped else RunStatus.FAILED)
        elif not self._closed:
            self.close(RunStatus.COMPLETE)

    def begin(self, seed: str, *, options: dict[str, Any] | None = None,
              started_at: str | None = None, status_floor: str | None = None,
              finished_at: str | None = None) -> int:
        """Open a run and return its id. A run imported from elsewhere keeps its own times
        (``started_at``, ``finished_at``) and at least its own status (``status_floor``)."""
        started = started_at or self.clock()
        run_id = self.archive.begin_run(seed, source=self.report.source, options=options,
                                        started_at=started)
        if not self.report.run_ids:
            self.report.started_at = started
        self.report.run_ids.append(run_id)
        self._floors[run_id] = (status_floor, finished_at)
        return run_id

    def ingest(self, run_id: int, url: str, capture: Capture | None, *, captured_at: str,
               page: Page | None = None, baseline: PreviousCapture | None = None,
               error: str | None = None, blocked: bool = False, depth: int = 0,
               origin_uri: str | None = None, content_hash: str | None = None) -> PageReport:
        """Parse (unless ``page`` is given), judge against ``baseline`` and record one capture
        of ``url`` (None, with ``error``: a failed or ``blocked`` one); report it.
        ``content_hash`` is the given ``page``'s, when the parse computed it already."""
        if capture is not None and error is None and page is None:
            page = parse_capture(capture, stop=self.stop)
        if page is not None and page.truncated and not page.text and error is None:
            # Nothing could be read within a budget of time or memory: that is a failure with
            # its reason, never a new (empty) version of the document.
            error, page = f"{url}: {page.truncated}", None
        suspect = bool(capture is not None and page is not None
                       and is_suspect(page, capture, baseline))
        rec = self.archive.record_snapshot(
            run_id, url, captured_at=captured_at, result=capture if not error else None,
            page=page, error=error, blocked=blocked, suspect=suspect,
            source=self.report.source, origin_uri=origin_uri,
            content_hash=content_hash if page is not None else None)
        self.touched.add(rec.page_id)
        # INFO, not WARNING: the CLI reports failures itself, once, on stderr; the log file
        # (--log-file) keeps one line per page, whatever happened.
        flags = (" changed" if rec.changed else "") + (" suspect" if suspect else "")
        logger.info("%s %s%s%s", rec.outcome, url, flags,
                    f": {_without_url(error, url)}" if error else "")
        report = PageReport(
            url=url, depth=depth, outcome=rec.outcome,
            http_status=capture.status if capture else None,
            final_url=capture.final_url if capture else None,
            changed=rec.changed, new_version=rec.new_version, suspect=suspect,
            first=rec.first, version_id=rec.version_id, snapshot_id=rec.snapshot_id,
            title=page.title if page else "", error=error,
        )
        self.report.pages.append(report)
        if self.on_page is not None:
            self.on_page(report)
        return report

    def close(self, status: str) -> None:
        """Reconcile (if asked) and finish every run begun, with ``status`` (or the run's own
        worse status, see :meth:`begin`). Only the first call counts."""
        if self._closed:
            return
        self._closed = True
        if self.batch:
            self.archive.end_batch()  # what the runs' counts and the reconciling read
        report = self.report
        report.status = RunStatus(status)
        report.finished_at = self.clock()
        if self.reconcile and self.touched:
            report.reconciled = reconcile_pages(self.archive, self.touched)
        for run_id in report.run_ids:
            floor, finished_at = self._floors.get(run_id, (None, None))
            final = report.status
            if floor and final != RunStatus.INTERRUPTED:
                final = worst_status([final, floor])
            self.archive.finish_run(run_id, final, finished_at=finished_at or report.finished_at)
        if report.run_ids:
            counts = ", ".join(f"{k} {v}" for k, v in sorted(report.counts().items()))
            logger.info("run %s %s: %s", ",".join(map(str, report.run_ids)), report.status,
                        counts)
