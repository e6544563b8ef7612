"""Backfill a page's past from the Wayback Machine: CDX listing, ``id_`` captures, snapshots.

:func:`backfill` asks the CDX API for the page's captures (``output=json``, status 200 only,
adjacent identical digests collapsed), fetches each capture's original bytes from its ``id_``
URL (``/web/<timestamp>id_/<original>``: the archived response without the Wayback banner or
rewritten links) and stores them as snapshots at the capture time, with source ``wayback`` and
``origin_uri`` the capture's replay URL (``/web/<timestamp>/<original>``).

Then, depth 1, the documents: every item URL listed by any stored Wayback version of the hub is
looked up in CDX, and for each hub capture that lists it, the document capture *in effect at
that moment* is fetched: the latest capture at or before the hub's time (with collapsed digests
a listed capture stands for every identical one after it until the next change), or the first
one after it when there is none before. So the links of a historical hub resolve to the
historical documents.

Politeness. The Internet Archive limits the CDX API (about 60 requests a minute averaged,
lower at times) and firewalls a client that keeps going after 429s for an hour. So every
request, CDX or capture, waits ``settings.delay`` seconds after the previous one (default 4 s,
15 a minute); the fetcher retries a 429 after the server's Retry-After; and a 429 that outlasts
the retries ends the backfill at once (status ``interrupted``), as do ``max_consecutive_failures``
failures in a row. Nothing failed is stored.

Resuming. A capture whose ``origin_uri`` is already stored with source ``wayback`` is not
fetched again, so rerunning an interrupted backfill picks up where it stopped and never stores
a capture twice. Each capture is written in its own transaction.

A time budget. :func:`backfill_into` gives the run ``settings.max_run_seconds``, as a crawl
has: a backfill takes ``delay`` seconds a request, so a long past can outlast it; it then ends
``interrupted`` and frees the archive for the next crawl, and a rerun resumes.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode, urlsplit

from archive.capture import Capture
from archive.errors import FetchError, TransientFetchError, UsageError
from archive.lookup import has_origin, versions_from
from archive.store import Archive
from archive.timeutil import capture_date_problem, utcnow_iso
from archive.urls import normalize_url
from archive.vocab import RunStatus, Source
from scraper.fetch import Fetcher
from scraper.ingest import RunContext, RunReport
from scraper.run_budget import RunBudget
from scraper.settings import DEFAULT_WAYBACK, BackfillSettings
from scraper.throttle import Throttle

logger = logging.getLogger(__name__)

DEFAULT_INTERVAL = BackfillSettings().delay
_KEY = "wayback"  # the throttle's key: every request goes to the one Wayback Machine
CDX_FIELDS = ("timestamp", "original", "statuscode", "digest", "mimetype")
_TS_RE = re.compile(r"^\d{4,14}$")
_ID_URL_RE = re.compile(r"/web/(\d{14})id_/")


@dataclass(frozen=True)
class CdxCapture:
    """One row of a CDX answer."""

    timestamp: str
    original: str
    statuscode: str = ""
    digest: str = ""
    mimetype: str = ""

    @property
    def captured_at(self) -> str:
        """The capture time as archive text (CDX timestamps are UTC, to the second)."""
        return capture_time(self.timestamp)

    def replay_url(self, base: str) -> str:
        """The capture's Wayback URL, as stored in ``origin_uri``."""
        return f"{base.rstrip('/')}/web/{self.timestamp}/{self.original}"

    def raw_url(self, base: str) -> str:
        """The ``id_`` URL that serves the capture's original bytes."""
        return f"{base.rstrip('/')}/web/{self.timestamp}id_/{self.original}"


def capture_time(timestamp: str) -> str:
    """A 14-digit Wayback timestamp as archive time text.

    >>> capture_time("20161021140307")
    '2016-10-21T14:03:07.000000Z'
    """
    ts = timestamp.ljust(14, "0")
    return f"{ts[0:4]}-{ts[4:6]}-{ts[6:8]}T{ts[8:10]}:{ts[10:12]}:{ts[12:14]}.000000Z"


