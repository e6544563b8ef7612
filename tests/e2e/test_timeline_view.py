"""The timeline's data and pages against real SQLite archives: the stretches and events of a
page, the index's counts and months, the escaping of scraped text, the static site's files and
links, the ``publish`` command and the Datasette routes."""

from __future__ import annotations

import asyncio
import os
import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from archive.errors import UsageError
from archive.publish import ALL_PAIRS_UP_TO, publish_site
from archive.site import chart, index_html, page_html, raw_capture
from archive.store import Archive
from archive.timeline_view import (
    Event,
    Month,
    Stretch,
    archive_months,
    page_summaries,
    page_timeline,
)
from scraper.datasette_timeline import DatasetteLinks
from tests import query_fixture as qf
from tests import timeline_fixture as tf
from tests.builders import at
from tests.cli import run_cli


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("timeline") / "archive.db")
    tf.build(path)
    return path


@pytest.fixture(scope="module")
def query_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("timeline-q") / "archive.db")
    qf.build(path)
    return path


@pytest.fixture()
def archive(db: str):
    with Archive.open(db, readonly=True) as a:
        yield a


def _page_id(archive: Archive, url: str) -> int:
    pid = archive.page_id(url)
    assert pid is not None
    return pid


def _kinds(entries: list[Stretch | Event]) -> list[str]:
    return [f"v{e.number}" if isinstance(e, Stretch) else e.kind for e in entries]


def test_a_page_timeline_has_every_kind_of_entry_in_time_order(archive: Archive) -> None:
    t = page_timeline(archive, _page_id(archive, tf.WATCHED))
    assert t.url == tf.WATCHED and t.title == tf.TITLE
    assert _kinds(t.entries) == ["v1", "v2", "failed", "v3", "gap", "gone", "v3", "v4"]
    v1, v2, failed, v3, gap, gone, back, v4 = t.entries
    assert isinstance(v1, Stretch) and isinstance(v2, Stretch) and isinstance(v3, Stretch)
    assert isinstance(back, Stretch) and isinstance(v4, Stretch)
    assert isinstance(failed, Event) and isinstance(gap, Event) and isinstance(gone, Event)
    # The span of dates each version was seen, and how many captures showed it.
    assert (v1.first_seen, v1.last_seen, v1.snapshots) == (at(tf.DAYS[0]), at(tf.DAYS[1]), 2)
    assert v1.summary == "first capture"
    # One line on what changed from the previous version.
    assert v2.summary == "1 item added; silent edit (Updated date unchanged)"
    assert v2.flags == ["silent_edit"]
    assert v3.updated_on == "2016-01-06" and "date_only" in v3.flags
    assert "date-only bump" in v3.summary
    assert v4.summary.startswith("1 item removed, 1 edited")
    # Two failures in a row are one event; the pause and the 404 are events too.
    assert (failed.count, failed.start, failed.end, failed.detail) == (
        2, at(tf.DAYS[3]), at(tf.DAYS[4]), "timed out")
    assert (gap.start, gap.end) == (at(tf.DAYS[5]), at(tf.DAYS[6]))
    assert gap.detail == "no capture for 14 days"
    assert (gone.kind, gone.detail) == ("gone", "HTTP 404")
    # A version back after the 404 keeps its number, and says it came back.
    assert (back.version_id, back.number) == (v3.version_id, 3)
    assert back.summary == "back after being gone; unchanged"
    assert all(s.has_body for s in t.stretches)


def test_the_query_fixture_hub_shows_its_failure_and_suspect_capture(query_db: str) -> None:
    # The other shared fixture: a failed capture between versions, a suspect one at the end.
    with Archive.open(query_db, readonly=True) as a:
        t = page_timeline(a, _page_id(a, qf.HUB))
    assert _kinds(t.entries) == ["v1", "v2", "failed", "v3", "v4", "suspect"]
    assert [s.snapshots for s in t.stretches] == [2, 1, 2, 1]  # the 304 counts for v3
    assert t.stretches[1].summary == "2 items added; Updated 2016-06-17 → 2016-08-09"
    assert t.stretches[3].summary == "1 item removed; Updated 2016-10-21 → 2017-01-20"


def test_summaries_count_captures_versions_failures_per_page_and_month(archive: Archive) -> None:
    pages = {p.url: p for p in page_summaries(archive.conn)}
    w = pages[tf.WATCHED]
    # 4 versions shown; 2 failures; the last change is v4's day.
    assert (w.captures, w.versions, w.failures, w.status) == (9, 4, 2, "current")
    assert w.last_change == at(tf.DAYS[8])
    # Changes: v1, v2, v3, gone, back, v4.
    assert w.months == {"2016-01": Month("2016-01", 9, 6, 2)}
    assert pages[tf.OTHER].months == {"2016-02": Month("2016-02", 1, 1, 0)}
    assert archive_months(archive.conn) == ["2016-01", "2016-02"]


