"""The SQLite archive: open, migrate, and write one snapshot per page per run.

Every snapshot is written as one unit together with its blob, version, sections and items,
so a crash at any moment leaves either all of it or none of it: its own ``BEGIN IMMEDIATE``
transaction, or, inside a batch (:meth:`Archive.begin_batch`, what a crawl and an import
use; :mod:`archive.batch`), a savepoint of the batch's transaction, committed every second
or so. A kill then loses at most the snapshots not yet committed, never part of one. WAL
mode lets readers (``history``, ``diff``, ``search``...) read while a crawl writes.

A version is the parsed content of a page, identified by :meth:`archive.model.Page.content_hash`
and stored once per page however many snapshots show it; a raw body is a blob stored once
however many snapshots received it (see :mod:`archive.blobs`).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive import __version__, fts_rows, vocab
from archive.batch import SECONDS, UNITS, Batch
from archive.errors import ArchiveCorruptError, ArchiveError, UsageError, is_busy
from archive.migrate import backup_path, busy, migrate, refuse_foreign, too_new
from archive.schema import SCHEMA_VERSION
from archive.timeutil import utcnow_iso
from archive.vocab import Outcome, RunStatus, Source, sql_list, state_key

if TYPE_CHECKING:
    from archive.capture import Capture
    from archive.model import Page

# What only writing, decoding bodies or rebuilding pages needs (blobs and zstandard, hashlib,
# email.utils, the model, the outside-text index) is imported where it is used: a reader such
# as `history` then starts without it (tests/e2e/test_startup.py, docs/benchmarks.md section 5).

__all__ = ["Archive", "PreviousCapture", "Recorded", "backup_path", "migrate"]

logger = logging.getLogger(__name__)

_CACHE_ENTRIES = 64  # plain bodies kept decoded (see Archive._plain)
_CACHE_BYTES = 32_000_000  # at most this many bytes of them
_CHAIN_LIMIT = 10_000  # a longer delta chain can only be a cycle (writes keep it to MAX_DEPTH)

OUTCOMES = tuple(Outcome)  # every snapshot outcome (archive.vocab)
_CONTENT = sql_list(vocab.CONTENT_OUTCOMES)
_BAD = sql_list(vocab.BAD_OUTCOMES)


@dataclass(frozen=True)
class PreviousCapture:
    """What a conditional GET needs from the last good capture of a URL."""

    snapshot_id: int
    etag: str | None
    last_modified: str | None
    body_sha256: str | None  # hex, as researchers and WARC records spell it
    version_id: int | None
    text_length: int
    body_id: int | None = None  # blobs.id


@dataclass(frozen=True)
class Recorded:
    """What :meth:`Archive.record_snapshot` wrote."""

    snapshot_id: int
    page_id: int
    outcome: str
    version_id: int | None
    changed: bool
    new_version: bool
    suspect: bool
    first: bool = False  # the page's first trustworthy observation


def check_archive_path(path: str | os.PathLike[str]) -> str:
    """``path`` as a string if it names a file; UsageError for an empty name or a URI.

    SQLite takes ``file:x.db?mode=memory`` and ``:memory:`` as instructions, not names: a
    crawl into one would report a run that no file holds. So only plain paths are accepted;
    read-only and immutable opens are ours to choose (see :meth:`Archive.open`).
    """
    text = os.fspath(path)
    if not text.strip():
        raise UsageError("--db: empty path; name the archive file")
    if text.lower().startswith("file:") or text == ":memory:":
        raise UsageError(f"--db takes the path of an archive file, not a SQLite URI or "
                         f"name: {text} (a file whose name starts with 'file:': write "
                         f"./{text})")
    return text


def _connect(path: str, *, readonly: bool) -> sqlite3.Connection:
    """A connection to ``path`` (already checked by :func:`check_archive_path`).

    Read-only opens use ``mode=ro``; where that cannot work (a WAL archive on read-only
    storage: SQLite cannot create the ``-shm`` file beside it) they fall back to
    ``immutable=1``, which reads the file as it is and creates nothing.
    """
    if readonly:
        base = Path(path).resolve().as_uri()
        conn = sqlite3.connect(f"{base}?mode=ro", uri=True, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute("PRAGMA user_version").fetchone()  # the first real read of the file
        except sqlite3.OperationalError as e:
            conn.close()
            if "unable to open" not in str(e) and "readonly" not in str(e):
                raise
            wal = f"{path}-wal"
            if os.path.exists(wal) and os.path.getsize(wal) > 0:
                logger.warning("%s: read-only storage with an unmerged %s; reading the main "
                               "file only (the last writes may be missing)", path, wal)
            conn = sqlite3.connect(f"{base}?immutable=1", uri=True, isolation_level=None,
                                   check_same_thread=False)
    else:
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 10000")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


def _compact_date(value: str | None) -> int | str | None:
    """A Date header's value as Unix time when formatting that time gives it back exactly
    (what the snapshot_headers view does), else as it is."""
    if value is None:
        return None
    import email.utils

    try:
        t = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return value
    if t.tzinfo is None:
        return value
    n = int(t.timestamp())
    if n < 0 or t.microsecond or email.utils.formatdate(n, usegmt=True) != value:
        return value
    return n


class Archive:
    """An open archive. Use :meth:`open`; close with :meth:`close` or ``with``."""

    def __init__(self, conn: sqlite3.Connection, path: str, *, readonly: bool) -> None:
        self.conn = conn
        self.path = path
        self.readonly = readonly
        # blob id -> (plain body, depth in its delta chain, the chain's keyframe id): the
        # bodies decoded or written last, so a page's next delta or a run of reads of one
        # chain does not decode the chain again. A blob never changes, so never stale;
        # dropped on rollback (an id may then be given again).
        self._plain: dict[int, tuple[bytes, int, int]] = {}
        self._plain_bytes = 0
        self._batch: Batch | None = None  # begin_batch ... end_batch
        self._index = fts_rows.IndexRows()  # full-text entries a batch writes at its commit

    # -- opening ---------------------------------------------------------------------------

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, readonly: bool = False,
             create: bool = True) -> Archive:
        """Open (creating and migrating if need be) the archive at ``path``.

        ``readonly`` opens with ``mode=ro`` (``immutable=1`` on read-only storage): nothing
        this connection does can change the file. ``create=False`` (for checkers and
        maintenance commands) refuses a missing or empty file instead of making an archive
        of it. A file that is not ours is refused before anything is written to it (not even
        a journal mode switch). Raises UsageError for a URI or empty path, ArchiveError (one
        line) for a missing archive, a file that is not SQLite or not ours, and
        SchemaTooNewError for a newer schema.
        """
        path = check_archive_path(path)
        if (readonly or not create) and (not os.path.isfile(path)
                                         or os.path.getsize(path) == 0):
            raise ArchiveError(f"no archive at {path}")
        if not readonly:
            parent = os.path.dirname(os.path.abspath(path))
            if not os.path.isdir(parent):
                raise ArchiveError(f"directory does not exist: {parent}")
        try:
            conn = _connect(path, readonly=readonly)
        except sqlite3.DatabaseError as e:
            raise ArchiveError(f"cannot use archive {path}: {e}") from None
        try:
            if readonly:
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                if version > SCHEMA_VERSION:
                    raise too_new(path, version)
                if version == 0:
                    raise ArchiveError(f"{path} is not a coop-archive archive")
                if version < SCHEMA_VERSION:
                    raise ArchiveError(
                        f"{path} has schema version {version}; run a crawl or "
                        "'coop-archive check' once to migrate it"
                    )
            else:
                refuse_foreign(conn, path)
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    logger.warning("could not switch %s to WAL (got %s)", path, mode)
                conn.execute("PRAGMA synchronous = NORMAL")
                migrate(conn, path)
        except sqlite3.DatabaseError as e:
            conn.close()
            if is_busy(e):  # not damage: another writer holds it (SQLite may not wait here)
                raise busy(path) from None
            raise ArchiveError(f"cannot use archive {path}: {e}") from None
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, readonly=readonly)

    def close(self) -> None:
        """Commit a pending batch, close the connection (a WAL checkpoint happens on the last
        close)."""
        try:
            self.end_batch()
        finally:
            self.conn.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, index_later: bool = False) -> Iterator[sqlite3.Connection]:
        """One unit of writing: all of it or none of it, ROLLBACK on any exception,
        KeyboardInterrupt included.

        Alone: ``BEGIN IMMEDIATE`` ... ``COMMIT``. In a batch (:meth:`begin_batch`): a
        savepoint of the batch's transaction, committed when the batch is due
        (:class:`archive.batch.Batch`); with ``index_later`` the full-text index entries it
        adds through ``self._index`` are written when the batch commits
        (:mod:`archive.fts_rows`), and any other unit first writes those kept.
        """
        if self._batch is not None:
            index = self._index
            if index.rows and not index_later:
                self._batch.prepare()  # another kind of unit: the entries kept go in first
            mark = index.mark()
            index.deferred = index_later
            try:
                with self._batch.unit():
                    yield self.conn
            except BaseException:
                if self.conn.in_transaction:
                    index.drop_to(mark)
                else:  # the whole transaction went (a failed commit, a full disk)
                    index.clear()
                self._forget_plain()
                raise
            finally:
                index.deferred = False
            if index.chars > fts_rows.MAX_CHARS:
                # Texts that would otherwise be freed are kept alive: write them out now
                # (between units; the batch is rolled back if that fails).
                self._batch.prepare()
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            # SQLite may have rolled back already (a full disk does): a second ROLLBACK would
            # fail with "cannot rollback" and hide the real error.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            self._forget_plain()
            raise

    def _forget_plain(self) -> None:
        self._plain.clear()
        self._plain_bytes = 0

    def begin_batch(self, *, units: int = UNITS, seconds: float = SECONDS) -> None:
        """Group the next units of writing (:meth:`transaction`, so every snapshot) into
        transactions of up to ``units`` units or ``seconds`` seconds, whichever comes first
        (:mod:`archive.batch`). Call :meth:`commit_batch` when there will be nothing to write
        for a while (a crawl waiting for the network), :meth:`end_batch` at the end."""
        self.commit_batch()
        self._batch = Batch(self.conn, name=self.path, units=units, seconds=seconds,
                            before_commit=self._write_index)

    def _write_index(self) -> None:
        try:
            self._index.write(self.conn)
        except BaseException:
            self._index.clear()  # Batch.commit rolls the transaction back
            self._forget_plain()
            raise

    def commit_batch(self) -> int:
        """Commit the units written since the last commit; how many there were."""
        return self._batch.commit() if self._batch is not None else 0

    def end_batch(self) -> None:
        """Commit what is pending and write one transaction per unit again."""
        batch, self._batch = self._batch, None
        if batch is not None:
            batch.commit()

    # -- runs ------------------------------------------------------------------------------

    def begin_run(self, seed_url: str, *, source: str = Source.CRAWL,
                  options: dict[str, Any] | None = None, started_at: str | None = None) -> int:
        """Record the start of a run and return its id."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO runs (started_at, seed_url, status, source, pid, tool_version,"
                " options)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (started_at or utcnow_iso(), seed_url, str(RunStatus.RUNNING), str(source),
                 os.getpid(), __version__, json.dumps(options or {}, sort_keys=True)),
            )
            return int(cur.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, *, finished_at: str | None = None) -> None:
        """Close a run with its status and the counts of what it stored."""
        with self.transaction() as c:
            c.execute(
                f"""UPDATE runs SET status = ?, finished_at = ?,
                     pages_fetched = (SELECT count(*) FROM snapshots WHERE run_id = runs.id
                                      AND outcome NOT IN {_BAD}),
                     new_versions = (SELECT count(*) FROM snapshots WHERE run_id = runs.id
                                     AND outcome = ?),
                     failures = (SELECT count(*) FROM snapshots WHERE run_id = runs.id
                                 AND outcome = ?)
                   WHERE id = ?""",
                (str(status), finished_at or utcnow_iso(), Outcome.NEW, Outcome.FAILED,
                 run_id),
            )

    def mark_stale_runs_interrupted(self) -> list[int]:
        """Mark runs left 'running' by a dead process as 'interrupted'; return their ids.

        Call only while holding the crawl lock: then no other run can really be running.
        """
        with self.transaction() as c:
            ids = [r[0] for r in c.execute("SELECT id FROM runs WHERE status = ?",
                                           (RunStatus.RUNNING,))]
            c.execute(
                "UPDATE runs SET status = ?, finished_at = coalesce(finished_at, ?)"
                " WHERE status = ?", (RunStatus.INTERRUPTED, utcnow_iso(), RunStatus.RUNNING),
            )
        return ids

    # -- reading what a crawl needs --------------------------------------------------------

    def page_id(self, url: str) -> int | None:
        """The id of the page with this (normalised) URL, or None."""
        row = self.conn.execute("SELECT id FROM pages WHERE url = ?", (url,)).fetchone()
        return int(row[0]) if row else None

    def previous_capture(self, url: str) -> PreviousCapture | None:
        """The last capture of ``url`` that gave a body we still hold (200 or 304), or None.

        Validators come from that capture's own response (the server's Last-Modified, never
        our clock), and only when its body is in the archive: a 304 must confirm something we
        can show.
        """
        row = self.conn.execute(
            f"""SELECT s.id, s.etag, s.last_modified, lower(hex(b.sha256)) AS body_sha256,
                      s.body_id, s.version_id, length(v.text) AS text_length
                 FROM snapshots s JOIN pages p ON p.id = s.page_id
                 JOIN blobs b ON b.id = s.body_id
                 LEFT JOIN versions v ON v.id = s.version_id
                WHERE p.url = ? AND s.outcome IN {_CONTENT}
                  AND s.suspect = 0
                ORDER BY s.captured_at DESC, s.id DESC LIMIT 1""",
            (url,),
        ).fetchone()
        if row is None:
            return None
        return PreviousCapture(row["id"], row["etag"], row["last_modified"], row["body_sha256"],
                               row["version_id"], row["text_length"] or 0, row["body_id"])

    def blob(self, sha256: str) -> bytes:
        """The plain bytes of the stored body whose sha256 is ``sha256`` (hex). Raises
        ArchiveCorruptError if it is missing."""
        try:
            key = bytes.fromhex(sha256)
        except ValueError:
            raise ArchiveCorruptError(f"blob {sha256} is missing") from None
        row = self.conn.execute("SELECT id FROM blobs WHERE sha256 = ?", (key,)).fetchone()
        if row is None:
            raise ArchiveCorruptError(f"blob {sha256} is missing")
        return self._resolve(int(row[0]))[0]

    def body(self, blob_id: int) -> bytes:
        """The plain bytes of the stored body ``blob_id`` (snapshots.body_id). Raises
        ArchiveCorruptError if it is missing or cannot be decoded."""
        return self._resolve(blob_id)[0]

    def blob_sha256(self, blob_id: int) -> str | None:
        """The hex sha256 of blob ``blob_id``, or None when there is no such blob."""
        row = self.conn.execute("SELECT lower(hex(sha256)) FROM blobs WHERE id = ?",
                                (blob_id,)).fetchone()
        return None if row is None else str(row[0])

    def _remember(self, sha: int, entry: tuple[bytes, int, int]) -> None:
        if len(entry[0]) > _CACHE_BYTES // 4:
            return
        old = self._plain.pop(sha, None)
        self._plain_bytes += len(entry[0]) - (len(old[0]) if old else 0)
        self._plain[sha] = entry
        while len(self._plain) > _CACHE_ENTRIES or self._plain_bytes > _CACHE_BYTES:
            self._plain_bytes -= len(self._plain.pop(next(iter(self._plain)))[0])

    def _resolve(self, blob_id: int) -> tuple[bytes, int, int]:
        """(plain body, depth, keyframe id) of a blob, decoding its delta chain iteratively."""
        from archive import blobs

        hit = self._plain.get(blob_id)
        if hit is not None:
            return hit
        chain: list[sqlite3.Row] = []
        ids: list[int] = []
        cur: int | None = blob_id
        base: tuple[bytes, int, int] | None = None
        while cur is not None:
            if chain and cur in self._plain:
                base = self._plain[cur]
                break
            if cur in ids or len(chain) > _CHAIN_LIMIT:
                raise ArchiveCorruptError(f"blob {self._name(blob_id)}: delta chain is cyclic"
                                          " or too long")
            row = self.conn.execute(
                "SELECT codec, base_id, data FROM blobs WHERE id = ?", (cur,)
            ).fetchone()
            if row is None:
                what = "is missing" if cur == blob_id else f"needs missing base {cur}"
                raise ArchiveCorruptError(f"blob {self._name(blob_id)} {what}")
            chain.append(row)
            ids.append(cur)
            cur = row["base_id"]
        plain, depth, root = base if base is not None else (None, -1, ids[-1])
        for bid, row in zip(reversed(ids), reversed(chain), strict=True):
            plain = blobs.decode(row["codec"], row["data"], plain)
            depth += 1
            if row["base_id"] is None:
                depth, root = 0, bid
        assert plain is not None
        entry = (plain, depth, root)
        self._remember(blob_id, entry)
        return entry

    def _name(self, blob_id: int) -> str:
        """A blob as errors name it: its hex sha256 when it is stored, else its id."""
        return self.blob_sha256(blob_id) or f"#{blob_id}"

    # -- writing ---------------------------------------------------------------------------

    def _page_row(self, c: sqlite3.Connection, url: str, at: str, *, seen: bool) -> int:
        row = c.execute("SELECT id FROM pages WHERE url = ?", (url,)).fetchone()
        if row:
            if seen:
                c.execute("UPDATE pages SET last_seen = max(last_seen, ?) WHERE id = ?",
                          (at, row[0]))
            return int(row[0])
        cur = c.execute("INSERT INTO pages (url, first_seen, last_seen) VALUES (?, ?, ?)",
                        (url, at, at))
        return int(cur.lastrowid or 0)

    def _base_for(self, c: sqlite3.Connection,
                  page_id: int) -> tuple[int, bytes, int, int] | None:
        """(id, plain body, depth, keyframe id) the page's next body is compressed against.

        Its previous stored body (of its last capture that was neither gone nor suspect), or,
        when that one is already MAX_DEPTH deltas from its keyframe, that keyframe.
        """
        from archive import blobs

        row = c.execute(
            f"""SELECT body_id FROM snapshots
                WHERE page_id = ? AND body_id IS NOT NULL AND suspect = 0
                  AND outcome IN {_CONTENT}
                ORDER BY captured_at DESC, id DESC LIMIT 1""",
            (page_id,),
        ).fetchone()
        if row is None:
            return None
        try:
            plain, depth, root = self._resolve(row[0])
        except ArchiveCorruptError:
            return None  # a damaged predecessor: start a new chain
        if depth < blobs.MAX_DEPTH:
            return row[0], plain, depth, root
        return root, self._resolve(root)[0], 0, root

    def _store_blob(self, c: sqlite3.Connection, page_id: int, body: bytes) -> int:
        """The id of ``body`` in blobs, storing it (as a delta against the page's previous
        body when that pays) if it is new."""
        from archive import blobs

        sha = blobs.sha256(body)
        row = c.execute("SELECT id FROM blobs WHERE sha256 = ?", (sha,)).fetchone()
        if row:
            return int(row[0])
        base = self._base_for(c, page_id)
        enc = blobs.encode(body, (base[0], base[1]) if base else None)
        blob_id = blobs.insert(c, sha, len(body), enc)
        if enc.base is None:
            self._remember(blob_id, (body, 0, blob_id))
        elif base is not None:
            self._remember(blob_id, (body, base[2] + 1, base[3]))
        return blob_id

    def _header_set(self, c: sqlite3.Connection, headers: list[tuple[str, str]] | None, *,
                    take_date: bool = True) -> tuple[int | None, str | None]:
        """(header_sets id, Date value taken out) for a header list; stores the set if new.

        With ``take_date`` the value of the first Date header is kept apart (returned), and
        the stored set has null in its place, so the same headers on another day share it.
        """
        import hashlib

        if headers is None:
            return None, None
        pairs: list[list[str | None]] = [[k, v] for k, v in headers]
        date_index = next((n for n, (k, _) in enumerate(headers) if k.lower() == "date"),
                          None) if take_date else None
        date = None
        if date_index is not None:
            date = pairs[date_index][1]
            pairs[date_index][1] = None
        text = json.dumps(pairs, ensure_ascii=False, separators=(",", ":"))
        digest = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big", signed=True)
        for hid, stored in c.execute("SELECT id, headers FROM header_sets WHERE hash = ?",
                                     (digest,)):
            if stored == text:
                return int(hid), date
        cur = c.execute("INSERT INTO header_sets (hash, headers, date_index) VALUES (?, ?, ?)",
                        (digest, text, date_index))
        return int(cur.lastrowid or 0), date

    def _store_version(self, c: sqlite3.Connection, page_id: int, page: Page,
                       at: str, content_hash: str | None = None) -> tuple[int, bool]:
        """(version id, whether it is new) of ``page``'s content on the page; stores the
        version, its sections and items, and their full-text index entries when new.

        ``content_hash`` is ``page.content_hash()`` when the caller computed it already (a
        crawl's parse does, in another process)."""
        from archive import blobs
        from archive.model import PARSER_VERSION

        h = content_hash or page.content_hash()
        row = c.execute("SELECT id FROM versions WHERE page_id = ? AND content_hash = ?",
                        (page_id, h)).fetchone()
        if row:
            return int(row[0]), False
        text_sql, text_arg = blobs.text_value(c, page.text)  # a long text: written in parts
        cur = c.execute(
            "INSERT INTO versions (page_id, content_hash, kind, title, updated_on, text,"
            f" first_seen, parser_version) VALUES (?, ?, ?, ?, ?, {text_sql}, ?, ?)",
            (page_id, h, page.kind, page.title, page.updated_on, text_arg, at, PARSER_VERSION),
        )
        vid = int(cur.lastrowid or 0)
        blobs.fill_text(c, "versions", "text", vid, page.text, text_sql)
        section_ids: list[int] = []
        for pos, s in enumerate(page.sections):
            parent = section_ids[s.parent] if s.parent is not None and s.parent < pos else None
            cur = c.execute(
                "INSERT INTO sections (version_id, parent_id, position, level, heading, text)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (vid, parent, pos, s.level, s.heading, s.text),
            )
            section_ids.append(int(cur.lastrowid or 0))
        items = [
            (vid, section_ids[i.section] if i.section is not None
             and 0 <= i.section < len(section_ids) else None, pos, i.title, i.url, i.summary)
            for pos, i in enumerate(page.items)
        ]
        c.executemany(
            "INSERT INTO items (version_id, section_id, position, title, url, summary)"
            " VALUES (?, ?, ?, ?, ?, ?)", items)
        # The full-text indexes (schema V7: no insert triggers): the values just stored, so
        # the external-content indexes match their tables exactly; inside a batch, written
        # when it commits (archive/fts_rows.py says why).
        if text_sql == "?":
            self._index.add(c, "versions_fts", [(vid, page.title, page.text)])
        else:  # a long text written in parts: indexed from its row, never bound (blobs.py)
            c.execute("INSERT INTO versions_fts (rowid, title, text)"
                      " SELECT id, title, text FROM versions WHERE id = ?", (vid,))
        self._index.add(c, "sections_fts", [
            (sid, s.heading, s.text)
            for sid, s in zip(section_ids, page.sections, strict=True)])
        if items:
            # Their ids, in position order: the index alone (items_version), no text read.
            ids = [r[0] for r in c.execute(
                "SELECT id FROM items WHERE version_id = ? ORDER BY position", (vid,))]
            self._index.add(c, "items_fts", [(iid, row[3], row[5])
                                             for iid, row in zip(ids, items, strict=True)])
        return vid, True

    def _last_state(self, c: sqlite3.Connection, page_id: int) -> tuple[str, int | None] | None:
        """(outcome, version_id) of the page's last observation that was not a failure."""
        row = c.execute(
            f"""SELECT outcome, version_id FROM snapshots WHERE page_id = ?
                 AND outcome NOT IN {_BAD} AND suspect = 0
                ORDER BY captured_at DESC, id DESC LIMIT 1""",
            (page_id,),
        ).fetchone()
        return (row[0], row[1]) if row else None

    def record_snapshot(
        self,
        run_id: int,
        url: str,
        *,
        captured_at: str,
        result: Capture | None = None,
        page: Page | None = None,
        error: str | None = None,
        blocked: bool = False,
        suspect: bool = False,
        source: str = Source.CRAWL,
        origin_uri: str | None = None,
        content_hash: str | None = None,
    ) -> Recorded:
        """Write one observation of ``url`` (its snapshot, and blob/version if new) atomically.

        - ``result`` 2xx with ``page``: the body is stored, the version found or created.
        - ``result`` 304: the snapshot points at the previous capture's body and version.
        - ``result`` 404/410: outcome ``gone`` (the body is kept, no version).
        - no ``result``: outcome ``failed`` (or ``blocked``) with ``error``; nothing else changes.

        ``page.truncated`` (a parse budget cut the text short) is recorded on the snapshot.
        ``content_hash``: ``page.content_hash()``, when the caller has it already.

        ``changed`` is true when the page shows something else than at its last non-failed
        observation (another version, or gone / back).
        """
        from archive import outside

        with self.transaction(index_later=True) as c:
            ok = result is not None and error is None and not blocked
            page_id = self._page_row(c, url, captured_at, seen=ok)
            body_id = version_id = None
            new_version = False
            outcome: Outcome
            if not ok:
                outcome = Outcome.BLOCKED if blocked else Outcome.FAILED
            else:
                assert result is not None
                if result.not_modified:
                    prev = self.previous_capture(url)
                    if prev is None:
                        raise ArchiveError(f"{url}: 304 without a stored capture to confirm")
                    outcome = Outcome.NOT_MODIFIED
                    body_id, version_id = prev.body_id, prev.version_id
                elif result.gone:
                    outcome = Outcome.GONE
                    body_id = self._store_blob(c, page_id, result.body)
                else:
                    if page is None:
                        raise ValueError("a 2xx capture needs its parsed page")
                    body_id = self._store_blob(c, page_id, result.body)
                    version_id, new_version = self._store_version(c, page_id, page, captured_at,
                                                                  content_hash)
                    outcome = Outcome.NEW if new_version else Outcome.UNCHANGED
            changed = first = False
            # A suspect capture (an error page served as 200) is kept but is not a change: the
            # page's state stays what it was at its last trustworthy observation.
            if outcome not in vocab.BAD_OUTCOMES and not suspect:
                last = self._last_state(c, page_id)
                now_key = state_key(outcome, version_id)
                last_key = None if last is None else state_key(*last)
                first = last is None
                changed = first or now_key != last_key
            resp_id, date = self._header_set(c, result.headers if result else None)
            req_id, _ = self._header_set(c, result.request_headers if result else None,
                                         take_date=False)
            cur = c.execute(
                """INSERT INTO snapshots (run_id, page_id, captured_at, source, outcome,
                     http_status, final_url, content_type, body_id, version_id, changed,
                     suspect, error, etag, last_modified, http_version, reason,
                     response_headers_id, request_headers_id, response_date, redirects,
                     bytes_received, origin_uri, truncated)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,
                           ?)""",
                (
                    run_id, page_id, captured_at, str(source), str(outcome),
                    result.status if result else None,
                    result.final_url if result and result.final_url != url else None,
                    result.content_type if result else None,
                    body_id, version_id, int(changed), int(suspect), error,
                    result.etag if result else None,
                    result.last_modified if result else None,
                    result.http_version if result else None,
                    result.reason if result else None,
                    resp_id, req_id, _compact_date(date),
                    json.dumps(result.redirects) if result and result.redirects else None,
                    result.bytes_received if result else None,
                    origin_uri,
                    # Only a stored version's text can be cut short by a parse budget.
                    page.truncated if page is not None and version_id is not None else None,
                ),
            )
            snapshot_id = int(cur.lastrowid or 0)
            outside.note_snapshot(c, snapshot_id, outcome, page, body_id, index=self._index)
            return Recorded(snapshot_id, page_id, str(outcome), version_id, changed,
                            new_version, suspect, first)

    # -- reading versions back -------------------------------------------------------------

    def load_version(self, version_id: int) -> Page:
        """Rebuild the :class:`Page` a version was stored from (url is the page's URL)."""
        from archive.model import Item, Page, Section

        v = self.conn.execute(
            "SELECT v.*, p.url FROM versions v JOIN pages p ON p.id = v.page_id WHERE v.id = ?",
            (version_id,),
        ).fetchone()
        if v is None:
            raise ArchiveCorruptError(f"version {version_id} is missing")
        srows = self.conn.execute(
            "SELECT id, parent_id, level, heading, text FROM sections WHERE version_id = ?"
            " ORDER BY position", (version_id,)).fetchall()
        index = {r["id"]: n for n, r in enumerate(srows)}
        sections = [Section(r["heading"] or "", r["level"], r["text"],
                            index.get(r["parent_id"])) for r in srows]
        items = [
            Item(r["title"], r["url"], r["summary"], index.get(r["section_id"]))
            for r in self.conn.execute(
                "SELECT section_id, title, url, summary FROM items WHERE version_id = ?"
                " ORDER BY position", (version_id,))
        ]
        links = list(dict.fromkeys(i.url for i in items if i.url))
        return Page(url=v["url"], title=v["title"] or "", updated_on=v["updated_on"],
                    text=v["text"], sections=sections, items=items, links=links, kind=v["kind"])

    def history(self, url: str | None = None) -> list[tuple[Any, ...]]:
        """Every snapshot (of one page, or all), oldest first: plain tuples whose columns are
        :data:`archive.vocab.HISTORY_COLUMNS`: ``url`` is the page's URL and ``final_url`` where
        the snapshot ended (the page's URL when there was no redirect; None when no response
        came)."""
        from archive.history import snapshot_rows

        # Plain tuples and a dict of page URLs rather than sqlite3.Row and a join: on the
        # 38,233 rows of the ten-year bench archive each costs more than SQLite's own work
        # (docs/benchmarks.md, section 5). Snapshots leave final_url out when it is the URL.
        page = None
        if url is not None:
            page = self.page_id(url)
            if page is None:
                return []
        urls, rows = snapshot_rows(self.conn, page)
        return [(id_, urls[page_id], run_id, captured_at, source, outcome, status,
                 None if status is None else urls[page_id] if final_url is None else final_url,
                 version_id, changed, suspect, error, truncated)
                for (id_, page_id, run_id, captured_at, source, outcome, status, final_url,
                     version_id, changed, suspect, error, truncated) in rows]

    def copy_to(self, dest: str) -> None:
        """A consistent copy of the archive at ``dest`` (SQLite backup API)."""
        import shutil

        tmp = dest + ".tmp"
        out = sqlite3.connect(tmp)
        try:
            self.conn.backup(out)
        finally:
            out.close()
        shutil.move(tmp, dest)
