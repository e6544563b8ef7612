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

import base64
import hashlib
import http
import io
import json
import logging
import mmap
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, BinaryIO
from urllib.parse import urljoin, urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.store import Archive
from archive.timeline import parse_snapshot_id, resolve_when
from archive.timeutil import from_iso, parse_when, to_iso, utcnow_iso
from scraper import __version__
from scraper.errors import UsageError
from scraper.fetch import FetchResult
from scraper.urls import normalize_url

logger = logging.getLogger(__name__)

WARC_VERSION = "1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Headers that describe the wire form of a body; the archive keeps the decoded body.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
ORIG_PREFIX = "X-Coop-Orig-"
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})
GOOD_OUTCOMES = ("new", "unchanged", "not_modified", "gone")
# A redirect record counts as a hop towards a response captured at most this long after it.
REDIRECT_WINDOW = timedelta(seconds=60)
MAX_HOPS = 10
# Fields every WARC record must have (WARC 1.1, section 5); a header without them was cut.
_MANDATORY = ("WARC-Type", "WARC-Record-ID", "WARC-Date", "Content-Length")


# -- shared helpers -------------------------------------------------------------------------


def payload_digest(body: bytes) -> str:
    """The WARC payload digest of ``body`` as warcio writes it: ``sha1:`` + base32.

    >>> payload_digest(b"")
    'sha1:3I42H3S6NNFQ2MSVX7XZKYAYSCX5QBYJ'
    """
    return "sha1:" + base64.b32encode(hashlib.sha1(body).digest()).decode("ascii")


def warc_date(captured_at: str) -> str:
    """Archive time text as a WARC-Date: microseconds kept only when not zero.

    >>> warc_date("2016-10-21T14:03:07.000000Z"), warc_date("2016-10-21T14:03:07.250000Z")
    ('2016-10-21T14:03:07Z', '2016-10-21T14:03:07.250000Z')
    """
    return captured_at.replace(".000000Z", "Z")


def archive_time(value: str) -> str:
    """A WARC-Date (any W3C-DTF form warcio reads) as the archive's fixed-width UTC text."""
    return to_iso(from_iso(value.strip()))


def _bound(conn: sqlite3.Connection, when: str | None, *, end: bool) -> str | None:
    """A --from/--to value as an instant: a snapshot id (``#123``, ``id:123``, a bare number
    but for four digits) is that snapshot's capture time (:func:`archive.timeline.
    resolve_when`); a bare date starts (from) or ends (to) its day; a datetime is itself."""
    if when is None:
        return None
    text = when.strip()
    if parse_snapshot_id(text) is not None:
        return resolve_when(conn, text)
    if not end and len(text) == 10 and text[4] == "-" and text[7] == "-":
        return parse_when(text)[:10] + "T00:00:00.000000Z"
    return parse_when(text)


def _headers(value: str | None) -> list[tuple[str, str]]:
    if not value:
        return []
    try:
        return [(str(k), str(v)) for k, v in json.loads(value)]
    except (ValueError, TypeError):
        return []


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


# -- export ---------------------------------------------------------------------------------


def _export_headers(row: sqlite3.Row, body: bytes | None) -> list[tuple[str, str]]:
    """The response headers as stored, made true of the decoded payload we write."""
    stored = _headers(row["response_headers"])
    if not stored and row["content_type"]:
        stored = [("Content-Type", row["content_type"])]
    out: list[tuple[str, str]] = []
    for name, value in stored:
        if name.lower() in _WIRE_HEADERS:
            out.append((ORIG_PREFIX + name, value))
        else:
            out.append((name, value))
    if body is not None:
        out.append(("Content-Length", str(len(body))))
    return out


def _status_line(status: int, reason: str | None) -> str:
    if not reason:
        try:
            reason = http.HTTPStatus(status).phrase
        except ValueError:
            reason = ""
    return f"{status} {reason}".rstrip()


def _fields(info: dict[str, Any]) -> bytes:
    """A warc-fields block (``name: value`` lines) of the non-empty values."""
    return "".join(f"{k}: {' '.join(str(v).split())}\r\n" for k, v in info.items()
                   if v not in (None, "")).encode("utf-8")


