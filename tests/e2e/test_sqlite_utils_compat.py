"""The archive works with the tools researchers already use: sqlite-utils finds our full-text
indexes on its own (and so does Datasette, which uses the same convention)."""

from __future__ import annotations

import subprocess
import sys

import sqlite_utils

from archive.model import Item, Page, Section
from archive.search import rebuild_fts
from archive.store import Archive
from tests.builders import at, capture

URL = "http://127.0.0.2/hub"


def _archive(path):
    with Archive.open(path) as a:
        capture(a, URL, at("2016-10-21"), Page(
            url=URL, title="U.S.-China Cooperation", text="The Paris Agreement entered into force.",
            sections=[Section("Media Notes", 2, "Emissions from heavy-duty vehicles.")],
            items=[Item("EcoPartnerships Program", "http://s/1", "Six new EcoPartnerships.", 0)]))


def test_sqlite_utils_detects_and_searches_our_indexes(tmp_path):
    path = tmp_path / "a.db"
    _archive(path)
    db = sqlite_utils.Database(path)
    assert db["versions"].detect_fts() == "versions_fts"
    assert db["sections"].detect_fts() == "sections_fts"
    assert db["items"].detect_fts() == "items_fts"
    hits = [r["title"] for r in db["items"].search("ecopartnerships")]
    assert hits == ["EcoPartnerships Program"]
    # porter stemming: "emission" finds "Emissions"
    assert [r["heading"] for r in db["sections"].search("emission")] == ["Media Notes"]
    db.close()


def test_rebuild_fts_restores_a_wiped_index(tmp_path):
    path = tmp_path / "a.db"
    _archive(path)
    with Archive.open(path) as a:
        a.conn.execute("INSERT INTO items_fts (items_fts) VALUES ('delete-all')")
        assert a.conn.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'six'"
                              ).fetchone()[0] == 0
        counts = rebuild_fts(a)
        assert counts["items_fts"] == 1
        assert a.conn.execute("SELECT count(*) FROM items_fts WHERE items_fts MATCH 'six'"
                              ).fetchone()[0] == 1


def test_the_sqlite_utils_cli_searches_the_archive(tmp_path):
    path = tmp_path / "a.db"
    _archive(path)
    exe = [sys.executable, "-m", "sqlite_utils"]
    r = subprocess.run([*exe, "search", str(path), "versions", "Paris", "-c", "title"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "U.S.-China Cooperation" in r.stdout
