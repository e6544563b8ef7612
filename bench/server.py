"""The benchmark's loopback web server: tests.servers' server, counting bytes it writes.

Reuses :class:`tests.servers.LoopbackServer` (a real threaded HTTP/1.1 server on 127.0.0.x)
and adds what the benchmarks need: the bytes written per response, headers included, and a
reply that waits a fixed time (standing in for the internet), then answers 200 or, when the
request's validators match, 304.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tests.servers import (
    Handler,
    LoopbackServer,
    RecordedRequest,
    Static,
    Validated,
    _HTTPServer,
)


class _CountingWriter:
    """Wraps a handler's wfile and adds every byte written to its server's counter."""

    def __init__(self, raw: Any, owner: CountingServer) -> None:
        self._raw, self._owner = raw, owner

    def write(self, data: bytes) -> int:
        n = self._raw.write(data)
        self._owner.add_sent(len(data))
        return int(n if n is not None else len(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


class _CountingHandler(Handler):
    def setup(self) -> None:
        super().setup()
        owner = self.owner
        assert isinstance(owner, CountingServer)
        self.wfile = _CountingWriter(self.wfile, owner)  # type: ignore[assignment]


class CountingServer(LoopbackServer):
    """A :class:`LoopbackServer` that counts the bytes it sends (status line, headers, body)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.bytes_sent = 0
        self._count_lock = threading.Lock()

    def add_sent(self, n: int) -> None:
        with self._count_lock:
            self.bytes_sent += n

    def start(self) -> CountingServer:
        """Bind and serve in a background thread (as the parent, with the counting handler)."""
        httpd = _HTTPServer((self.host, self.port), _CountingHandler)
        httpd.owner = self
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name=f"bench-{self.host}:{self.port}", daemon=True)
        self._thread.start()
        return self


@dataclass
class Page:
    """A delayed reply: ``body`` (bytes or a function making them per request).

    With ``etag``/``last_modified`` it answers 304 when the request's validators match.
    """

    body: bytes | Callable[[], bytes]
    delay: float = 0.0
    etag: str | None = None
    last_modified: str | None = None
    content_type: str = "text/html; charset=utf-8"

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        if self.delay and h.owner.stopping.wait(self.delay):
            h.close_connection = True
            return
        body = self.body() if callable(self.body) else self.body
        if self.etag or self.last_modified:
            Validated(body, self.etag, self.last_modified).serve(h, req)
        else:
            Static(200, body, content_type=self.content_type).serve(h, req)