class _Exporter:
    """Writes snapshot rows as WARC records; one ``warcinfo`` per run they came from."""

    def __init__(self, archive: Archive, writer: WARCWriter, stats: dict[str, Any]) -> None:
        self.archive, self.writer, self.stats = archive, writer, stats
        self.written: dict[str, tuple[str, str, str]] = {}  # sha256 -> (uri, date, digest)
        self.run_infos: dict[int, str] = {}  # run id -> its warcinfo's WARC-Record-ID

    def headers(self, row: sqlite3.Row, date: str) -> dict[str, str]:
        return {"WARC-Date": date, "WARC-Warcinfo-ID": self.warcinfo(row["run_id"])}

    def warcinfo(self, run_id: int) -> str:
        """The warcinfo record describing run ``run_id``, written on first use."""
        if run_id in self.run_infos:
            return self.run_infos[run_id]
        run = self.archive.conn.execute("SELECT * FROM runs WHERE id = ?",
                                        (run_id,)).fetchone()
        info = {
            "software": f"coop-archive/{__version__}",
            "format": "WARC File Format 1.1",
            "description": f"coop-archive {run['source']} run {run_id} of {run['seed_url']}",
            "isPartOf": os.path.basename(self.archive.path),
            "coop-run": run_id, "coop-seed": run["seed_url"], "coop-source": run["source"],
            "coop-started": run["started_at"], "coop-finished": run["finished_at"],
            "coop-status": run["status"],
        }
        rec = self.writer.create_warc_record(
            "", "warcinfo", payload=io.BytesIO(_fields(info)), length=len(_fields(info)),
            warc_headers_dict={"WARC-Date": warc_date(run["started_at"])})
        self.writer.write_record(rec)
        self.stats["records"] += 1
        rid = rec.rec_headers.get_header("WARC-Record-ID")
        self.run_infos[run_id] = rid
        return str(rid)

    def row(self, row: sqlite3.Row) -> None:
        date = warc_date(row["captured_at"])
        if row["outcome"] not in GOOD_OUTCOMES or row["body_sha256"] is None:
            self.failure(row, date)
            return
        self.stats["captures"] += 1
        uri = row["final_url"] or row["url"]
        self.redirects(row, uri, date)
        sha = row["body_sha256"]
        version = row["http_version"] or "HTTP/1.1"
        status_line = _status_line(row["http_status"] or 200, row["reason"])
        if row["outcome"] == "not_modified" or sha in self.written:
            ref = self.written.get(sha)
            if ref is None:
                ref = _original_of(self.archive, sha, row)
                self.stats["external_refs"] += 1
            sah = StatusAndHeaders(status_line, _export_headers(row, None), protocol=version)
            if row["outcome"] != "not_modified":
                sah.headers.append(("Content-Length", str(_blob_size(self.archive, sha))))
            resp = self.writer.create_revisit_record(uri, ref[2], ref[0], ref[1],
                                                     http_headers=sah,
                                                     warc_headers_dict=self.headers(row, date))
            if row["outcome"] == "not_modified":
                resp.rec_headers.replace_header("WARC-Profile", PROFILE_NOT_MODIFIED)
            self.stats["revisits"] += 1
        else:
            body = self.archive.blob(sha)
            sah = StatusAndHeaders(status_line, _export_headers(row, body), protocol=version)
            resp = self.writer.create_warc_record(uri, "response", payload=io.BytesIO(body),
                                                  length=len(body), http_headers=sah,
                                                  warc_headers_dict=self.headers(row, date))
            self.written[sha] = (uri, date, payload_digest(body))
            self.stats["responses"] += 1
        self.writer.write_request_response_pair(self.request(uri, row, date), resp)
        self.stats["requests"] += 1
        self.stats["records"] += 2

    def request(self, uri: str, row: sqlite3.Row, date: str, *,
                stored: bool = True) -> ArcWarcRecord:
        parts = urlsplit(uri)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        version = row["http_version"] or "HTTP/1.1"
        headers = _headers(row["request_headers"]) if stored else []
        if not any(k.lower() == "host" for k, _ in headers):
            headers.insert(0, ("Host", parts.netloc))
        sah = StatusAndHeaders(f"GET {target} {version}", headers, is_http_request=True)
        return self.writer.create_warc_record(uri, "request", http_headers=sah,
                                              warc_headers_dict=self.headers(row, date))

    def failure(self, row: sqlite3.Row, date: str) -> None:
        """A failed or blocked capture has no exchange to write: a ``metadata`` record says so."""
        fields = _fields({"coop-outcome": row["outcome"], "coop-error": row["error"] or ""})
        rec = self.writer.create_warc_record(row["url"], "metadata", payload=io.BytesIO(fields),
                                             length=len(fields),
                                             warc_content_type="application/warc-fields",
                                             warc_headers_dict=self.headers(row, date))
        self.writer.write_record(rec)
        self.stats["failures"] += 1
        self.stats["records"] += 1

    def redirects(self, row: sqlite3.Row, final: str, date: str) -> None:
        """Bodiless 3xx responses for the hops a crawl followed (their headers are not kept)."""
        try:
            hops = json.loads(row["redirects"]) if row["redirects"] else []
        except ValueError:
            hops = []
        if not hops:
            return
        targets = [h[1] for h in hops[1:]] + [final]
        for (status, url), target in zip(hops, targets, strict=True):
            sah = StatusAndHeaders(_status_line(int(status), None),
                                   [("Location", target), ("Content-Length", "0")],
                                   protocol=row["http_version"] or "HTTP/1.1")
            rec = self.writer.create_warc_record(url, "response", payload=io.BytesIO(b""),
                                                 length=0, http_headers=sah,
                                                 warc_headers_dict=self.headers(row, date))
            self.writer.write_request_response_pair(
                self.request(url, row, date, stored=False), rec)
            self.stats["redirects"] += 1
            self.stats["records"] += 2


