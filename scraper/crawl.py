"""The crawl: the seed page, then the documents its main content links to.

Politeness and speed together: one worker thread per host, so at most one request is in flight
per host and each host waits ``max(delay, robots Crawl-delay)`` between its requests, while
different hosts are fetched at the same time. The whole crawl takes about as long as its
busiest host. Workers fetch and parse; only the calling thread writes to the archive, one
transaction per page, so an interruption at any moment keeps every page already written.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlsplit

from archive.capture import Capture
from archive.errors import BlockedURLError, FetchError
from archive.model import Page
from archive.store import Archive, PreviousCapture
from archive.timeutil import from_iso, utcnow_iso
from archive.urls import host_key, normalize_url, url_problem
from scraper.fetch import Fetcher
from scraper.parse import parse
from scraper.robots import RobotsCache

logger = logging.getLogger(__name__)

# A page whose text shrinks below this fraction of its last good version is suspect (an error
# or maintenance page served as 200), as long as that version had enough text to judge by.
SUSPECT_SHRINK = 0.2
SUSPECT_MIN_PREVIOUS = 300


@dataclass
class PageReport:
    """What happened to one URL in a run."""

    url: str
    depth: int
    outcome: str  # new | unchanged | not_modified | gone | failed | blocked
    http_status: int | None = None
    final_url: str | None = None
    changed: bool = False
    new_version: bool = False
    suspect: bool = False
    first: bool = False
    version_id: int | None = None
    snapshot_id: int | None = None
    title: str = ""
    error: str | None = None


@dataclass
class RunSummary:
    """The result of :func:`crawl`; ``status`` is complete, partial, failed or interrupted."""

    run_id: int
    seed: str
    status: str
    started_at: str
    finished_at: str = ""
    pages: list[PageReport] = field(default_factory=list)

    @property
    def changed(self) -> list[PageReport]:
        return [p for p in self.pages if p.changed]

    @property
    def failed(self) -> list[PageReport]:
        return [p for p in self.pages if p.outcome == "failed"]

    @property
    def suspect(self) -> list[PageReport]:
        return [p for p in self.pages if p.suspect]

    def counts(self) -> dict[str, int]:
        """How many pages ended each way, plus fetched / new_versions / changed totals."""
        out: dict[str, int] = {}
        for p in self.pages:
            out[p.outcome] = out.get(p.outcome, 0) + 1
        out["fetched"] = sum(p.outcome not in ("failed", "blocked") for p in self.pages)
        out["new_versions"] = sum(p.new_version for p in self.pages)
        out["changed"] = len(self.changed)
        out["suspect"] = len(self.suspect)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the CLI's ``--json``)."""
        return {
            "run_id": self.run_id, "seed": self.seed, "status": self.status,
            "started_at": self.started_at, "finished_at": self.finished_at,
            "counts": self.counts(), "pages": [asdict(p) for p in self.pages],
        }


@dataclass
class _Task:
    url: str
    depth: int
    previous: PreviousCapture | None  # the last trustworthy capture (suspect baseline)
    conditional: bool = False  # send its validators


@dataclass
class _Done:
    task: _Task
    captured_at: str
    result: Capture | None = None
    page: Page | None = None
    error: str | None = None
    blocked: bool = False
    skipped: bool = False  # never fetched (the crawl was stopped first): nothing to record


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


class _HostWorker(threading.Thread):
    """Fetches one host's URLs in order, waiting between requests; parses what it fetched."""

    def __init__(self, key: str, tasks: list[_Task], out: queue.Queue[_Done], *,
                 fetcher: Fetcher, robots: RobotsCache, delay: float,
                 last_request: dict[str, float], stop: threading.Event,
                 clock: Callable[[], str]) -> None:
        super().__init__(name=f"crawl-{key}", daemon=True)
        self.key, self.tasks, self.out = key, tasks, out
        self.fetcher, self.robots, self.delay = fetcher, robots, delay
        self.last_request, self.stop, self.clock = last_request, stop, clock

    def _wait_turn(self, delay: float) -> None:
        last = self.last_request.get(self.key)
        if last is not None:
            remaining = last + delay - time.monotonic()
            if remaining > 0:
                self.stop.wait(remaining)

    def run(self) -> None:
        for task in self.tasks:
            if self.stop.is_set():
                return
            self.out.put(self._one(task))

    def _one(self, task: _Task) -> _Done:
        try:
            self._wait_turn(self.delay)
            if self.stop.is_set():
                return _Done(task, self.clock(), skipped=True)
            fetches_robots = not self.robots.known(task.url)
            refusal = self.robots.refusal(task.url)
            if fetches_robots:
                # robots.txt was a request to this host too: Crawl-delay counts from it.
                self.last_request[self.key] = time.monotonic()
            delay = max(self.delay, self.robots.crawl_delay(task.url) or 0.0)
            if refusal is not None:
                # An unreachable robots.txt is the host failing, not a rule: a failure.
                return _Done(task, self.clock(), error=refusal,
                             blocked=self.robots.reachable(task.url))
            self._wait_turn(delay)
            if self.stop.is_set():
                return _Done(task, self.clock(), skipped=True)
            prev = task.previous if task.conditional else None
            try:
                result = self.fetcher.fetch(
                    task.url,
                    etag=prev.etag if prev else None,
                    last_modified=prev.last_modified if prev else None,
                )
            finally:
                self.last_request[self.key] = time.monotonic()
            page = None
            if 200 <= result.status < 300:
                page = parse(result.body, url=result.final_url, content_type=result.content_type,
                             http_charset=result.charset)
            return _Done(task, result.fetched_at or self.clock(), result=result, page=page)
        except BlockedURLError as e:
            return _Done(task, self.clock(), error=str(e), blocked=True)
        except FetchError as e:
            return _Done(task, self.clock(), error=str(e))
        except Exception as e:  # a bug must cost one page, not the run
            logger.exception("unexpected error on %s", task.url)
            return _Done(task, self.clock(), error=f"internal error: {type(e).__name__}: {e}")


