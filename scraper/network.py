"""The network side of a job, built from its settings in one place: the address policy, the
fetcher, the robots.txt cache and the per-host politeness throttle.

The CLI, the demo and a watch list all get theirs from :func:`open_network`, so a setting
means the same wherever it is given.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from archive.timeutil import utcnow_iso
from scraper.fetch import Fetcher
from scraper.robots import RobotsCache
from scraper.safety import AddressPolicy
from scraper.settings import CrawlSettings
from scraper.throttle import Throttle


@dataclass
class Network:
    """What a job fetches with. Close it (or use it in ``with``) to release the connections."""

    fetcher: Fetcher
    robots: RobotsCache
    throttle: Throttle

    def close(self) -> None:
        """Release the fetcher's connections."""
        self.fetcher.close()

    def __enter__(self) -> Network:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def open_network(settings: CrawlSettings, seed: str, *, clock: Callable[[], str] = utcnow_iso,
                 throttle: Throttle | None = None, backoff: float | None = None,
                 stop: threading.Event | None = None) -> Network:
    """The fetcher, robots cache and throttle for a job starting from ``seed``.

    The address policy trusts the seed's own host (and ``settings.allow_hosts``) even when
    it is private; ``throttle`` may be shared between jobs so one host is never asked
    faster than its delay allows; ``backoff`` overrides the settings' retry backoff; setting
    ``stop`` (the job's stop event) also ends the requests in flight and the retry waits.
    """
    policy = AddressPolicy(seed, allow_hosts=settings.allow_hosts,
                           same_network=settings.same_network)
    fetcher = Fetcher(
        user_agent=settings.user_agent, timeout=(settings.connect_timeout, settings.timeout),
        max_bytes=settings.max_bytes, retries=settings.retries,
        backoff=settings.backoff if backoff is None else backoff,
        max_retry_after=settings.max_retry_after, policy=policy, clock=clock, stop=stop)
    robots = RobotsCache(fetcher, user_agent=fetcher.user_agent, ignore=settings.ignore_robots)
    return Network(fetcher, robots, throttle or Throttle())
