"""A total deadline for each HTTP attempt, enforced by closing its socket from a watchdog thread.

requests and urllib3 only know per-socket-read timeouts: a server that sends its response
headers one byte per second satisfies a 30 s read timeout for ever, and http.client reads the
headers with no way to check a clock between bytes. So the fetcher registers each attempt
here with its deadline, the connection classes below register their sockets with the attempt
of the thread that uses them, and one watchdog thread per :class:`Watchdog` shuts down the
sockets of any attempt that outlives its deadline, or of every attempt when the stop event is
set (SIGTERM or Ctrl-C in the CLI). The blocked read then returns at once with an error, which
the fetcher reports as a total timeout or as stopped, never as what it looks like (a dropped
connection).

The watchdog wakes at the earliest deadline and at least every :data:`SLICE` seconds while
attempts are in flight (to notice the stop event); with nothing in flight it sleeps until an
attempt is registered.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

logger = logging.getLogger(__name__)

SLICE = 0.1  # seconds: how late the watchdog may notice the stop event

_current = threading.local()  # the attempt the calling thread is running, if any


@dataclass(eq=False)
class Attempt:
    """One request attempt: its deadline, the connections it used, and why it was cut off."""

    deadline: float
    conns: list[Any] = field(default_factory=list)
    cut: str | None = None  # "deadline" or "stopped" once the watchdog closed its sockets

    def add(self, conn: Any) -> None:
        """Watch ``conn`` (a urllib3 connection) for the rest of this attempt."""
        self.conns.append(conn)
        if self.cut is not None:
            _shut(conn)  # registered after the cut (a new connection): close it too


class Watchdog:
    """Cuts off attempts at their deadline, and all of them when ``stop`` is set."""

    def __init__(self, stop: threading.Event | None = None) -> None:
        self.stop = stop if stop is not None else threading.Event()
        self._attempts: set[Attempt] = set()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None
        self._closed = False

    def begin(self, timeout: float) -> Attempt:
        """Start an attempt of at most ``timeout`` seconds on the calling thread."""
        attempt = Attempt(time.monotonic() + timeout)
        _current.attempt = attempt
        with self._cond:
            self._attempts.add(attempt)
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="fetch-watchdog",
                                                daemon=True)
                self._thread.start()
            self._cond.notify()
        return attempt

    def end(self, attempt: Attempt) -> None:
        """The attempt is over (its connections go back to the pool, or are closed)."""
        if getattr(_current, "attempt", None) is attempt:
            _current.attempt = None
        with self._cond:
            self._attempts.discard(attempt)

    def close(self) -> None:
        """Stop the watchdog thread (a later :meth:`begin` does not restart it)."""
        with self._cond:
            self._closed = True
            self._cond.notify()
            thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=2)

    def _run(self) -> None:
        with self._cond:
            while not self._closed:
                if not self._attempts:
                    self._cond.wait()
                    continue
                now = time.monotonic()
                stopping = self.stop.is_set()
                for attempt in list(self._attempts):
                    if attempt.cut is None and (stopping or now >= attempt.deadline):
                        attempt.cut = "stopped" if stopping else "deadline"
                        logger.debug("cutting off an attempt: %s", attempt.cut)
                    if attempt.cut is not None:
                        # Every tick, not once: a socket still connecting at the cut has no
                        # fd to shut yet, and gets one when the connect completes.
                        for conn in attempt.conns:
                            _shut(conn)
                live = [a.deadline for a in self._attempts if a.cut is None]
                wait = min([SLICE, *(d - now for d in live)])
                self._cond.wait(max(wait, 0.001))


def _shut(conn: Any) -> None:
    """Unblock any read or write on ``conn``'s socket; the connection is not reusable after."""
    sock = getattr(conn, "sock", None)
    if sock is None:
        return
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed or never connected: nothing is blocked on it


def _register(conn: Any) -> None:
    attempt: Attempt | None = getattr(_current, "attempt", None)
    if attempt is not None:
        attempt.add(conn)


class WatchedHTTPConnection(HTTPConnection):
    """An HTTP connection that joins the calling thread's attempt before each request."""

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _register(self)
        super().request(*args, **kwargs)


class WatchedHTTPSConnection(HTTPSConnection):
    """An HTTPS connection that joins the calling thread's attempt before each request."""

    def connect(self) -> None:
        # urllib3 connects HTTPS (TLS handshake) before request(); a slow handshake counts too.
        _register(self)
        super().connect()

    def request(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        _register(self)
        super().request(*args, **kwargs)


class WatchedHTTPConnectionPool(HTTPConnectionPool):
    """A pool of :class:`WatchedHTTPConnection`."""

    ConnectionCls = WatchedHTTPConnection


class WatchedHTTPSConnectionPool(HTTPSConnectionPool):
    """A pool of :class:`WatchedHTTPSConnection`."""

    ConnectionCls = WatchedHTTPSConnection


POOL_CLASSES = {"http": WatchedHTTPConnectionPool, "https": WatchedHTTPSConnectionPool}