def crawl(
    archive: Archive,
    seed: str,
    *,
    fetcher: Fetcher,
    robots: RobotsCache,
    depth: int = 1,
    delay: float = 1.0,
    max_pages: int = 500,
    stop: threading.Event | None = None,
    on_page: Callable[[PageReport], None] | None = None,
    clock: Callable[[], str] = utcnow_iso,
    source: str = "crawl",
    options: dict[str, Any] | None = None,
    revalidate_after: float | None = 7 * 86400,
) -> RunSummary:
    """Crawl ``seed`` and the documents linked from its main content into ``archive``.

    ``depth`` 0 is the seed alone; 1 adds the documents it links to, and so on. Each URL is
    fetched at most once per run. Returns a :class:`RunSummary`; the run's row in the archive
    says the same. Setting ``stop`` ends the crawl after the pages in flight, status
    ``interrupted``; pages not yet fetched then get no snapshot at all.

    Conditional requests trust the server's validators, and a server that wrongly answers 304
    would hide a change for ever; so a page whose last full (200) body is older than
    ``revalidate_after`` seconds is fetched without validators (None: always trust them).
    """
    stop = stop or threading.Event()
    seed = normalize_url(seed)
    started = clock()
    run_id = archive.begin_run(seed, source=source, options=options, started_at=started)
    summary = RunSummary(run_id, seed, "running", started)
    last_request: dict[str, float] = {}
    seen = {seed}
    frontier = [seed]
    try:
        for level in range(depth + 1):
            if not frontier or stop.is_set():
                break
            next_frontier = _crawl_level(
                archive, run_id, frontier, level, depth, summary, seen,
                fetcher=fetcher, robots=robots, delay=delay, stop=stop, clock=clock,
                last_request=last_request, on_page=on_page, source=source,
                revalidate_after=revalidate_after,
            )
            room = max(0, max_pages - len(seen))
            if len(next_frontier) > room:
                logger.warning("link limit reached: %d links not followed",
                               len(next_frontier) - room)
                next_frontier = next_frontier[:room]
            seen.update(next_frontier)
            frontier = next_frontier
    except BaseException as e:
        # Stopped from outside (Ctrl-C, SystemExit): interrupted. Anything else is a bug that
        # ended the run: failed, so that cron and `history` do not read it as a signal.
        status = "interrupted" if isinstance(e, (KeyboardInterrupt, SystemExit)) else "failed"
        summary.status = status
        summary.finished_at = clock()
        archive.finish_run(run_id, status, finished_at=summary.finished_at)
        raise
    summary.status = _status(summary, stop)
    summary.finished_at = clock()
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary.counts().items()))
    logger.info("run %d %s: %s", run_id, summary.status, counts)
    archive.finish_run(run_id, summary.status, finished_at=summary.finished_at)
    return summary


def _status(summary: RunSummary, stop: threading.Event) -> str:
    if stop.is_set():
        return "interrupted"
    seed = summary.pages[0] if summary.pages else None
    if seed is None or seed.outcome in ("failed", "blocked", "gone"):
        # A seed that answers 404/410 (a typo, or the page taken down) archives nothing new.
        return "failed"
    if summary.failed or summary.suspect:
        return "partial"
    return "complete"


