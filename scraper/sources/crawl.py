"""The crawl: the seed page, then the documents its main content links to.

Politeness and speed together: one worker thread per linked host, while every request (each
hop of a redirect chain too) takes its own host's turn through
:class:`~scraper.politeness.HostGate`: at most one request in flight per host,
``max(delay, robots Crawl-delay)`` between its requests, robots.txt obeyed on every hop.
Different hosts are fetched at the same time; the whole crawl takes about as long as its
busiest host. Workers fetch and parse; only the calling thread writes to the archive, each
page whole (a batch of pages per transaction, committed at least every second and whenever
the writer has nothing to do, :meth:`scraper.ingest.RunContext.flush`), so an interruption
keeps every page written, and a kill -9 at most the pages of the last second.

A level of :data:`PARSE_PROCESS_MIN` pages or more is parsed in a child process
(:class:`scraper.parse_process.ParseProcess`): the workers hand it each HTML page they
fetched and go on fetching, and the parse, which holds the GIL, runs beside the writer
instead of taking turns with it. A PDF is still extracted by its worker (in its own bounded
child, :mod:`scraper.pdf`). An HTML body of :data:`~scraper.parse_process.MAX_CHILD_BODY` or
more is parsed by the writer itself, just before it is written
(:func:`~scraper.parse_process.for_writer` says why).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, wait
from dataclasses import dataclass
from typing import Any

from archive.capture import Capture
from archive.errors import BlockedURLError, FetchError, UsageError
from archive.lookup import last_full_capture_at, last_seed
from archive.model import Page
from archive.store import Archive, PreviousCapture
from archive.timeutil import from_iso, utcnow_iso
from archive.urls import host_key, normalize_url, url_problem
from archive.vocab import CONTENT_OUTCOMES, Outcome, RunStatus, Source
from scraper.fetch import Fetcher
from scraper.ingest import PageReport, RunContext, RunReport, parse_capture
from scraper.network import Network, open_network
from scraper.parse import parse
from scraper.parse_process import (
    PARSE_PROCESS_MIN,
    Parsed,
    ParseProcess,
    for_child,
    for_writer,
)
from scraper.politeness import (
    HostGate,
    RobotsRefusalError,
    RobotsUnreachableError,
    StoppedWaitingError,
)
from scraper.run_budget import RunBudget
from scraper.settings import DEFAULTS, CrawlSettings
from scraper.throttle import Throttle

logger = logging.getLogger(__name__)

#: The most URLs one crawl fetches (the seed included); links past it are not followed.
MAX_PAGES = 500
#: Seconds the writer waits for a page before it commits what it wrote (RunContext.flush).
IDLE = 0.2
#: A host's worker fetches up to this many pages ahead of the writer, ...
AHEAD = 8
#: ... as long as the bodies fetched and not yet recorded (all hosts') add up to less than this.
#: Pages differ tenfold in size and so in parse and write time: with one page ahead, the parser
#: process and the writer waited for each other in turn (bench/ingest.py).
AHEAD_BYTES = 4 << 20


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
    parsing: Future[Parsed] | None = None  # the page, being parsed in the child process
    unparsed: bool = False  # a big HTML body the writer parses (scraper.parse_process.for_writer)
    content_hash: str | None = None  # the page's, when the child computed it
    held: int = 0  # bytes of body counted in the level's _Room until it is recorded


class _Room:
    """The bytes of bodies fetched and not yet recorded; workers wait while there are
    :data:`AHEAD_BYTES` or more (the writer is that far behind)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._bytes = 0

    def wait(self, stop: threading.Event) -> None:
        with self._cond:
            while self._bytes >= AHEAD_BYTES and not stop.is_set():
                self._cond.wait(IDLE)

    def take(self, n: int) -> None:
        with self._cond:
            self._bytes += n

    def give(self, n: int) -> None:
        if n:
            with self._cond:
                self._bytes -= n
                self._cond.notify_all()


