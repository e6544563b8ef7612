"""Batches of writing: many snapshots per transaction, each one still all or nothing.

A commit costs the same whether it carries one snapshot or sixty: SQLite writes the pages
to the WAL (and now and then checkpoints them) and each full-text index writes its pending
segment. A source that delivers captures quickly (a crawl without delay, a WARC import)
therefore writes them in batches (:meth:`archive.store.Archive.begin_batch`): each unit of
writing (a snapshot, a run row) is a savepoint of the batch's transaction, released when it
is whole and rolled back to when it fails, and the transaction is committed when the batch
is due (:data:`UNITS` units, or :data:`SECONDS` after its first one) or when the source says
it is about to wait. A kill loses the units not yet committed, never part of one. The
full-text index entries of a batch's snapshots are written just before it commits
(:mod:`archive.fts_rows`), in the same transaction.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)

#: A batch is committed once it holds this many units (snapshots)...
UNITS = 64
#: ... or once its first unit is this many seconds old, whichever comes first.
SECONDS = 1.0


class Batch:
    """The open batch of one connection (the archive's single writer)."""

    def __init__(self, conn: sqlite3.Connection, *, name: str, units: int = UNITS,
                 seconds: float = SECONDS,
                 before_commit: Callable[[], None] | None = None) -> None:
        self.conn, self.name = conn, name
        # What the transaction must still hold when it commits (the full-text index entries
        # of its units, archive.fts_rows): if writing it fails, the whole batch is rolled
        # back rather than committed without it.
        self.before_commit = before_commit
        self.units, self.seconds = max(1, units), seconds
        self.pending = 0  # units written in the open transaction, not yet committed
        self.since = 0.0  # time.monotonic() of its first unit

    @contextmanager
    def unit(self) -> Iterator[None]:
        """One unit of writing, a savepoint of the batch's transaction (begun by the first
        unit); the batch is committed after it when it is due."""
        if not self.conn.in_transaction:
            self.conn.execute("BEGIN IMMEDIATE")
            self.pending, self.since = 0, time.monotonic()
        self.conn.execute("SAVEPOINT unit")
        try:
            yield
            self.conn.execute("RELEASE unit")
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK TO unit")
                self.conn.execute("RELEASE unit")
            else:
                # SQLite rolled back the whole transaction (a full disk, an I/O error): the
                # batch's earlier units went with it.
                self._lost()
            raise
        self.pending += 1
        if self.pending >= self.units or time.monotonic() - self.since >= self.seconds:
            self.commit()

    def _lost(self) -> None:
        """The open transaction is gone with its units: logged (the CLI says the error,
        once)."""
        if self.pending:
            logger.info("%s: the last %d snapshot(s) written were lost with the failed "
                        "transaction", self.name, self.pending)
        self.pending = 0

    def prepare(self) -> None:
        """Write what the transaction must hold when it commits (``before_commit``), now,
        between two units; if that fails, the whole batch is rolled back."""
        if self.before_commit is None or not self.conn.in_transaction:
            return
        try:
            self.before_commit()
        except BaseException:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._lost()
            raise

    def commit(self) -> int:
        """Commit the units written since the last commit; how many there were."""
        done = self.pending
        if self.conn.in_transaction:
            self.prepare()
            self.conn.execute("COMMIT")
        self.pending = 0
        return done
