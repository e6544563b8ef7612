"""WARC (ISO 28500) export, through warcio.

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

Import is the upper layer's (:mod:`scraper.sources.warc_import`): it parses what it reads.
"""

from __future__ import annotations

import base64
import hashlib
import http
import io
import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from typing import Any, BinaryIO
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive import __version__
from archive.atomic import atomic_output
from archive.errors import UsageError
from archive.store import Archive
from archive.timeline import parse_snapshot_id, resolve_when
from archive.timeutil import from_iso, parse_when, to_iso
from archive.vocab import BODY_OUTCOMES, GOOD_OUTCOMES, Outcome, sql_list

logger = logging.getLogger(__name__)

WARC_VERSION = "1.1"
PROFILE_IDENTICAL = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"
PROFILE_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"
# Headers that describe the wire form of a body; the archive keeps the decoded body.
_WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
ORIG_PREFIX = "X-Coop-Orig-"


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
    """A --from/--to value as an instant: a snapshot id (``#123``, ``id:123``) is that
    snapshot's capture time (:func:`archive.timeline.resolve_when`); a bare date starts
    (from) or ends (to) its day; a datetime is itself."""
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
        self.written: dict[int, tuple[str, str, str]] = {}  # blob id -> (uri, date, digest)
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
        if row["outcome"] not in GOOD_OUTCOMES or row["body_id"] is None:
            self.failure(row, date)
            return
        self.stats["captures"] += 1
        uri = row["final_url"] or row["url"]
        self.redirects(row, uri, date)
        sha = int(row["body_id"])  # the body, by its blobs.id
        version = row["http_version"] or "HTTP/1.1"
        status_line = _status_line(row["http_status"] or 200, row["reason"])
        if row["outcome"] == Outcome.NOT_MODIFIED or sha in self.written:
            ref = self.written.get(sha)
            if ref is None:
                ref = _original_of(self.archive, sha, row)
                self.stats["external_refs"] += 1
            sah = StatusAndHeaders(status_line, _export_headers(row, None), protocol=version)
            if row["outcome"] != Outcome.NOT_MODIFIED:
                sah.headers.append(("Content-Length", str(_blob_size(self.archive, sha))))
            resp = self.writer.create_revisit_record(uri, ref[2], ref[0], ref[1],
                                                     http_headers=sah,
                                                     warc_headers_dict=self.headers(row, date))
            if row["outcome"] == Outcome.NOT_MODIFIED:
                resp.rec_headers.replace_header("WARC-Profile", PROFILE_NOT_MODIFIED)
            self.stats["revisits"] += 1
        else:
            body = self.archive.body(sha)
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


def export_warc(archive: Archive, out: str | os.PathLike[str] | BinaryIO, *,
                from_at: str | None = None, to_at: str | None = None,
                gzip: bool | None = None) -> dict[str, Any]:
    """Write the archive's captures (optionally those between two WHENs) to a WARC 1.1 file.

    ``out`` is a path or a binary file object (standard output, a socket...). A path ending
    in ``.gz`` is written gzip-compressed per record (the usual ``.warc.gz``); ``gzip`` says
    so for a file object (default: not compressed). ``from_at`` / ``to_at`` are WHENs or
    archive instants (a bare date covers its whole day; a snapshot id, ``#123``, means that
    snapshot's capture time, inclusive).
    The file starts with a ``warcinfo`` describing the export; each run the captures came
    from gets its own ``warcinfo`` (seed, source, times), which its records
    name in ``WARC-Warcinfo-ID``. A failed or blocked snapshot, having no HTTP exchange, is a
    ``metadata`` record (``coop-outcome``, ``coop-error``). A path is written beside its
    final name and renamed into place, so a reader never sees half of it.

    Returns counts: ``captures``, ``responses``, ``revisits``, ``requests``, ``redirects``,
    ``failures``, ``external_refs`` (304 revisits whose body lies before the exported range,
    referring to a record not in this file), ``records`` and ``bytes``.
    """
    if not isinstance(out, (str, os.PathLike)):
        name = os.path.basename(str(getattr(out, "name", "") or "")) or "export.warc"
        counting = _Counting(out)
        stats = _write_warc(archive, counting, name=name, gzip=bool(gzip), from_at=from_at,
                            to_at=to_at)
        stats["bytes"] = counting.bytes
        return stats
    path = os.fspath(out)
    with atomic_output(path) as fh:
        stats = _write_warc(archive, fh, name=os.path.basename(path),
                            gzip=path.endswith(".gz") if gzip is None else gzip,
                            from_at=from_at, to_at=to_at)
    stats["bytes"] = os.path.getsize(path)
    logger.info("exported %d captures to %s", stats["captures"], path)
    return stats


class _Counting:
    """A write-only binary stream that counts what passes through it to another."""

    def __init__(self, out: BinaryIO) -> None:
        self.out, self.bytes = out, 0

    def write(self, data: bytes) -> int:
        self.bytes += len(data)
        self.out.write(data)
        return len(data)

    def flush(self) -> None:
        self.out.flush()


def _write_warc(archive: Archive, fh: Any, *, name: str, gzip: bool, from_at: str | None,
                to_at: str | None) -> dict[str, Any]:
    """The records of :func:`export_warc`, written to the binary stream ``fh``."""
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
    writer = WARCWriter(fh, gzip=gzip, warc_version=WARC_VERSION)
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
    writer.write_record(writer.create_warcinfo_record(name, info))
    stats["records"] += 1
    exporter = _Exporter(archive, writer, stats)
    for row in rows:
        exporter.row(row)
    return stats


def _blob_size(archive: Archive, sha: int) -> int:
    row = archive.conn.execute("SELECT size FROM blobs WHERE id = ?", (sha,)).fetchone()
    return int(row[0]) if row else 0


def _original_of(archive: Archive, sha: int, row: sqlite3.Row) -> tuple[str, str, str]:
    """(uri, WARC-Date, digest) of the first capture in the archive that delivered blob
    ``sha`` (its blobs.id)."""
    first = archive.conn.execute(
        f"""SELECT coalesce(s.final_url, p.url) AS uri, s.captured_at FROM snapshots s
             JOIN pages p ON p.id = s.page_id
            WHERE s.body_id = ? AND s.outcome IN {sql_list(BODY_OUTCOMES)}
            ORDER BY s.captured_at, s.id LIMIT 1""", (sha,)).fetchone()
    digest = payload_digest(archive.body(sha))
    if first is None:
        return row["final_url"] or row["url"], warc_date(row["captured_at"]), digest
    return first["uri"], warc_date(first["captured_at"]), digest


def iter_records(path: str | os.PathLike[str]) -> Iterator[ArcWarcRecord]:
    """Iterate a WARC file's records with warcio (a convenience for tests and tools)."""
    with open(os.fspath(path), "rb") as fh:
        yield from ArchiveIterator(fh)
