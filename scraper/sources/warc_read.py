"""Reading WARC files written by anyone (wget, Heritrix, Browsertrix, us), damage and all.

:func:`read_warcs` reads every record of some files (ARC files too, through warcio's
``arc2warc``) before anything is written: each HTTP ``response`` and ``revisit``, each
``resource`` record (as a 200 of its block), and our own ``metadata`` records of failed
captures become a :class:`WarcEntry`, sorted by ``WARC-Date`` (a date that cannot be a
capture's is named and skipped); requests, redirects and ``warcinfo`` fields are kept
beside them for the import (:mod:`scraper.sources.warc_import`). A damaged file yields what is
whole: a record whose digest is wrong or whose payload is cut short is named in the report's
``problems`` and skipped, and after unreadable bytes the reader resynchronises on the next
record it can find.
"""

from __future__ import annotations

import base64
import hashlib
import io
import mmap
import os
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.recordloader import ArcWarcRecord

from archive.timeutil import capture_date_problem
from archive.vocab import BAD_OUTCOMES, RunStatus, Source
from archive.warc_export import archive_time, payload_digest
from scraper.ingest import RunReport
from scraper.settings import DEFAULTS

# What a record's block may hold beyond its payload budget: HTTP headers, chunk framing.
_FRAMING = 1 << 20

# Fields every WARC record must have (WARC 1.1, section 5); a header without them was cut.
_MANDATORY = ("WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length")


class Spill:
    """Bodies read ahead of the import: the import sorts every record of its files by date
    before it writes, and holding every body would cost the sum of them. The first
    ``in_memory`` bytes of bodies stay in memory (a small import makes no file); the rest wait
    in one anonymous temporary file and are read back one at a time."""

    def __init__(self, in_memory: int = 64 << 20) -> None:
        self.in_memory, self.held = in_memory, 0
        self._file: BinaryIO | None = None

    def keep(self, entry: WarcEntry, body: bytes) -> None:
        """Keep ``entry``'s body, in memory or in the file (``entry.payload()`` gives it)."""
        if self.held + len(body) <= self.in_memory:
            self.held += len(body)
            entry.body = body
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile()  # noqa: SIM115  (closed by close())
        offset = self._file.seek(0, os.SEEK_END)
        self._file.write(body)
        entry.spilled = (self, (offset, len(body)))

    def get(self, where: tuple[int, int]) -> bytes:
        """The body kept at ``where`` in the file."""
        assert self._file is not None
        self._file.seek(where[0])
        return self._file.read(where[1])

    def close(self) -> None:
        """Delete the file, if one was made."""
        if self._file is not None:
            self._file.close()


@dataclass
class WarcEntry:
    """A response or revisit record, read whole and kept until the import sorts them."""

    kind: str  # "response" | "revisit" | "failed" | "blocked" (our metadata records)
    uri: str
    date: str  # archive time text
    order: tuple[int, int]  # (file index, offset): ties in time keep file order
    status: int
    reason: str
    protocol: str
    headers: list[tuple[str, str]]
    body: bytes | None = None  # decoded (chunking and Content-Encoding undone), or spilled:
    spilled: tuple[Spill, tuple[int, int]] | None = None
    wire_size: int = 0
    digest: str | None = None
    refers_to: tuple[str, str] | None = None  # (uri, archive time) for revisits
    profile: str = ""
    record_id: str = ""
    where: str = ""
    group: tuple[int, str] = (0, "")  # (file index, warcinfo record id): one run per group
    concurrent: str = ""  # WARC-Concurrent-To (wget: the request record)
    error: str | None = None

    def payload(self) -> bytes | None:
        """The decoded body (read back from the spill file where it was kept), or None."""
        if self.body is None and self.spilled is not None:
            spill, where = self.spilled
            return spill.get(where)
        return self.body

    def header(self, name: str) -> str | None:
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


@dataclass
class _FileRead:
    entries: list[WarcEntry] = field(default_factory=list)
    redirects: list[WarcEntry] = field(default_factory=list)
    requests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    infos: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)
    last_info: str = ""
    records: int = 0
    skipped: int = 0
    max_bytes: int = DEFAULTS.max_bytes  # a payload's budget, once decompressed
    stop: threading.Event | None = None  # set: stop reading (SIGINT, SIGTERM)
    spill: Spill | None = None  # where bodies are kept until the import (else in memory)


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


