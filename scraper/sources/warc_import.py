"""WARC (ISO 28500) export and import, through warcio.

Export (:func:`export_warc`) writes WARC 1.1: one ``warcinfo`` record, then for each capture
in time order a ``request`` and a ``response`` record carrying the original status line and
headers. A body already written to the file becomes a ``revisit`` record (profile
*identical-payload-digest*) pointing at the first record that carried it; a capture that
answered 304 becomes a ``revisit`` (profile *server-not-modified*) of the body it confirmed.
Redirect hops a crawl followed are written as bodiless 3xx ``response`` records.

The archive keeps bodies *decoded* (Content-Encoding undone, chunking gone), so an exported
response whose headers said ``Content-Encoding: gzip`` would lie about its payload. Export
therefore drops ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` from the
response headers, keeps their original values as ``X-Coop-Orig-<Name>`` headers, and adds a
``Content-Length`` that matches the payload.

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
"""

from __future__ import annotations

import hashlib
import io
import logging
import mmap
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord

from archive.capture import Capture
from archive.reconcile import reconcile_pages
from archive.store import Archive
from archive.timeutil import from_iso, utcnow_iso
from archive.urls import normalize_url
from archive.warc_export import _media, archive_time, payload_digest

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
# A redirect record counts as a hop towards a response captured at most this long after it.
REDIRECT_WINDOW = timedelta(seconds=60)
MAX_HOPS = 10
# Fields every WARC record must have (WARC 1.1, section 5); a header without them was cut.
_MANDATORY = ("WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length")


# -- import: reading records ----------------------------------------------------------------


@dataclass
class _Entry:
    """A response or revisit record, read whole and kept until the import sorts them."""

    kind: str  # "response" | "revisit" | "failed" | "blocked" (our metadata records)
    uri: str
    date: str  # archive time text
    order: tuple[int, int]  # (file index, offset): ties in time keep file order
    status: int
    reason: str
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes | None = None  # decoded (chunking and Content-Encoding undone)
    wire_size: int = 0
    digest: str | None = None
    refers_to: tuple[str, str] | None = None  # (uri, archive time) for revisits
    profile: str = ""
    record_id: str = ""
    where: str = ""
    group: tuple[int, str] = (0, "")  # (file index, warcinfo record id): one run per group
    concurrent: str = ""  # WARC-Concurrent-To (wget: the request record)
    error: str | None = None

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


@dataclass
class _FileRead:
    entries: list[_Entry] = field(default_factory=list)
    redirects: list[_Entry] = field(default_factory=list)
    requests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    infos: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)
    last_info: str = ""
    records: int = 0
    skipped: int = 0


@dataclass
class ImportReport:
    """What :func:`import_warc` did.

    ``problems`` names every damaged or unusable record, one line each. ``status`` is
    ``complete`` (no problems), ``partial`` (problems, but some captures found) or ``failed``
    (no capture found at all).
    """

    files: list[str] = field(default_factory=list)
    run_ids: list[int] = field(default_factory=list)
    records: int = 0
    captures: int = 0
    imported: int = 0
    new_versions: int = 0
    duplicates: int = 0
    skipped: int = 0
    reconciled: int = 0
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def status(self) -> str:
        if self.interrupted:
            return "interrupted"
        if self.captures == 0:
            return "failed"
        return "partial" if self.problems else "complete"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form."""
        return {"files": self.files, "run_ids": self.run_ids, "status": self.status,
                "records": self.records, "captures": self.captures, "imported": self.imported,
                "new_versions": self.new_versions, "duplicates": self.duplicates,
                "skipped": self.skipped, "reconciled": self.reconciled,
                "problems": self.problems}


def _is_document(media: str, body: bytes) -> bool:
    """HTML or PDF, by declared type or, when none is declared, by the first bytes."""
    if media in HTML_TYPES or media in PDF_TYPES or media.startswith("text/html"):
        return True
    if media:
        return False
    head = body[:1024].lstrip().lower()
    return head.startswith((b"%pdf-", b"<!doctype html", b"<html"))


def _sync_points(path: str, start: int, gz: bool) -> int | None:
    """The offset of the next place after ``start`` where a record may begin, or None."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        if start >= size:
            return None
        with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            if gz:
                pos = mm.find(b"\x1f\x8b\x08", start)
                return None if pos < 0 else pos
            pos = mm.find(b"\nWARC/1.", start)
            return None if pos < 0 else pos + 1


