"""robots.txt, fetched once per origin per run and obeyed as RFC 9309 says.

What each outcome of fetching ``<origin>/robots.txt`` means (RFC 9309, section 2.3.1):

* 2xx: parse it (protego), using at most the first 500 KiB (the RFC's parsing minimum);
* 4xx (404, 410, and also 401/403): "unavailable", so everything is allowed;
* 5xx, 429 or no answer at all, after the fetcher's retries: "unreachable", so everything
  on that origin is disallowed for this run;
* more redirects than the fetcher follows: "unavailable" (RFC 9309 allows that reading);
* a robots.txt the address policy refuses to fetch: "unavailable"; the pages themselves are
  still vetted by the same policy when fetched, and are refused with a clearer error there.

Rules are matched on the product token of the user agent (``coop-archive`` in
``coop-archive/0.1.0 (+https://...)``), as RFC 9309 asks.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from protego import Protego

from archive.errors import (
    BlockedURLError,
    FetchError,
    PermanentFetchError,
    TooManyRedirectsError,
    TransientFetchError,
)
from archive.urls import origin_key
from scraper.fetch import Fetcher

logger = logging.getLogger(__name__)

MAX_ROBOTS_BYTES = 500 * 1024


@dataclass(frozen=True)
class _Rules:
    """What we learned about one origin: parsed rules, or a blanket allow / disallow."""

    parser: Protego | None = None
    allow_all: bool = True
    reason: str = "disallowed by robots.txt"
    reachable: bool = True

    def allowed(self, url: str, agent: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return bool(self.parser.can_fetch(url, agent))

    def crawl_delay(self, agent: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(agent)
        return float(delay) if delay is not None else None


_ALLOW_ALL = _Rules(None, allow_all=True)
_DISALLOW_ALL = _Rules(None, allow_all=False)


def product_token(user_agent: str) -> str:
    """The product token that robots.txt groups are matched on (RFC 9309, section 2.2.1).

    >>> product_token("coop-archive/0.1.0 (+https://example.org)")
    'coop-archive'
    """
    first = user_agent.strip().split(None, 1)[0] if user_agent.strip() else ""
    return first.split("/", 1)[0] or user_agent


class RobotsCache:
    """Answers "may we fetch this URL?" and "how long between requests?" from robots.txt.

    Each origin's robots.txt is fetched with ``fetcher`` at most once per cache (one cache per
    run), on first use. Thread-safe: concurrent callers for one origin wait for a single fetch;
    different origins do not wait for each other. With ``ignore=True`` nothing is fetched,
    everything is allowed and there is no crawl delay.
    """

    def __init__(self, fetcher: Fetcher, *, user_agent: str, ignore: bool = False) -> None:
        self.fetcher = fetcher
        self.user_agent = user_agent
        self.agent = product_token(user_agent)
        self.ignore = ignore
        self._rules: dict[str, _Rules] = {}
        self._origin_locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()
        # How a robots.txt request takes its host's turn (set by scraper.politeness.HostGate).
        self.hop: Callable[[str], AbstractContextManager[None]] | None = None

    def allowed(self, url: str) -> bool:
        """True if robots.txt lets us fetch ``url``. Non-http(s) URLs are never allowed."""
        if self.ignore:
            return True
        origin = origin_key(url)
        if origin is None:
            return False
        return self._rules_for(origin).allowed(url, self.agent)

    def refusal(self, url: str) -> str | None:
        """None when ``url`` may be fetched, else why not, in a few words."""
        if self.allowed(url):
            return None
        origin = origin_key(url)
        if origin is None:
            return "not an http(s) URL"
        return self._rules_for(origin).reason

    def known(self, url: str) -> bool:
        """True when ``url``'s robots.txt needs no fetch (cached, ignored, or not http(s))."""
        if self.ignore:
            return True
        origin = origin_key(url)
        if origin is None:
            return True
        with self._lock:
            return origin in self._rules

    def reachable(self, url: str) -> bool:
        """False when ``url``'s robots.txt could not be had this run (a failure, not a rule)."""
        if self.ignore:
            return True
        origin = origin_key(url)
        return origin is not None and self._rules_for(origin).reachable

    def crawl_delay(self, url: str) -> float | None:
        """The Crawl-delay (seconds) robots.txt asks of us on ``url``'s origin, or None."""
        if self.ignore:
            return None
        origin = origin_key(url)
        if origin is None:
            return None
        return self._rules_for(origin).crawl_delay(self.agent)

    def _rules_for(self, origin: str) -> _Rules:
        with self._lock:
            rules = self._rules.get(origin)
            if rules is not None:
                return rules
            origin_lock = self._origin_locks.setdefault(origin, threading.Lock())
        with origin_lock:  # one fetch per origin; other origins proceed meanwhile
            with self._lock:
                rules = self._rules.get(origin)
            if rules is None:
                rules = self._load(origin)
                with self._lock:
                    self._rules[origin] = rules
            return rules

    def _load(self, origin: str) -> _Rules:
        url = f"{origin}/robots.txt"
        try:
            result = self.fetcher.fetch(url, max_bytes=MAX_ROBOTS_BYTES, truncate=True,
                                        hop=self.hop)
        except TransientFetchError as exc:
            logger.info("robots.txt unreachable, not crawling %s this run: %s", origin, exc)
            return _Rules(None, allow_all=False, reason=f"robots.txt unreachable: {exc}",
                          reachable=False)
        except (TooManyRedirectsError, BlockedURLError) as exc:
            logger.info("robots.txt unavailable for %s, allowing all: %s", origin, exc)
            return _ALLOW_ALL
        except PermanentFetchError as exc:
            if exc.status is not None and 400 <= exc.status <= 499:
                logger.info("robots.txt for %s answered %d: allowing all", origin, exc.status)
                return _ALLOW_ALL
            logger.info("robots.txt unreachable, not crawling %s this run: %s", origin, exc)
            return _DISALLOW_ALL
        except FetchError as exc:  # any other FetchError subclass added later: be careful
            logger.info("robots.txt failed, not crawling %s this run: %s", origin, exc)
            return _DISALLOW_ALL
        if not 200 <= result.status <= 299:  # 404, 410 (and a stray 304)
            logger.info("no robots.txt for %s (%d): allowing all", origin, result.status)
            return _ALLOW_ALL
        body = result.body
        if len(body) >= MAX_ROBOTS_BYTES:
            body = body[: body.rfind(b"\n") + 1]  # drop a line cut in half by the cap
        text = body.decode("utf-8", errors="replace")
        return _Rules(Protego.parse(text), allow_all=True)