def timestamp_problem(timestamp: str) -> str | None:
    """Why a CDX timestamp cannot be a capture date (not 14 digits of a real, past time), or
    None.

    >>> timestamp_problem("20161021140307") is None
    True
    >>> timestamp_problem("20200230000000")
    "capture timestamp '20200230000000' is not a real date and time"
    """
    if not re.fullmatch(r"\d{14}", timestamp) or not _real_time(timestamp):
        return f"capture timestamp {timestamp!r} is not a real date and time"
    return capture_date_problem(capture_time(timestamp))


def cdx_date(value: str | None) -> str | None:
    """A --from/--to DATE (YYYY, YYYY-MM, YYYY-MM-DD, or 4-14 digits) as a CDX timestamp.

    Every part given must exist: a month 01-12, a day of that month, an hour, minute and
    second in range. Raises UsageError otherwise.

    >>> cdx_date("2016-10-21"), cdx_date("2016"), cdx_date(None)
    ('20161021', '2016', None)
    >>> cdx_date("2017-13")
    Traceback (most recent call last):
    ...
    archive.errors.UsageError: not a date: '2017-13' (use YYYY, YYYY-MM or YYYY-MM-DD)
    """
    if value is None:
        return None
    digits = value.strip().replace("-", "").replace(":", "").replace("T", "")
    if not _TS_RE.match(digits) or len(digits) % 2 or not _real_time(digits):
        raise UsageError(f"not a date: {value!r} (use YYYY, YYYY-MM or YYYY-MM-DD)")
    return digits