def test_an_unknown_page_is_a_usage_error(archive: Archive) -> None:
    with pytest.raises(UsageError, match="no page with id 999"):
        page_timeline(archive, 999)


def test_a_suspect_version_is_not_counted(query_db: str) -> None:
    with Archive.open(query_db, readonly=True) as a:
        hub = next(p for p in page_summaries(a.conn) if p.url == qf.HUB)
    assert hub.versions == 4  # the error page served as 200 made a version, not shown
    assert hub.failures == 2  # the timeout and the suspect capture


def test_chart_draws_a_bar_per_month_with_changes_and_failures() -> None:
    svg = chart(["2016-01", "2016-02", "2016-03"],
                {"2016-01": Month("2016-01", 4, 1, 0), "2016-03": Month("2016-03", 2, 0, 1)},
                label="<b>x</b>")
    assert svg.count("<g>") == 2  # no bar for a month without captures
    assert svg.count('class="change"') == 1 and svg.count('class="failure"') == 1
    assert "2016-03: 2 captures, 0 changes, 1 failure" in svg
    assert "&lt;b&gt;x&lt;/b&gt;: 6 captures, 1 changes, 1 failures" in svg
    assert "<b>" not in svg


def server_links(db: str) -> DatasetteLinks:
    """The links ``serve`` renders with (a server answers any pair)."""
    from datasette.app import Datasette

    return DatasetteLinks(Datasette(files=[db]))


def test_pages_escape_scraped_text(archive: Archive, db: str) -> None:
    links = server_links(db)
    for page in (index_html(archive, links), page_html(archive, 1, links)):
        assert "<script" not in page.lower()
        assert "Watched page &lt;script&gt;document.title=&#x27;pwned&#x27;" in page
        assert "Content-Security-Policy" in page


def test_page_offers_any_two_versions_and_the_raw_captures(archive: Archive, db: str) -> None:
    page = page_html(archive, 1, server_links(db))
    form = re.search(r'<form method="get" action="/-/timeline/diff".*?</form>', page, re.S)
    assert form is not None
    # Every stretch is a choice on both sides: 5 stretches (v3 twice).
    assert len(re.findall(r"<option ", form.group(0))) == 10
    assert "/-/timeline/diff?page=1&amp;from=6&amp;to=9" in page  # v3's diff with the latest
    assert {int(n) for n in re.findall(r"/-/timeline/raw/(\d+)", page)} == {1, 3, 6, 8, 9}


def test_raw_capture_is_the_stored_body(archive: Archive) -> None:
    body, charset = raw_capture(archive, 1)
    assert tf.SCRIPT.encode() in body and charset == "utf-8"
    with pytest.raises(UsageError, match="no stored body"):
        raw_capture(archive, 4)  # the failed capture


class Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.hrefs += [v or "" for k, v in attrs if k == "href"]


def test_publish_writes_a_site_whose_relative_links_all_resolve(db: str, tmp_path: Path) -> None:
    out = tmp_path / "site"
    with Archive.open(db, readonly=True) as a:
        stats = publish_site(a, str(out))
    names = set(os.listdir(out))
    assert names == set(stats.files)
    # 5 stretches of WATCHED (<= ALL_PAIRS_UP_TO): every pair; OTHER has one version.
    assert stats.diffs == 10 and stats.pages == 2 and stats.raw == 6 and 5 <= ALL_PAIRS_UP_TO
    assert {"index.html", "page-1.html", "page-2.html", "raw-1.txt", "diff-1-1-9.html"} <= names
    followed = 0
    for name in names:
        if not name.endswith(".html"):
            continue
        parser = Hrefs()
        parser.feed((out / name).read_text(encoding="utf-8"))
        assert "script" not in parser.tags, name
        for href in parser.hrefs:
            if href.startswith(("http://", "https://")):
                continue  # a scraped page's own URL
            assert "/" not in href and (out / href).is_file(), (name, href)
            followed += 1
    assert followed > 30
    with Archive.open(db, readonly=True) as a:
        assert (out / "raw-1.txt").read_bytes() == raw_capture(a, 1)[0]


def test_publish_refuses_to_overwrite_unless_forced_and_keeps_other_files(
        db: str, tmp_path: Path) -> None:
    out = tmp_path / "site"
    out.mkdir()
    (out / "README").write_text("mine")
    (out / "diff-1-1-2.html").write_text("stale")
    with Archive.open(db, readonly=True) as a:
        with pytest.raises(UsageError, match="not empty"):
            publish_site(a, str(out))
        publish_site(a, str(out), force=True)
    assert (out / "README").read_text() == "mine"
    assert not (out / "diff-1-1-2.html").exists()  # an earlier publish's file, replaced
    (tmp_path / "file").write_text("x")
    with Archive.open(db, readonly=True) as a, pytest.raises(UsageError, match="not a dir"):
        publish_site(a, str(tmp_path / "file"))


