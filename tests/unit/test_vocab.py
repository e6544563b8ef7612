"""The vocabularies (archive/vocab.py) are the one source of the lists the schema and the
readers use; the shipped migrations keep their exact text."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import pytest

from archive import schema, timeline, warc_export
from archive.store import OUTCOMES, Archive
from archive.vocab import (
    BAD_OUTCOMES,
    BODY_OUTCOMES,
    CONTENT_OUTCOMES,
    GOOD_OUTCOMES,
    Outcome,
    RunStatus,
    Source,
    worst_status,
)

# sha256 of each migration's SQL as shipped. Migrations are append-only: building their text
# from the vocabularies must not change one byte of it.
SHIPPED = {
    "V1": "99496eff8d6c02bf15d5ce3d3edba05a50a2e919f6d5df8a3b9c1b140ab629ad",
    "V2": "18ce8c66b6cc087003198f3a45fdb096f810dad9764f64640c31ef590e4b2fec",
}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_migrations_keep_their_text(name: str) -> None:
    text = getattr(schema, name)
    assert hashlib.sha256(text.encode()).hexdigest() == SHIPPED[name]


def test_groups_partition_the_outcomes() -> None:
    assert set(GOOD_OUTCOMES) | set(BAD_OUTCOMES) == set(Outcome) == set(OUTCOMES)
    assert not set(GOOD_OUTCOMES) & set(BAD_OUTCOMES)
    # A 404 is a good observation but not content; a 304 is content but no body of its own.
    assert Outcome.GONE in GOOD_OUTCOMES and Outcome.GONE not in CONTENT_OUTCOMES
    assert Outcome.NOT_MODIFIED not in BODY_OUTCOMES
    assert timeline.GOOD == GOOD_OUTCOMES and warc_export.GOOD_OUTCOMES == GOOD_OUTCOMES


def test_the_schema_refuses_what_the_vocabulary_does_not_name(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "a.db") as a:
        for status in RunStatus:
            for source in Source:
                a.conn.execute("INSERT INTO runs (started_at, seed_url, status, source) "
                               "VALUES ('t', 'u', ?, ?)", (status, source))
        with pytest.raises(sqlite3.IntegrityError):
            a.conn.execute("INSERT INTO runs (started_at, seed_url, status, source) "
                           "VALUES ('t', 'u', 'done', 'crawl')")
        with pytest.raises(sqlite3.IntegrityError):
            a.conn.execute("INSERT INTO runs (started_at, seed_url, status, source) "
                           "VALUES ('t', 'u', 'complete', 'rss')")


def test_worst_status_orders_finished_runs() -> None:
    assert worst_status([]) == RunStatus.COMPLETE
    assert worst_status(["complete", "interrupted", "partial"]) == RunStatus.INTERRUPTED
    assert worst_status([RunStatus.FAILED, "interrupted"]) == RunStatus.FAILED


DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.mark.parametrize(("column", "vocabulary"), [
    ("status", RunStatus), ("source", Source), ("outcome", Outcome)])
def test_schema_doc_names_every_value_and_no_other(column: str, vocabulary: type) -> None:
    text = (DOCS / "schema.md").read_text(encoding="utf-8")
    values = {str(v) for v in vocabulary}
    # The column's rows in the tables that hold this vocabulary (a view's own `status`,
    # current/gone, is another vocabulary).
    rows = [line for line in text.splitlines() if line.startswith(f"| {column} |")
            and values & set(re.findall(r"`([a-z_]+)`", line))]
    assert rows, f"docs/schema.md has no row for {column}"
    for row in rows:
        assert set(re.findall(r"`([a-z_]+)`", row)) == values, row