def export_warc(archive: Archive, out_path: str | os.PathLike[str], *,
                from_at: str | None = None, to_at: str | None = None) -> dict[str, Any]:
    """Write the archive's captures (optionally those between two WHENs) to a WARC 1.1 file.

    ``out_path`` ending in ``.gz`` is written gzip-compressed per record (the usual
    ``.warc.gz``). ``from_at`` / ``to_at`` are WHENs or archive instants (a bare date covers
    its whole day; a snapshot id, ``#123``, means that snapshot's capture time, inclusive).
    The file starts with a ``warcinfo`` describing the export; each run the captures came
    from gets its own ``warcinfo`` (seed, source, times), which its records
    name in ``WARC-Warcinfo-ID``. A failed or blocked snapshot, having no HTTP exchange, is a
    ``metadata`` record (``coop-outcome``, ``coop-error``). The file is written beside its
    final name and renamed into place, so a reader never sees half of it.

    Returns counts: ``captures``, ``responses``, ``revisits``, ``requests``, ``redirects``,
    ``failures``, ``external_refs`` (304 revisits whose body lies before the exported range,
    referring to a record not in this file), ``records`` and ``bytes``.
    """
    path = os.fspath(out_path)
    lo, hi = _bound(archive.conn, from_at, end=False), _bound(archive.conn, to_at, end=True)
    if lo is not None and hi is not None and lo > hi:
        raise UsageError(f"--from {from_at} is after --to {to_at}")
    where, args = ["1 = 1"], []
    if lo is not None:
        where.append("s.captured_at >= ?")
        args.append(lo)
    if hi is not None:
        where.append("s.captured_at <= ?")
        args.append(hi)
    rows = archive.conn.execute(
        f"""SELECT s.*, p.url, h.response_headers, h.request_headers
              FROM snapshots s JOIN pages p ON p.id = s.page_id
              JOIN snapshot_headers h ON h.snapshot_id = s.id
             WHERE {" AND ".join(where)} ORDER BY s.captured_at, s.id""", args).fetchall()
    stats: dict[str, Any] = dict.fromkeys(
        ("captures", "responses", "revisits", "requests", "redirects", "failures",
         "external_refs", "records"), 0)
    tmp = path + ".part"
    try:
        with open(tmp, "wb") as fh:
            writer = WARCWriter(fh, gzip=path.endswith(".gz"), warc_version=WARC_VERSION)
            info = {
                "software": f"coop-archive/{__version__}",
                "format": "WARC File Format 1.1",
                "conformsTo":
                    "https://iipc.github.io/warc-specifications/specifications/warc-format/"
                    "warc-1.1/",
                "description": "Captures exported from a coop-archive archive",
                "isPartOf": os.path.basename(archive.path),
                "coop-from": lo or "", "coop-to": hi or "",
            }
            writer.write_record(writer.create_warcinfo_record(os.path.basename(path), info))
            stats["records"] += 1
            exporter = _Exporter(archive, writer, stats)
            for row in rows:
                exporter.row(row)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    stats["bytes"] = os.path.getsize(path)
    logger.info("exported %d captures to %s", stats["captures"], path)
    return stats


