"""Schema 8's migration under adversity: a body already missing, a migration that fails, a
kill -9 in the middle of it. The archive afterwards is whole, either all schema 6 or all
schema 8, and every body hash of schema 6 is still there."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from archive.errors import ArchiveCorruptError, ArchiveLockedError
from archive.migrate import _statements, _unhex, backup_path, migrate
from archive.model import Page
from archive.schema import MIGRATIONS, SCHEMA_VERSION
from archive.store import Archive
from tests.builders import at, capture, doc_html
from tests.cli import ROOT, cli_command, run_cli
from tests.e2e.test_disk_full import in_small_disk
from tests.v6_archive import V6, put_back_to_v6

HUB = "http://127.0.0.1:9/hub"


def _v6_archive(tmp_path: Path, versions: int = 3, pad: int = 0) -> Path:
    """A schema 6 archive of one page captured ``versions`` times with a changed body each
    time (deltas against the previous one), then a 304."""
    cur = tmp_path / "cur.db"
    with Archive.open(cur) as a:
        for day in range(1, versions + 1):
            text = f"text {day} " + os.urandom(pad).hex()
            when = (date(2016, 1, 1) + timedelta(days=day)).isoformat()
            capture(a, HUB, at(when), Page(HUB, title="Hub", text=text),
                    body=doc_html("Hub", text))
        capture(a, HUB, at("2017-01-01"), status=304)
    old = tmp_path / "v6.db"
    put_back_to_v6(cur, old)
    return old


def _bodies(conn: sqlite3.Connection, table: str) -> list[tuple[object, ...]]:
    if table == "snapshots":
        sql = ("SELECT id, body_sha256 FROM snapshots WHERE body_sha256 IS NOT NULL"
               " ORDER BY id")
    else:
        sql = "SELECT snapshot_id, body_sha256 FROM snapshot_bodies ORDER BY snapshot_id"
    return [tuple(r) for r in conn.execute(sql)]


def _dump(db: Path) -> list[str]:
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def test_a_body_missing_before_the_migration_keeps_its_hash_and_is_reported(
        tmp_path: Path) -> None:
    old = _v6_archive(tmp_path)
    v6 = sqlite3.connect(old)
    # the first body: a snapshot's body and the base of the second's delta
    gone, = v6.execute("SELECT body_sha256 FROM snapshots ORDER BY id LIMIT 1").fetchone()
    assert v6.execute("SELECT count(*) FROM blobs WHERE base_sha256 = ?", (gone,)).fetchone()[0]
    v6.execute("DELETE FROM blobs WHERE sha256 = ?", (gone,))
    v6.commit()
    hex_bodies = _bodies(v6, "snapshots")
    hex_blobs = v6.execute("SELECT sha256, base_sha256 FROM blobs ORDER BY sha256").fetchall()
    lost = [r[0] for r in hex_bodies if r[1] == gone]
    v6.close()
    assert lost == [1]

    with Archive.open(old) as a:
        assert a.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert a.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        # every hash of schema 6, the missing body's too, through the views
        assert _bodies(a.conn, "snapshot_bodies") == hex_bodies
        assert [tuple(r) for r in a.conn.execute(
            "SELECT sha256, base_sha256 FROM blobs_hex ORDER BY sha256")] == hex_blobs
    r = run_cli("check", "--db", str(old), cwd=ROOT)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "snapshot points at a missing blob (raw body missing): 1\n" in out
    assert "good snapshot without version" not in out
    assert "delta blob with a bad base" in out


def test_a_failed_migration_leaves_schema_6_and_foreign_keys_on(tmp_path: Path) -> None:
    old = _v6_archive(tmp_path)
    v6 = sqlite3.connect(old)
    # a hash that is not hex: unhex() gives NULL and blobs.sha256 refuses it, half-way through
    v6.execute("UPDATE blobs SET sha256 = 'not hex' WHERE sha256 = (SELECT max(sha256)"
               " FROM blobs)")
    v6.commit()
    v6.close()
    before = _dump(old)
    conn = sqlite3.connect(old, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    # refused inside the transaction, after migration 7 ran: rolled back with it
    with pytest.raises(ArchiveCorruptError, match="the blob row with sha256 'not hex'"):
        migrate(conn, str(old))
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA legacy_alter_table").fetchone()[0] == 0
    assert not conn.in_transaction
    assert conn.execute("PRAGMA user_version").fetchone()[0] == V6
    conn.close()
    assert _dump(old) == before
    # the backup is whole, and no temporary copy is left beside it
    bak = backup_path(str(old), V6)
    assert _dump(Path(bak)) == before
    assert not Path(f"{bak}.tmp").exists()


def test_a_hash_that_is_not_hex_is_one_line_naming_its_row_and_changes_nothing(
        tmp_path: Path) -> None:
    old = _v6_archive(tmp_path)
    v6 = sqlite3.connect(old)
    size = v6.execute("SELECT size FROM blobs ORDER BY sha256 LIMIT 1").fetchone()[0]
    v6.execute("UPDATE blobs SET sha256 = 'zz' || substr(sha256, 3) WHERE sha256 ="
               " (SELECT min(sha256) FROM blobs)")
    bad, = v6.execute("SELECT sha256 FROM blobs WHERE sha256 LIKE 'zz%'").fetchone()
    v6.commit()
    v6.close()
    before = _dump(old)
    r = run_cli("check", "--db", str(old), cwd=ROOT)
    assert r.returncode == 3, r.stderr  # a damaged archive
    assert r.stderr == (
        f"coop-archive: {old}: cannot migrate it from schema 6 to {SCHEMA_VERSION}: the blob "
        f"row with sha256 '{bad}' ({size} bytes) has a hash that is not 64 hex digits (the "
        "archive is damaged); nothing was changed, the archive is at schema 6\n")
    assert _dump(old) == before


def test_a_writer_kept_waiting_by_a_migration_says_so_and_changes_nothing(
        tmp_path: Path) -> None:
    old = _v6_archive(tmp_path)
    before = _dump(old)
    first = sqlite3.connect(old, isolation_level=None)
    first.execute("BEGIN IMMEDIATE")  # another process migrating (or writing) the archive
    second = sqlite3.connect(old, isolation_level=None)
    second.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(ArchiveLockedError) as got:
            migrate(second, str(old))
    finally:
        first.execute("ROLLBACK")
        first.close()
    assert str(got.value) == (
        f"{old}: another process is migrating or writing the archive (waited 0.2 s for it to "
        "finish): nothing was changed; run the command again later")
    assert not second.in_transaction
    assert second.execute("PRAGMA foreign_keys").fetchone()[0] == 0  # as it was
    second.close()
    assert _dump(old) == before


def _run_while_written(db: Path, command: str) -> subprocess.CompletedProcess[str]:
    """``coop-archive COMMAND --db DB`` while another connection holds the archive's write
    lock (as a writer that does not take the lock file would) until the command has ended."""
    first = sqlite3.connect(db, isolation_level=None)
    first.execute("BEGIN IMMEDIATE")
    try:
        return run_cli(command, "--db", str(db), cwd=ROOT)
    finally:
        first.execute("ROLLBACK")
        first.close()


@pytest.mark.parametrize("wal", [True, False], ids=["wal", "rollback-journal"])
def test_the_command_kept_waiting_by_another_writer_exits_75_in_one_line(
        tmp_path: Path, wal: bool) -> None:
    # a writer that does not take the lock file (a script on the library, another tool) holds
    # the archive's write lock for longer than the command's ten seconds of waiting; an
    # archive not yet in WAL mode cannot even be switched to it meanwhile (SQLite answers at
    # once that it is locked)
    old = _v6_archive(tmp_path)
    if wal:
        with sqlite3.connect(old) as conn:
            conn.execute("PRAGMA journal_mode = WAL")  # as coop-archive left it
        conn.close()
    before = _dump(old)
    r = _run_while_written(old, "check")
    assert r.returncode == 75, r.stderr  # EX_TEMPFAIL: try again later
    waited = " (waited 10 s for it to finish)" if wal else ""
    assert r.stderr == (f"coop-archive: {old}: another process is migrating or writing the "
                        f"archive{waited}: nothing was changed; run the command again later\n")
    assert _dump(old) == before
    r = run_cli("check", "--db", str(old), cwd=ROOT)  # once it is done, the retry migrates
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_second_writer_waiting_on_the_migration_does_not_migrate_again(
        tmp_path: Path) -> None:
    old = _v6_archive(tmp_path)
    first = sqlite3.connect(old, isolation_level=None)
    first.create_function("unhex", 1, _unhex, deterministic=True)  # on any SQLite
    first.execute("BEGIN IMMEDIATE")  # the first writer is migrating
    second = sqlite3.connect(old, isolation_level=None, timeout=30, check_same_thread=False)
    outcome: list[object] = []
    waiting = threading.Thread(target=lambda: outcome.append(_migrated(second, old)))
    waiting.start()
    time.sleep(0.5)  # the second has read schema 6 and waits for the write lock
    for n in range(V6, SCHEMA_VERSION):
        for stmt in _statements(MIGRATIONS[n]):
            first.execute(stmt)
    first.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    first.execute("COMMIT")
    first.close()
    waiting.join(timeout=60)
    # under the write lock it finds schema 8 done, instead of running schema 8 again
    assert outcome == [SCHEMA_VERSION]
    assert second.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert second.execute("PRAGMA foreign_key_check").fetchall() == []
    second.close()


def _migrated(conn: sqlite3.Connection, path: Path) -> object:
    try:
        return migrate(conn, str(path))
    except sqlite3.Error as e:
        return e


#: The real command, held inside the migration's transaction at a chosen point (after the
#: first statement of the first missing migration, or after the last statement of the last
#: one, before the schema version and the COMMIT); a file says it got there. Waiting for the
#: backup to appear and then for a few milliseconds bet that the migration would still be
#: running when the kill landed, and a loaded machine lost that bet.
HELD_MIGRATION = """
import pathlib, sys, time
import archive.migrate as m
from archive.schema import MIGRATIONS, SCHEMA_VERSION
marker, where = pathlib.Path(sys.argv.pop(1)), sys.argv.pop(1)
real, calls = m._statements, []

