"""The one ingest path and run context every source uses (scraper/ingest.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.capture import Capture
from archive.check import check
from archive.run_report import RunReport, cron_summary
from archive.store import Archive
from archive.vocab import RunStatus, Source
from scraper.ingest import RunContext
from tests.builders import at

HTML = ("<html><head><title>{t}</title></head>"
        "<body><main><h1>{t}</h1><p>{p}</p></main></body></html>")


def page(url: str, when: str, title: str, text: str = "Some text.") -> Capture:
    body = HTML.format(t=title, p=text).encode()
    return Capture(url=url, final_url=url, status=200, body=body, fetched_at=when,
                   headers=[("Content-Type", "text/html; charset=utf-8")])


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive.open(tmp_path / "a.db")
    yield a
    a.close()


def run_row(archive: Archive, run_id: int) -> tuple[str, str, str]:
    row = archive.conn.execute("SELECT status, source, finished_at FROM runs WHERE id = ?",
                               (run_id,)).fetchone()
    return row[0], row[1], row[2]


def test_a_new_source_is_a_few_lines(archive: Archive) -> None:
    url = "https://example.org/hub"
    report = RunReport(Source.IMPORT, url)
    with RunContext(archive, report, clock=lambda: at("2020-01-01")) as run:
        run_id = run.begin(url)
        first = run.ingest(run_id, url, page(url, at("2016-10-21"), "One"),
                           captured_at=at("2016-10-21"))
        failed = run.ingest(run_id, url, None, captured_at=at("2016-10-22"), error="timed out")
        run.close(RunStatus.PARTIAL)
    assert (first.outcome, first.new_version, first.changed, first.title) == \
        ("new", True, True, "One")
    assert (failed.outcome, failed.error) == ("failed", "timed out")
    assert report.counts()["failed"] == 1 and report.imported == 2
    assert run_row(archive, run_id) == ("partial", "import", at("2020-01-01"))


def test_a_shrunk_page_is_suspect_against_its_baseline(archive: Archive) -> None:
    url = "https://example.org/doc"
    report = RunReport(Source.CRAWL, url)
    with RunContext(archive, report) as run:
        run_id = run.begin(url)
        run.ingest(run_id, url, page(url, at("2016-10-21"), "Doc", "word " * 200),
                   captured_at=at("2016-10-21"))
        baseline = archive.previous_capture(url)
        shrunk = run.ingest(run_id, url, page(url, at("2016-10-22"), "Oops", "Error."),
                            captured_at=at("2016-10-22"), baseline=baseline)
        run.close(RunStatus.COMPLETE)
    assert shrunk.suspect and not shrunk.changed
    text = cron_summary(report, "", quiet=True)
    assert text.problems == [f"coop-archive: {url}: looks like an error page (kept, flagged "
                             "suspect)"] and text.out == ""


@pytest.mark.parametrize(("error", "status"), [(KeyboardInterrupt, "interrupted"),
                                               (RuntimeError, "failed")])
def test_leaving_on_an_exception_finishes_every_run(archive: Archive, error: type,
                                                    status: str) -> None:
    report = RunReport(Source.IMPORT, "")
    with pytest.raises(error):
        with RunContext(archive, report) as run:
            ids = [run.begin("https://example.org/a"), run.begin("https://example.org/b")]
            raise error()
    assert [run_row(archive, i)[0] for i in ids] == [status, status]
    assert report.status == status


def test_out_of_order_captures_are_reconciled_on_close(archive: Archive) -> None:
    # The same version captured in 2017, then (an older capture arriving late) in 2016: the
    # 2016 one is the version's first sight, the 2017 one no change.
    url = "https://example.org/hub"
    report = RunReport(Source.WAYBACK, url)
    with RunContext(archive, report, reconcile=True) as run:
        run_id = run.begin(url)
        run.ingest(run_id, url, page(url, at("2017-01-01"), "Same"), captured_at=at("2017-01-01"))
        late = run.ingest(run_id, url, page(url, at("2016-01-01"), "Same"),
                          captured_at=at("2016-01-01"))
        assert (late.outcome, late.changed) == ("unchanged", False)  # as first recorded
        run.close(RunStatus.COMPLETE)
    assert report.reconciled == 2
    rows = archive.conn.execute("SELECT captured_at, outcome, changed FROM snapshots "
                                "ORDER BY captured_at").fetchall()
    assert [tuple(r) for r in rows] == [(at("2016-01-01"), "new", 1),
                                        (at("2017-01-01"), "unchanged", 0)]
    # The version was first seen in 2016, as the page was; its row (and search entry) kept.
    assert [r[0] for r in archive.conn.execute("SELECT first_seen FROM versions")] == [
        at("2016-01-01")]
    assert [r[0] for r in archive.conn.execute("SELECT first_seen FROM pages")] == [
        at("2016-01-01")]
    assert check(archive.conn).ok


def test_an_imported_run_keeps_its_own_worse_status_and_times(archive: Archive) -> None:
    report = RunReport(Source.IMPORT, "")
    with RunContext(archive, report, clock=lambda: at("2020-01-01")) as run:
        run_id = run.begin("https://example.org/", started_at=at("2016-10-21"),
                           status_floor="partial", finished_at=at("2016-10-21", 13))
        run.close(RunStatus.COMPLETE)
    assert run_row(archive, run_id) == ("partial", "import", at("2016-10-21", 13))


@pytest.mark.parametrize(("source", "keys"), [
    (Source.CRAWL, ["run_id", "seed", "status", "started_at", "finished_at", "counts",
                    "pages"]),
    (Source.IMPORT, ["files", "run_ids", "status", "records", "captures", "imported",
                     "new_versions", "duplicates", "skipped", "reconciled", "problems"]),
    (Source.WAYBACK, ["url", "run_id", "status", "listed", "stored", "new_versions",
                      "already", "documents", "failures", "stopped", "reconciled"]),
])
def test_json_keeps_each_commands_shape(source: Source, keys: list[str]) -> None:
    report = RunReport(source, "https://example.org/", status=RunStatus.COMPLETE,
                       run_ids=[3], already=2)
    out = json.loads(json.dumps(report.to_dict()))
    assert list(out) == keys and out["status"] == "complete"
    assert out.get("run_id", 3) == 3 and out.get("duplicates", 2) == out.get("already", 2) == 2
