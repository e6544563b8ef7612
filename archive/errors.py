"""The exceptions coop-archive raises.

One root, so a caller can catch everything of ours and nothing else::

    CoopError
    ├── FetchError                  (carries .url)
    │   ├── TransientFetchError     retried: connection errors, timeouts, 5xx, 429, truncated bodies
    │   │   └── TruncatedBodyError  fewer bytes than Content-Length, or the connection dropped
    │   └── PermanentFetchError     not retried: too many redirects, body too large, bad TLS ...
    │       ├── TooLargeError       body (or its decompressed form) exceeded max_bytes
    │       ├── TooManyRedirectsError
    │       └── BlockedURLError     also a ValueError: scheme or address we refuse to fetch
    ├── ArchiveError                the SQLite archive cannot be used
    │   ├── ArchiveLockedError      another crawl holds the archive, or another process kept
    │   │                           it busy migrating or writing (exit 75)
    │   ├── SchemaTooNewError       written by a newer coop-archive
    │   └── ArchiveCorruptError     integrity check or invariants failed
    └── UsageError                  also a ValueError: a bad argument (bad WHEN, unknown URL ...)

A 404/410 is not an exception: it is an observation recorded as a snapshot.
The CLI maps these to exit codes (see README, "Exit codes").
"""

from __future__ import annotations

import errno
import sqlite3


class CoopError(Exception):
    """Root of every error coop-archive raises on purpose."""


class FetchError(CoopError):
    """A URL could not be fetched. ``url`` is the URL that failed."""

    def __init__(self, message: str, *, url: str) -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        return f"{self.url}: {self.args[0]}"


class TransientFetchError(FetchError):
    """A failure worth retrying (connection error, timeout, 5xx, 429, truncation).

    ``retry_after`` is the server's Retry-After in seconds, when it sent one.
    """

    def __init__(self, message: str, *, url: str, status: int | None = None,
                 retry_after: float | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status
        self.retry_after = retry_after


class TruncatedBodyError(TransientFetchError):
    """The body ended before Content-Length, or the connection dropped mid-body."""


class PermanentFetchError(FetchError):
    """A failure that retrying will not fix."""

    def __init__(self, message: str, *, url: str, status: int | None = None) -> None:
        super().__init__(message, url=url)
        self.status = status


class TooLargeError(PermanentFetchError):
    """The body, or its decompressed form, exceeded the size limit."""


class TooManyRedirectsError(PermanentFetchError):
    """More redirects than allowed, or a redirect loop."""


class BlockedURLError(PermanentFetchError, ValueError):
    """A URL we refuse to fetch: not http(s), link-local, or private when the seed is public."""


class ArchiveError(CoopError):
    """The archive cannot be opened or used."""


class ArchiveLockedError(ArchiveError):
    """Another crawl holds the archive's lock."""


class SchemaTooNewError(ArchiveError):
    """The archive was written by a newer version of coop-archive."""


class ArchiveCorruptError(ArchiveError):
    """The archive failed its integrity check or its own invariants."""


class UsageError(CoopError, ValueError):
    """A bad argument: a malformed or out-of-range WHEN, an unknown URL, ..."""


def is_busy(error: BaseException) -> bool:
    """SQLITE_BUSY ("database is locked"): another connection held the write lock for longer
    than this one's busy timeout."""
    if not isinstance(error, sqlite3.OperationalError):
        return False
    code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
    return code == sqlite3.SQLITE_BUSY or (code is None and "database is locked" in str(error))


def is_disk_full(error: BaseException) -> bool:
    """SQLITE_FULL ("database or disk is full"), or ENOSPC / EFBIG from a write."""
    if isinstance(error, sqlite3.Error):
        code = getattr(error, "sqlite_errorcode", None)
        return code == sqlite3.SQLITE_FULL or "disk is full" in str(error)
    return isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EFBIG)