def _blob_size(archive: Archive, sha: str) -> int:
    row = archive.conn.execute("SELECT size FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
    return int(row[0]) if row else 0


def _original_of(archive: Archive, sha: str, row: sqlite3.Row) -> tuple[str, str, str]:
    """(uri, WARC-Date, digest) of the first capture in the archive that delivered ``sha``."""
    first = archive.conn.execute(
        """SELECT coalesce(s.final_url, p.url) AS uri, s.captured_at FROM snapshots s
             JOIN pages p ON p.id = s.page_id
            WHERE s.body_sha256 = ? AND s.outcome IN ('new', 'unchanged', 'gone')
            ORDER BY s.captured_at, s.id LIMIT 1""", (sha,)).fetchone()
    digest = payload_digest(archive.blob(sha))
    if first is None:
        return row["final_url"] or row["url"], warc_date(row["captured_at"]), digest
    return first["uri"], warc_date(first["captured_at"]), digest


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
        result = FetchResult(
            url=first, final_url=entry.uri, status=entry.status, reason=entry.reason,
            http_version=entry.protocol, headers=entry.headers,
            request_headers=self.requests.get(entry.record_id)
            or self.requests.get(entry.concurrent)
            or self.requests.get(f"{entry.uri} {entry.date}") or [],
            body=body, redirects=hops, fetched_at=entry.date, bytes_received=entry.wire_size,
        )
        self.store(entry, url, _as_not_modified(self.archive, url, entry, result, sha,
                                                self.report))

    def store(self, entry: _Entry, url: str, result: FetchResult) -> None:
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


def _as_not_modified(archive: Archive, url: str, entry: _Entry, result: FetchResult,
                     sha: str, report: ImportReport) -> FetchResult:
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


# -- keeping observations consistent when they arrive out of order -------------------------


def reconcile_pages(archive: Archive, page_ids: Iterable[int]) -> int:
    """Recompute what depends on capture order for these pages; return the rows changed.

    :meth:`~archive.store.Archive.record_snapshot` judges ``changed`` and new/unchanged
    against the page's *latest* observation, which is right for a crawl but not for captures
    older than ones already stored (an import or a Wayback backfill). Walking each page's
    snapshots by ``captured_at`` this sets ``changed`` (with the store's rule), makes the
    earliest capture of each version the ``new`` one, and moves ``pages.first_seen`` and
    ``versions.first_seen`` back to the earliest capture. One transaction.
    """
    fixed = 0
    with archive.transaction() as c:
        for pid in sorted(set(page_ids)):
            rows = c.execute(
                """SELECT id, outcome, version_id, suspect, changed, http_status, captured_at
                     FROM snapshots WHERE page_id = ? ORDER BY captured_at, id""",
                (pid,)).fetchall()
            last: object = _NONE
            seen_versions: set[int] = set()
            for r in rows:
                outcome, changed = r["outcome"], 0
                if outcome not in ("failed", "blocked") and not r["suspect"]:
                    key = "gone" if outcome == "gone" else r["version_id"]
                    changed = int(last is _NONE or key != last)
                    last = key
                if outcome in ("new", "unchanged") and r["version_id"] is not None:
                    outcome = "unchanged" if r["version_id"] in seen_versions else "new"
                    seen_versions.add(r["version_id"])
                elif r["version_id"] is not None:
                    seen_versions.add(r["version_id"])
                if changed != r["changed"] or outcome != r["outcome"]:
                    c.execute("UPDATE snapshots SET changed = ?, outcome = ? WHERE id = ?",
                              (changed, outcome, r["id"]))
                    fixed += 1
            c.execute(
                """UPDATE pages SET first_seen = min(first_seen, coalesce(
                     (SELECT min(captured_at) FROM snapshots WHERE page_id = pages.id),
                     first_seen)) WHERE id = ?""", (pid,))
            c.execute(
                """UPDATE versions SET first_seen = min(first_seen, coalesce(
                     (SELECT min(captured_at) FROM snapshots WHERE version_id = versions.id),
                     first_seen)) WHERE page_id = ?""", (pid,))
    return fixed


_NONE = object()


def iter_records(path: str | os.PathLike[str]) -> Iterator[ArcWarcRecord]:
    """Iterate a WARC file's records with warcio (a convenience for tests and tools)."""
    with open(os.fspath(path), "rb") as fh:
        yield from ArchiveIterator(fh)
