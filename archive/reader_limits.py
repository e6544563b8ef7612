"""Limits for the readers that run a user's query (``sql``, ``search``): time, size, stop.

A query is the user's program: a recursive CTE runs for ever, ``zeroblob(400000000)`` asks for
400 MB, a search of 50,000 terms takes minutes. :func:`limited` bounds one connection while a
reader works: SQLite's progress handler looks at the clock and at a stop event every few
thousand virtual-machine steps and aborts the statement when either says so (Ctrl-C reaches
the query this way: the CLI's signal handler sets the event, since a KeyboardInterrupt raised
inside SQLite's callback would be swallowed), and SQLite's length limit refuses any single
value larger than the budget before it is built. What stopped the query is raised as
:class:`QueryLimitError` (a limit: exit 2, the message names the flag) or
:class:`QueryStopped` (a signal).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from archive.errors import CoopError, UsageError

# VM steps between looks at the clock: about a millisecond of work, so a stop or the deadline
# is noticed at once, and the look itself costs nothing measurable.
_STEPS = 10_000


@dataclass(frozen=True)
class ReaderLimits:
    """What one reader's query may use. Defaults suit an interactive command."""

    seconds: float = 5.0  # wall clock of the whole query (``--timeout``)
    max_rows: int = 100_000  # rows of a result (``sql --max-rows``)
    max_value_bytes: int = 20_000_000  # one value (string or blob) SQLite may build
    max_result_bytes: int = 100_000_000  # all the values of a result together


DEFAULT_READER_LIMITS = ReaderLimits()


class QueryLimitError(UsageError):
    """A query hit one of its :class:`ReaderLimits`; the message says which and the flag."""


class QueryStopped(CoopError):
    """A query was stopped from outside (its stop event was set: SIGINT, SIGTERM)."""


class _Watch:
    """The progress handler: aborts on the stop event or past the deadline, and says which."""

    def __init__(self, seconds: float, stop: threading.Event | None) -> None:
        self.deadline = time.monotonic() + seconds
        self.seconds, self.stop = seconds, stop
        self.why: str | None = None

    def __call__(self) -> int:
        if self.stop is not None and self.stop.is_set():
            self.why = "stopped"
        elif time.monotonic() > self.deadline:
            self.why = "timeout"
        return 1 if self.why else 0

    def error(self) -> CoopError:
        if self.why == "stopped":
            return QueryStopped("query stopped")
        return QueryLimitError(f"query stopped after {self.seconds:g}s (its time limit; "
                               "--timeout to change it)")


@contextmanager
def limited(conn: sqlite3.Connection, limits: ReaderLimits,
            stop: threading.Event | None = None) -> Iterator[_Watch]:
    """Bound every statement ``conn`` runs inside the block by ``limits`` and ``stop``.

    A statement aborted by the watch fails with ``sqlite3.OperationalError("interrupted")``;
    the block's ``except`` can ask :func:`stop_reason` for the error to raise instead. A value
    longer than ``limits.max_value_bytes`` fails with "string or blob too big" before SQLite
    allocates it (and :func:`value_error` turns that into a QueryLimitError).
    """
    watch = _Watch(limits.seconds, stop)
    if watch():  # stopped already: a short query would never reach the progress handler
        raise watch.error()
    conn.set_progress_handler(watch, _STEPS)
    old_length = None
    if hasattr(conn, "setlimit"):  # Python 3.11+
        old_length = conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, limits.max_value_bytes)
    try:
        yield watch
    finally:
        conn.set_progress_handler(None, _STEPS)
        if old_length is not None:
            conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, old_length)


def stop_reason(watch: _Watch, error: sqlite3.Error, limits: ReaderLimits) -> CoopError | None:
    """The error to raise for a statement that failed with ``error`` inside :func:`limited`,
    when a limit (or a stop) ended it; None for any other SQL error."""
    if watch.why:
        return watch.error()
    if "too big" in str(error):
        return QueryLimitError(f"a value of the result is larger than "
                               f"{limits.max_value_bytes} bytes (the reader's size limit)")
    return None


def fetch_bounded(cur: sqlite3.Cursor, limits: ReaderLimits, *,
                  rows_flag: str = "--max-rows") -> list[tuple[object, ...]]:
    """Every row of ``cur``, refused (QueryLimitError) past ``limits.max_rows`` rows or
    ``limits.max_result_bytes`` bytes of values, counted as they arrive, never after."""
    rows: list[tuple[object, ...]] = []
    size = 0
    while True:
        batch = cur.fetchmany(1000)
        if not batch:
            return rows
        for row in batch:
            size += sum(len(v) if isinstance(v, (str, bytes)) else 8 for v in row)
        rows.extend(tuple(r) for r in batch)
        if len(rows) > limits.max_rows:
            raise QueryLimitError(f"the result has more than {limits.max_rows} rows "
                                  f"({rows_flag} to change the limit, or add a LIMIT)")
        if size > limits.max_result_bytes:
            raise QueryLimitError(f"the result is larger than {limits.max_result_bytes} "
                                  "bytes (the reader's size limit; add a LIMIT or select "
                                  "fewer columns)")
