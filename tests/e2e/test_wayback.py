"""Wayback backfill against a fake Wayback Machine on loopback (tests/wayback_server.py)."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archive.lock import ArchiveLock
from archive.store import Archive
from scraper.fetch import Fetcher
from scraper.parse import parse
from scraper.safety import AddressPolicy
from scraper.settings import BackfillSettings
from scraper.sources.wayback import backfill, capture_time
from tests import builders
from tests.builders import capture, doc_html
from tests.cli import invoke, run_cli, run_cli_budgeted
from tests.e2e.test_fetch_deadline import TrickleHeaders
from tests.servers import LoopbackServer, Static
from tests.wayback_server import FakeWayback

HUB = "https://www.transportation.gov/r2ze/US-China-Cooperation"
FS1 = "https://www.transportation.gov/fs/one"
FS2 = "https://www.transportation.gov/fs/two"


def hub_html(*items: tuple[str, str], updated: str = "May 2, 2016") -> bytes:
    return builders.hub_html(*items, head_title="U.S.-China Cooperation", updated=updated)


@pytest.fixture
def wayback(server: LoopbackServer) -> FakeWayback:
    """A fake Wayback with a hub that changed once and two fact sheets."""
    wb = FakeWayback(server)
    v1 = hub_html((FS1, "Fact sheet one"), updated="January 4, 2016")
    v2 = hub_html((FS1, "Fact sheet one"), (FS2, "Fact sheet two"), updated="June 1, 2016")
    wb.add(HUB, "20160105000000", v1)
    wb.add(HUB, "20160301000000", v1)  # same digest: collapsed away by CDX
    wb.add(HUB, "20160602120000", v2)
    wb.add(FS1, "20151201000000", doc_html("Fact sheet one", "First text."))
    wb.add(FS1, "20160320000000", doc_html("Fact sheet one", "Revised text."))
    wb.add(FS1, "20170101000000", doc_html("Fact sheet one", "Much later text."))
    wb.add(FS2, "20160701000000", doc_html("Fact sheet two", "Only capture."))
    return wb


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive.open(tmp_path / "a.db")
    yield a
    a.close()


def run(archive: Archive, wb: FakeWayback, fetcher: Fetcher, **kw: Any) -> Any:
    settings = BackfillSettings(delay=kw.pop("min_interval", 0.0), depth=kw.pop("depth", 1))
    return backfill(archive, HUB, fetcher=fetcher, cdx_base=wb.base, settings=settings, **kw)


def wayback_rows(archive: Archive) -> list[dict[str, Any]]:
    return [dict(r) for r in archive.conn.execute(
        """SELECT p.url, s.captured_at, s.origin_uri, s.source, s.outcome, s.changed
             FROM snapshots s JOIN pages p ON p.id = s.page_id
            WHERE s.source = 'wayback' ORDER BY p.url, s.captured_at""")]


def test_backfill_hub_and_documents_nearest_in_time(
        archive: Archive, wayback: FakeWayback, make_fetcher: Callable[..., Fetcher]) -> None:
    report = run(archive, wayback, make_fetcher(policy=AddressPolicy(wayback.base)))
    assert report.status == "complete", report.failures
    got = {(r["url"], r["captured_at"]) for r in wayback_rows(archive)}
    assert got == {
        (HUB, capture_time("20160105000000")),
        (HUB, capture_time("20160602120000")),
        # hub of 2016-01-05 lists FS1: the capture in effect then is 2015-12-01;
        # hub of 2016-06-02 lists FS1 (in effect: 2016-03-20) and FS2 (none before: 2016-07-01)
        (FS1, capture_time("20151201000000")),
        (FS1, capture_time("20160320000000")),
        (FS2, capture_time("20160701000000")),
    }
    rows = wayback_rows(archive)
    assert all(r["origin_uri"].startswith(f"{wayback.base}/web/") for r in rows)
    assert f"{wayback.base}/web/20160105000000/{HUB}" in {r["origin_uri"] for r in rows}
    assert report.stored == 5 and report.documents == 2
    # CDX was asked as documented
    q = wayback.cdx_requests[0]
    assert q["output"] == ["json"] and q["filter"] == ["statuscode:200"]
    assert q["collapse"] == ["digest"] and q["url"] == [HUB]
    # the hub's second version is a change, and versions are parsed
    hub = builders.history(archive, HUB)
    assert [r["changed"] for r in hub] == [1, 1]
    page = archive.load_version(hub[1]["version_id"])
    assert [i.url for i in page.items] == [FS1, FS2]
    run_row = archive.conn.execute("SELECT source, status FROM runs").fetchone()
    assert tuple(run_row) == ("wayback", "complete")


def test_from_to_bound_the_hub(archive: Archive, wayback: FakeWayback,
                               make_fetcher: Callable[..., Fetcher]) -> None:
    report = run(archive, wayback, make_fetcher(), from_date="2016-05-01", to_date="2016-12",
                 depth=0)
    assert report.status == "complete"
    assert wayback.cdx_requests[0]["from"] == ["20160501"]
    assert wayback.cdx_requests[0]["to"] == ["201612"]
    assert [r["captured_at"] for r in wayback_rows(archive)] == [capture_time("20160602120000")]


def test_rate_limit_retry_after_is_honoured(archive: Archive, wayback: FakeWayback,
                                            make_fetcher: Callable[..., Fetcher],
                                            sleeps: list[float]) -> None:
    wayback.rate_limit_next(retry_after=7)
    report = run(archive, wayback, make_fetcher(retries=2), depth=0)
    assert report.status == "complete"
    assert 7.0 in sleeps  # the fetcher waited what the server asked before retrying
    assert len(wayback.server.requests_to("/cdx/search/cdx")) == 2
    assert report.stored == 2


def test_lasting_rate_limit_stops_the_backfill(archive: Archive, wayback: FakeWayback,
                                               make_fetcher: Callable[..., Fetcher]) -> None:
    wayback.rate_limit_next(retry_after=1, times=10)
    report = run(archive, wayback, make_fetcher(retries=1))
    assert report.status == "interrupted"
    assert "429" in (report.stopped or "")
    # it stopped at once instead of going on to the captures
    assert wayback.capture_requests == [] and wayback_rows(archive) == []


def test_min_interval_spaces_requests(archive: Archive, wayback: FakeWayback,
                                      make_fetcher: Callable[..., Fetcher]) -> None:
    run(archive, wayback, make_fetcher(), min_interval=0.15, depth=0)
    times = [r.time for r in wayback.server.requests]
    assert len(times) == 3  # one CDX query, two captures
    assert all(b - a >= 0.14 for a, b in zip(times, times[1:], strict=False))


def test_interrupted_backfill_resumes_without_duplicates(
        archive: Archive, wayback: FakeWayback, make_fetcher: Callable[..., Fetcher]) -> None:
    wayback.fail_captures_after = 2  # then Wayback answers 503
    first = run(archive, wayback, make_fetcher(retries=0), max_consecutive_failures=2)
    assert first.status == "interrupted" and first.stored == 2
    assert "in a row" in (first.stopped or "")
    assert len(wayback_rows(archive)) == 2

    wayback.fail_captures_after = None
    served_before = len(wayback.capture_requests)
    second = run(archive, wayback, make_fetcher(retries=0))
    assert second.status == "complete", second.failures
    assert second.already >= 2
    assert second.stored == 3
    # the two captures stored by the first run were not fetched again
    fetched_again = wayback.capture_requests[served_before:]
    assert len(fetched_again) == 3 and len(set(wayback.capture_requests)) == 5
    rows = wayback_rows(archive)
    assert len(rows) == 5 == len({r["origin_uri"] for r in rows})

    third = run(archive, wayback, make_fetcher(retries=0))
    assert third.stored == 0 and third.already == 5 and len(wayback_rows(archive)) == 5


def test_stop_event_interrupts_then_resume(archive: Archive, wayback: FakeWayback,
                                           make_fetcher: Callable[..., Fetcher]) -> None:
    stop = threading.Event()
    report = run(archive, wayback, make_fetcher(), stop=stop,
                 on_capture=lambda url, at, origin: stop.set())
    assert report.status == "interrupted" and report.stored == 1
    assert archive.conn.execute("SELECT status FROM runs").fetchone()[0] == "interrupted"
    report = run(archive, wayback, make_fetcher())
    assert report.status == "complete" and report.stored == 4
    assert len(wayback_rows(archive)) == 5


def test_backfill_before_existing_crawl_reconciles_change_flags(
        archive: Archive, wayback: FakeWayback, make_fetcher: Callable[..., Fetcher]) -> None:
    # A crawl today saw the hub as it was in June 2016.
    body = wayback.captures[HUB][-1].body
    page = parse(body, url=HUB, content_type="text/html")
    capture(archive, HUB, "2024-01-01T00:00:00.000000Z", page, body=body)
    assert builders.history(archive, HUB)[0]["outcome"] == "new"
    run(archive, wayback, make_fetcher(), depth=0)
    hub = builders.history(archive, HUB)
    assert [(r["source"], r["outcome"], r["changed"]) for r in hub] == [
        ("wayback", "new", 1), ("wayback", "new", 1), ("crawl", "unchanged", 0)]
    first_seen = archive.conn.execute("SELECT first_seen FROM pages WHERE url = ?",
                                      (HUB,)).fetchone()[0]
    assert first_seen == capture_time("20160105000000")


def test_cli_backfill(tmp_path: Path, wayback: FakeWayback) -> None:
    db = str(tmp_path / "cli.db")
    result = invoke("backfill", HUB, "--db", db, "--wayback-url", wayback.base, "--delay", "0",
                    "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["status"] == "complete" and data["stored"] == 5
    bad = invoke("backfill", HUB, "--db", db, "--from", "last week")
    assert bad.exit_code == 2


@pytest.mark.parametrize("args, message", [
    (["--from", "2017-13"], "not a date: '2017-13'"),
    (["--to", "2016-02-30"], "not a date: '2016-02-30'"),
    (["--from", "2018", "--to", "2017"], "--from 2018 is after --to 2017"),
    (["--from", "2017-06-02", "--to", "2017-06-01"], "is after --to"),
    (["--wayback-url", "ftp://x"], "--wayback-url must be an http(s) URL"),
    (["--wayback-url", "https://"], "--wayback-url must be an http(s) URL"),
])
def test_cli_backfill_usage_errors_come_before_the_archive(
        tmp_path: Path, args: list[str], message: str) -> None:
    proc = run_cli("backfill", "--db", str(tmp_path / "b.db"), "--delay", "0", "--retries", "0",
                   "--wayback-url", "http://127.0.0.1:9", *args, timeout=60, cwd=tmp_path,
                   script=True)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert proc.stdout == ""
    assert list(tmp_path.iterdir()) == []  # neither the archive nor its lock


def test_backfill_validates_before_it_begins_a_run(archive: Archive,
                                                   make_fetcher: Callable[..., Fetcher]) -> None:
    from archive.errors import UsageError

    fetcher = make_fetcher()
    for kw in ({"from_date": "2018", "to_date": "2017"}, {"from_date": "2017-00"},
               {"cdx_base": "ftp://x"}):
        with pytest.raises(UsageError):
            backfill(archive, HUB, fetcher=fetcher, settings=BackfillSettings(delay=0), **kw)
    assert archive.conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_wayback_dates_that_are_fine() -> None:
    from scraper.sources.wayback import cdx_date, check_range

    assert [cdx_date(d) for d in ("2016", "2016-02", "2016-02-29", "20160229120000",
                                  "2016-02-29T12:30")] == [
        "2016", "201602", "20160229", "20160229120000", "201602291230"]
    check_range("2017", "2017")
    check_range("2017-06", "2017")
    check_range("2016-12-31", "2017-01")


def test_cli_backfill_names_each_failure_once(tmp_path: Path) -> None:
    proc = run_cli("backfill", "--db", str(tmp_path / "b.db"), "--delay", "0", "--retries", "0",
                   "--wayback-url", "http://127.0.0.1:9", timeout=60, cwd=tmp_path, script=True)
    assert proc.returncode == 3, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and "CDX query for" in lines[0], lines


def test_cli_backfill_stops_at_its_time_budget_and_keeps_what_it_stored(
        tmp_path: Path, wayback: FakeWayback, server: LoopbackServer) -> None:
    # Fact sheet two's capture, the last one, trickles its headers for ever the first time:
    # only the run's budget ends the backfill (the request's own deadline is 4 x 600 s).
    fs2 = wayback.captures[FS2][0]
    server.route(f"/web/{fs2.timestamp}id_/{FS2}", TrickleHeaders(interval=0.2),
                 Static(200, fs2.body))
    trickling = f"/web/{fs2.timestamp}id_/{FS2}"

    def args(budget: int) -> tuple[str, ...]:
        return ("backfill", HUB, "--db", str(tmp_path / f"b{budget}.db"), "--wayback-url",
                wayback.base, "--delay", "0", "--json", "--timeout", "600",
                "--max-run-seconds", str(budget))

    # the budget runs out once the last capture is asked for (the four before it stored)
    proc, took, budget = run_cli_budgeted(args, reached=lambda: bool(
        server.requests_to(trickling)))
    db = tmp_path / f"b{budget}.db"
    assert proc.returncode == 1, proc.stderr
    assert took < budget + 27, proc.stderr
    data = json.loads(proc.stdout)
    assert (data["status"], data["stored"], data["failures"]) == ("interrupted", 4, [])
    assert data["stopped"] == f"the run's time budget of {budget}s ran out; rerun to resume"
    assert proc.stderr.splitlines() == [f"coop-archive: backfill stopped: {data['stopped']}"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
        assert conn.execute("SELECT count(*) FROM snapshots").fetchone() == (4,)
    conn.close()
    with ArchiveLock(db):
        pass  # freed
    # The captures stored before the budget ran out are kept: a rerun fetches only the last.
    again = run_cli(*args(budget), timeout=60)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert (data["status"], data["stored"], data["already"]) == ("complete", 1, 4)
    with Archive.open(db, readonly=True) as archive:
        rows = wayback_rows(archive)
    assert len(rows) == 5 == len({r["origin_uri"] for r in rows})
