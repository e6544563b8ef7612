"""A real, threaded HTTP/1.1 server on loopback, with programmable misbehaviour, for tests.

Each :class:`LoopbackServer` binds ``127.0.0.x`` on a free port (all of 127.0.0.0/8 is
loopback on Linux, so 127.0.0.2 and 127.0.0.3 are distinct hosts), answers with keep-alive
and real Content-Length framing, and records every request::

    srv = LoopbackServer("127.0.0.2").start()
    srv.route("/", Static(body=b"<html>hi</html>"))
    srv.route("/flaky", Static(500), Static(500), Static(body=b"ok"))  # a sequence
    srv.route("/moved", Redirect("/"))
    srv.route("/held", Gated(gate, Static(body=b"late")))  # answers once gate.set()
    ...
    srv.requests_to("/flaky")  # -> [RecordedRequest, ...]
    srv.stop()

A route is a sequence of replies: each request takes the next one and the last repeats. A
reply is any object with ``serve(handler, request)``; the classes below cover the usual
cases, and :class:`Dynamic` builds a reply per request from a function. Unknown paths get a
404. Routes match the full target (``/a?b=1``) first, then the path alone.

``stop()`` wakes sleeping replies, closes open keep-alive connections and joins every handler
thread, so tests leave no threads or sockets behind.
"""

from __future__ import annotations

import functools
import socket
import struct
import sys
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Protocol
from urllib.parse import urlsplit

from scraper.siteserver import not_modified


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server saw it. ``time`` is ``time.monotonic()`` at arrival."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    time: float
    client: tuple[str, int]

    @property
    def path(self) -> str:
        """The target without its query string."""
        return urlsplit(self.target).path

    def header(self, name: str) -> str | None:
        """The first value of a request header, case-insensitively, or None."""
        lname = name.lower()
        return next((v for k, v in self.headers if k.lower() == lname), None)


class Reply(Protocol):
    """Something that can answer one request."""

    def serve(self, h: Handler, req: RecordedRequest) -> None: ...


@dataclass
class Static:
    """A complete response. ``content_length`` overrides the header (to lie about it)."""

    status: int = 200
    body: bytes = b""
    headers: Sequence[tuple[str, str]] = ()
    content_type: str | None = "text/html; charset=utf-8"
    delay: float = 0.0
    content_length: int | None = None

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        if self.delay and h.owner.stopping.wait(self.delay):
            h.close_connection = True
            return
        h.send_response(self.status)
        if self.content_type and not any(k.lower() == "content-type" for k, _ in self.headers):
            h.send_header("Content-Type", self.content_type)
        for k, v in self.headers:
            h.send_header(k, v)
        no_body = self.status in (204, 304) or 100 <= self.status < 200
        if not no_body:
            length = len(self.body) if self.content_length is None else self.content_length
            h.send_header("Content-Length", str(length))
        h.end_headers()
        if not no_body and req.method != "HEAD":
            h.wfile.write(self.body)
        if self.content_length is not None and self.content_length != len(self.body):
            h.close_connection = True  # the framing is a lie; the connection cannot be reused


def Redirect(location: str, status: int = 302) -> Static:  # noqa: N802  (reads like a class)
    """A redirect to ``location`` (relative or absolute)."""
    return Static(status, b"", [("Location", location)], content_type=None)


@dataclass
class Hang:
    """Accept the request, then say nothing for ``seconds`` (or until the server stops)."""

    seconds: float = 30.0

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        h.owner.stopping.wait(self.seconds)
        h.close_connection = True


@dataclass
class Gated:
    """Hold each request until ``gate`` is set (or the server stops), then answer with ``reply``.

    Keeps a client inside a request for exactly as long as the test needs, however loaded the
    machine: a fixed ``delay`` bets that the test's own next steps (starting a CLI process,
    say) finish within it, and a busy CI machine loses that bet.
    """

    gate: threading.Event
    reply: Reply = field(default_factory=lambda: Static(body=b"<html>opened</html>"))

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        while not self.gate.wait(0.05):
            if h.owner.stopping.is_set():
                h.close_connection = True
                return
        self.reply.serve(h, req)


@dataclass
class Reset:
    """Send headers promising ``content_length`` bytes, then ``sent`` of them, then a TCP RST."""

    sent: bytes = b"partial body"
    content_length: int = 100_000
    pause: float = 0.05

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(self.content_length))
        h.end_headers()
        h.wfile.write(self.sent)
        h.wfile.flush()
        # Let the client read the headers first: an RST discards data still unread in the
        # client's receive buffer, which would make this a failure to connect, not mid-body.
        h.owner.stopping.wait(self.pause)
        # SO_LINGER with a zero timeout makes close() send RST instead of FIN.
        h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        h.connection.close()
        h.close_connection = True


@dataclass
class Trickle:
    """Send ``body`` one byte every ``interval`` seconds (each byte well within any timeout)."""

    body: bytes = b"x" * 1000
    interval: float = 0.05

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/plain")
        h.send_header("Content-Length", str(len(self.body)))
        h.end_headers()
        for i in range(len(self.body)):
            if h.owner.stopping.wait(self.interval):
                break
            h.wfile.write(self.body[i : i + 1])
            h.wfile.flush()
        h.close_connection = True


@functools.lru_cache(maxsize=4)
def gzip_bomb_bytes(inflated_size: int) -> bytes:
    """A gzip stream of ``inflated_size`` zero bytes, about 1/1000 of that size compressed.

    Built by streaming 1 MiB of zeros at a time, so the full inflated size never exists here.
    """
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # 16+: gzip framing
    block = bytes(1 << 20)
    parts = []
    remaining = inflated_size
    while remaining > 0:
        n = min(remaining, len(block))
        parts.append(comp.compress(block[:n]))
        remaining -= n
    parts.append(comp.flush())
    return b"".join(parts)