def test_publish_command(db: str, tmp_path: Path) -> None:
    out = tmp_path / "pub"
    p = run_cli("publish", "--db", db, str(out))
    assert p.returncode == 0, p.stderr
    assert "2 page timelines, 10 diffs, 6 raw captures" in p.stderr
    assert (out / "index.html").is_file()
    again = run_cli("publish", "--db", db, str(out))
    assert again.returncode == 2
    assert again.stderr.startswith("coop-archive: ") and again.stderr.count("\n") == 1
    missing = run_cli("publish", "--db", str(tmp_path / "none.db"), str(tmp_path / "x"))
    assert missing.returncode == 3 and "no archive at" in missing.stderr
    assert not (tmp_path / "x").exists()


# -- Datasette ------------------------------------------------------------------------------


def _get(db: str, *paths: str) -> list[Any]:
    """GET each path from a Datasette on ``db`` with the timeline plugin installed."""
    from datasette.app import Datasette

    from scraper.datasette_timeline import install

    install()

    async def go() -> list[Any]:
        ds = Datasette(files=[db])
        await ds.invoke_startup()
        return [await ds.client.get(path) for path in paths]

    return asyncio.run(go())


def test_datasette_routes(db: str) -> None:
    index, page, diff, raw, missing, bad, other_page = _get(
        db, "/-/timeline", "/-/timeline/page/1", "/-/timeline/diff?page=1&from=9&to=1",
        "/-/timeline/raw/1", "/-/timeline/page/77", "/-/timeline/diff?page=1&from=4&to=9",
        "/-/timeline/diff?page=2&from=1&to=9")
    assert index.status_code == 200 and 'href="/-/timeline/page/1"' in index.text
    assert "default-src 'none'" in index.headers["content-security-policy"]
    assert page.status_code == 200 and 'action="/-/timeline/diff"' in page.text
    # Either order: the report goes from the earlier version to the later.
    assert diff.status_code == 200
    assert "coop-archive diff 2016-01-01T12:00:00.000000Z → 2016-01-22" in diff.text
    assert 'href="/-/timeline/page/1"' in diff.text  # the way back
    assert raw.headers["content-type"] == "text/plain; charset=utf-8"
    assert "sandbox" in raw.headers["content-security-policy"]
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert tf.SCRIPT in raw.text
    assert missing.status_code == 404 and missing.text == "coop-archive: no page with id 77"
    assert bad.status_code == 404 and "snapshot 4 is not a version of page 1" in bad.text
    assert other_page.status_code == 404


def test_datasette_menu_links_to_the_timeline(db: str) -> None:
    (home,) = _get(db, "/")
    assert 'href="/-/timeline"' in home.text


def test_demo_ends_with_the_timeline_commands_and_its_archive_publishes(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    demo = run_cli("demo", "--db", db)
    assert demo.returncode == 0, demo.stderr
    last = demo.stderr.rstrip("\n").splitlines()[-2:]
    assert re.search(rf"serve --db {re.escape(db)} .*/-/timeline", last[0])
    assert re.search(rf"publish --db {re.escape(db)} demo-site", last[1])
    out = tmp_path / "demo-site"
    p = run_cli("publish", "--db", db, str(out))
    assert p.returncode == 0, p.stderr
    # The demo's 11 pages; the hub changed once between the two crawls.
    assert "11 page timelines" in p.stderr
    with Archive.open(db, readonly=True) as a:
        hub = _page_id(a, a.conn.execute("SELECT seed_url FROM runs ORDER BY id").fetchone()[0])
        t = page_timeline(a, hub)
    assert [s.number for s in t.stretches] == [1, 2]
    assert "1 item added, 1 removed" in t.stretches[1].summary
    assert (out / f"page-{hub}.html").is_file()
    assert (out / f"diff-{hub}-{t.stretches[0].snapshot_id}-{t.stretches[1].snapshot_id}.html"
            ).is_file()


def test_a_run_being_written_is_left_out_until_it_ends(db: str, tmp_path: Path) -> None:
    import shutil

    from tests.builders import capture

    path = str(tmp_path / "live.db")
    shutil.copy(db, path)
    with Archive.open(path) as a:
        run = a.begin_run(tf.WATCHED, started_at=at("2016-02-02"))  # our pid: alive
        capture(a, tf.WATCHED, at("2016-02-02"), tf.watched(1), run_id=run)
        pid = _page_id(a, tf.WATCHED)
        assert len(page_timeline(a, pid).stretches) == 5
        (w,) = [p for p in page_summaries(a.conn) if p.page_id == pid]
        assert (w.captures, w.last_change) == (9, at(tf.DAYS[8]))
        a.finish_run(run, "complete", finished_at=at("2016-02-02", 13))
        assert page_timeline(a, pid).stretches[-1].summary.startswith("1 item added")
        (w,) = [p for p in page_summaries(a.conn) if p.page_id == pid]
        assert (w.captures, w.last_change) == (10, at("2016-02-02"))
