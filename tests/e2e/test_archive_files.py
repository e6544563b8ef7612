"""Files and locks we must not trust too easily (issue 14): the lock belongs to the file, not its
name; SQLite URIs are refused; checkers never change or create what is not an archive; readers
work on read-only storage."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from archive.errors import ArchiveError, ArchiveLockedError, UsageError
from archive.lock import ArchiveLock
from archive.model import Page
from archive.store import Archive
from tests.builders import at, capture
from tests.cli import run_cli

URL = "http://127.0.0.1:9/hub"


def _cli(*args: str, prefix: tuple[str, ...] = (), cwd: Path | None = None,
         ) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: a run from another directory (cwd) or another user still finds the project.
    return run_cli(*args, prefix=prefix, cwd=cwd, timeout=60,
                   env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"
    with Archive.open(path) as a:
        capture(a, URL, at("2016-10-21"), Page(url=URL, title="Hub", text="first"))
    return path


# -- the lock ------------------------------------------------------------------------------


def test_lock_through_a_symlink_or_another_spelling_contends(db: Path, tmp_path: Path) -> None:
    link = tmp_path / "elsewhere" / "link.db"
    link.parent.mkdir()
    link.symlink_to(db)
    other_spelling = tmp_path / "elsewhere" / ".." / "a.db"
    with ArchiveLock(db):
        for name in (link, other_spelling):
            with pytest.raises(ArchiveLockedError, match=f"pid {os.getpid()}"):
                ArchiveLock(name).acquire()
    with ArchiveLock(link):  # released: free again, through any name
        with pytest.raises(ArchiveLockedError):
            ArchiveLock(db).acquire()


def test_crawl_through_a_symlink_waits_for_the_lock(db: Path, tmp_path: Path) -> None:
    link = tmp_path / "link.db"
    link.symlink_to(db)
    with ArchiveLock(db):
        r = _cli("crawl", "http://127.0.0.1:9/", "--db", str(link))
    assert r.returncode == 75, r.stderr
    assert "another crawl holds the archive" in r.stderr


# -- URIs and names SQLite would take as instructions ----------------------------------------


@pytest.mark.parametrize("name", ["file:x.db?mode=memory", "FILE:x.db", "file:x.db", ":memory:",
                                  ""])
def test_uri_or_empty_db_is_refused(name: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        Archive.open(name)
    with pytest.raises(UsageError):
        ArchiveLock(name)
    r = _cli("crawl", "http://127.0.0.1:9/", "--db", name, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("coop-archive: ") and len(r.stderr.splitlines()) == 1
    assert "run complete" not in r.stdout + r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a lock file


# -- checkers never change or create what they have not recognised -------------------------


def test_check_leaves_a_foreign_sqlite_file_untouched(tmp_path: Path) -> None:
    foreign = tmp_path / "other.sqlite"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = _digest(foreign)
    r = _cli("check", "--db", str(foreign))
    assert r.returncode == 3 and "not a coop-archive archive" in r.stderr
    assert _digest(foreign) == before
    conn = sqlite3.connect(foreign)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # not switched to WAL
    conn.close()
    with pytest.raises(ArchiveError, match="not a coop-archive"):
        Archive.open(foreign)
    assert _digest(foreign) == before


@pytest.mark.parametrize("command", ["check", "rebuild-fts"])
def test_checkers_create_no_archive(command: str, tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    r = _cli(command, "--db", str(empty))
    assert r.returncode == 3 and "no archive at" in r.stderr, r.stderr
    assert empty.stat().st_size == 0
    r = _cli(command, "--db", str(tmp_path / "mistyped.db"))
    assert r.returncode == 3 and "no archive at" in r.stderr, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.db"]


def test_readonly_open_of_empty_file_creates_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.touch()
    with pytest.raises(ArchiveError, match="no archive"):
        Archive.open(empty, readonly=True)
    with pytest.raises(ArchiveError, match="no archive"):
        Archive.open(empty, create=False)
    assert empty.stat().st_size == 0 and len(list(tmp_path.iterdir())) == 1


# -- readers on read-only storage ------------------------------------------------------------


def _unprivileged() -> tuple[str, ...]:
    """A command prefix that takes away root's power to write anywhere (as root, file modes
    alone would not make a directory read-only)."""
    if os.geteuid() != 0:
        return ()
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("running as root without setpriv: cannot make a directory read-only")
    return (setpriv, "--bounding-set", "-all", "--inh-caps", "-all", "--")


def test_readers_work_on_a_read_only_directory(db: Path, tmp_path: Path) -> None:
    prefix = _unprivileged()
    assert not Path(f"{db}-wal").exists() and not Path(f"{db}-shm").exists()
    before = _digest(db)
    db.chmod(0o444)
    tmp_path.chmod(0o555)
    try:
        # The archive is WAL (header bytes 18-19 are 2): mode=ro alone would need to create
        # a.db-shm beside it.
        assert db.read_bytes()[18:20] == b"\x02\x02"
        for args in (["history"], ["show", URL], ["search", "first"],
                     ["sql", "SELECT count(*) AS n FROM snapshots"]):
            r = _cli(*args, "--db", str(db), prefix=prefix)
            assert r.returncode == 0, (args, r.stderr)
            assert "unable to open" not in r.stderr
        r = _cli("show", URL, "--db", str(db), prefix=prefix)
        assert "first" in r.stdout
    finally:
        tmp_path.chmod(0o755)
        db.chmod(0o644)
    assert _digest(db) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.db"]
