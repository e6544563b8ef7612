"""Settings of a crawl, with their defaults in one place.

The click options read their defaults (and help) from here, and a watch list's config file
fills the same object, under the same names as the command-line options (``max_bytes`` is
``--max-bytes``).

>>> s = CrawlSettings(depth=2)
>>> s.depth, s.delay
(2, 1.0)
>>> s.connect_timeout
10.0
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from archive.errors import UsageError


def check_user_agent(value: str) -> str:
    """``value`` if it can be sent as a User-Agent header, else UsageError saying why.

    HTTP/1.1 header values are Latin-1 bytes without control characters; a CR or LF would
    end the header early (header injection), and anything outside Latin-1 cannot be encoded.

    >>> check_user_agent("coop-archive/0.1 (+https://example.org/contact)")
    'coop-archive/0.1 (+https://example.org/contact)'
    >>> check_user_agent("bot\\r\\nX-Evil: 1")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    archive.errors.UsageError: user-agent: control character '\\r' at position 3 ...
    """
    if not value.strip():
        raise UsageError("user-agent: empty")
    if value != value.strip():
        raise UsageError("user-agent: leading or trailing white space")
    for i, ch in enumerate(value):
        code = ord(ch)
        if code < 0x20 or 0x7F <= code < 0xA0:
            raise UsageError(f"user-agent: control character {ch!r} at position {i} "
                             "(not allowed in an HTTP header)")
        if code > 0xFF:
            raise UsageError(f"user-agent: {ch!r} at position {i} is not Latin-1 (HTTP "
                             "headers are Latin-1; write it as ASCII)")
    return value


def _opt(default: Any, help: str, *, lo: float | None = None, hi: float | None = None) -> Any:
    """A settings field with its default, its command-line help and its allowed range."""
    return field(default=default, metadata={"help": help, "min": lo, "max": hi})


@dataclass(frozen=True)
class CrawlSettings:
    """Everything that decides how one crawl runs. Every field has a default."""

    depth: int = _opt(1, "Link levels to follow from the seed's main content.", lo=0, hi=5)
    delay: float = _opt(1.0, "Minimum seconds between requests to one host (robots "
                             "Crawl-delay wins if larger).", lo=0, hi=3600)
    timeout: float = _opt(30.0, "Read timeout in seconds (connect timeout is the smaller of "
                                "this and 10).", lo=0.1, hi=600)
    retries: int = _opt(3, "Retries of a transient failure (5xx, 429, timeout, dropped "
                           "connection).", lo=0, hi=10)
    backoff: float = _opt(1.0, "Base of the exponential backoff between retries, in seconds "
                               "(with jitter).", lo=0, hi=600)
    max_retry_after: float = _opt(120.0, "Longest Retry-After honoured, in seconds; a longer "
                                         "one is capped.", lo=0, hi=86400)
    max_bytes: int = _opt(20_000_000, "Largest body accepted, after decompression.",
                          lo=1, hi=2**40)
    user_agent: str | None = _opt(None, "User-Agent header (default: coop-archive/VERSION "
                                        "(+project URL)).")
    ignore_robots: bool = _opt(False, "Do not fetch or obey robots.txt.")
    revalidate_days: float = _opt(7.0, "Fetch a page in full (no If-None-Match / "
                                       "If-Modified-Since) when its last full body is this "
                                       "old, so a server that wrongly answers 304 cannot hide "
                                       "a change for ever; 0: never send validators.",
                                  lo=0, hi=36500)
    max_run_seconds: float = _opt(3600.0, "Wall-clock budget of the whole run, in seconds: "
                                          "then it stops (status interrupted, exit 1) and "
                                          "frees the archive.", lo=1, hi=7 * 86400)
    allow_hosts: tuple[str, ...] = _opt((), "Allow this host even if it resolves to a private "
                                            "or loopback address.")
    same_network: bool = _opt(False, "Stay on the seed's network class: from a loopback seed "
                                     "only loopback addresses, from a private-network seed "
                                     "only private ones (a public seed never reaches "
                                     "private addresses anyway).")

    @property
    def connect_timeout(self) -> float:
        """The connect timeout: the read timeout, at most 10 s."""
        return min(self.timeout, 10.0)

    def replace(self, **changes: Any) -> CrawlSettings:
        """A copy with ``changes`` applied and checked (see :meth:`checked`)."""
        return dataclasses.replace(self, **changes).checked()

    def checked(self) -> CrawlSettings:
        """Self, after checking every numeric field against its range; else UsageError."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            lo, hi = f.metadata.get("min"), f.metadata.get("max")
            if lo is None or hi is None or isinstance(value, bool):
                continue
            if not isinstance(value, (int, float)) or value != value:  # NaN != NaN
                raise UsageError(f"{f.name.replace('_', '-')}: not a number: {value!r}")
            if not lo <= value <= hi:
                raise UsageError(f"{f.name.replace('_', '-')}: {value} is not in "
                                 f"{lo}..{hi}")
        if self.user_agent is not None:
            check_user_agent(self.user_agent)
        return self

    def run_options(self) -> dict[str, Any]:
        """What a crawl records of its settings in ``runs.options``."""
        return {"depth": self.depth, "delay": self.delay, "timeout": self.timeout,
                "retries": self.retries, "backoff": self.backoff, "max_bytes": self.max_bytes,
                "ignore_robots": self.ignore_robots, "allow_hosts": list(self.allow_hosts),
                "max_run_seconds": self.max_run_seconds,
                "same_network": self.same_network}


#: The Wayback Machine (its CDX API and id_ captures) that ``backfill`` asks by default.
DEFAULT_WAYBACK = "https://web.archive.org"


@dataclass(frozen=True)
class BackfillSettings(CrawlSettings):
    """A Wayback backfill: the crawl's settings, with the Internet Archive's politeness.

    The Wayback Machine limits its CDX API (about 60 requests a minute) and firewalls a
    client that keeps going after 429s: hence the longer delay and Retry-After.
    """

    depth: int = _opt(1, "1 also backfills the documents the historical pages list.",
                      lo=0, hi=1)
    delay: float = _opt(4.0, "Seconds between requests (CDX queries and captures alike).",
                        lo=0, hi=3600)
    timeout: float = _opt(60.0, "Read timeout in seconds.", lo=0.1, hi=600)
    retries: int = _opt(3, "Retries of a 429, 5xx or dropped connection (after Retry-After "
                           "if sent).", lo=0, hi=10)
    max_retry_after: float = _opt(300.0, "Longest Retry-After honoured, seconds.",
                                  lo=0, hi=3600)

    @property
    def retry_backoff(self) -> float:
        """The backoff between retries: at least the delay, and never under a second."""
        return max(self.delay, 1.0)


DEFAULTS = CrawlSettings()


def default(name: str, cls: type[CrawlSettings] = CrawlSettings) -> Any:
    """The default of one setting (for click options)."""
    return getattr(cls(), name)


def spec(name: str, cls: type[CrawlSettings] = CrawlSettings) -> dataclasses.Field[Any]:
    """The field of one setting: its default, and its help and range in ``metadata``."""
    return next(f for f in dataclasses.fields(cls) if f.name == name)


def help_of(name: str, cls: type[CrawlSettings] = CrawlSettings) -> str:
    """The help text of one setting (for click options)."""
    return str(spec(name, cls).metadata["help"])
