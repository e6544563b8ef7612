"""Politeness: at least so many seconds between one request to a host and the next.

One :class:`Throttle` serves the live crawl (one key per host, each host's worker thread waits
its own turn) and the Wayback backfill (one key for the Wayback Machine). It can be shared
between crawls (a watch list crawling several seeds), so a host shared by two seeds is not
asked twice as often. Waits go through ``stop.wait`` when a stop event is given, so an
interruption is not held up by a long pause.

>>> t = Throttle(monotonic=lambda: 100.0)
>>> t.done("example.org"); t.remaining("example.org", 4.0), t.remaining("other.org", 4.0)
(4.0, 0.0)
>>> t.require("example.org", 10.0)  # its robots.txt said Crawl-delay: 10
>>> t.remaining("example.org", 4.0)
10.0
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any


class Throttle:
    """The time of the last request per key (a host), and waiting for the next turn."""

    def __init__(self, *, sleep: Callable[[float], Any] = time.sleep,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self._sleep = sleep
        self._monotonic = monotonic
        # Writers of one key hold its lock (HostGate), so plain dict writes are enough.
        self._last: dict[str, float] = {}
        self._floor: dict[str, float] = {}
        self._locks: dict[str, threading.RLock] = {}
        self._locks_lock = threading.Lock()

    def require(self, key: str, interval: float) -> None:
        """``key`` asks for at least ``interval`` seconds between requests (its robots.txt
        Crawl-delay): every later wait for it honours that, whichever job waits, so the
        next crawl sharing this throttle keeps the delay before it has read robots.txt."""
        self._floor[key] = max(self._floor.get(key, 0.0), interval)

    def lock(self, key: str) -> threading.RLock:
        """The lock held while a request to ``key`` is in flight (one at a time per host)."""
        with self._locks_lock:
            return self._locks.setdefault(key, threading.RLock())

    def remaining(self, key: str, interval: float) -> float:
        """Seconds until a request to ``key`` may start."""
        last = self._last.get(key)
        if last is None:
            return 0.0
        interval = max(interval, self._floor.get(key, 0.0))
        return max(0.0, last + interval - self._monotonic())

    def wait(self, key: str, interval: float, stop: threading.Event | None = None) -> None:
        """Wait until a request to ``key`` may start (or until ``stop`` is set)."""
        remaining = self.remaining(key, interval)
        if remaining > 0:
            if stop is not None:
                stop.wait(remaining)
            else:
                self._sleep(remaining)

    def done(self, key: str) -> None:
        """Note that a request to ``key`` just ended (successfully or not)."""
        self._last[key] = self._monotonic()