class _HostWorker(threading.Thread):
    """Fetches the URLs linked on one host in order; parses what it fetched.

    The waiting is done per request by the fetcher's hop hook (:class:`HostGate`), keyed by
    the host each request goes to, so a redirect to another host waits that host's turn.
    """

    def __init__(self, key: str, tasks: list[_Task], out: queue.Queue[_Done], *,
                 fetcher: Fetcher, gate: HostGate, stop: threading.Event,
                 clock: Callable[[], str],
                 page_of: Callable[[Capture], Page | None] = parse_capture,
                 parser: ParseProcess | None = None, room: _Room | None = None) -> None:
        super().__init__(name=f"crawl-{key}", daemon=True)
        self.key, self.tasks, self.out, self.page_of = key, tasks, out, page_of
        self.fetcher, self.gate, self.stop, self.clock = fetcher, gate, stop, clock
        self.parser = parser
        self.room = room or _Room()

    def run(self) -> None:
        for task in self.tasks:
            if self.stop.is_set():
                return
            self.room.wait(self.stop)
            done = self._one(task)
            if done.result is not None:
                done.held = len(done.result.body)
                self.room.take(done.held)
            self.out.put(done)

    def _one(self, task: _Task) -> _Done:
        try:
            prev = task.previous if task.conditional else None
            result = self.fetcher.fetch(
                task.url,
                etag=prev.etag if prev else None,
                last_modified=prev.last_modified if prev else None,
                hop=self.gate.hop,
            )
            at = result.fetched_at or self.clock()
            if self.parser is not None and for_child(result):
                # Parsed in the child while this thread fetches the next page.
                return _Done(task, at, result=result, parsing=self.parser.submit(result))
            if for_writer(result):
                return _Done(task, at, result=result, unparsed=True)
            return _Done(task, at, result=result, page=self.page_of(result))
        except StoppedWaitingError:
            return _Done(task, self.clock(), skipped=True)
        except RobotsRefusalError as e:
            return _Done(task, self.clock(), error=_reason(e, task), blocked=True)
        except RobotsUnreachableError as e:
            # An unreachable robots.txt is the host failing, not a rule: a failure.
            return _Done(task, self.clock(), error=_reason(e, task))
        except BlockedURLError as e:
            return _Done(task, self.clock(), error=str(e), blocked=True)
        except FetchError as e:
            return _Done(task, self.clock(), error=str(e))
        except Exception as e:  # a bug must cost one page, not the run
            logger.exception("unexpected error on %s", task.url)
            return _Done(task, self.clock(), error=f"internal error: {type(e).__name__}: {e}")


def _reason(error: FetchError, task: _Task) -> str:
    """A robots.txt refusal as recorded: the rule alone for the page's own URL, with the URL
    for a redirect hop (the page was refused because of where it redirects)."""
    return str(error.args[0]) if error.url == task.url else f"redirect to {error}"


def crawl(
    archive: Archive,
    seed: str,
    *,
    settings: CrawlSettings = DEFAULTS,
    network: Network | None = None,
    throttle: Throttle | None = None,
    max_pages: int = MAX_PAGES,
    stop: threading.Event | None = None,
    on_page: Callable[[PageReport], None] | None = None,
    clock: Callable[[], str] = utcnow_iso,
    source: Source | str = Source.CRAWL,
    options: dict[str, Any] | None = None,
    main: str | None = None,
    ignore: Sequence[str] = (),
) -> RunReport:
    """Crawl ``seed`` and the documents linked from its main content into ``archive``.

    ``settings.depth`` 0 is the seed alone; 1 adds the documents it links to, and so on. Each
    URL is fetched at most once per run. ``network`` is what to fetch with (else one is built
    from ``settings`` with ``throttle``, and closed at the end); a watch list passes one
    ``throttle`` to every crawl, so a host two seeds share keeps its delay. Returns a
    :class:`~scraper.ingest.RunReport`; the run's row in the archive says the same. Setting
    ``stop`` ends the crawl after the pages in flight, status ``interrupted``; pages not yet
    fetched then get no snapshot at all. ``options`` are recorded with the run (default: the
    settings).

    Conditional requests trust the server's validators, and a server that wrongly answers 304
    would hide a change for ever; so a page whose last full (200) body is older than
    ``settings.revalidate_days`` is fetched without validators (0: never send them).
    """
    stop = stop or threading.Event()
    if network is None:
        with open_network(settings, seed, clock=clock, throttle=throttle, stop=stop) as own:
            return crawl(archive, seed, settings=settings, network=own, max_pages=max_pages,
                         stop=stop, on_page=on_page, clock=clock, source=source,
                         options=options, main=main, ignore=ignore)
    seed = normalize_url(seed)
    report = RunReport(str(Source(source)), seed)
    with RunContext(archive, report, clock=clock, on_page=on_page, batch=True) as run:
        run_id = run.begin(seed, options=settings.run_options() if options is None else options)
        job = _Crawl(archive, run, run_id, settings, network, stop, clock,
                     selectors=(main, tuple(ignore)))
        try:
            seen = {seed}
            frontier = [seed]
            for level in range(settings.depth + 1):
                if not frontier or stop.is_set():
                    break
                next_frontier = job.level(frontier, level, seen)
                room = max(0, max_pages - len(seen))
                if len(next_frontier) > room:
                    logger.warning("link limit reached: %d links not followed",
                                   len(next_frontier) - room)
                    next_frontier = next_frontier[:room]
                seen.update(next_frontier)
                frontier = next_frontier
        finally:
            job.close()  # no parser process outlives the crawl, however it ends
        run.close(_status(report, stop))
    return report