def _real_time(digits: str) -> bool:
    """True when every part of a CDX timestamp prefix is in range (2016-02-29 yes, -30 no)."""
    full = digits + "0101000000"[len(digits) - 4:]
    try:
        datetime.strptime(full, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def check_range(from_date: str | None, to_date: str | None) -> tuple[str | None, str | None]:
    """--from and --to as CDX timestamps (:func:`cdx_date`), refusing --from after --to.

    Both are inclusive prefixes: ``--from 2017-06 --to 2017`` is fine, ``--from 2018 --to
    2017`` is not (UsageError).
    """
    lo, hi = cdx_date(from_date), cdx_date(to_date)
    if lo is not None and hi is not None and lo.ljust(14, "0") > hi.ljust(14, "9"):
        raise UsageError(f"--from {from_date} is after --to {to_date}: swap them")
    return lo, hi


def check_base(cdx_base: str) -> str:
    """The Wayback base URL, refused (UsageError) unless it is http(s) with a host."""
    parts = urlsplit(cdx_base.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--wayback-url must be an http(s) URL with a host, not {cdx_base!r}")
    return cdx_base.strip()


def cdx_query(fetcher: Fetcher, throttle: Throttle, url: str, *,
              cdx_base: str = DEFAULT_WAYBACK, from_date: str | None = None,
              to_date: str | None = None, interval: float = DEFAULT_INTERVAL,
              stop: threading.Event | None = None) -> list[CdxCapture]:
    """The status-200 captures of ``url``, digests collapsed, oldest first (at least
    ``interval`` seconds after the previous request through ``throttle``).

    Raises FetchError if the CDX API cannot be reached or answers with something that is
    not its JSON (the first row names the fields; an empty answer is ``[]``).
    """
    params = {"url": url, "output": "json", "filter": "statuscode:200",
              "collapse": "digest", "fl": ",".join(CDX_FIELDS)}
    if from_date:
        params["from"] = from_date
    if to_date:
        params["to"] = to_date
    query = f"{cdx_base.rstrip('/')}/cdx/search/cdx?{urlencode(params)}"
    throttle.wait(_KEY, interval, stop)
    try:
        result = fetcher.fetch(query)
    finally:
        throttle.done(_KEY)
    if result.status != 200:
        raise FetchError(f"CDX answered HTTP {result.status}", url=query)
    text = result.body.decode("utf-8", "replace").strip()
    if not text:
        return []
    try:
        rows = json.loads(text)
    except ValueError:
        raise FetchError("CDX answer is not JSON", url=query) from None
    if not isinstance(rows, list) or not rows:
        return []
    header = [str(h) for h in rows[0]]
    out = []
    for row in rows[1:]:
        rec = dict(zip(header, (str(v) for v in row), strict=False))
        if not rec.get("timestamp") or not rec.get("original"):
            continue
        out.append(CdxCapture(rec["timestamp"], rec["original"], rec.get("statuscode", ""),
                              rec.get("digest", ""), rec.get("mimetype", "")))
    out.sort(key=lambda c: c.timestamp)
    return out


def in_effect_at(captures: list[CdxCapture], timestamp: str) -> CdxCapture | None:
    """The capture showing the document at ``timestamp``: the latest at or before it, else the
    first after it (``captures`` oldest first).

    >>> caps = [CdxCapture("20160101000000", "u"), CdxCapture("20160301000000", "u")]
    >>> in_effect_at(caps, "20160215000000").timestamp, in_effect_at(caps, "2015").timestamp
    ('20160101000000', '20160101000000')
    """
    ts = timestamp.ljust(14, "0")
    before = [c for c in captures if c.timestamp.ljust(14, "0") <= ts]
    if before:
        return before[-1]
    return captures[0] if captures else None


class _Abort(Exception):
    """Stop the backfill now (rate limited, Wayback down, or asked to stop)."""


#: ``RunReport.stopped`` of a backfill ended by its stop event (a signal, or the run budget's
#: own words when the budget ran out: :func:`backfill_into`).
STOPPED = "interrupted"


class _Backfill:
    def __init__(self, archive: Archive, run: RunContext, run_id: int, *, fetcher: Fetcher,
                 throttle: Throttle, interval: float, cdx_base: str,
                 stop: threading.Event, wait_stop: threading.Event | None,
                 max_consecutive_failures: int,
                 on_capture: Callable[[str, str, str], None] | None) -> None:
        self.archive, self.run, self.run_id, self.fetcher = archive, run, run_id, fetcher
        self.report = run.report
        self.throttle, self.interval = throttle, interval
        self.base, self.stop, self.wait_stop = cdx_base.rstrip("/"), stop, wait_stop
        self.max_failures = max_consecutive_failures
        self.on_capture = on_capture
        self.consecutive = 0

    def stored(self, origin: str) -> bool:
        return has_origin(self.archive, Source.WAYBACK, origin)

    def query(self, url: str, from_date: str | None = None,
              to_date: str | None = None) -> list[CdxCapture]:
        if self.stop.is_set():
            raise _Abort(STOPPED)
        try:
            caps = cdx_query(self.fetcher, self.throttle, url, cdx_base=self.base,
                             from_date=from_date, to_date=to_date, interval=self.interval,
                             stop=self.wait_stop)
        except FetchError as e:
            self._stopped_during(e)
            self.fail(f"CDX query for {url}: {e}", e)
            return []
        self.consecutive = 0
        good = []
        for cap in caps:
            problem = timestamp_problem(cap.timestamp)
            if problem is None:
                good.append(cap)
            else:
                # A listing is not trusted blindly: a forged date would become "the latest".
                self.report.problems.append(f"CDX listing for {url}: {problem}; skipped")
        return good

    def _stopped_during(self, error: FetchError) -> None:
        """A request cut short because the backfill was asked to stop is no failure of the
        Wayback Machine's: the backfill ends ``interrupted``, even on its last request."""
        if self.stop.is_set():
            raise _Abort(STOPPED) from error

    def fail(self, message: str, error: FetchError) -> None:
        # Info, not warning: the failure is in the report, and the CLI names it once.
        logger.info("%s", message)
        self.report.problems.append(message)
        self.consecutive += 1
        if isinstance(error, TransientFetchError) and error.status == 429:
            raise _Abort("rate limited by the Wayback Machine (429 after retries); "
                         "rerun later to resume")
        if self.consecutive >= self.max_failures:
            raise _Abort(f"{self.consecutive} failures in a row; rerun later to resume")

    def capture(self, cap: CdxCapture, page_url: str) -> None:
        """Fetch one capture and store it, unless it is stored already."""
        origin = cap.replay_url(self.base)
        if self.stored(origin):
            self.report.already += 1
            return
        if self.stop.is_set():
            raise _Abort(STOPPED)
        self.throttle.wait(_KEY, self.interval, self.wait_stop)
        if self.stop.is_set():
            raise _Abort(STOPPED)
        try:
            fetched = self.fetcher.fetch(cap.raw_url(self.base))
        except FetchError as e:
            self._stopped_during(e)
            self.fail(f"{origin}: {e}", e)
            return
        finally:
            self.throttle.done(_KEY)
        if fetched.status != 200:
            self.fail(f"{origin}: Wayback answered HTTP {fetched.status}",
                      FetchError(f"HTTP {fetched.status}", url=origin))
            return
        self.consecutive = 0
        moved = _ID_URL_RE.search(fetched.final_url)
        if moved and moved.group(1) != cap.timestamp and timestamp_problem(moved.group(1)):
            self.fail(f"{origin}: Wayback redirected to a capture dated "
                      f"{moved.group(1)!r}: {timestamp_problem(moved.group(1))}",
                      FetchError("bad capture date", url=origin))
            return
        if moved and moved.group(1) != cap.timestamp:
            # Wayback redirected to another capture: store that one, under its own time.
            cap = CdxCapture(moved.group(1), cap.original, cap.statuscode, cap.digest,
                             cap.mimetype)
            origin = cap.replay_url(self.base)
            if self.stored(origin):
                self.report.already += 1
                return
        at = cap.captured_at
        result = Capture(
            url=page_url, final_url=cap.original, status=200, reason=fetched.reason,
            http_version=fetched.http_version, headers=fetched.headers,
            request_headers=fetched.request_headers, body=fetched.body, fetched_at=at,
            bytes_received=fetched.bytes_received,
        )
        # No suspect baseline: the page's stored captures may be later than this one.
        self.run.ingest(self.run_id, page_url, result, captured_at=at, origin_uri=origin)
        if self.on_capture is not None:
            self.on_capture(page_url, at, origin)

    def hub_times(self, page_url: str, from_date: str | None,
                  to_date: str | None) -> list[tuple[str, int]]:
        """(Wayback timestamp, version id) of every stored Wayback capture of the hub."""
        out = []
        for captured_at, version_id in versions_from(self.archive, page_url, Source.WAYBACK):
            ts = re.sub(r"\D", "", captured_at)[:14]
            if from_date and ts < from_date.ljust(14, "0"):
                continue
            if to_date and ts[: len(to_date)] > to_date:
                continue
            out.append((ts, version_id))
        return out


def backfill(
    archive: Archive,
    url: str,
    *,
    fetcher: Fetcher,
    settings: BackfillSettings | None = None,
    cdx_base: str = DEFAULT_WAYBACK,
    from_date: str | None = None,
    to_date: str | None = None,
    stop: threading.Event | None = None,
    max_consecutive_failures: int = 3,
    on_capture: Callable[[str, str, str], None] | None = None,
    clock: Callable[[], str] = utcnow_iso,
    throttle: Throttle | None = None,
    sleep: Callable[[float], Any] = time.sleep,
    monotonic: Callable[[], float] = time.monotonic,
) -> RunReport:
    """Store the Wayback Machine's captures of ``url`` (and, depth 1, of its documents).

    ``from_date`` / ``to_date`` bound the hub's captures (YYYY[-MM[-DD]] or CDX digits).
    ``fetcher`` must be allowed to reach ``cdx_base`` (its AddressPolicy seeded with it) and
    does the 429/5xx retries; ``settings.delay`` spaces every request, ``settings.depth`` 1
    also backfills the documents. ``on_capture(page_url, captured_at, origin_uri)`` is called
    after each stored capture; setting ``stop`` ends the backfill before its next request
    (status ``interrupted``). See the module docstring.
    """
    settings = settings or BackfillSettings()
    page_url = normalize_url(url)
    # Usage errors before anything is written: no run for a backfill that cannot start.
    lo, hi = check_range(from_date, to_date)
    cdx_base = check_base(cdx_base)
    stop = stop or threading.Event()
    throttle = throttle or Throttle(sleep=sleep, monotonic=monotonic)
    report = RunReport(Source.WAYBACK, page_url)
    with RunContext(archive, report, clock=clock, reconcile=True) as run:
        run_id = run.begin(page_url, options={
            "wayback": cdx_base, "from": lo, "to": hi, "depth": settings.depth,
            "min_interval": settings.delay, "max_run_seconds": settings.max_run_seconds})
        job = _Backfill(archive, run, run_id, fetcher=fetcher, throttle=throttle,
                        interval=settings.delay, cdx_base=cdx_base, stop=stop,
                        wait_stop=stop if sleep is time.sleep else None,
                        max_consecutive_failures=max_consecutive_failures,
                        on_capture=on_capture)
        hub_listed = False
        try:
            caps = job.query(url, lo, hi)
            hub_listed = not report.problems
            report.listed += len(caps)
            for cap in caps:
                job.capture(cap, page_url)
            if settings.depth >= 1 and hub_listed:
                _documents(job, page_url, lo, hi)
        except _Abort as e:
            report.stopped = str(e)
        if report.stopped is not None:
            status = RunStatus.INTERRUPTED
        elif not hub_listed:
            status = RunStatus.FAILED
        else:
            status = RunStatus.PARTIAL if report.problems else RunStatus.COMPLETE
        run.close(status)
    return report


def _documents(job: _Backfill, page_url: str, lo: str | None, hi: str | None) -> None:
    """Depth 1: each document listed by a historical hub, as it was at that hub's time."""
    wanted: dict[str, list[str]] = {}  # document URL -> hub timestamps that list it
    versions: dict[int, list[str]] = {}
    for ts, vid in job.hub_times(page_url, lo, hi):
        if vid not in versions:
            versions[vid] = [i.url for i in job.archive.load_version(vid).items
                             if i.url and i.url.startswith(("http://", "https://"))]
        for doc in versions[vid]:
            doc = normalize_url(doc)
            if doc != page_url:
                wanted.setdefault(doc, []).append(ts)
    for doc, times in wanted.items():
        caps = job.query(doc)
        job.report.listed += len(caps)
        if not caps:
            continue
        job.report.documents += 1
        chosen: dict[str, CdxCapture] = {}
        for ts in times:
            cap = in_effect_at(caps, ts)
            if cap is not None:
                chosen[cap.timestamp] = cap
        for cap in sorted(chosen.values(), key=lambda c: c.timestamp):
            job.capture(cap, doc)


def backfill_into(db: str, url: str, settings: BackfillSettings | None = None, *,
                  cdx_base: str = DEFAULT_WAYBACK, from_date: str | None = None,
                  to_date: str | None = None, wait: float = 0.0,
                  stop: threading.Event | None = None,
                  on_capture: Callable[[str, str, str], None] | None = None,
                  on_overrun: Callable[[], None] | None = None) -> RunReport:
    """The ``backfill`` command's job: check the dates and the Wayback base (UsageError
    before the archive is opened, created or locked), lock ``db`` (waiting up to ``wait``
    seconds), open it and :func:`backfill` ``url`` with a fetcher built from ``settings``.

    The run has ``settings.max_run_seconds``, as a crawl has
    (:class:`scraper.run_budget.RunBudget`): then ``stop`` is set, the request in flight ends,
    and the backfill ends ``interrupted`` with the captures it stored (each in its own
    transaction; rerun to resume), ``stopped`` saying the budget ran out. ``on_overrun`` is
    called if it is still going a grace period later. A lock held longer than that budget is
    named in the ArchiveLockedError."""
    from archive.lock import ArchiveLock
    from scraper.network import open_network

    settings = settings or BackfillSettings()
    check_range(from_date, to_date)
    cdx_base = check_base(cdx_base)
    stop = stop or threading.Event()
    with ArchiveLock(db, wait=wait, stuck_after=settings.max_run_seconds), \
            Archive.open(db) as archive, \
            open_network(settings, cdx_base, backoff=settings.retry_backoff,
                         stop=stop) as network, \
            RunBudget(settings.max_run_seconds, stop, on_overrun=on_overrun) as budget:
        report = backfill(archive, url, fetcher=network.fetcher, settings=settings,
                          cdx_base=cdx_base, from_date=from_date, to_date=to_date, stop=stop,
                          on_capture=on_capture, throttle=network.throttle)
    if budget.expired and report.stopped == STOPPED:
        report.stopped = (f"the run's time budget of {settings.max_run_seconds:g}s ran out; "
                          "rerun to resume")
    return report
