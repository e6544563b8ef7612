"""The visible text outside a snapshot's main content: stored by line, each line once.

The main content decides versions (:meth:`archive.model.Page.content_hash`); what surrounds
it (menus, asides, footers, "Trending now" boxes) changes often and means little, but a
researcher may still need it, so it is kept per snapshot without making a version. Each
distinct line is stored once (``text_lines``, full-text indexed); a snapshot's text is the
list of its lines' ids (``outside_texts``, each distinct list once). A rotating counter in a
footer costs one new line and one new list.

>>> import sqlite3
>>> from archive.migrate import migrate
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> migrate(conn, ":memory:")
0
>>> a = store(conn, "Home\\nTrending now\\nPage generated 10:00")
>>> b = store(conn, "Home\\nTrending now\\nPage generated 11:00")
>>> store(conn, "Home\\nTrending now\\nPage generated 10:00") == a, a != b
(True, True)
>>> conn.execute("SELECT count(*) FROM text_lines").fetchone()[0]
4
>>> load(conn, b)
'Home\\nTrending now\\nPage generated 11:00'
"""

from __future__ import annotations

import hashlib
import json
import sqlite3

from archive.fts_rows import IndexRows
from archive.model import Page
from archive.vocab import CONTENT_OUTCOMES, GOOD_OUTCOMES, sql_list


def _hash64(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big", signed=True)


def _line_ids(conn: sqlite3.Connection, lines: list[str],
              index: IndexRows | None = None) -> list[int]:
    """The ``text_lines`` id of each line, storing (and indexing) the new ones.

    One query finds the stored lines by hash, one statement inserts the new ones in order of
    first appearance, and their full-text index entries go to ``index`` (schema V7: no insert
    trigger; :mod:`archive.fts_rows`), written at once when none is given: a page's chrome is
    hundreds of lines.
    """
    hashes = {line: _hash64(line) for line in lines}
    known: dict[str, int] = {}
    for lid, text in conn.execute(
            "SELECT id, text FROM text_lines WHERE hash IN (SELECT value FROM json_each(?))",
            (json.dumps(sorted(set(hashes.values()))),)):
        if text in hashes:
            known.setdefault(text, int(lid))
    new = [line for line in hashes if line not in known]
    if new:
        # New rows get ids above the largest one (INTEGER PRIMARY KEY, and we are the only
        # writer inside this transaction): those are exactly the lines inserted here.
        before = conn.execute("SELECT coalesce(max(id), 0) FROM text_lines").fetchone()[0]
        conn.executemany("INSERT INTO text_lines (hash, text) VALUES (?, ?)",
                         [(hashes[line], line) for line in new])
        added = conn.execute("SELECT id, text FROM text_lines WHERE id > ?",
                             (before,)).fetchall()
        known.update((text, int(lid)) for lid, text in added)
        (index or IndexRows()).add(conn, "text_lines_fts", added)  # archive/fts_rows.py
    return [known[line] for line in lines]


def store(conn: sqlite3.Connection, text: str, index: IndexRows | None = None) -> int:
    """The ``outside_texts`` id of ``text`` (lines joined by "\\n"), stored if new.

    Call inside the writer's transaction. The whole text's hash is looked up first, so the
    common case (the same chrome as last time) costs one query.
    """
    h = _hash64(text)
    for oid, _lines in conn.execute("SELECT id, lines FROM outside_texts WHERE hash = ?", (h,)):
        if load(conn, int(oid)) == text:
            return int(oid)
    ids = _line_ids(conn, text.split("\n"), index)
    cur = conn.execute("INSERT INTO outside_texts (hash, lines) VALUES (?, ?)",
                       (h, json.dumps(ids, separators=(",", ":"))))
    return int(cur.lastrowid or 0)


def load(conn: sqlite3.Connection, outside_text_id: int) -> str:
    """The text stored as ``outside_text_id``, lines joined by "\\n"."""
    row = conn.execute("SELECT lines FROM outside_texts WHERE id = ?",
                       (outside_text_id,)).fetchone()
    if row is None:
        return ""
    ids = json.loads(row[0])
    if not ids:
        return ""
    text = dict(conn.execute(
        f"SELECT id, text FROM text_lines WHERE id IN ({','.join('?' * len(set(ids)))})",
        sorted(set(ids))).fetchall())
    return "\n".join(text[i] for i in ids)


def note_snapshot(conn: sqlite3.Connection, snapshot_id: int, outcome: str, page: Page | None,
                  body_id: int | None, *, index: IndexRows | None = None) -> None:
    """Point a snapshot just written at its text outside the main content.

    A 2xx capture stores its page's ``outside_text``; a 304 confirms the body of an earlier
    capture of the page, and so takes that capture's text. Call inside the writer's
    transaction (:meth:`archive.store.Archive.record_snapshot` does). ``index`` takes the
    full-text entries of new lines (:mod:`archive.fts_rows`; else they are written at once).
    """
    if outcome in ("new", "unchanged") and page is not None and page.outside_text:
        tid: int | None = store(conn, page.outside_text, index)
    elif outcome == "not_modified":
        row = conn.execute(
            "SELECT outside_text_id FROM snapshots WHERE page_id = (SELECT page_id FROM"
            " snapshots WHERE id = ?) AND body_id = ? AND id < ?"
            " ORDER BY captured_at DESC, id DESC LIMIT 1",
            (snapshot_id, body_id, snapshot_id)).fetchone()
        tid = row[0] if row else None
    else:
        return
    if tid is not None:
        conn.execute("UPDATE snapshots SET outside_text_id = ? WHERE id = ?", (tid, snapshot_id))


def lines(conn: sqlite3.Connection, outside_text_id: int) -> list[str]:
    """The lines of the text stored as ``outside_text_id``, in the order shown."""
    text = load(conn, outside_text_id)
    return text.split("\n") if text else []


def capture_at(conn: sqlite3.Connection, page_id: int, at: str, *,
               content: bool) -> sqlite3.Row | None:
    """The page's last trustworthy capture at or before ``at`` (not failed, blocked or
    suspect): ``id``, ``captured_at``, ``outcome``, ``outside_text_id`` and the ``kind`` of its
    version (None for a 404). ``content`` leaves out 404s (``gone``): the last capture that
    showed the page. What ``diff --outside`` compares (archive/diff_outside.py)."""
    outcomes = CONTENT_OUTCOMES if content else GOOD_OUTCOMES
    row: sqlite3.Row | None = conn.execute(
        f"""SELECT s.id, s.captured_at, s.outcome, s.outside_text_id, v.kind
              FROM snapshots s LEFT JOIN versions v ON v.id = s.version_id
             WHERE s.page_id = ? AND s.captured_at <= ? AND s.suspect = 0
               AND s.outcome IN {sql_list(outcomes)}
             ORDER BY s.captured_at DESC, s.id DESC LIMIT 1""",
        (page_id, at)).fetchone()
    return row