def _status(report: RunReport, stop: threading.Event) -> RunStatus:
    if stop.is_set():
        return RunStatus.INTERRUPTED
    seed = report.pages[0] if report.pages else None
    if seed is None or seed.outcome not in CONTENT_OUTCOMES:
        # A seed that answers 404/410 (a typo, or the page taken down) archives nothing new.
        return RunStatus.FAILED
    if report.failed or report.suspect:
        return RunStatus.PARTIAL
    return RunStatus.COMPLETE


class _Crawl:
    """One crawl's state: the archive side of each level (what to fetch, what to record)."""

    def __init__(self, archive: Archive, run: RunContext, run_id: int,
                 settings: CrawlSettings, network: Network, stop: threading.Event,
                 clock: Callable[[], str],
                 selectors: tuple[str | None, tuple[str, ...]] = (None, ())) -> None:
        self.archive, self.run, self.run_id = archive, run, run_id
        self.settings, self.network, self.stop, self.clock = settings, network, stop, clock
        self.selectors = selectors  # a watch's main and ignore CSS selectors
        self.gate = HostGate(network.throttle, network.robots, delay=settings.delay,
                             stop=stop)
        days = settings.revalidate_days
        self.revalidate_after = days * 86400 if days else 0.0
        self.parser: ParseProcess | None = None  # started for the first level large enough

    def close(self) -> None:
        """End the parser process, if one was started."""
        if self.parser is not None:
            self.parser.close()

    def level(self, urls: list[str], level: int, seen: set[str]) -> list[str]:
        """Fetch one level's URLs (one worker per host), record them; the next level's."""
        by_host: dict[str, list[_Task]] = {}
        refused: list[_Done] = []
        for url in urls:
            problem = url_problem(url)
            if problem is not None:
                # A broken link on the page is recorded and refused; it never stops the crawl.
                refused.append(_Done(_Task(url, level, None), self.clock(), error=problem,
                                     blocked=True))
                continue
            by_host.setdefault(host_key(url), []).append(
                _Task(url, level, *self.previous(url, self.clock())))
        invalid = len(refused)
        # Bounded: a worker runs at most AHEAD pages ahead of the writer, and every worker
        # waits while AHEAD_BYTES of bodies are not yet recorded, however slow the writing.
        out: queue.Queue[_Done] = queue.Queue(maxsize=invalid + len(by_host) * AHEAD)
        room = _Room()
        for done in refused:
            out.put(done)
        net = self.network
        main, ignore = self.selectors
        page_of = functools.partial(parse_capture, main=main, ignore=ignore, stop=self.stop)
        if self.parser is None and len(urls) >= PARSE_PROCESS_MIN:
            self.parser = ParseProcess(main=main, ignore=ignore)
            self.parser.start()
        workers = [
            _HostWorker(key, tasks, out, fetcher=net.fetcher, gate=self.gate, stop=self.stop,
                        clock=self.clock, page_of=page_of, parser=self.parser, room=room)
            for key, tasks in by_host.items()
        ]
        for w in workers:
            w.start()
        expected = sum(len(t) for t in by_host.values()) + invalid
        next_urls: list[str] = []
        received = 0
        while received < expected:
            try:
                done = out.get(timeout=IDLE)
            except queue.Empty:
                self.run.flush()  # nothing to write for now: commit what was written
                if workers and not any(w.is_alive() for w in workers) and out.empty():
                    break  # stopped early: the workers that quit will not send the rest
                continue
            received += 1
            if done.skipped:
                continue
            if done.parsing is not None:
                self.parsed(done)
            elif done.unparsed and done.result is not None:
                done.page = page_of(done.result)
            try:
                report = self.record(done)
            finally:  # recorded or failed, its body no longer holds the workers back
                room.give(done.held)
            if level < self.settings.depth and not report.suspect:
                for link in self.links_of(done, report):
                    link = normalize_url(link)
                    if link not in seen and link not in next_urls:
                        next_urls.append(link)
        for w in workers:
            w.join(timeout=0.1 if self.stop.is_set() else None)
        self.run.flush()  # the level is written: the next one starts on the network
        return next_urls

    def previous(self, url: str, now: str) -> tuple[PreviousCapture | None, bool]:
        """The last trustworthy capture of ``url``, and whether a conditional request may
        rest on it.

        Not conditional when there is no capture, when its body can no longer be read (a
        damaged blob must not make every later run fail on the 304 it would get), or when
        the last full body is older than the revalidation age.
        """
        prev = self.archive.previous_capture(url)
        if prev is None or prev.body_sha256 is None:
            return prev, False
        try:
            intact = (hashlib.sha256(self.archive.blob(prev.body_sha256)).hexdigest()
                      == prev.body_sha256)
        except Exception as e:  # any decoding failure: refetch in full rather than trust it
            logger.warning("%s: stored body unreadable (%s); fetching it in full", url, e)
            return prev, False
        if not intact:
            logger.warning("%s: stored body does not match its hash; fetching it in full", url)
            return prev, False
        last_full = last_full_capture_at(self.archive, url)
        if last_full is None or (from_iso(now) - from_iso(last_full)).total_seconds() \
                >= self.revalidate_after:
            return prev, False
        return prev, True

    def links_of(self, done: _Done, report: PageReport) -> list[str]:
        """The links to follow from a page: parsed now, or from the stored body a 304
        confirmed."""
        if done.page is not None:
            return done.page.links
        prev = done.task.previous
        if report.outcome == Outcome.NOT_MODIFIED and prev is not None and prev.body_sha256:
            result = done.result
            main, ignore = self.selectors
            page = parse(self.archive.blob(prev.body_sha256),
                         url=result.final_url if result else done.task.url,
                         main=main, ignore=ignore)
            return page.links
        return []

    def parsed(self, done: _Done) -> None:
        """Wait for the child's parse of ``done`` (committing meanwhile if it is slow)."""
        assert done.parsing is not None and done.result is not None and self.parser is not None
        if not wait([done.parsing], timeout=IDLE).done:
            self.run.flush()
        done.page, done.content_hash = self.parser.parse(done.parsing, done.result)
        done.parsing = None

    def record(self, done: _Done) -> PageReport:
        task, result = done.task, done.result
        if result is not None and result.not_modified and not task.conditional:
            # We sent no validators, so a 304 is the server's error, not a confirmation.
            done.error, done.result = "304 Not Modified to an unconditional request", None
            result = None
        return self.run.ingest(
            self.run_id, task.url, result, captured_at=done.captured_at, page=done.page,
            baseline=task.previous, error=done.error, blocked=done.blocked, depth=task.depth,
            content_hash=done.content_hash)


