"""A parse budget that was hit is recorded on the snapshot (issue 16): text cut short by a
fixed budget is a version WITH the mark; no text at all (stopped, out of time or memory) is a
failure with the reason, never a new version. ``history`` and ``show`` say so."""

from __future__ import annotations

import csv
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import export
from archive.capture import Capture
from archive.history import history_text
from archive.query import show_as_of
from archive.report_query import render_page_view
from archive.run_report import RunReport
from archive.store import Archive
from archive.vocab import Source
from scraper.ingest import RunContext, parse_capture
from scraper.parse import parse
from scraper.pdf import PdfLimits
from tests.builders import at
from tests.integration.test_parse_budgets import pdf_bomb

URL = "http://127.0.0.1:9/report.pdf"


def pdf_capture(body: bytes, when: str) -> Capture:
    return Capture(url=URL, final_url=URL, status=200, body=body, fetched_at=when,
                   headers=[("Content-Type", "application/pdf")])


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    a = Archive.open(tmp_path / "a.db")
    yield a
    a.close()


def test_text_cut_by_a_budget_is_a_version_with_the_mark(archive: Archive) -> None:
    body = pdf_bomb(pages=3, ops=3, run=5)
    cut = parse(body, url=URL, content_type="application/pdf",
                pdf_limits=PdfLimits(max_pages=2))
    assert cut.text and cut.truncated and "page budget" in cut.truncated
    with RunContext(archive, RunReport(Source.CRAWL, URL)) as run:
        run_id = run.begin(URL)
        rep = run.ingest(run_id, URL, pdf_capture(body, at("2024-01-01")),
                         captured_at=at("2024-01-01"), page=cut)
    assert rep.outcome == "new" and rep.version_id is not None
    row = archive.conn.execute("SELECT outcome, truncated, error FROM snapshots").fetchone()
    assert tuple(row) == ("new", cut.truncated, None)
    listing = history_text(archive.history(URL))
    assert f"truncated ({cut.truncated})" in listing
    shown = render_page_view(show_as_of(archive, URL, None))
    assert f"TRUNCATED: {cut.truncated}" in shown


def test_no_text_within_a_budget_is_a_failure_never_a_version(archive: Archive) -> None:
    body = pdf_bomb(pages=2, ops=3, run=5)
    stop = threading.Event()
    stop.set()  # stopped (SIGTERM): the extraction ends at once, with no text
    with RunContext(archive, RunReport(Source.CRAWL, URL)) as run:
        run_id = run.begin(URL)
        first = run.ingest(run_id, URL, pdf_capture(body, at("2024-01-01")),
                           captured_at=at("2024-01-01"))
        capture = pdf_capture(body, at("2024-01-02"))
        stopped = run.ingest(run_id, URL, capture, captured_at=at("2024-01-02"),
                             page=parse_capture(capture, stop=stop))
    assert first.outcome == "new"
    assert stopped.outcome == "failed" and stopped.version_id is None
    assert stopped.error and "stopped" in stopped.error
    rows = archive.conn.execute("SELECT outcome, version_id, truncated FROM snapshots"
                                " ORDER BY id").fetchall()
    assert [r[0] for r in rows] == ["new", "failed"]
    assert rows[1][1] is None and rows[1][2] is None
    assert archive.conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 1
    assert "stopped" in history_text(archive.history(URL)).splitlines()[-1]


def test_export_carries_the_mark(archive: Archive, tmp_path: Path) -> None:
    """``snapshots.truncated`` (schema 6) is a column of the exported snapshots table: the
    reason on the cut version, empty on a whole one and on the failure with no text."""
    whole_at, cut_at, failed_at = at("2024-01-01"), at("2024-01-02"), at("2024-01-03")
    body = pdf_bomb(pages=3, ops=3, run=5)
    cut = parse(body, url=URL, content_type="application/pdf",
                pdf_limits=PdfLimits(max_pages=2))
    whole = parse(body, url=URL, content_type="application/pdf")
    assert cut.truncated and whole.truncated is None and whole.text != cut.text
    with RunContext(archive, RunReport(Source.CRAWL, URL)) as run:
        run_id = run.begin(URL)
        run.ingest(run_id, URL, pdf_capture(body, whole_at), captured_at=whole_at, page=whole)
        run.ingest(run_id, URL, pdf_capture(body, cut_at), captured_at=cut_at, page=cut)
        run.ingest(run_id, URL, None, captured_at=failed_at, error="fetch failed")
    export.export(archive, tmp_path / "a.json", "json")
    rows = json.loads((tmp_path / "a.json").read_text("utf-8"))["tables"]["snapshots"]
    assert [(r["captured_at"], r["outcome"], r["truncated"]) for r in rows] == [
        (whole_at, "new", None), (cut_at, "new", cut.truncated), (failed_at, "failed", None)]
    export.export(archive, tmp_path / "csv", "csv")
    with open(tmp_path / "csv" / "snapshots.csv", encoding="utf-8", newline="") as f:
        assert [r["truncated"] for r in csv.DictReader(f)] == ["", cut.truncated, ""]