def _crawl_level(archive: Archive, run_id: int, urls: list[str], level: int, depth: int,
                 summary: RunSummary, seen: set[str], *, fetcher: Fetcher, robots: RobotsCache,
                 delay: float, stop: threading.Event, clock: Callable[[], str],
                 last_request: dict[str, float],
                 on_page: Callable[[PageReport], None] | None, source: str,
                 revalidate_after: float | None) -> list[str]:
    by_host: dict[str, list[_Task]] = {}
    out: queue.Queue[_Done] = queue.Queue()
    invalid = 0
    for url in urls:
        problem = url_problem(url)
        if problem is not None:
            # A broken link on the page is recorded and refused; it never stops the crawl.
            out.put(_Done(_Task(url, level, None), clock(), error=problem, blocked=True))
            invalid += 1
            continue
        by_host.setdefault(host_key(url), []).append(
            _Task(url, level, *_previous(archive, url, clock(), revalidate_after)))
    workers = [
        _HostWorker(key, tasks, out, fetcher=fetcher, robots=robots, delay=delay,
                    last_request=last_request, stop=stop, clock=clock)
        for key, tasks in by_host.items()
    ]
    for w in workers:
        w.start()
    expected = sum(len(t) for t in by_host.values()) + invalid
    next_urls: list[str] = []
    received = 0
    while received < expected:
        try:
            done = out.get(timeout=0.2)
        except queue.Empty:
            if workers and not any(w.is_alive() for w in workers) and out.empty():
                break  # stopped early: the workers that quit will not send the rest
            continue
        received += 1
        if done.skipped:
            continue
        report = _record(archive, run_id, done, source)
        summary.pages.append(report)
        if on_page is not None:
            on_page(report)
        if level < depth and not report.suspect:
            for link in _links_of(archive, done, report):
                link = normalize_url(link)
                if link not in seen and link not in next_urls:
                    next_urls.append(link)
    for w in workers:
        w.join(timeout=0.1 if stop.is_set() else None)
    return next_urls


def _previous(archive: Archive, url: str, now: str,
              revalidate_after: float | None) -> tuple[PreviousCapture | None, bool]:
    """The last trustworthy capture of ``url``, and whether a conditional request may rest on
    it.

    Not conditional when there is no capture, when its body can no longer be read (a damaged
    blob must not make every later run fail on the 304 it would get), or when the last full
    body is older than ``revalidate_after``.
    """
    prev = archive.previous_capture(url)
    if prev is None or prev.body_sha256 is None:
        return prev, False
    try:
        intact = hashlib.sha256(archive.blob(prev.body_sha256)).hexdigest() == prev.body_sha256
    except Exception as e:  # any decoding failure: refetch in full rather than trust it
        logger.warning("%s: stored body unreadable (%s); fetching it in full", url, e)
        return prev, False
    if not intact:
        logger.warning("%s: stored body does not match its hash; fetching it in full", url)
        return prev, False
    if revalidate_after is not None:
        row = archive.conn.execute(
            """SELECT max(s.captured_at) FROM snapshots s JOIN pages p ON p.id = s.page_id
                WHERE p.url = ? AND s.outcome IN ('new', 'unchanged') AND s.suspect = 0""",
            (url,)).fetchone()
        last_full = row[0] if row else None
        if last_full is None or (from_iso(now) - from_iso(last_full)).total_seconds() \
                >= revalidate_after:
            return prev, False
    return prev, True


def _links_of(archive: Archive, done: _Done, report: PageReport) -> list[str]:
    """The links to follow from a page: parsed now, or from the stored body a 304 confirmed."""
    if done.page is not None:
        return done.page.links
    prev = done.task.previous
    if report.outcome == "not_modified" and prev is not None and prev.body_sha256:
        result = done.result
        page = parse(archive.blob(prev.body_sha256),
                     url=result.final_url if result else done.task.url)
        return page.links
    return []


def _without_url(error: str, url: str) -> str:
    """A FetchError's text starts with its URL; where the URL is said already, drop it."""
    return error[len(url) + 2:] if error.startswith(url + ": ") else error


def _record(archive: Archive, run_id: int, done: _Done, source: str) -> PageReport:
    task, result = done.task, done.result
    if result is not None and result.not_modified and not task.conditional:
        # We sent no validators, so a 304 is the server's error, not a confirmation.
        done.error, done.result, result = "304 Not Modified to an unconditional request", None, None
    suspect = bool(result is not None and done.page is not None
                   and is_suspect(done.page, result, task.previous))
    rec = archive.record_snapshot(
        run_id, task.url, captured_at=done.captured_at, result=result if not done.error else None,
        page=done.page, error=done.error, blocked=done.blocked, suspect=suspect, source=source,
    )
    # INFO, not WARNING: the CLI reports failures itself, once, on stderr; the log file
    # (--log-file) keeps one line per page, whatever happened.
    flags = (" changed" if rec.changed else "") + (" suspect" if suspect else "")
    logger.info("%s %s%s%s", rec.outcome, task.url, flags,
                f": {_without_url(done.error, task.url)}" if done.error else "")
    return PageReport(
        url=task.url, depth=task.depth, outcome=rec.outcome,
        http_status=result.status if result else None,
        final_url=result.final_url if result else None,
        changed=rec.changed, new_version=rec.new_version, suspect=suspect, first=rec.first,
        version_id=rec.version_id, snapshot_id=rec.snapshot_id,
        title=done.page.title if done.page else "", error=done.error,
    )
