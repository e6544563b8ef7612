"""Keeping observations consistent when captures arrive out of order (import, backfill)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from archive.store import Archive
from archive.vocab import BAD_OUTCOMES, FULL_OUTCOMES, Outcome, state_key

# -- keeping observations consistent when they arrive out of order -------------------------


def reconcile_pages(archive: Archive, page_ids: Iterable[int]) -> int:
    """Recompute what depends on capture order for these pages; return the rows changed.

    :meth:`~archive.store.Archive.record_snapshot` judges ``changed`` and new/unchanged
    against the page's *latest* observation, which is right for a crawl but not for captures
    older than ones already stored (an import or a Wayback backfill). Walking each page's
    snapshots by ``captured_at`` this sets ``changed`` (with the store's rule), makes the
    earliest capture of each version the ``new`` one, and moves ``pages.first_seen`` and
    ``versions.first_seen`` back to the earliest capture. One transaction.
    """
    fixed = 0
    with archive.transaction() as c:
        for pid in sorted(set(page_ids)):
            fixed += reconcile_page(c, pid)
    return fixed


def reconcile_page(c: sqlite3.Connection, pid: int) -> int:
    """:func:`reconcile_pages` for one page, inside the caller's transaction (``reparse``
    repoints a page's snapshots and reconciles it in one); return the rows changed."""
    fixed = 0
    rows = c.execute(
        """SELECT id, outcome, version_id, suspect, changed, http_status, captured_at
             FROM snapshots WHERE page_id = ? ORDER BY captured_at, id""",
        (pid,)).fetchall()
    last: object = _NONE
    seen_versions: set[int] = set()
    for r in rows:
        outcome, changed = r["outcome"], 0
        if outcome not in BAD_OUTCOMES and not r["suspect"]:
            key = state_key(outcome, r["version_id"])
            changed = int(last is _NONE or key != last)
            last = key
        if outcome in FULL_OUTCOMES and r["version_id"] is not None:
            outcome = (Outcome.UNCHANGED if r["version_id"] in seen_versions
                       else Outcome.NEW)
            seen_versions.add(r["version_id"])
        elif r["version_id"] is not None:
            seen_versions.add(r["version_id"])
        if changed != r["changed"] or outcome != r["outcome"]:
            c.execute("UPDATE snapshots SET changed = ?, outcome = ? WHERE id = ?",
                      (changed, str(outcome), r["id"]))
            fixed += 1
    c.execute(
        """UPDATE pages SET first_seen = min(first_seen, coalesce(
             (SELECT min(captured_at) FROM snapshots WHERE page_id = pages.id),
             first_seen)) WHERE id = ?""", (pid,))
    # Only the versions whose first_seen moves back are written: an UPDATE rewrites the whole
    # row (a version's row holds its text, a 20 MB page's twice over in SQLite's memory), and
    # the update trigger (versions_au) takes the text out of the full-text index and puts it
    # back, whatever column changed (an import of 400 pages spent 40% of its time there).
    c.execute(
        """UPDATE versions SET first_seen = (
             SELECT min(captured_at) FROM snapshots WHERE version_id = versions.id)
           WHERE page_id = ? AND first_seen > (
             SELECT min(captured_at) FROM snapshots WHERE version_id = versions.id)""", (pid,))
    return fixed


_NONE = object()


