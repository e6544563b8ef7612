"""Politeness per request, not per link: each hop of a redirect chain takes its own host's turn.

A link on ``old.example`` that answers 301 to ``new.example`` makes two requests to two hosts.
The crawl's workers are keyed by the host in the link, so the second request would otherwise
go to ``new.example`` with no regard for the requests the ``new.example`` worker is making at
the same moment, nor for ``new.example``'s robots.txt. :class:`HostGate` is the fetcher's
per-hop hook (``Fetcher.fetch(..., hop=gate.hop)``): before each request it checks the hop's
robots.txt, then holds the hop host's lock (so no two requests are ever in flight to one host),
waits ``max(delay, Crawl-delay)`` since the last request to that host ended, and notes the end
of the request when the response is closed. robots.txt itself is fetched through the same
gate, without the robots check, so it too waits its turn and its Crawl-delay counts from it.

A thread holds at most one host's lock at a time (robots.txt is checked before the lock is
taken), so two threads whose redirects cross hosts cannot deadlock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from archive.errors import BlockedURLError, PermanentFetchError
from archive.urls import host_key
from scraper.fetch import FetchStoppedError
from scraper.robots import RobotsCache
from scraper.throttle import Throttle


class RobotsRefusalError(BlockedURLError):
    """robots.txt disallows the URL (a rule, recorded as blocked)."""


class RobotsUnreachableError(PermanentFetchError):
    """robots.txt could not be had this run, so its host is not crawled (a failure)."""


class StoppedWaitingError(FetchStoppedError):
    """The stop event was set while waiting for a host's turn: nothing was requested."""


class HostGate:
    """Per-hop politeness for one job: robots.txt, one request in flight per host, delays.

    ``delay`` is the least time between requests to one host (robots.txt's Crawl-delay wins
    when larger); ``throttle`` keeps the time of each host's last request and its lock, and may
    be shared between jobs; ``stop`` ends a wait early. Creating a gate makes ``robots`` fetch
    robots.txt through it.
    """

    def __init__(self, throttle: Throttle, robots: RobotsCache, *, delay: float,
                 stop: threading.Event | None = None) -> None:
        self.throttle, self.robots, self.delay = throttle, robots, delay
        self.stop = stop or threading.Event()
        robots.hop = self.turn

    @contextmanager
    def hop(self, url: str) -> Iterator[None]:
        """One request to ``url``: refused by robots.txt, or made in its host's turn."""
        refusal = self.robots.refusal(url)
        if refusal is not None:
            if self.robots.reachable(url):
                raise RobotsRefusalError(refusal, url=url)
            raise RobotsUnreachableError(refusal, url=url)
        crawl_delay = self.robots.crawl_delay(url) or 0.0
        if crawl_delay:
            # Kept by the throttle, which jobs may share: the next job asking this host keeps
            # the delay even before it has read robots.txt itself (a watch list's next watch).
            self.throttle.require(host_key(url), crawl_delay)
        delay = max(self.delay, crawl_delay)
        with self.turn(url, delay):
            yield

    @contextmanager
    def turn(self, url: str, delay: float | None = None) -> Iterator[None]:
        """Hold ``url``'s host, wait ``delay`` (default: the gate's) since its last request,
        and note the request's end on leaving (also when it failed)."""
        key = host_key(url)
        with self.throttle.lock(key):
            self.throttle.wait(key, self.delay if delay is None else delay, self.stop)
            if self.stop.is_set():
                raise StoppedWaitingError("not fetched: stopping", url=url)
            try:
                yield
            finally:
                self.throttle.done(key)
