"""WARC import: the HTML and PDF captures of WARC files become snapshots.

Import (:func:`import_warc`) reads WARC files written by anyone (wget, Heritrix, Browsertrix,
us): every HTML or PDF ``response`` (and every ``revisit`` of one) becomes a snapshot at its
``WARC-Date``, parsed like a crawled page, in one run with source ``import``. Captures already
in the archive (same URL, same time, same body) are skipped, so importing a file twice changes
nothing. A damaged file imports what is whole: a record whose digest is wrong or whose payload
is cut short is named and skipped, and after unreadable bytes the reader resynchronises on the
next record it can find.

Captures can arrive older than what the archive already holds (importing last year's WARC
into this year's archive), while :meth:`archive.store.Archive.record_snapshot` judges
``changed`` against the page's latest observation. :func:`reconcile_pages` therefore recomputes
``changed``, the new/unchanged outcome and the first-seen times of every page an import
touched, walking its snapshots in capture order.

Snapshots are committed a batch at a time (:class:`scraper.ingest.RunContext` ``batch``): a
kill loses at most the last second's, which importing the file again writes. An import of
:data:`PARSE_PROCESS_MIN` records or more parses its HTML in a child process
(:class:`scraper.parse_process.ParseProcess`) a few records ahead of the one being written, so
reading, parsing and writing overlap.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

from archive.capture import HTML_TYPES, PDF_TYPES, Capture
from archive.lookup import body_captured_at, has_capture, has_later_capture
from archive.store import Archive, PreviousCapture
from archive.timeutil import from_iso, utcnow_iso
from archive.urls import normalize_url
from archive.vocab import BAD_OUTCOMES, FINISHED_STATUSES, RunStatus
from archive.warc_export import _media, archive_time
from scraper.ingest import RunContext, RunReport
from scraper.parse_process import PARSE_PROCESS_MIN, Parsed, ParseProcess, for_child
from scraper.settings import DEFAULTS
from scraper.sources.warc_read import WarcEntry, WarcReading, read_warcs

__all__ = ["import_warc", "our_run", "read_warcs"]

# A redirect record counts as a hop towards a response captured at most this long after it.
REDIRECT_WINDOW = timedelta(seconds=60)
MAX_HOPS = 10
#: An import of PARSE_PROCESS_MIN records or more parses in a child process, up to this many
#: records ahead of the one it writes, ...
AHEAD = 16
#: ... as long as the bodies being parsed ahead add up to less than this (a big body is never
#: sent: scraper.parse_process.MAX_CHILD_BODY).
AHEAD_BYTES = 4 << 20


def _is_document(media: str, body: bytes) -> bool:
    """HTML or PDF, by declared type or, when none is declared, by the first bytes."""
    if media in HTML_TYPES or media in PDF_TYPES or media.startswith("text/html"):
        return True
    if media:
        return False
    head = body[:1024].lstrip().lower()
    return head.startswith((b"%pdf-", b"<!doctype html", b"<html"))


def _requested(entry: WarcEntry, redirects: list[WarcEntry]) -> tuple[str, list[tuple[int, str]]]:
    """The URL first asked for, and the hops, reconstructed from 3xx records just before."""
    url, seen = entry.uri, {entry.uri}
    hops: list[tuple[int, str]] = []
    when = from_iso(entry.date)
    for _ in range(MAX_HOPS):
        best = None
        for r in redirects:
            target = urljoin(r.uri, (r.header("Location") or "").strip())
            if target != url or r.uri in seen:
                continue
            rwhen = from_iso(r.date)
            if when - REDIRECT_WINDOW <= rwhen <= when and (best is None or r.date > best.date):
                best = r
        if best is None:
            break
        hops.insert(0, (best.status, best.uri))
        seen.add(best.uri)
        url = best.uri
    return url, hops


def import_warc(archive: Archive, paths: Iterable[str | os.PathLike[str]], *,
                clock: Callable[[], str] = utcnow_iso,
                stop: threading.Event | None = None,
                reading: WarcReading | None = None) -> RunReport:
    """Import the HTML and PDF captures of WARC files into ``archive``; see the module doc.

    Records of all files are sorted by WARC-Date before they are written. A revisit takes
    its body from the record with the same payload digest (or the record it refers to) in
    these files, else from the archive's own capture of the referred URL at the referred
    time. Snapshots are written one transaction each (``origin_uri`` is the record's
    WARC-Record-ID), in one run with source ``import`` per ``warcinfo`` record of the files
    (so the runs of an exported archive come back as runs, with their seeds); a run is only
    created when it has something new to write, so importing twice adds nothing at all.
    Our own ``metadata`` records of failed captures come back as failed snapshots.

    Status: ``complete`` (no problems, whether or not the files held any page),
    ``partial`` (problems: records skipped, each named), ``failed`` (nothing readable) or
    ``interrupted``. Setting ``stop`` ends the import after the snapshot being written; what
    was written is kept, reconciled and its runs marked ``interrupted`` (``failed`` on an
    unexpected exception).

    ``reading`` is what :func:`read_warcs` read of ``paths`` already (else they are read now).
    """
    if reading is None:
        reading = read_warcs(paths)
        try:
            return import_warc(archive, paths, clock=clock, stop=stop, reading=reading)
        finally:
            reading.close()
    report = reading.report
    entries = reading.entries
    parser = ParseProcess() if len(entries) >= PARSE_PROCESS_MIN else None
    with RunContext(archive, report, clock=clock, reconcile=True, stop=stop,
                    batch=True) as run:
        importer = _Importer(archive, run, reading, parser)
        interrupted = False
        try:
            for n, entry in enumerate(entries):
                if stop is not None and stop.is_set():
                    interrupted = True
                    break
                importer.ahead(entries[n:n + AHEAD + 1])
                importer.entry(entry)
        finally:
            if parser is not None:
                parser.close()  # no parser process outlives the import, however it ends
        if interrupted:
            status = RunStatus.INTERRUPTED
        elif not reading.found and report.problems:
            status = RunStatus.FAILED  # nothing readable: damage, or not a WARC file at all
        else:
            # No page among records read whole is not a failure: a file of images or POSTs,
            # or of revisits we cannot resolve (each of those named).
            status = RunStatus.PARTIAL if report.problems else RunStatus.COMPLETE
        run.close(status)
    return report


def our_run(info: dict[str, str]) -> dict[str, str]:
    """What a warcinfo written by our export (``coop-run``, see :class:`_Exporter`) says of
    the run it describes: ``started``, ``finished`` (archive time text), ``status`` and
    ``source``, each only when present and well formed. Empty for anyone else's warcinfo.

    >>> our_run({"coop-run": "3", "coop-source": "crawl", "coop-status": "partial",
    ...          "coop-started": "2016-10-21T12:00:00Z", "coop-finished": "junk"})
    {'source': 'crawl', 'started': '2016-10-21T12:00:00.000000Z', 'status': 'partial'}
    >>> our_run({"software": "Wget/1.21"})
    {}
    """
    if not info.get("coop-run") or not info.get("coop-source"):
        return {}
    out = {"source": info["coop-source"]}
    for key, name in (("started", "coop-started"), ("finished", "coop-finished")):
        try:
            out[key] = archive_time(info[name])
        except (KeyError, ValueError):
            pass
    status = info.get("coop-status")
    if status == RunStatus.RUNNING:
        # exported while it ran: it never finished in that archive
        status = RunStatus.INTERRUPTED.value
    if status in FINISHED_STATUSES:
        out["status"] = status
    return dict(sorted(out.items()))


class _Importer:
    """Turns sorted entries into snapshots (one run per warcinfo group, made on first use)."""

    def __init__(self, archive: Archive, run: RunContext, reading: WarcReading,
                 parser: ParseProcess | None = None) -> None:
        self.archive, self.run, self.report = archive, run, run.report
        self.parser = parser
        # Parses asked for ahead, by the entry's identity (id() of an entry the list holds),
        # with the size of the body each holds; and every entry :meth:`ahead` has looked at, so
        # that none is read, hashed and looked up again as the window moves on.
        self.parsing: dict[int, tuple[Future[Parsed], int]] = {}
        self.looked: set[int] = set()
        self.redirects, self.requests = reading.redirects, reading.requests
        self.infos = reading.infos
        # The responses a revisit may stand for; their bodies are read back when needed.
        self.by_digest: dict[str, WarcEntry] = {}
        self.by_ref: dict[tuple[str, str], WarcEntry] = {}
        self.runs: dict[tuple[int, str], int] = {}

    def run_for(self, entry: WarcEntry, url: str) -> int:
        """The run of the entry's warcinfo group: begun on first use, with the times and the
        status of the run it came from when that warcinfo is ours (the import's own status
        wins when it is worse)."""
        if entry.group not in self.runs:
            info = self.infos.get(entry.group, {})
            seed = info.get("coop-seed") or url
            options: dict[str, Any] = {"file": os.path.abspath(self.report.files[entry.group[0]])}
            options.update({k: v for k, v in info.items() if k.startswith("coop-")
                            or k in ("software", "wget-arguments", "operator", "isPartOf")})
            ours = our_run(info)
            self.runs[entry.group] = self.run.begin(
                seed, options=options, started_at=ours.get("started"),
                status_floor=ours.get("status"), finished_at=ours.get("finished"))
        return self.runs[entry.group]

    def ahead(self, entries: list[WarcEntry]) -> None:
        """Ask the parser process for the parses of these coming entries, where they are
        responses that will likely be parsed (HTML, 2xx, not captured already). A guess: the
        entry itself decides, in order (:meth:`entry`), and parses in this thread what was
        not asked for."""
        if self.parser is None:
            return
        for entry in entries:
            if sum(size for _, size in self.parsing.values()) >= AHEAD_BYTES:
                return
            if id(entry) in self.looked:
                continue
            self.looked.add(id(entry))
            if entry.kind != "response" or not 200 <= entry.status < 300 \
                    or urlsplit(entry.uri).path == "/robots.txt":
                continue
            body = entry.payload()
            if body is None:
                continue
            capture = Capture(url=entry.uri, final_url=entry.uri, status=entry.status,
                              headers=entry.headers, body=body)
            if not for_child(capture) or not _is_document(
                    _media(entry.header("Content-Type")), body):
                continue
            url = normalize_url(_requested(entry, self.redirects)[0])
            if has_capture(self.archive, url, entry.date,
                           body_sha256=hashlib.sha256(body).hexdigest()):
                continue
            self.parsing[id(entry)] = (self.parser.submit(capture), len(body))

    def entry(self, entry: WarcEntry) -> None:
        parsing = self.parsing.pop(id(entry), (None, 0))[0]
        if entry.kind in BAD_OUTCOMES:
            self.failure(entry, normalize_url(entry.uri))
            return
        body = _resolve(self.archive, entry, self.by_digest, self.by_ref, self.report)
        if body is None:
            return
        media = _media(entry.header("Content-Type"))
        if not (200 <= entry.status < 300 or entry.status in (304, 404, 410)) \
                or not _is_document(media, body) or urlsplit(entry.uri).path == "/robots.txt":
            self.report.skipped += 1
            return
        self.report.captures += 1
        first, hops = _requested(entry, self.redirects)
        url = normalize_url(first)
        sha = hashlib.sha256(body).hexdigest()
        if has_capture(self.archive, url, entry.date, body_sha256=sha):
            self.report.already += 1
            return
        result = Capture(
            url=first, final_url=entry.uri, status=entry.status, reason=entry.reason,
            http_version=entry.protocol, headers=entry.headers,
            request_headers=self.requests.get(entry.record_id)
            or self.requests.get(entry.concurrent)
            or self.requests.get(f"{entry.uri} {entry.date}") or [],
            body=body, redirects=hops, fetched_at=entry.date, bytes_received=entry.wire_size,
        )
        result = _as_not_modified(self.archive, url, entry, result, sha, self.report)
        baseline = _previous(self.archive, url, entry.date) if 200 <= result.status < 300 \
            else None
        page = content_hash = None
        if parsing is not None and self.parser is not None and 200 <= result.status < 300:
            # The same arguments parse_capture would give parse() (body, final URL, type).
            page, content_hash = self.parser.parse(parsing, result)
        self.run.ingest(self.run_for(entry, url), url, result, captured_at=entry.date,
                        baseline=baseline, origin_uri=entry.record_id or None, page=page,
                        content_hash=content_hash)

    def failure(self, entry: WarcEntry, url: str) -> None:
        self.report.captures += 1
        if has_capture(self.archive, url, entry.date, outcome=entry.kind):
            self.report.already += 1
            return
        self.run.ingest(self.run_for(entry, url), url, None, captured_at=entry.date,
                        error=entry.error, blocked=entry.kind == "blocked",
                        origin_uri=entry.record_id or None)


def _resolve(archive: Archive, entry: WarcEntry, by_digest: dict[str, WarcEntry],
             by_ref: dict[tuple[str, str], WarcEntry], report: RunReport) -> bytes | None:
    """The decoded body of a response, or the original body a revisit stands for."""
    if entry.kind == "response":
        if entry.digest:
            by_digest.setdefault(entry.digest.upper(), entry)
        by_ref.setdefault((entry.uri, entry.date), entry)
        body = entry.payload()
        assert body is not None
        return body
    original = by_digest.get(entry.digest.upper()) if entry.digest else None
    if original is None and entry.refers_to is not None:
        original = by_ref.get(entry.refers_to)
    body = original.payload() if original is not None else None
    if body is None and entry.refers_to is not None:
        sha = body_captured_at(archive, normalize_url(entry.refers_to[0]),
                               entry.refers_to[0], entry.refers_to[1])
        body = archive.blob(sha) if sha else None
    if body is None:
        if not _may_be_document(entry):
            # A revisit of a stylesheet, script or image: we would not have kept its original
            # either, so nothing is lost. Counted with the other skipped records.
            report.skipped += 1
        else:
            report.problems.append(f"{entry.where}: revisit {entry.uri}: its original is in "
                                   "neither these files nor the archive; skipped")
    return body


def _may_be_document(entry: WarcEntry) -> bool:
    """Whether a revisit may stand for an HTML or PDF capture: by its declared type, else by
    its URL's extension; unknown means maybe."""
    media = _media(entry.header("Content-Type"))
    if not media:
        media = mimetypes.guess_type(urlsplit(entry.uri).path)[0] or ""
    return not media or _is_document(media, b"")