def crawl_into(db: str, seed: str, settings: CrawlSettings = DEFAULTS, *, wait: float = 0.0,
               stop: threading.Event | None = None,
               on_page: Callable[[PageReport], None] | None = None,
               on_note: Callable[[str], None] | None = None,
               on_overrun: Callable[[], None] | None = None) -> tuple[RunReport, str]:
    """The ``crawl`` command's job: lock the archive file ``db`` (waiting up to ``wait``
    seconds), open it, mark runs a dead process left ``running`` interrupted, crawl ``seed``
    with ``settings``; return the report and the run's change summary ("" when nothing
    changed). ``on_note`` hears what is worth telling a person (stale runs, a new seed).

    The run has ``settings.max_run_seconds`` (:class:`scraper.run_budget.RunBudget`): then
    ``stop`` is set and the run ends ``interrupted``; ``on_overrun`` is called if it is still
    going a grace period later. A lock held longer than that budget is named in the
    ArchiveLockedError (the holder's pid, how long): that run is stuck.

    Raises UsageError for a seed that is not an absolute http(s) URL or an archive in a
    directory that does not exist, before anything is opened.
    """
    from archive.lock import ArchiveLock
    from archive.report_cron import summarize_run

    problem = url_problem(seed)
    if problem is not None:
        raise UsageError(f"{problem}: {seed!r}")
    parent = os.path.dirname(os.path.abspath(db))
    if not os.path.isdir(parent):
        raise UsageError(f"directory does not exist: {parent}")
    note = on_note or (lambda text: None)
    stop = stop or threading.Event()
    with ArchiveLock(db, wait=wait, stuck_after=settings.max_run_seconds), \
            Archive.open(db) as archive, \
            RunBudget(settings.max_run_seconds, stop, on_overrun=on_overrun):
        stale = archive.mark_stale_runs_interrupted()
        if stale:
            # Worth knowing once, not worth a cron mail: the log keeps it in any case.
            logger.info("marked stale run(s) %s interrupted", stale)
            note(f"marked stale run(s) {stale} interrupted")
        previous = last_seed(archive, Source.CRAWL)
        if previous is not None and previous != normalize_url(seed):
            note(f"note: the last crawl of this archive started from {previous}; this one "
                 f"starts from {normalize_url(seed)}")
        report = crawl(archive, seed, settings=settings, stop=stop, on_page=on_page)
        changes = summarize_run(archive, report.run_id) if report.changed else ""
        if changes:
            logger.info("run %d changes:\n%s", report.run_id, changes)
        return report, changes