def hold():
    marker.touch()
    time.sleep(600)

def statements(script):
    calls.append(script)
    for i, stmt in enumerate(real(script)):
        if where == "first" and len(calls) == 1 and i == 1:
            hold()  # the first statement of the first missing migration has run
        yield stmt
    if where == "last" and script is MIGRATIONS[SCHEMA_VERSION - 1]:
        hold()  # every statement has run; the schema version and the COMMIT have not

m._statements = statements
from scraper.cli import main
main()
"""


@pytest.mark.parametrize("where", ["first", "last"],
                         ids=["after-the-first-statement", "before-the-commit"])
def test_kill_9_during_the_migration_leaves_a_whole_archive(tmp_path: Path, where: str) -> None:
    # Bodies that do not compress: the migration's work outgrows SQLite's page cache, so
    # uncommitted pages reach the WAL before the kill.
    old = _v6_archive(tmp_path, versions=40, pad=200_000)
    v6 = sqlite3.connect(old)
    hex_bodies = _bodies(v6, "snapshots")
    v6.close()
    pristine = tmp_path / "pristine.db"
    shutil.copyfile(old, pristine)
    bak = Path(backup_path(str(old), V6))
    held = tmp_path / "held"
    proc = subprocess.Popen([sys.executable, "-c", HELD_MIGRATION, str(held), where,
                             "check", "--db", str(old)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not held.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        reached = held.exists()
        proc.kill()  # SIGKILL inside the migration's transaction
    finally:
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=30)
    assert reached, f"the migration never got there: {err}"
    assert proc.returncode == -9
    assert bak.exists()  # the backup was taken before the migration's transaction

    conn = sqlite3.connect(old)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # never committed: all of schema 6, as it was
    assert conn.execute("PRAGMA user_version").fetchone()[0] == V6
    ref = sqlite3.connect(pristine)
    for table in ("blobs", "snapshots", "versions", "pages", "runs"):
        assert (conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                == ref.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()), table
    ref.close()
    conn.close()
    # opening it migrates it, and nothing is lost
    with Archive.open(old) as a:
        assert _bodies(a.conn, "snapshot_bodies") == hex_bodies
        assert a.conn.execute("PRAGMA foreign_key_check").fetchall() == []
    r = run_cli("check", "--deep", "--db", str(old), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("room", [1.5, 2.5], ids=["during-the-backup", "during-the-migration"])
def test_a_full_disk_during_the_migration_is_one_line_and_leaves_schema_6(
        tmp_path: Path, room: float) -> None:
    """A disk with room for the archive and less than a backup copy, or for the archive and
    its copy but not for the migration's work: disk full in one line, the archive whole at
    schema 6, no partial backup."""
    cur = tmp_path / "cur.db"
    with Archive.open(cur) as a:  # bodies that do not compress make most of the archive
        for day in range(1, 5):
            capture(a, HUB, at(f"2016-10-{day:02d}"), Page(HUB, title="Hub", text=f"t{day}"),
                    body=os.urandom(100_000))
    old = tmp_path / "v6.db"
    put_back_to_v6(cur, old)
    expected = _dump(old)
    after = tmp_path / "after.db"
    size = f"{int(old.stat().st_size * room) // 1024}k"
    copy, migrating, listing, saved = in_small_disk(tmp_path, [
        ["cp", str(old), "{disk}/a.db"],
        cli_command("check", "--db", "{disk}/a.db"),
        ["ls", "-a", "{disk}"],
        ["cp", "{disk}/a.db", str(after)],
    ], size=size)
    assert copy[0] == 0 and saved[0] == 0, (copy, saved)
    code, _, stderr = migrating
    assert code == 3, stderr
    doing = "backing up" if room < 2 else "migrating"
    assert stderr.startswith(f"coop-archive: disk full while {doing} "), stderr
    assert "the archive is intact at schema 6" in stderr and " MB free" in stderr, stderr
    assert len(stderr.splitlines()) == 1 and "Traceback" not in stderr, stderr
    files = listing[1].split()
    assert not [f for f in files if f.endswith(".tmp")], files
    # a backup that did not fit leaves no file that would pass for one
    assert ("a.db.v6.bak" in files) == (room > 2), files
    assert not [f for f in files if f.endswith("-wal") or f.endswith("-journal")] \
        or after.exists()
    assert _dump(after) == expected


def test_a_reader_while_a_writer_migrates_answers_or_refuses_with_the_hint(
        tmp_path: Path) -> None:
    old = _v6_archive(tmp_path, versions=40, pad=200_000)
    proc = subprocess.Popen(cli_command("check", "--db", str(old)), cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = []
    try:
        while True:
            done = proc.poll() is not None
            r = run_cli("history", "--db", str(old), cwd=ROOT)
            seen.append(r)
            if done:
                break
    finally:
        proc.wait(timeout=120)
    refused = [r for r in seen if r.returncode != 0]
    answered = [r for r in seen if r.returncode == 0]
    for r in refused:  # schema 6 until the migration commits: the hint, in one line
        assert r.stderr == (f"coop-archive: {old} has schema version 6; run a crawl or "
                            "'coop-archive check' once to migrate it\n"), r.stderr
    assert answered, "no reader got an answer after the migration"
    assert len(answered[-1].stdout.splitlines()) == 42  # header, 40 captures and the 304
    assert all(r.stdout == answered[-1].stdout for r in answered)


def test_a_write_kept_waiting_past_the_busy_timeout_exits_75_in_one_line(
        tmp_path: Path) -> None:
    # the archive is current (nothing to migrate): the command's own first write waits ten
    # seconds for a writer that does not take the lock file, then gives up
    db = tmp_path / "a.db"
    with Archive.open(db) as a:
        capture(a, HUB, at("2016-10-21"), Page(HUB, title="Hub", text="one"))
    r = _run_while_written(db, "rebuild-fts")
    assert r.returncode == 75, r.stderr
    assert r.stderr == ("coop-archive: the archive is busy: another process is migrating or "
                        "writing it and held it longer than this command waits; the change "
                        "being written was rolled back, what was committed before is kept. "
                        "Run the command again later\n")
    assert run_cli("rebuild-fts", "--db", str(db), cwd=ROOT).returncode == 0
