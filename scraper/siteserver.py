"""A real HTTP server for the bundled offline site (``scraper/sitedata``), on loopback.

Each host label of the manifest (``dot``, ``state``, ``treasury``) gets its own server, so the
crawler sees several origins with their own robots.txt and politeness, as on the real web. The
HTML holds the real absolute URLs; when serving, ``https://<real host>`` is rewritten to that
label's loopback origin. Responses carry Last-Modified (from the manifest) and an ETag, and
conditional requests get 304s, so re-crawls behave as against a well-run server.

Used by ``coop-archive demo`` and the end-to-end tests; ``switch(snapshot)`` moves the whole
site to another point in time while it runs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger(__name__)


def sitedata_root() -> Path:
    """The directory of the bundled site (inside the installed package)."""
    return Path(str(resources.files("scraper") / "sitedata"))


@dataclass(frozen=True)
class Resource:
    """One URL of the site at one snapshot, as the manifest describes it."""

    status: int
    body: bytes = b""
    content_type: str | None = None
    last_modified: str | None = None

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Request:
    """A request as the server saw it (for tests and the demo's summary)."""

    host: str
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    started: float = 0.0  # time.monotonic() at arrival
    finished: float = 0.0  # ... and once the response was written


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _LabelServer

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self.server.site._serve(self, self.server.label)

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.site._serve(self, self.server.label, head=True)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("%s %s", self.server.label, format % args)


class _LabelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], site: SiteServer, label: str) -> None:
        self.site, self.label = site, label
        super().__init__(address, _Handler)


class SiteServer:
    """Serve the site under ``root`` (default: the bundled one) at ``snapshot``.

    ``bind`` maps a host label to the loopback address to bind (default 127.0.0.1 for all);
    ``ports`` to a preferred port (default: any free port; a preferred port that is taken falls
    back to a free one). ``delay`` seconds are waited before each response.
    """

    def __init__(self, snapshot: str, *, root: Path | None = None,
                 bind: dict[str, str] | None = None, ports: dict[str, int] | None = None,
                 delay: float = 0.0) -> None:
        self.root = root or sitedata_root()
        self.manifest = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        self.hosts: dict[str, str] = self.manifest["hosts"]
        self.bind = bind or {}
        self.ports = ports or {}
        self.delay = delay
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._servers: dict[str, _LabelServer] = {}
        self._threads: list[threading.Thread] = []
        self._resources: dict[tuple[str, str], Resource] = {}
        self.snapshot = ""
        self.switch(snapshot)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> SiteServer:
        """Bind every label's server and serve in background threads."""
        for label in self.hosts:
            addr = self.bind.get(label, "127.0.0.1")
            srv = self._bind(addr, label)
            self._servers[label] = srv
            t = threading.Thread(target=srv.serve_forever, name=f"site-{label}", daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def _bind(self, addr: str, label: str) -> _LabelServer:
        """Bind the preferred port; if taken, the same port in the next blocks of 100 (so
        the labels keep their order and the URLs stay predictable); else any free port."""
        preferred = self.ports.get(label, 0)
        for port in ([preferred + 100 * k for k in range(10)] if preferred else []) + [0]:
            try:
                return _LabelServer((addr, port), self, label)
            except OSError:
                continue
        raise OSError(f"cannot bind a port on {addr}")  # unreachable: port 0 always binds

    def stop(self) -> None:
        """Stop serving and close the sockets."""
        for srv in self._servers.values():
            srv.shutdown()
            srv.server_close()
        for t in self._threads:
            t.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- addressing ------------------------------------------------------------------------

    def origin(self, label: str) -> str:
        """``http://127.0.0.1:PORT`` of a label's server."""
        host, port = self._servers[label].server_address[:2]
        return f"http://{host!s}:{port}"

    def url(self, real_url: str) -> str:
        """The loopback URL that stands for a real one (``https://www.transportation.gov/x``)."""
        parts = urlsplit(real_url)
        for label, host in self.hosts.items():
            if parts.hostname == host:
                return self.origin(label) + (parts.path or "/") + (
                    f"?{parts.query}" if parts.query else "")
        raise KeyError(f"no host of the site serves {real_url}")

    @property
    def seed(self) -> str:
        """The loopback URL of the site's seed page."""
        return self.url(self.manifest["seed"])

    def snapshots(self) -> list[str]:
        """The points in time the site can be served at, oldest first."""
        return sorted(self.manifest["snapshots"])

    def switch(self, snapshot: str) -> None:
        """Serve the site as it was at ``snapshot`` from now on."""
        entries = self.manifest["snapshots"].get(snapshot)
        if entries is None:
            raise KeyError(f"no snapshot {snapshot!r}; have {sorted(self.manifest['snapshots'])}")
        table: dict[tuple[str, str], Resource] = {}
        for r in entries["resources"]:
            body = (self.root / r["file"]).read_bytes() if r.get("file") else b""
            table[(r["host"], r["path"])] = Resource(
                r["status"], body, r.get("content_type"), r.get("last_modified"))
        with self._lock:
            self._resources = table
            self.snapshot = snapshot

    # -- serving ---------------------------------------------------------------------------

    def _rewrite(self, body: bytes) -> bytes:
        for label, host in self.hosts.items():
            if label in self._servers:
                new = self.origin(label).encode()
                body = body.replace(f"https://{host}".encode(), new)
                body = body.replace(f"http://{host}".encode(), new)
        return body

    def _serve(self, h: _Handler, label: str, *, head: bool = False) -> None:
        path = urlsplit(h.path).path
        req = Request(label, h.command, h.path, dict(h.headers.items()), time.monotonic())
        with self._lock:
            self.requests.append(req)
            res = self._resources.get((label, path))
        try:
            self._respond(h, label, res, head)
        finally:
            req.finished = time.monotonic()

    def _respond(self, h: _Handler, label: str, res: Resource | None, head: bool) -> None:
        if self.delay:
            threading.Event().wait(self.delay)
        if res is None or res.status != 200:
            body = b"<html><body><h1>Page not found</h1></body></html>"
            status = res.status if res is not None else 404
            self._send(h, status, body, "text/html; charset=utf-8", [], head)
            return
        body = res.body
        if res.content_type and res.content_type.startswith(("text/html", "text/plain")):
            body = self._rewrite(body)
        validators = [("ETag", res.etag)]
        if res.last_modified:
            validators.append(("Last-Modified", res.last_modified))
        if not_modified(if_none_match=h.headers.get("If-None-Match"),
                        if_modified_since=h.headers.get("If-Modified-Since"),
                        etag=res.etag, last_modified=res.last_modified):
            self._send(h, 304, b"", None, validators, head=True)
            return
        self._send(h, 200, body, res.content_type, validators, head)

    @staticmethod
    def _send(h: _Handler, status: int, body: bytes, content_type: str | None,
              headers: list[tuple[str, str]], head: bool) -> None:
        h.send_response(status)
        if content_type:
            h.send_header("Content-Type", content_type)
        for k, v in headers:
            h.send_header(k, v)
        if status != 304:
            h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if not head and status != 304:
            h.wfile.write(body)


def not_modified(*, if_none_match: str | None, if_modified_since: str | None,
                 etag: str | None, last_modified: str | None) -> bool:
    """Whether a conditional GET gets a 304 (RFC 9110 13.2.2: If-None-Match, when sent, wins
    over If-Modified-Since). Shared by this server and the tests' loopback server."""
    if if_none_match is not None:
        tags = [t.strip() for t in if_none_match.split(",")]
        return "*" in tags or (etag is not None and etag in tags)
    if if_modified_since and last_modified:
        try:
            return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError):
            return False
    return False
