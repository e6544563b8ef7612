"""A fake Wayback Machine on loopback: the CDX API and ``id_`` captures, with misbehaviour.

Built on :class:`tests.servers.LoopbackServer`::

    wb = FakeWayback(server)
    wb.add("https://example.gov/hub", "20160101000000", b"<html>...")
    wb.rate_limit_next(retry_after=1)  # the next request gets a 429 with Retry-After
    wb.fail_captures_after = 2          # id_ captures after the 2nd answer 503
    ...
    wb.cdx_requests, wb.capture_requests  # what was asked, in order

The CDX endpoint speaks the subset :mod:`scraper.sources.wayback` uses: ``url`` (exact), ``from`` /
``to`` (timestamp prefixes, inclusive), ``filter=statuscode:200``, ``collapse=digest``
(adjacent identical digests), ``fl`` and ``output=json`` (a header row, then one row per
capture; ``[]`` when there is none).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.servers import Dynamic, LoopbackServer, RecordedRequest, Reply, Static


@dataclass
class Capture:
    timestamp: str
    original: str
    body: bytes
    mimetype: str = "text/html"
    status: int = 200

    @property
    def digest(self) -> str:
        return base64.b32encode(hashlib.sha1(self.body).digest()).decode()


@dataclass
class FakeWayback:
    server: LoopbackServer
    captures: dict[str, list[Capture]] = field(default_factory=dict)
    cdx_requests: list[dict[str, list[str]]] = field(default_factory=list)
    capture_requests: list[str] = field(default_factory=list)
    fail_captures_after: int | None = None
    _limited: list[float] = field(default_factory=list)
    _served: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.server.route("/cdx/search/cdx", Dynamic(self._cdx))

    @property
    def base(self) -> str:
        return self.server.base_url

    def add(self, original: str, timestamp: str, body: bytes, *,
            mimetype: str = "text/html", status: int = 200) -> Capture:
        """Add a capture and the route serving its ``id_`` URL."""
        cap = Capture(timestamp, original, body, mimetype, status)
        caps = self.captures.setdefault(original, [])
        caps.append(cap)
        caps.sort(key=lambda c: c.timestamp)
        self.server.route(f"/web/{timestamp}id_/{original}", Dynamic(self._capture(cap)))
        return cap

    def rate_limit_next(self, *, retry_after: float = 1, times: int = 1) -> None:
        """The next ``times`` requests (CDX or capture) get 429 with this Retry-After."""
        with self._lock:
            self._limited.extend([retry_after] * times)

    def _limit(self) -> Reply | None:
        with self._lock:
            if self._limited:
                after = self._limited.pop(0)
                return Static(429, b"Too Many Requests", content_type="text/plain",
                              headers=[("Retry-After", f"{after:g}")])
        return None

    def _cdx(self, req: RecordedRequest) -> Reply:
        limited = self._limit()
        if limited is not None:
            return limited
        q = parse_qs(urlsplit(req.target).query)
        self.cdx_requests.append(q)
        url = q.get("url", [""])[0]
        lo = q.get("from", [""])[0]
        hi = q.get("to", [""])[0]
        fields = q.get("fl", ["urlkey,timestamp,original,mimetype,statuscode,digest,length"])[0]
        rows = []
        last_digest = None
        for cap in self.captures.get(url, []):
            if lo and cap.timestamp[: len(lo)] < lo:
                continue
            if hi and cap.timestamp[: len(hi)] > hi:
                continue
            if "statuscode:200" in q.get("filter", []) and cap.status != 200:
                continue
            if "digest" in q.get("collapse", []) and cap.digest == last_digest:
                continue
            last_digest = cap.digest
            values = {"urlkey": url, "timestamp": cap.timestamp, "original": cap.original,
                      "mimetype": cap.mimetype, "statuscode": str(cap.status),
                      "digest": cap.digest, "length": str(len(cap.body))}
            rows.append([values[f] for f in fields.split(",")])
        out = [fields.split(",")] + rows if rows else []
        return Static(200, json.dumps(out).encode(), content_type="text/plain")

    def _capture(self, cap: Capture):  # noqa: ANN202
        def reply(req: RecordedRequest) -> Reply:
            limited = self._limit()
            if limited is not None:
                return limited
            with self._lock:
                if self.fail_captures_after is not None and \
                        self._served >= self.fail_captures_after:
                    return Static(503, b"Service Unavailable", content_type="text/plain")
                self._served += 1
                self.capture_requests.append(f"{cap.timestamp} {cap.original}")
            return Static(cap.status, cap.body, content_type=cap.mimetype,
                          headers=[("Memento-Datetime", cap.timestamp)])

        return reply
