"""`check` finds what is wrong with an archive, and says nothing about a healthy one."""

from __future__ import annotations

import sqlite3

import pytest

from archive.check import check
from archive.model import Item, Page, Section
from archive.store import Archive
from tests.builders import at, capture
from tests.cli import run_cli

URL = "http://127.0.0.1:9/hub"


def _page(summary: str) -> Page:
    return Page(url=URL, title="Hub", text=summary, sections=[Section("Fact Sheets", 2)],
                items=[Item("One", "http://s/1", summary, 0)])


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "a.db"
    with Archive.open(path) as a:
        capture(a, URL, at("2016-10-21"), _page("first"))
        capture(a, URL, at("2016-10-22"), _page("second"))
        capture(a, URL, at("2016-10-23"), error="timeout")
    return path


def test_healthy_archive_passes_deep_check(db):
    with Archive.open(db) as a:
        report = check(a.conn, deep=True)
    assert report.ok, report.problems
    assert report.counts["snapshots"] == 3 and report.counts["versions"] == 2
    r = run_cli("check", "--db", str(db), "--deep")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok: ")


@pytest.mark.parametrize("sabotage, finding", [
    ("DELETE FROM blobs WHERE id = (SELECT body_id FROM snapshots WHERE id = 1)",
     "snapshot points at a missing blob"),
    ("UPDATE snapshots SET version_id = NULL WHERE id = 2", "good snapshot without version"),
    ("UPDATE snapshots SET version_id = 1 WHERE id = 3", "failed snapshot with content"),
    ("DELETE FROM snapshots WHERE id = 1", "version never captured"),
    ("UPDATE blobs SET data = X'28b52ffd0000' WHERE codec = 'zstd'", "blob damaged"),
    ("UPDATE blobs SET codec = 'zstd-dict', base_id = id WHERE codec = 'zstd'",
     "delta chain cyclic or too long"),
    ("UPDATE blobs SET base_id = 999999 WHERE codec = 'zstd-dict'",
     "delta blob with a bad base"),
])
def test_sabotage_is_found(db, sabotage, finding):
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(sabotage)
    conn.commit()
    conn.close()
    r = run_cli("check", "--db", str(db), "--deep")
    assert r.returncode == 3
    assert finding in r.stderr
    assert all(line.startswith("coop-archive: ") for line in r.stderr.splitlines())


def test_damaged_file_is_reported_not_a_traceback(db):
    data = bytearray(db.read_bytes())
    data[4096:8192] = b"\xff" * 4096  # trash the second page
    db.write_bytes(bytes(data))
    r = run_cli("check", "--db", str(db))
    assert r.returncode == 3
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) >= 1


def test_missing_archive_is_exit_3(tmp_path):
    r = run_cli("check", "--db", str(tmp_path / "nope.db"))
    assert r.returncode == 3 and "no archive" in r.stderr


@pytest.mark.parametrize("sabotage, finding", [
    ("INSERT INTO versions_fts (versions_fts) VALUES ('delete-all')",
     "full-text index versions_fts does not match its table"),
    ("INSERT INTO items_fts (items_fts) VALUES ('delete-all')",
     "full-text index items_fts does not match its table"),
    ("UPDATE versions SET text = 'forged' WHERE id = 1",
     "version content does not match its hash"),
    ("UPDATE items SET summary = 'forged' WHERE id = 1",
     "version content does not match its hash"),
    ("UPDATE snapshots SET captured_at = 'garbage' WHERE id = 1",
     "snapshot with a malformed time"),
    ("UPDATE snapshots SET captured_at = '2016-02-30T12:00:00.000000Z' WHERE id = 1",
     "snapshot with a malformed time"),
    ("UPDATE runs SET started_at = '0001-01-01' WHERE id = 1", "run with a malformed time"),
    ("UPDATE snapshots SET captured_at = '2099-01-01T00:00:00.000000Z' WHERE id = 3",
     "snapshot dated in the future"),
    ("UPDATE blobs SET data = X'28b52ffd0000'"
     " WHERE id = (SELECT body_id FROM snapshots WHERE id = 2)",
     "latest body damaged"),
])
def test_plain_check_finds_damage_without_deep(db, sabotage, finding):
    r = run_cli("check", "--db", str(db))
    assert r.returncode == 0, r.stderr  # healthy before the sabotage: no false alarm
    plain = sqlite3.connect(db)  # any connection, whatever its row factory
    assert check(plain).ok and plain.row_factory is None
    plain.close()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute(sabotage)
    conn.commit()
    conn.close()
    r = run_cli("check", "--db", str(db))
    assert r.returncode == 3, r.stderr
    assert finding in r.stderr
    assert "Traceback" not in r.stderr


def test_emptied_index_is_repaired_by_rebuild_fts(db):
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO versions_fts (versions_fts) VALUES ('delete-all')")
    conn.commit()
    conn.close()
    assert run_cli("check", "--db", str(db)).returncode == 3
    r = run_cli("rebuild-fts", "--db", str(db))
    assert r.returncode == 0, r.stderr
    r = run_cli("check", "--db", str(db))
    assert r.returncode == 0, r.stderr
