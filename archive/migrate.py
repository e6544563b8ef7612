"""Bringing an archive's schema up to date: a backup copy, then the missing migrations in one
transaction (the migrations themselves are in :mod:`archive.schema`)."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
from collections.abc import Iterator

from archive import __version__
from archive.errors import (
    ArchiveCorruptError,
    ArchiveError,
    ArchiveLockedError,
    SchemaTooNewError,
    is_busy,
    is_disk_full,
)
from archive.schema import MIGRATIONS, SCHEMA_VERSION
from archive.text import printable

logger = logging.getLogger(__name__)


def refuse_foreign(conn: sqlite3.Connection, path: str) -> None:
    """ArchiveError, before anything is written, for a SQLite file that is not an archive
    (tables but no schema version) or is from a newer coop-archive."""
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise too_new(path, found)
    if found == 0 and conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0:
        raise ArchiveError(f"{path} is a SQLite database but not a coop-archive archive")


def too_new(path: str, found: int) -> SchemaTooNewError:
    """The error for an archive written by a newer coop-archive."""
    return SchemaTooNewError(
        f"{path} has schema version {found}, newer than this coop-archive "
        f"({__version__}, schema {SCHEMA_VERSION}); upgrade coop-archive"
    )


def backup_path(path: str, from_version: int) -> str:
    """Where :func:`migrate` puts the copy it takes before migrating."""
    return f"{path}.v{from_version}.bak"


def migrate(conn: sqlite3.Connection, path: str) -> int:
    """Bring the schema up to :data:`SCHEMA_VERSION`; returns the version found.

    An empty database gets every migration. A populated older one is first copied with
    SQLite's backup API to ``<path>.v<N>.bak`` (written under a temporary name and renamed, so
    a backup file is always whole; kept afterwards), then migrated in one transaction: a
    failure, a kill or a full disk rolls back and leaves the original as it was. Foreign key
    enforcement, off while tables are rebuilt, is on again however the migration ends.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise too_new(path, found)
    if found == SCHEMA_VERSION:
        return found
    has_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    if found > 0 or has_tables:
        if found == 0:
            raise ArchiveError(f"{path} is a SQLite database but not a coop-archive archive")
        try:
            _backup(conn, backup_path(path, found))
        except (sqlite3.Error, OSError) as e:
            if is_disk_full(e):
                raise _no_room(conn, path, found, "backing up") from None
            raise
        logger.info("backed up schema %d archive to %s", found, backup_path(path, found))
    # A migration may rebuild a table (new table, copy, drop, rename: SQLite's own recipe),
    # which foreign key enforcement would refuse half-way; the ids are copied as they are, so
    # the references hold again when the transaction commits. The setting cannot change
    # inside a transaction, hence here.
    fks = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    if sqlite3.sqlite_version_info < (3, 41, 0):
        conn.create_function("unhex", 1, _unhex, deterministic=True)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as e:
            if is_busy(e):
                waited = conn.execute("PRAGMA busy_timeout").fetchone()[0] / 1000
                raise busy(path, waited=waited) from None
            raise
        try:
            # Read again under the write lock: another writer may have migrated the archive
            # while this one waited for it (its migrations would then fail on the new tables).
            found = conn.execute("PRAGMA user_version").fetchone()[0]
            if found > SCHEMA_VERSION:
                raise too_new(path, found)
            for n in range(found, SCHEMA_VERSION):
                _refuse_damage(conn, path, found, n)
                for stmt in _statements(MIGRATIONS[n]):
                    conn.execute(stmt)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            # SQLite has already rolled back after some errors (a full disk, an I/O error):
            # a second ROLLBACK would fail and hide the error that matters.
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except (sqlite3.Error, OSError) as e:
        if is_disk_full(e):
            raise _no_room(conn, path, found, "migrating") from None
        raise
    finally:
        try:
            conn.execute("PRAGMA legacy_alter_table = OFF")
        finally:
            conn.execute(f"PRAGMA foreign_keys = {int(fks)}")
    return found


def _backup(conn: sqlite3.Connection, dest_path: str) -> None:
    """Copy the archive to ``dest_path`` with SQLite's backup API, through a temporary file
    renamed into place: a kill or a full disk during the copy leaves no partial backup that
    looks whole (the temporary file is removed on an error)."""
    tmp = f"{dest_path}.tmp"
    try:
        dest = sqlite3.connect(tmp)
        try:
            conn.backup(dest)
        finally:
            dest.close()
        os.replace(tmp, dest_path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(tmp)
        raise


def busy(path: str, *, waited: float | None = None) -> ArchiveLockedError:
    """The one-line error for a write lock another process holds (another migration, or a
    writer that does not take the archive's lock file), after ``waited`` seconds of waiting
    for it when SQLite waited: exit 75, as for a crawl holding the lock file."""
    how = f" (waited {waited:g} s for it to finish)" if waited else ""
    return ArchiveLockedError(f"{path}: another process is migrating or writing the archive"
                              f"{how}: nothing was changed; run the command again later")


def _refuse_damage(conn: sqlite3.Connection, path: str, found: int, n: int) -> None:
    """ArchiveCorruptError, naming the row, for damage that would make migration ``n + 1``
    fail half-way with SQLite's own words (raised inside the transaction: it is rolled back).

    Schema 8 stores each blob's sha256 as its 32 bytes, from the 64 hex digits schema 7 and
    earlier kept: a hash that is not that (a damaged archive) would have no bytes to store.
    """
    if n != 7:
        return
    # (blobs had no other key than the hash: the row is named by it, and its size)
    bad = conn.execute(
        "SELECT sha256, size FROM blobs WHERE typeof(sha256) != 'text' OR length(sha256) != 64"
        " OR unhex(sha256) IS NULL ORDER BY sha256 LIMIT 1").fetchone()
    if bad is not None:
        sha, size = bad
        shown = repr(sha if not isinstance(sha, str) or len(sha) <= 80 else sha[:80] + "...")
        raise ArchiveCorruptError(
            f"{path}: cannot migrate it from schema {found} to {SCHEMA_VERSION}: the blob "
            f"row with sha256 {printable(shown)} ({size} bytes) has a hash that is not 64 hex "
            f"digits (the archive is damaged); nothing was changed, the archive is at schema "
            f"{found}")


def _no_room(conn: sqlite3.Connection, path: str, found: int, doing: str) -> ArchiveError:
    """The one-line error for a disk that filled while the archive was being backed up or
    migrated: nothing changed, and how much room a retry needs (a whole copy for the backup,
    about as much again for the migration's work)."""
    size = (conn.execute("PRAGMA page_count").fetchone()[0]
            * conn.execute("PRAGMA page_size").fetchone()[0])
    return ArchiveError(
        f"disk full while {doing} {path} (schema {found} to {SCHEMA_VERSION}): nothing was "
        f"changed, the archive is intact at schema {found}; the backup copy and the migration "
        f"need about {2 * size / 1e6:.1f} MB free beside it. Free some space and run the "
        "command again")


def _unhex(text: str | None) -> bytes | None:
    """SQLite's unhex() (3.41+) for an older SQLite: the bytes a hex string spells."""
    if text is None:
        return None
    try:
        return bytes.fromhex(text)
    except (TypeError, ValueError):
        return None


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into statements (sqlite3.complete_statement knows triggers)."""
    buf = ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                yield buf.strip()
            buf = ""
    if buf.strip():
        yield buf.strip()