def _is_gzip(path: str) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _read_file(path: str, index: int, problems: list[str]) -> _FileRead:
    """Every usable record of one file; damage is named in ``problems`` and stepped over."""
    out = _FileRead()
    gz = _is_gzip(path)
    name = os.path.basename(path)
    offset = 0
    while offset is not None:
        with open(path, "rb") as fh:
            fh.seek(offset)
            failed_at = _read_from(fh, path, index, out, problems)
        if failed_at is None:
            break
        nxt = _sync_points(path, failed_at + 1, gz)
        if nxt is None:
            break
        problems.append(f"{name}: resuming at offset {nxt}")
        offset = nxt
    return out


class _QuietIterator(ArchiveIterator):
    """warcio's iterator, minus the warning it writes to stderr itself (we count them)."""

    INC_RECORD = ""


def _read_from(fh: BinaryIO, path: str, index: int, out: _FileRead,
               problems: list[str]) -> int | None:
    """Read records from ``fh``'s position; return the offset where reading broke, or None."""
    name = os.path.basename(path)
    it = _QuietIterator(fh, check_digests=True)
    at = fh.tell()
    records = iter(it)
    while True:
        errors = it.err_count
        try:
            record = next(records)
        except StopIteration:
            return _trailing(fh, it.offset, name, problems)
        except Exception as e:  # warcio raises ArchiveLoadFailed, zlib.error, ValueError...
            problems.append(f"{name}: offset {it.offset}: {_load_error(e, it.offset)}")
            return max(it.offset, at)
        if it.err_count > errors:
            problems.append(f"{name}: offset {at}: record not followed by the blank lines "
                            "that end a record (wrong Content-Length?)")
        at = it.offset
        if record.format != "warc":
            problems.append(f"{name}: offset {at}: not a WARC record")
            return at
        out.records += 1
        try:
            _take(record, f"{name}: offset {at}", (index, at), out, problems)
        except Exception as e:
            problems.append(f"{name}: offset {at}: damaged record: {_one_line(e)}")
            return at


def _trailing(fh: BinaryIO, end: int, name: str, problems: list[str]) -> int | None:
    """Bytes after the last whole record (a cut-off record, or junk) are a problem."""
    size = os.fstat(fh.fileno()).st_size
    if end >= size:
        return None
    fh.seek(end)
    if not fh.read(size - end).strip(b"\r\n\x00 "):
        return None
    problems.append(f"{name}: offset {end}: {size - end} bytes after the last whole record "
                    "could not be read (a truncated record?)")
    return end


def _load_error(e: BaseException, offset: int) -> str:
    """warcio's reason for not reading a record, without the bytes it quotes: its "first
    line:" is the file's own content (a password file given by mistake stays private)."""
    text = str(e)
    if "first line:" in text:
        if offset == 0:
            return "not a WARC file (no WARC/1.x record header)"
        return "unreadable: no WARC/1.x record header"
    return f"unreadable: {_one_line(e)}"


def _one_line(e: BaseException) -> str:
    text = " ".join(str(e).split()) or type(e).__name__
    return text[:200]