def _read_file(path: str, index: int, problems: list[str], *, max_bytes: int,
               stop: threading.Event | None, spill: Spill | None) -> _FileRead:
    """Every usable record of one file; damage is named in ``problems`` and stepped over."""
    out = _FileRead(max_bytes=max_bytes, stop=stop, spill=spill)
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


class _Oversized(Exception):
    """A record over the budget: the reader steps over it without reading it through."""


class _QuietIterator(ArchiveIterator):
    """warcio's iterator, minus the warning it writes to stderr itself (we count them)."""

    INC_RECORD = ""


def _read_from(fh: BinaryIO, path: str, index: int, out: _FileRead,
               problems: list[str]) -> int | None:
    """Read records from ``fh``'s position; return the offset where reading broke, or None."""
    name = os.path.basename(path)
    # arc2warc: ARC files (the Internet Archive's format before WARC) read as WARC records.
    it = _QuietIterator(fh, check_digests=True, arc2warc=True)
    at = fh.tell()
    records = iter(it)
    while True:
        if out.stop is not None and out.stop.is_set():
            return None
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
        except _Oversized:
            # Reading on through the rest of the record would inflate it (a 20 KB .warc.gz
            # may hold gigabytes): step over it to the next record instead.
            return at
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
    # Budgets enforced while streaming, never after inflating: a 20 KB .warc.gz may inflate
    # to gigabytes. The block may exceed the payload budget by its headers and framing.
    raw_budget = out.max_bytes + _FRAMING
    raw = record.raw_stream.read(raw_budget + 1)
    if len(raw) > raw_budget:
        problems.append(f"{where}: {rec_type} {uri}: record larger than {raw_budget} bytes "
                        f"(--max-bytes {out.max_bytes}); skipped")
        raise _Oversized
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
    if record.digest_checker is not None and record.digest_checker.passed is False \
            and not _chunked_digest_ok(record, raw):
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
    if rec_type not in ("response", "revisit", "resource") \
            or not uri.startswith(("http:", "https:")):
        out.skipped += 1
        return
    http_headers = record.http_headers
    date = _capture_date(record, f"{where}: {rec_type} {uri}", problems)
    if date is None:
        return
    if rec_type == "resource":
        out.entries.append(_resource(record, raw, uri, date, where, order, (index, info_id)))
        return
    if http_headers is None and rec_type == "response":
        out.skipped += 1
        return
    try:
        status = int(http_headers.get_statuscode()) if http_headers else 200
    except ValueError as e:
        problems.append(f"{where}: {rec_type} {uri}: {_one_line(e)}; skipped")
        return
    entry = WarcEntry(
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
    body = record.content_stream().read(out.max_bytes + 1)
    if len(body) > out.max_bytes:
        problems.append(f"{where}: {rec_type} {uri}: payload exceeds {out.max_bytes} bytes "
                        "(once decompressed; --max-bytes); skipped")
        return
    if out.spill is not None:
        out.spill.keep(entry, body)
    else:
        entry.body = body
    if entry.digest is None:
        entry.digest = payload_digest(raw)
    out.entries.append(entry)


def _chunked_digest_ok(record: ArcWarcRecord, raw: bytes) -> bool:
    """True when only the payload digest failed, the payload is chunked, and the digest is
    that of the payload without its chunked framing: warcprox and Webrecorder write it so,
    while warcio checks the framed bytes. Not damage, then."""
    problems = record.digest_checker.problems
    header = record.rec_headers.get_header("WARC-Payload-Digest") or ""
    coding = record.http_headers.get_header("Transfer-Encoding") if record.http_headers else ""
    if not problems or not all(p.startswith("payload digest failed") for p in problems) \
            or "chunked" not in (coding or "").lower() or ":" not in header:
        return False
    algo, _, value = header.partition(":")
    try:
        digest = hashlib.new(algo.strip().lower().replace("-", ""))
    except ValueError:
        return False
    digest.update(ChunkedDataReader(io.BytesIO(raw)).read())
    return value.strip().lower() in (digest.hexdigest(),
                                     base64.b32encode(digest.digest()).decode().lower())


def _capture_date(record: ArcWarcRecord, what: str, problems: list[str]) -> str | None:
    """The record's WARC-Date as archive time, or None (and why, in ``problems``) when it is
    missing, not a real date, or not a possible capture date (see capture_date_problem)."""
    date_text = record.rec_headers.get_header("WARC-Date")
    if not date_text:
        problems.append(f"{what}: no WARC-Date; skipped")
        return None
    try:
        date = archive_time(date_text)
    except ValueError as e:
        problems.append(f"{what}: WARC-Date {date_text!r} is not a real date and time "
                        f"({_one_line(e)}); skipped")
        return None
    bad_date = capture_date_problem(date)
    if bad_date is not None:
        problems.append(f"{what}: {bad_date}; skipped")
        return None
    return date


def _resource(record: ArcWarcRecord, raw: bytes, uri: str, date: str, where: str,
              order: tuple[int, int], group: tuple[int, str]) -> WarcEntry:
    """A ``resource`` record (Webrecorder, browser-based crawlers): the block is the document
    itself, its WARC Content-Type the document's; kept as a 200 response of it."""
    headers = record.rec_headers
    media = headers.get_header("Content-Type")
    return WarcEntry(
        kind="response", uri=uri, date=date, order=order, status=200, reason="OK",
        protocol="HTTP/1.1", headers=[("Content-Type", media)] if media else [], body=raw,
        wire_size=len(raw), record_id=headers.get_header("WARC-Record-ID") or "",
        digest=headers.get_header("WARC-Payload-Digest")
        or headers.get_header("WARC-Block-Digest") or payload_digest(raw),
        where=where, group=group)


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
    if outcome not in BAD_OUTCOMES or not date_text \
            or not uri.startswith(("http:", "https:")):
        out.skipped += 1
        return
    try:
        date = archive_time(date_text)
    except ValueError:
        out.skipped += 1
        return
    if capture_date_problem(date) is not None:
        out.skipped += 1
        return
    out.entries.append(WarcEntry(
        kind=outcome, uri=uri, date=date, order=order, status=0, reason="", protocol="",
        headers=[], record_id=record.rec_headers.get_header("WARC-Record-ID") or "",
        where=where, group=group, error=fields.get("coop-error") or outcome))


@dataclass
class WarcReading:
    """Every usable record of some WARC files, read before anything is written
    (:func:`read_warcs`). ``report`` holds the files, record counts and problems so far."""

    report: RunReport
    entries: list[WarcEntry] = field(default_factory=list)
    redirects: list[WarcEntry] = field(default_factory=list)
    requests: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    infos: dict[tuple[int, str], dict[str, str]] = field(default_factory=dict)
    spill: Spill | None = None

    def close(self) -> None:
        """Delete the temporary file of bodies, if one was made."""
        if self.spill is not None:
            self.spill.close()

    @property
    def found(self) -> bool:
        """True when some response or revisit (a possible capture) was read: an archive is
        worth opening (or creating) for it."""
        return bool(self.entries)


def read_warcs(paths: Iterable[str | os.PathLike[str]], *, max_bytes: int = DEFAULTS.max_bytes,
               stop: threading.Event | None = None) -> WarcReading:
    """Read the files (no archive needed): records sorted by WARC-Date, problems named.

    A record whose payload exceeds ``max_bytes`` once decompressed (the crawl's
    ``--max-bytes``) is skipped and named in the problems; the limit is enforced while the
    payload streams, so a small file that inflates to gigabytes never does. ``stop``, when
    set, ends the reading between records (what was read is returned). Past ``max_bytes``
    of them (the largest one body), the bodies wait in a temporary file (:class:`Spill`,
    ``WarcEntry.payload()``), not in memory: call ``reading.close()`` when done.

    The ``import`` command reads first, so a file that holds no WARC record never creates
    the archive it was to be imported into.
    """
    reading = WarcReading(RunReport(Source.IMPORT, "", files=[os.fspath(p) for p in paths]),
                          spill=Spill(in_memory=max_bytes))
    report = reading.report
    for index, path in enumerate(report.files):
        if not os.path.exists(path):
            report.problems.append(f"{path}: no such file")
            continue
        if not os.path.isfile(path):
            report.problems.append(f"{path}: not a regular file (a directory, device or pipe)")
            continue
        if stop is not None and stop.is_set():
            break
        read = _read_file(path, index, report.problems, max_bytes=max_bytes, stop=stop,
                          spill=reading.spill)
        report.records += read.records
        report.skipped += read.skipped
        reading.entries += read.entries
        reading.redirects += read.redirects
        reading.requests.update(read.requests)
        reading.infos.update(read.infos)
    reading.entries.sort(key=lambda e: (e.date, e.order))
    if not reading.found:
        # Nothing to import: a failure when damage (or a file that is no WARC) is why, not
        # when the files simply hold no page (warcinfo only, images, POST responses).
        report.status = RunStatus.FAILED if report.problems else RunStatus.COMPLETE
    return reading
