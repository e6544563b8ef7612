"""Schema 8 (compact storage) migrates an older archive in place without changing an answer.

The archive of schema 6 is the demo's (real pages, two dated runs, 304s, a page gone, a PDF),
written by this coop-archive and then put back, row for row, into the tables of migrations 1-6
(body hashes as hex, blobs keyed by them): exactly what coop-archive wrote before schema 8.
Opening it migrates it; history, diff, show, export and the documented SQL must then answer as
they do on the archive it came from, and the hex spellings must come back through the views.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive.migrate import backup_path
from archive.schema import SCHEMA_VERSION
from archive.store import Archive
from archive.warc_export import iter_records
from tests.builders import at, capture
from tests.cli import ROOT, run_cli
from tests.v6_archive import V6, put_back_to_v6


def _answers(db: Path, url: str, tmp: Path) -> dict[str, Any]:
    """What a researcher gets from the archive: commands' output and the documented SQL."""
    out: dict[str, Any] = {}
    for name, args in {
        "history": ("history",),
        "history_url": ("history", url),
        "diff": ("diff",),
        "diff_url": ("diff", url, "--from", "2016-10-21", "--to", "2016-11-15"),
        "show": ("show", url, "--as-of", "2016-11-01"),
        "show_latest": ("show", url),
        "check": ("check", "--deep"),
    }.items():
        r = run_cli(*args, "--db", str(db), cwd=ROOT)
        assert r.returncode == 0, (name, r.stderr)
        out[name] = r.stdout.replace(str(db), "DB")
    warc = tmp / f"{db.stem}.warc.gz"
    r = run_cli("export", "--db", str(db), "--format", "warc", str(warc), cwd=ROOT)
    assert r.returncode == 0, r.stderr
    # (the file's own warcinfo, first, is dated when the export ran)
    out["warc"] = [
        (rec.rec_type, rec.rec_headers.get_header("WARC-Target-URI"),
         rec.rec_headers.get_header("WARC-Date") if n else None,
         rec.rec_headers.get_header("WARC-Payload-Digest"),
         rec.rec_headers.get_header("WARC-Refers-To-Target-URI"),
         rec.http_headers.to_str() if rec.http_headers else None,
         rec.content_stream().read() if rec.rec_type != "warcinfo" else None)
        for n, rec in enumerate(iter_records(warc))]
    out["export_json"] = _export_json(db, tmp)
    conn = sqlite3.connect(db)
    for view in ("version_spans", "latest_versions", "hub_items", "item_history",
                 "snapshot_headers", "snapshot_outside_text"):
        out[view] = conn.execute(f"SELECT * FROM {view} ORDER BY 1").fetchall()
    conn.close()
    return out


def _export_json(db: Path, tmp: Path) -> Any:
    path = tmp / f"{db.stem}.json"
    r = run_cli("export", "--db", str(db), "--format", "json", str(path), "--force", cwd=ROOT)
    assert r.returncode == 0, r.stderr
    data = json.loads(path.read_text())
    data.pop("exported_at")  # when the export ran
    return data


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    r = run_cli("demo", "--db", str(db), timeout=240, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    return db


def test_a_schema_6_archive_migrates_in_place_with_every_answer_kept(demo: Path,
                                                                     tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    put_back_to_v6(demo, old)
    v6 = sqlite3.connect(old)
    hex_bodies = v6.execute("SELECT id, body_sha256 FROM snapshots"
                            " WHERE body_sha256 IS NOT NULL ORDER BY id").fetchall()
    hex_blobs = v6.execute("SELECT sha256, size, codec, base_sha256, stored_size, data"
                           " FROM blobs ORDER BY sha256").fetchall()
    v6.close()
    assert hex_bodies and any(r[3] for r in hex_blobs)  # bodies, and deltas among them

    with Archive.open(old) as a:  # migrates
        assert a.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert a.conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert a.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        # the hex spellings of schema 6, through the documented views
        assert [tuple(r) for r in a.conn.execute(
            "SELECT snapshot_id, body_sha256 FROM snapshot_bodies ORDER BY snapshot_id")] \
            == hex_bodies
        assert [tuple(r) for r in a.conn.execute(
            "SELECT sha256, size, codec, base_sha256, stored_size, data FROM blobs_hex"
            " ORDER BY sha256")] == hex_blobs
    assert Path(backup_path(str(old), V6)).exists()

    url = sqlite3.connect(demo).execute("SELECT seed_url FROM runs ORDER BY id").fetchone()[0]
    before, after = _answers(demo, url, tmp_path), _answers(old, url, tmp_path)
    for key in before:
        assert after[key] == before[key], key
    # Blob ids are given in the order the bodies were first received: the migrated tables
    # are the ones a schema 8 crawl writes, row for row.
    a, b = sqlite3.connect(demo), sqlite3.connect(old)
    for table in ("blobs", "snapshots"):
        assert (b.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
                == a.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()), table
    assert ([r[0] for r in b.execute("SELECT sql FROM sqlite_master WHERE tbl_name IN"
                                     " ('blobs', 'snapshots') ORDER BY name")]
            == [r[0] for r in a.execute("SELECT sql FROM sqlite_master WHERE tbl_name IN"
                                        " ('blobs', 'snapshots') ORDER BY name")])


def test_a_migrated_archive_takes_new_captures(demo: Path, tmp_path: Path) -> None:
    """After the migration a changed body is a delta against a migrated one, a 304 confirms a
    migrated body, and the deep check passes."""
    old = tmp_path / "old.db"
    put_back_to_v6(demo, old)
    with Archive.open(old) as a:
        url = a.conn.execute("SELECT seed_url FROM runs ORDER BY id").fetchone()[0]
        prev = a.previous_capture(url)
        assert prev is not None and prev.body_id is not None
        body = a.body(prev.body_id)
        page = a.load_version(prev.version_id)
        new = capture(a, url, at("2016-12-01"), page, body=body.replace(b"</body>",
                                                                         b"<p>x</p></body>"))
        row = a.conn.execute("SELECT b.codec, b.base_id FROM snapshots s JOIN blobs b"
                             " ON b.id = s.body_id WHERE s.id = ?", (new.snapshot_id,)).fetchone()
        assert tuple(row) == ("zstd-dict", prev.body_id)
        again = capture(a, url, at("2016-12-02"), status=304, run_id=None)
        assert again.outcome == "not_modified"
    r = run_cli("check", "--deep", "--db", str(old), cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    r = run_cli("show", url, "--db", str(old), cwd=ROOT)
    assert r.returncode == 0 and page.title in r.stdout, r.stderr