def _take(record: ArcWarcRecord, where: str, order: tuple[int, int], out: _FileRead,
          problems: list[str]) -> None:
    """Read one record whole and keep what the import needs from it."""
    rec_type = record.rec_type
    uri = record.rec_headers.get_header("WARC-Target-URI") or ""
    raw = record.raw_stream.read()
    missing = [f for f in _MANDATORY if not record.rec_headers.get_header(f)]
    if missing:
        problems.append(f"{where}: {rec_type or 'record'} {uri}: header lacks "
                        f"{', '.join(missing)} (truncated?); skipped")
        return
    expected = record.payload_length if record.http_headers else record.length
    if expected is not None and expected >= 0 and len(raw) < expected:
        problems.append(f"{where}: {rec_type} {uri}: truncated ({len(raw)} of {expected} "
                        "bytes); skipped")
        return
    if record.digest_checker is not None and record.digest_checker.passed is False:
        why = "; ".join(record.digest_checker.problems) or "digest mismatch"
        problems.append(f"{where}: {rec_type} {uri}: {why}; skipped")
        return
    index = order[0]
    info_id = record.rec_headers.get_header("WARC-Warcinfo-ID") or out.last_info
    if rec_type == "warcinfo":
        out.last_info = record.rec_headers.get_header("WARC-Record-ID") or ""
        out.infos[(index, out.last_info)] = _parse_fields(raw)
        out.skipped += 1
        return
    if rec_type == "metadata":
        _take_failure(record, raw, uri, where, order, (index, info_id), out)
        return
    if rec_type == "request":
        # warcio names the response in the request's WARC-Concurrent-To; wget names the
        # request in the response's. Keep both keys, and (URI, date) as a last resort.
        keys = (record.rec_headers.get_header("WARC-Concurrent-To"),
                record.rec_headers.get_header("WARC-Record-ID"),
                f"{uri} {record.rec_headers.get_header('WARC-Date')}")
        if record.http_headers is not None:
            headers = [(str(k), str(v)) for k, v in record.http_headers.headers]
            for key in filter(None, keys):
                out.requests[key] = headers
        return
    if rec_type not in ("response", "revisit") or not uri.startswith(("http:", "https:")):
        out.skipped += 1
        return
    http_headers = record.http_headers
    date_text = record.rec_headers.get_header("WARC-Date")
    if not date_text:
        problems.append(f"{where}: {rec_type} {uri}: no WARC-Date; skipped")
        return
    if http_headers is None and rec_type == "response":
        out.skipped += 1
        return
    try:
        status = int(http_headers.get_statuscode()) if http_headers else 200
        date = archive_time(date_text)
    except ValueError as e:
        problems.append(f"{where}: {rec_type} {uri}: {_one_line(e)}; skipped")
        return
    entry = _Entry(
        kind=rec_type, uri=uri, date=date, order=order, status=status,
        reason=(http_headers.statusline.split(" ", 1)[1] if http_headers
                and " " in http_headers.statusline else ""),
        protocol=(http_headers.protocol if http_headers else "") or "HTTP/1.1",
        headers=[(str(k), str(v)) for k, v in http_headers.headers] if http_headers else [],
        wire_size=len(raw), record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
        digest=record.rec_headers.get_header("WARC-Payload-Digest"), where=where,
        group=(index, info_id),
        concurrent=record.rec_headers.get_header("WARC-Concurrent-To") or "",
    )
    if rec_type == "revisit":
        ref_uri = record.rec_headers.get_header("WARC-Refers-To-Target-URI")
        ref_date = record.rec_headers.get_header("WARC-Refers-To-Date")
        try:
            entry.refers_to = (ref_uri, archive_time(ref_date)) if ref_uri and ref_date else None
        except ValueError:
            entry.refers_to = None
        entry.profile = record.rec_headers.get_header("WARC-Profile") or ""
        out.entries.append(entry)
        return
    if 300 <= status < 400 and entry.header("Location"):
        out.redirects.append(entry)
        return
    # Decode the payload exactly as warcio would (chunked framing, Content-Encoding).
    record.raw_stream = io.BytesIO(raw)
    entry.body = record.content_stream().read()
    if entry.digest is None:
        entry.digest = payload_digest(raw)
    out.entries.append(entry)


def _parse_fields(raw: bytes) -> dict[str, str]:
    """A warc-fields block as a dict (later duplicates win)."""
    out = {}
    for line in raw.decode("utf-8", "replace").splitlines():
        name, sep, value = line.partition(":")
        if sep:
            out[name.strip()] = value.strip()
    return out


def _take_failure(record: ArcWarcRecord, raw: bytes, uri: str, where: str,
                  order: tuple[int, int], group: tuple[int, str], out: _FileRead) -> None:
    """Our ``metadata`` record of a failed or blocked capture; other metadata is skipped."""
    fields = _parse_fields(raw)
    date_text = record.rec_headers.get_header("WARC-Date")
    outcome = fields.get("coop-outcome")
    if outcome not in ("failed", "blocked") or not date_text \
            or not uri.startswith(("http:", "https:")):
        out.skipped += 1
        return
    try:
        date = archive_time(date_text)
    except ValueError:
        out.skipped += 1
        return
    out.entries.append(_Entry(
        kind=outcome, uri=uri, date=date, order=order, status=0, reason="", protocol="",
        headers=[], record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
        where=where, group=group, error=fields.get("coop-error") or outcome))


# -- import: writing snapshots --------------------------------------------------------------


def _requested(entry: _Entry, redirects: list[_Entry]) -> tuple[str, list[tuple[int, str]]]:
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


@dataclass
class WarcReading:
    """Every usable record of some WARC files, read before anything is written
    (:func:`read_warcs`). ``report`` holds the files, record counts and problems so far."""

    report: ImportReport
    entries: list[_Entry] = field(default_factory=list)
    redirects: list[_Entry] = field(default_factory=list)
    requests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    infos: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)

    @property
    def found(self) -> bool:
        """True when some response or revisit (a possible capture) was read: an archive is
        worth opening (or creating) for it."""
        return bool(self.entries)


