"""Capture dates from outside (a WARC file, a CDX listing) are checked before they are stored:
an impossible or future date never becomes what "the latest" means."""

from __future__ import annotations

import io
from pathlib import Path

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from archive.store import Archive
from archive.timeutil import capture_date_problem
from scraper.safety import AddressPolicy
from scraper.settings import BackfillSettings
from scraper.sources.warc_import import import_warc
from scraper.sources.wayback import backfill, capture_time
from tests.builders import doc_html
from tests.wayback_server import FakeWayback

URL = "https://www.state.gov/r/pa/doc.htm"


def write_warc(path: Path, dated: list[tuple[str, bytes]]) -> Path:
    """A WARC holding one HTML response of URL per (WARC-Date, body)."""
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=False)
        for date, body in dated:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html")],
                                    protocol="HTTP/1.1")
            record = writer.create_warc_record(URL, "response", payload=io.BytesIO(body),
                                               length=len(body), http_headers=http,
                                               warc_headers_dict={"WARC-Date": date})
            writer.write_record(record)
    return path


def stored_dates(archive: Archive) -> list[str]:
    return [r[0] for r in archive.conn.execute(
        "SELECT captured_at FROM snapshots ORDER BY captured_at")]


def test_import_refuses_impossible_and_future_dates(tmp_path: Path) -> None:
    warc = write_warc(tmp_path / "in.warc", [
        ("2016-10-21T12:00:00Z", doc_html("Doc", "genuine")),
        ("2099-01-01T00:00:00Z", doc_html("Doc", "forged, from the future")),
        ("0001-01-01T00:00:00Z", doc_html("Doc", "before the web")),
        ("2020-02-30T00:00:00Z", doc_html("Doc", "no such day")),
    ])
    with Archive.open(tmp_path / "a.db") as archive:
        report = import_warc(archive, [warc])
        assert stored_dates(archive) == ["2016-10-21T12:00:00.000000Z"]
    reasons = "\n".join(report.problems)
    assert "2099-01-01T00:00:00.000000Z is in the future" in reasons
    assert "0001-01-01T00:00:00.000000Z is before 1991" in reasons
    assert "2020-02-30" in reasons
    assert len(report.problems) == 3 and all("\n" not in p for p in report.problems)


def test_backfill_refuses_impossible_and_future_cdx_timestamps(
        tmp_path: Path, server, make_fetcher) -> None:
    wb = FakeWayback(server)
    for ts in ("20160105000000", "20200230000000", "00010101000000", "abc00000000000",
               "20990101000000"):
        wb.add(URL, ts, doc_html("Doc", f"capture {ts}"))
    with Archive.open(tmp_path / "a.db") as archive:
        report = backfill(archive, URL, fetcher=make_fetcher(policy=AddressPolicy(wb.base)),
                          cdx_base=wb.base, settings=BackfillSettings(delay=0.0, depth=0))
        assert stored_dates(archive) == [capture_time("20160105000000")]
    reasons = "\n".join(report.problems)
    for bad in ("'20200230000000' is not a real date", "'abc00000000000' is not a real date",
                "before 1991", "2099-01-01T00:00:00.000000Z is in the future"):
        assert bad in reasons, reasons
    # none of the refused captures was even fetched
    assert wb.capture_requests == [f"/web/20160105000000id_/{URL}"] or \
        len(wb.capture_requests) == 1


def test_the_rule_check_uses_is_the_same() -> None:
    now = "2026-01-01T00:00:00.000000Z"
    assert capture_date_problem("2026-01-01T00:09:00.000000Z", now=now) is None
    assert capture_date_problem("2026-01-01T00:11:00.000000Z", now=now) is not None