def _previous(archive: Archive, url: str, at: str) -> PreviousCapture | None:
    """The previous capture for the suspect check, only when nothing later is stored."""
    return None if has_later_capture(archive, url, at) else archive.previous_capture(url)


def _as_not_modified(archive: Archive, url: str, entry: WarcEntry, result: Capture,
                     sha: str, report: RunReport) -> Capture:
    """A 304 revisit stays a 304 when the store would confirm the same body; else a 200.

    The store points a 304 at the page's latest good capture. When that is not the body the
    revisit confirmed (or a later capture is already stored), the capture is recorded as a
    200 of the confirmed body instead, and the report says so.
    """
    if result.status != 304:
        return result
    prev = _previous(archive, url, entry.date)
    if prev is not None and prev.body_sha256 == sha:
        result.body = b""
        return result
    report.problems.append(f"{entry.where}: 304 revisit of {entry.uri} at {entry.date} "
                           "recorded as a 200 of the body it confirmed (out of order)")
    result.status, result.reason = 200, "OK"
    return result




def import_into(db: str, paths: Iterable[str | os.PathLike[str]], *, wait: float = 0.0,
                stop: threading.Event | None = None,
                max_bytes: int = DEFAULTS.max_bytes) -> RunReport:
    """The ``import`` command's job: read the files first, so files holding no WARC record
    (a typo, /etc/passwd) never create, lock or open the archive ``db``; then lock it
    (waiting up to ``wait`` seconds), open it and import. ``stop`` set while reading ends
    the job before the archive is touched. A payload over ``max_bytes`` once decompressed is
    skipped (a problem), never inflated whole."""
    from archive.lock import ArchiveLock

    paths = list(paths)
    reading = read_warcs(paths, max_bytes=max_bytes, stop=stop)
    try:
        if not reading.found or (stop is not None and stop.is_set()):
            return reading.report
        with ArchiveLock(db, wait=wait), Archive.open(db) as archive:
            return import_warc(archive, paths, stop=stop, reading=reading)
    finally:
        reading.close()