def GzipBomb(inflated_size: int = 200 * 1024 * 1024) -> Static:  # noqa: N802
    """A small gzip-encoded response that inflates to ``inflated_size`` bytes."""
    return Static(200, gzip_bomb_bytes(inflated_size), [("Content-Encoding", "gzip")],
                  content_type="text/html")


def http_date(epoch: float) -> str:
    """An IMF-fixdate (``Wed, 21 Oct 2015 07:28:00 GMT``) for ``epoch`` seconds."""
    return formatdate(epoch, usegmt=True)


@dataclass
class Validated:
    """A document with validators: answers 304 when If-None-Match / If-Modified-Since match."""

    body: bytes = b"<html>stable</html>"
    etag: str | None = '"v1"'
    last_modified: str | None = "Wed, 21 Oct 2015 07:28:00 GMT"

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        validators = []
        if self.etag:
            validators.append(("ETag", self.etag))
        if self.last_modified:
            validators.append(("Last-Modified", self.last_modified))
        if self._not_modified(req):
            Static(304, headers=validators, content_type=None).serve(h, req)
        else:
            Static(200, self.body, validators).serve(h, req)

    def _not_modified(self, req: RecordedRequest) -> bool:
        return not_modified(if_none_match=req.header("If-None-Match"),
                            if_modified_since=req.header("If-Modified-Since"),
                            etag=self.etag, last_modified=self.last_modified)


@dataclass
class Dynamic:
    """A reply built per request: ``fn(request) -> Reply`` (e.g. a Retry-After date)."""

    fn: Callable[[RecordedRequest], Reply]

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        self.fn(req).serve(h, req)


class Handler(BaseHTTPRequestHandler):
    """Dispatches each request to the owning server's route table."""

    protocol_version = "HTTP/1.1"  # keep-alive, and Content-Length framing that matters
    server: _HTTPServer

    @property
    def owner(self) -> LoopbackServer:
        return self.server.owner

    def setup(self) -> None:
        super().setup()
        self.owner._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.owner._track(self.connection, False)

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)  # keep the connection's framing intact
        req = RecordedRequest(
            method=self.command,
            target=self.path,
            headers=list(self.headers.items()),
            time=time.monotonic(),
            client=self.client_address[:2],
        )
        self.owner._record(req)
        self.owner._next_reply(req).serve(self, req)

    do_GET = do_HEAD = do_POST = _dispatch

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass  # keep test output quiet; requests are recorded instead


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = False  # so server_close() joins every handler thread
    block_on_close = True
    owner: LoopbackServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-response (size limits, timeouts) is expected in these tests.
        exc = sys.exc_info()[1]
        if exc is None or isinstance(exc, OSError):
            return
        self.owner.errors.append(exc)
        super().handle_error(request, client_address)  # type: ignore[arg-type]


@dataclass
class LoopbackServer:
    """A threaded HTTP/1.1 server on ``host`` (a 127.0.0.x address) and a free port."""

    host: str = "127.0.0.2"
    port: int = 0
    requests: list[RecordedRequest] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.stopping = threading.Event()
        self._routes: dict[str, list[Reply]] = {}
        self._lock = threading.Lock()
        self._conns: set[socket.socket] = set()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --

    def start(self) -> LoopbackServer:
        """Bind and serve in a background thread; returns self."""
        httpd = _HTTPServer((self.host, self.port), Handler)
        httpd.owner = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"loopback-{self.host}:{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open connections, join all threads, close the socket."""
        if self._httpd is None:
            return
        self.stopping.set()
        self._httpd.shutdown()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)  # wakes a handler blocked on keep-alive
            except OSError:
                pass
        self._httpd.server_close()  # joins handler threads
        if self._thread is not None:
            self._thread.join()
        self._httpd = None

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def reset(self, timeout: float = 10.0) -> list[BaseException]:
        """Make a running server as good as new for the next test, keeping its port.

        Ends every open connection (waking replies that wait on ``stopping``), waits for their
        handler threads to finish, then forgets routes, requests and errors; so nothing of one
        test (a hanging reply, a keep-alive connection, a recorded request) reaches the next.
        Returns the handler errors recorded until then.
        """
        self.stopping.set()
        deadline = time.monotonic() + timeout
        while True:
            with self._lock:
                conns = list(self._conns)
            if not conns:
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.base_url}: {len(conns)} connection(s) would not end")
            for conn in conns:
                try:
                    conn.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            time.sleep(0.01)
        self.stopping.clear()
        with self._lock:
            errors = list(self.errors)
            self._routes.clear()
            self.requests.clear()
            self.errors.clear()
        return errors

    def __enter__(self) -> LoopbackServer:
        return self.start() if self._httpd is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- routes and records --

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        """An absolute URL on this server."""
        return self.base_url + path

    def route(self, path: str, *replies: Reply) -> None:
        """Answer ``path`` with ``replies`` in turn; the last one repeats."""
        if not replies:
            raise ValueError("a route needs at least one reply")
        with self._lock:
            self._routes[path] = list(replies)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests received for ``path`` (matching the path without query string)."""
        with self._lock:
            return [r for r in self.requests if r.path == path or r.target == path]

    def _record(self, req: RecordedRequest) -> None:
        with self._lock:
            self.requests.append(req)

    def _next_reply(self, req: RecordedRequest) -> Reply:
        with self._lock:
            replies = self._routes.get(req.target) or self._routes.get(req.path)
            if not replies:
                return Static(404, b"not found", content_type="text/plain")
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._lock:
            if alive:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)