def read_warcs(paths: Iterable[str | os.PathLike[str]]) -> WarcReading:
    """Read the files (no archive needed): records sorted by WARC-Date, problems named.

    The ``import`` command reads first, so a file that holds no WARC record never creates
    the archive it was to be imported into.
    """
    reading = WarcReading(ImportReport(files=[os.fspath(p) for p in paths]))
    report = reading.report
    for index, path in enumerate(report.files):
        if not os.path.isfile(path):
            report.problems.append(f"{path}: no such file")
            continue
        read = _read_file(path, index, report.problems)
        report.records += read.records
        report.skipped += read.skipped
        reading.entries += read.entries
        reading.redirects += read.redirects
        reading.requests.update(read.requests)
        reading.infos.update(read.infos)
    reading.entries.sort(key=lambda e: (e.date, e.order))
    return reading


def import_warc(archive: Archive, paths: Iterable[str | os.PathLike[str]], *,
                clock: Callable[[], str] = utcnow_iso,
                stop: threading.Event | None = None,
                reading: WarcReading | None = None) -> ImportReport:
    """Import the HTML and PDF captures of WARC files into ``archive``; see the module doc.

    Records of all files are sorted by WARC-Date before they are written. A revisit takes
    its body from the record with the same payload digest (or the record it refers to) in
    these files, else from the archive's own capture of the referred URL at the referred
    time. Snapshots are written one transaction each (``origin_uri`` is the record's
    WARC-Record-ID), in one run with source ``import`` per ``warcinfo`` record of the files
    (so the runs of an exported archive come back as runs, with their seeds); a run is only
    created when it has something new to write, so importing twice adds nothing at all.
    Our own ``metadata`` records of failed captures come back as failed snapshots.

    Setting ``stop`` ends the import after the snapshot being written; what was written is
    kept, reconciled and its runs marked ``interrupted`` (also on any exception).

    ``reading`` is what :func:`read_warcs` read of ``paths`` already (else they are read now).
    """
    if reading is None:
        reading = read_warcs(paths)
    report, entries = reading.report, reading.entries
    importer = _Importer(archive, report, redirects=reading.redirects,
                         requests=reading.requests, infos=reading.infos, clock=clock)
    status = "partial" if report.problems else "complete"
    try:
        for entry in entries:
            if stop is not None and stop.is_set():
                status = "interrupted"
                break
            importer.entry(entry)
    except BaseException:
        status = "interrupted"
        raise
    finally:
        # Even when interrupted: captures written out of order need their flags recomputed,
        # and no run may stay 'running'.
        if importer.touched:
            report.reconciled = reconcile_pages(archive, importer.touched)
        importer.finish(status)
    report.interrupted = status == "interrupted"
    return report


# Run statuses from best to worst: an imported run keeps the worse of its original status
# and the import's.
_STATUS_RANK = {"complete": 0, "partial": 1, "interrupted": 2, "failed": 3}


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
    if status == "running":
        status = "interrupted"  # exported while it ran: it never finished in that archive
    if status in _STATUS_RANK:
        out["status"] = status
    return dict(sorted(out.items()))


