"""WARC and ARC files written byte by byte, for the import tests: the kinds of record real
collections hold (ARC, resource records, long URLs, Latin-1 headers, broken chunking) without
vendoring anyone's files.

>>> arc = arc_file([("http://example.gov/", "20161021120000", http_response(b"<html>x</html>"))])
>>> arc.splitlines()[0]
b'filedesc://test.arc 0.0.0.0 20161021120000 text/plain 79'
"""

from __future__ import annotations

import gzip
import hashlib
import uuid
from base64 import b32encode


def http_response(body: bytes, *, content_type: bytes = b"text/html; charset=utf-8",
                  status: bytes = b"200 OK", headers: list[bytes] | None = None,
                  chunked: bytes | None = None) -> bytes:
    """An HTTP/1.1 response as it appears in a record: ``chunked`` replaces the body with
    these bytes sent under Transfer-Encoding: chunked (well formed or not)."""
    lines = [b"HTTP/1.1 " + status, b"Content-Type: " + content_type, *(headers or [])]
    if chunked is not None:
        lines.append(b"Transfer-Encoding: chunked")
        body = chunked
    else:
        lines.append(b"Content-Length: " + str(len(body)).encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def warc_record(rec_type: str, uri: str | None, date: str, block: bytes, *,
                content_type: str = "application/http;msgtype=response",
                extra: list[tuple[str, str]] | None = None) -> bytes:
    """One WARC/1.0 record with a correct Content-Length and block digest."""
    digest = "sha1:" + b32encode(hashlib.sha1(block).digest()).decode()
    fields = [("WARC-Type", rec_type), ("WARC-Record-ID", f"<urn:uuid:{uuid.uuid4()}>"),
              ("WARC-Date", date)]
    if uri is not None:
        fields.append(("WARC-Target-URI", uri))
    fields += [("WARC-Block-Digest", digest), ("Content-Type", content_type), *(extra or []),
               ("Content-Length", str(len(block)))]
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields) + "\r\n"
    return head.encode("utf-8") + block + b"\r\n\r\n"


def arc_file(records: list[tuple[str, str, bytes]], *, name: str = "test.arc") -> bytes:
    """An ARC (version 1) file: the filedesc header, then one record per (URL, 14-digit
    date, HTTP response)."""
    first = records[0][1] if records else "20000101000000"
    version = b"1 0 coop-archive-tests\nURL IP-address Archive-date Content-type Archive-length\n"
    out = [f"filedesc://{name} 0.0.0.0 {first} text/plain {len(version)}\n".encode(), version]
    for url, date, response in records:
        out.append(b"\n")
        out.append(f"{url} 127.0.0.1 {date} text/html {len(response)}\n".encode())
        out.append(response)
    out.append(b"\n")
    return b"".join(out)


def gzip_members(*parts: bytes) -> bytes:
    """Each part as its own gzip member (how .warc.gz and .arc.gz files are written)."""
    return b"".join(gzip.compress(p) for p in parts)
