"""The notification outbox: which run's changes went to which target, delivered or not.

A message is put in the outbox (:func:`enqueue`) in the same archive as the run it tells
about, before any delivery is tried, so a crash, a receiver that is down or a bad password
loses nothing: :func:`pending` lists what is still to send, and the sender records each try
with :func:`mark_delivered` or :func:`mark_failed`. Putting a message in twice (a retried
run's hook) keeps the first: one row per run and target.

The target is named by a key (the caller's hash of the URL) and a label (the URL without its
password): the sender finds the URL again by its key. Table ``outbox`` (schema migration 3,
docs/schema.md).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from archive.store import Archive
from archive.timeutil import utcnow_iso


@dataclass(frozen=True)
class Message:
    """What a notification says: a subject line, plain text and HTML."""

    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Entry:
    """One outbox row."""

    id: int
    run_id: int
    watch: str | None
    target_key: str
    target: str
    message: Message
    created_at: str
    attempts: int
    last_error: str | None
    delivered_at: str | None


def enqueue(archive: Archive, run_id: int, *, target_key: str, target: str, message: Message,
            watch: str | None = None) -> int:
    """Put ``message`` about run ``run_id`` in the outbox for one target; its row id.

    The run's row for that target, if there already is one, is kept as it is (and its id
    returned): a message is queued once per run and target.
    """
    with archive.transaction() as c:
        c.execute(
            "INSERT OR IGNORE INTO outbox (run_id, watch, target_key, target, subject,"
            " body_text, body_html, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (run_id, watch, target_key, target, message.subject, message.text, message.html,
             utcnow_iso()))
        row = c.execute("SELECT id FROM outbox WHERE run_id = ? AND target_key = ?",
                        (run_id, target_key)).fetchone()
    return int(row[0])


def _entry(row: sqlite3.Row) -> Entry:
    return Entry(row["id"], row["run_id"], row["watch"], row["target_key"], row["target"],
                 Message(row["subject"], row["body_text"], row["body_html"]),
                 row["created_at"], row["attempts"], row["last_error"], row["delivered_at"])


_COLUMNS = ("id, run_id, watch, target_key, target, subject, body_text, body_html, created_at,"
            " attempts, last_error, delivered_at")


def pending(archive: Archive, *, run_id: int | None = None) -> list[Entry]:
    """Messages not delivered yet, oldest first (of run ``run_id`` only, when given)."""
    where, args = ("AND run_id = ?", (run_id,)) if run_id is not None else ("", ())
    rows = archive.conn.execute(
        f"SELECT {_COLUMNS} FROM outbox WHERE delivered_at IS NULL {where} ORDER BY id",
        args).fetchall()
    return [_entry(r) for r in rows]


def entries(archive: Archive, *, run_id: int | None = None) -> list[Entry]:
    """Every outbox row (of run ``run_id`` only, when given), oldest first."""
    where, args = ("WHERE run_id = ?", (run_id,)) if run_id is not None else ("", ())
    rows = archive.conn.execute(f"SELECT {_COLUMNS} FROM outbox {where} ORDER BY id",
                                args).fetchall()
    return [_entry(r) for r in rows]


def mark_delivered(archive: Archive, entry_id: int) -> None:
    """Record a successful delivery (one more attempt, no error)."""
    now = utcnow_iso()
    with archive.transaction() as c:
        c.execute("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?,"
                  " delivered_at = ?, last_error = NULL WHERE id = ?", (now, now, entry_id))


def mark_failed(archive: Archive, entry_id: int, error: str) -> None:
    """Record a failed delivery: one more attempt and its error; it stays pending."""
    with archive.transaction() as c:
        c.execute("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?,"
                  " last_error = ? WHERE id = ?", (utcnow_iso(), error, entry_id))