class _Importer:
    """Turns sorted entries into snapshots (one run per warcinfo group, made on first use)."""

    def __init__(self, archive: Archive, report: ImportReport, *, redirects: list[_Entry],
                 requests: dict[str, list[tuple[str, str]]],
                 infos: dict[tuple[int, str], dict[str, str]],
                 clock: Callable[[], str]) -> None:
        self.archive, self.report, self.redirects = archive, report, redirects
        self.requests, self.infos, self.clock = requests, infos, clock
        self.by_digest: dict[str, bytes] = {}
        self.by_ref: dict[tuple[str, str], bytes] = {}
        self.runs: dict[tuple[int, str], int] = {}
        self.origins: dict[int, dict[str, str]] = {}  # run id -> our_run() of its warcinfo
        self.touched: set[int] = set()

    def run_for(self, entry: _Entry, url: str) -> int:
        if entry.group not in self.runs:
            info = self.infos.get(entry.group, {})
            seed = info.get("coop-seed") or url
            options: dict[str, Any] = {"file": os.path.abspath(self.report.files[entry.group[0]])}
            options.update({k: v for k, v in info.items() if k.startswith("coop-")
                            or k in ("software", "wget-arguments", "operator", "isPartOf")})
            ours = our_run(info)
            started = ours.get("started") or self.clock()
            run_id = self.archive.begin_run(seed, source="import", started_at=started,
                                            options=options)
            self.runs[entry.group] = run_id
            self.report.run_ids.append(run_id)
            self.origins[run_id] = ours
        return self.runs[entry.group]

    def finish(self, status: str) -> None:
        """Close the import's runs: with the times and status of the run each came from when
        its warcinfo is ours (the import's own status wins when it is worse), else with the
        import's clock and status."""
        for run_id in self.report.run_ids:
            ours = self.origins.get(run_id, {})
            final = status
            if status != "interrupted" and ours.get("status"):
                final = max(status, ours["status"], key=_STATUS_RANK.__getitem__)
            self.archive.finish_run(run_id, final,
                                    finished_at=ours.get("finished") or self.clock())

    def entry(self, entry: _Entry) -> None:
        if entry.kind in ("failed", "blocked"):
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
        if _already(self.archive, url, entry.date, sha):
            self.report.duplicates += 1
            return
        result = Capture(
            url=first, final_url=entry.uri, status=entry.status, reason=entry.reason,
            http_version=entry.protocol, headers=entry.headers,
            request_headers=self.requests.get(entry.record_id)
            or self.requests.get(entry.concurrent)
            or self.requests.get(f"{entry.uri} {entry.date}") or [],
            body=body, redirects=hops, fetched_at=entry.date, bytes_received=entry.wire_size,
        )
        self.store(entry, url, _as_not_modified(self.archive, url, entry, result, sha,
                                                self.report))

    def store(self, entry: _Entry, url: str, result: Capture) -> None:
        from scraper.crawl import is_suspect
        from scraper.parse import parse

        page = None
        suspect = False
        if 200 <= result.status < 300:
            page = parse(result.body, url=entry.uri, content_type=result.content_type,
                         http_charset=result.charset)
            suspect = is_suspect(page, result, _previous(self.archive, url, entry.date))
        rec = self.archive.record_snapshot(
            self.run_for(entry, url), url, captured_at=entry.date, result=result, page=page,
            suspect=suspect, source="import", origin_uri=entry.record_id or None)
        self.touched.add(rec.page_id)
        self.report.imported += 1
        self.report.new_versions += int(rec.new_version)

    def failure(self, entry: _Entry, url: str) -> None:
        self.report.captures += 1
        if self.archive.conn.execute(
                """SELECT 1 FROM snapshots s JOIN pages p ON p.id = s.page_id
                    WHERE p.url = ? AND s.captured_at = ? AND s.outcome = ? LIMIT 1""",
                (url, entry.date, entry.kind)).fetchone():
            self.report.duplicates += 1
            return
        rec = self.archive.record_snapshot(
            self.run_for(entry, url), url, captured_at=entry.date, error=entry.error,
            blocked=entry.kind == "blocked", source="import", origin_uri=entry.record_id or None)
        self.touched.add(rec.page_id)
        self.report.imported += 1


def _resolve(archive: Archive, entry: _Entry, by_digest: dict[str, bytes],
             by_ref: dict[tuple[str, str], bytes], report: ImportReport) -> bytes | None:
    """The decoded body of a response, or the original body a revisit stands for."""
    if entry.kind == "response":
        assert entry.body is not None
        if entry.digest:
            by_digest.setdefault(entry.digest.upper(), entry.body)
        by_ref.setdefault((entry.uri, entry.date), entry.body)
        return entry.body
    body = by_digest.get(entry.digest.upper()) if entry.digest else None
    if body is None and entry.refers_to is not None:
        body = by_ref.get(entry.refers_to)
        if body is None:
            row = archive.conn.execute(
                """SELECT s.body_sha256 FROM snapshots s JOIN pages p ON p.id = s.page_id
                    WHERE (p.url = ? OR s.final_url = ?) AND s.captured_at = ?
                      AND s.body_sha256 IS NOT NULL LIMIT 1""",
                (normalize_url(entry.refers_to[0]), entry.refers_to[0], entry.refers_to[1]),
            ).fetchone()
            body = archive.blob(row[0]) if row else None
    if body is None:
        report.problems.append(f"{entry.where}: revisit {entry.uri}: its original is in "
                               "neither these files nor the archive; skipped")
    return body


def _already(archive: Archive, url: str, at: str, sha: str) -> bool:
    return archive.conn.execute(
        """SELECT 1 FROM snapshots s JOIN pages p ON p.id = s.page_id
            WHERE p.url = ? AND s.captured_at = ? AND s.body_sha256 = ? LIMIT 1""",
        (url, at, sha)).fetchone() is not None


def _previous(archive: Archive, url: str, at: str) -> Any:
    """The previous capture for the suspect check, only when nothing later is stored."""
    later = archive.conn.execute(
        """SELECT 1 FROM snapshots s JOIN pages p ON p.id = s.page_id
            WHERE p.url = ? AND s.captured_at > ? LIMIT 1""", (url, at)).fetchone()
    return None if later else archive.previous_capture(url)


def _as_not_modified(archive: Archive, url: str, entry: _Entry, result: Capture,
                     sha: str, report: ImportReport) -> Capture:
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


