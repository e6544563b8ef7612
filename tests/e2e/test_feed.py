"""The Atom feed (archive/feed.py, ``coop-archive feed``), read back with feedparser."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import feedparser
import pytest

from archive import feed
from archive.store import Archive
from tests.e2e.test_notify import NEW, OTHER, URL, _cli, crawl, page

EVIL = "EcoPartnerships <script>alert(1)</script> \x07bell"


@pytest.fixture
def db(tmp_path: Path) -> str:
    """Two watches: URL changes twice (once with a scraped script in a title), OTHER never."""
    path = str(tmp_path / "a.db")
    with Archive.open(path) as a:
        crawl(a, "2016-10-21", page())
        crawl(a, "2016-10-21", page(url=OTHER), hour=13)
        crawl(a, "2016-11-15", page(NEW))
        crawl(a, "2016-11-15", page(url=OTHER), hour=13)
        crawl(a, "2016-12-01", page(NEW, title=EVIL))
        crawl(a, "2016-12-02", page(NEW, title=EVIL, updated="2016-12-02"))  # date-only
    return path


def test_one_entry_per_changed_page_per_run_parses_clean(db):
    with Archive.open(db, readonly=True) as a:
        items = feed.entries(a)
        again = feed.entries(a)
        assert [e.id for e in items] == [e.id for e in again]  # stable ids
        assert len(items) == 2  # the two real changes; first captures and noise are not news
        assert feed.entries(a, seed_url=OTHER) == []
        assert len(feed.entries(a, date_only=True)) == 3
    text = feed.render(items, title="coop-archive: changes", feed_id="tag:coop-archive,2026:t")
    parsed = feedparser.parse(text)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    newest, older = parsed.entries
    assert newest.id.startswith("tag:coop-archive,2016-12-01:run-5/page-")
    assert older.id.startswith("tag:coop-archive,2016-11-15:run-3/page-")
    assert newest.updated == "2016-12-01T12:00:00.000000Z"
    assert newest.link == URL
    html = newest.content[0].value
    # the scraped script arrives as text to show, never as markup to run
    assert "<script" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\x07" not in text
    assert "<del>36. </del><ins>42.</ins>" in older.content[0].value


def test_write_atomic_replaces_the_file_whole(tmp_path):
    out = tmp_path / "changes.atom"
    out.write_text("old", encoding="utf-8")
    feed.write_atomic(str(out), "<feed/>\n")
    assert out.read_text(encoding="utf-8") == "<feed/>\n"
    assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert [p.name for p in tmp_path.iterdir()] == ["changes.atom"]  # no temporary left


def test_feed_cli_writes_the_file_and_filters_by_watch(db, tmp_path):
    config = tmp_path / "coop-archive.toml"
    config.write_text(f'[archive]\ndb = "a.db"\n\n[[watch]]\nname = "climate"\nurl = "{URL}"\n'
                      f'\n[[watch]]\nname = "other"\nurl = "{OTHER}"\n', encoding="utf-8")
    out = tmp_path / "pub" / "changes.atom"
    r = _cli("feed", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 2 and "directory does not exist" in r.stderr
    out.parent.mkdir()
    r = _cli("feed", "--watch", "climate", "--out", str(out), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    parsed = feedparser.parse(out.read_text(encoding="utf-8"))
    assert not parsed.bozo and len(parsed.entries) == 2
    assert parsed.feed.title == "coop-archive: climate: changes"
    assert all(e.title.startswith("climate: ") for e in parsed.entries)
    r = _cli("feed", "--watch", "other", cwd=tmp_path)
    assert r.returncode == 0 and feedparser.parse(r.stdout).entries == []
    r = _cli("feed", "--watch", "nope", cwd=tmp_path)
    assert r.returncode == 2 and "no watch 'nope'" in r.stderr


def test_the_new_archive_modules_stay_in_the_lower_layer():
    code = ("import sys, archive.changes, archive.outbox, archive.feed; "
            "print(sorted(m for m in ('scraper', 'requests', 'click', 'apprise', 'tenacity') "
            "if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


def test_watches_cli_shows_last_run_last_change_and_pending(db, tmp_path):
    from scraper.notify import queue_run

    with Archive.open(db) as a:
        queue_run(a, 3, ["json://127.0.0.1:9/"], watch="climate", db=db)
    (tmp_path / "coop-archive.toml").write_text(
        f'[archive]\ndb = "a.db"\n\n[[watch]]\nname = "climate"\nurl = "{URL}"\n'
        f'\n[[watch]]\nname = "other"\nurl = "{OTHER}"\n'
        '\n[[watch]]\nname = "new"\nurl = "https://example.org/"\n', encoding="utf-8")
    r = _cli("watches", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    climate, other, new = (json.loads(line) for line in r.stdout.splitlines())
    assert climate["last_run"]["id"] == 6 and climate["last_run"]["status"] == "complete"
    assert climate["runs"] == 4 and climate["last_change"] == "2016-12-02T12:00:00.000000Z"
    assert climate["pending_notifications"] == 1
    assert other["runs"] == 2 and other["last_change"] is None
    assert new["last_run"] is None and new["runs"] == 0
    r = _cli("watches", cwd=tmp_path)
    lines = r.stdout.splitlines()
    assert lines[0].startswith("climate") and "run 6 complete 2016-12-02T12:00" in lines[0]
    assert "1 notification(s) pending" in lines[0] and "never crawled" in lines[2]
