"""Full-text index entries of a batch, written once at its end rather than snapshot by snapshot.

The store fills the four FTS5 indexes itself (schema V7: no insert triggers) with the values it
has just stored in the rows. FTS5 keeps the entries it is given in memory and writes them out
as a new segment of the index at every savepoint, and inside a batch every snapshot is a
savepoint (:mod:`archive.batch`), as is every statement that may write several rows or checks
a foreign key. Written snapshot by snapshot, each snapshot's entries thus became small
segments of their own in each index, merged again and again as the next ones came: on the 400
pages of ``bench/ingest.py`` that writing was 60% of the store's time. Kept here until the
batch commits (:class:`archive.batch.Batch` ``before_commit``), or until they pass
:data:`MAX_CHARS`, they are written in the batch's transaction outside any savepoint, so FTS5
writes them as a few large segments.

Nothing else changes: the entries go into the same transaction as their rows, so a commit
holds both and a kill neither. A unit of writing that fails drops the entries it added
(:meth:`IndexRows.drop_to`); a failure while writing them rolls the whole batch back
(:class:`archive.batch.Batch`), never commits rows without their entries. Only a unit that
asks for it (:meth:`archive.store.Archive.record_snapshot`) defers; every other write, and any
write outside a batch, indexes its rows at once, as before.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

#: The statement that indexes one row of each table: (rowid, the indexed columns).
INSERT = {
    "versions_fts": "INSERT INTO versions_fts (rowid, title, text) VALUES (?, ?, ?)",
    "sections_fts": "INSERT INTO sections_fts (rowid, heading, text) VALUES (?, ?, ?)",
    "items_fts": "INSERT INTO items_fts (rowid, title, summary) VALUES (?, ?, ?)",
    "text_lines_fts": "INSERT INTO text_lines_fts (rowid, text) VALUES (?, ?)",
}

#: Characters of text kept for a batch before they are written anyway (after the unit that
#: went past it), so that texts the writer is done with are not kept alive until the commit
#: (a batch of big pages would hold them all: tests/e2e/test_warc_budget.py).
MAX_CHARS = 8_000_000


def _chars(rows: list[Sequence[Any]]) -> int:
    """About how many characters ``rows`` hold: their last column, the long text (a title or
    heading is short beside it); counting every value cost as much as a tenth of the index."""
    return sum(len(row[-1] or "") for row in rows)


class IndexRows:
    """The index entries not yet written. ``deferred`` says whether :meth:`add` keeps them
    (inside a unit that asked for it) or writes them at once."""

    def __init__(self) -> None:
        self.rows: dict[str, list[Sequence[Any]]] = {}
        self.chars = 0
        self.deferred = False

    def add(self, conn: sqlite3.Connection, table: str, rows: list[Sequence[Any]]) -> None:
        """Index ``rows`` (rowid first, then the indexed columns' values) of ``table``'s
        index: kept for :meth:`write` when deferred, else written now. One row per
        execution: a statement that writes one row into an index opens no savepoint."""
        if not rows:
            return
        if not self.deferred:
            conn.executemany(INSERT[table], rows)
            return
        self.rows.setdefault(table, []).extend(rows)
        self.chars += _chars(rows)

    def mark(self) -> dict[str, int]:
        """Where the kept entries end now (for :meth:`drop_to`)."""
        return {table: len(rows) for table, rows in self.rows.items()}

    def drop_to(self, mark: dict[str, int]) -> None:
        """Forget the entries kept since ``mark`` (their unit was rolled back)."""
        for table, rows in self.rows.items():
            del rows[mark.get(table, 0):]
        self.chars = sum(_chars(rows) for rows in self.rows.values())

    def clear(self) -> None:
        """Forget every kept entry (the transaction that held their rows was rolled back)."""
        self.rows, self.chars = {}, 0

    def write(self, conn: sqlite3.Connection) -> None:
        """Write the kept entries, in the open transaction (outside any savepoint)."""
        rows, self.rows, self.chars = self.rows, {}, 0
        for table, entries in rows.items():
            if entries:
                conn.executemany(INSERT[table], entries)
