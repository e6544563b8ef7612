"""Importing the kinds of WARC and ARC file real collections hold (written byte by byte in
tests/warc_files.py): each readable file imports with exit 0, every page becomes a snapshot,
and what is skipped is counted or named in one line."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest

from tests.builders import doc_html
from tests.cli import run_cli
from tests.warc_files import arc_file, gzip_members, http_response, warc_record

PAGE = doc_html("A page", "Its text.")


def rows(db: Path) -> list[tuple[str, str, str]]:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT p.url, s.captured_at, s.outcome FROM snapshots s"
                            " JOIN pages p ON p.id = s.page_id ORDER BY p.url").fetchall()


def import_file(tmp_path: Path, name: str, data: bytes):  # noqa: ANN201
    path = tmp_path / name
    path.write_bytes(data)
    db = tmp_path / "a.db"
    return run_cli("import", str(path), "--db", str(db), timeout=60), db


@pytest.mark.parametrize("gz", [False, True], ids=["arc", "arc.gz"])
def test_arc_files_import_with_their_dates_and_urls(tmp_path: Path, gz: bool) -> None:
    records = [("http://www.state.gov/r/pa/a.htm", "19990101120000", http_response(PAGE)),
               ("http://www.state.gov/r/pa/b with space.htm", "20040925001013",
                http_response(doc_html("B", "Other text.")))]
    data = arc_file(records)
    if gz:  # one gzip member per record, as ARC writers do
        data = gzip_members(*_arc_members(data))
    r, db = import_file(tmp_path, "old.arc.gz" if gz else "old.arc", data)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""  # warcio's own warning about the space stays in the log
    assert rows(db) == [
        ("http://www.state.gov/r/pa/a.htm", "1999-01-01T12:00:00.000000Z", "new"),
        ("http://www.state.gov/r/pa/b%20with%20space.htm", "2004-09-25T00:10:13.000000Z",
         "new")]


def _arc_members(data: bytes) -> list[bytes]:
    """An ARC file split where each record starts (after the blank line before a URL line)."""
    parts = data.split(b"\nhttp://")
    return [parts[0] + b"\n"] + [b"http://" + p + b"\n" for p in parts[1:]]


def test_records_warcio_reads_are_imported(tmp_path: Path) -> None:
    chunked = b"%x\r\n" % len(PAGE) + PAGE + b"\r\n0\r\n\r\n"
    sha1 = "sha1:" + hashlib.sha1(PAGE).hexdigest()  # of the payload without its chunks
    long_url = "http://www.state.gov/search?q=" + "cooperation+" * 600
    data = b"".join([
        warc_record("warcinfo", None, "2016-10-21T12:00:00Z", b"software: test\r\n",
                    content_type="application/warc-fields"),
        warc_record("resource", "http://www.state.gov/res.html", "2016-10-21T12:00:01Z",
                    PAGE, content_type="text/html"),
        warc_record("response", long_url, "2016-10-21T12:00:02Z", http_response(PAGE)),
        warc_record("response", "http://www.state.gov/latin", "2016-10-21T12:00:03Z",
                    http_response(PAGE, headers=[b"X-Note: caf\xe9 cr\xe8me"])),
        warc_record("response", "http://www.state.gov/chunked", "2016-10-21T12:00:04Z",
                    http_response(PAGE, chunked=chunked),
                    extra=[("WARC-Payload-Digest", sha1)]),
        warc_record("resource", "http://www.state.gov/logo.png", "2016-10-21T12:00:05Z",
                    b"\x89PNG\r\n", content_type="image/png"),
    ])
    r, db = import_file(tmp_path, "kinds.warc", data)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    got = {url: outcome for url, _, outcome in rows(db)}
    assert set(got.values()) == {"new"}
    assert set(got) == {"http://www.state.gov/res.html", long_url, "http://www.state.gov/latin",
                        "http://www.state.gov/chunked"}


def test_a_file_without_page_captures_is_not_a_failure(tmp_path: Path) -> None:
    data = b"".join([
        warc_record("warcinfo", None, "2016-10-21T12:00:00Z", b"software: test\r\n",
                    content_type="application/warc-fields"),
        warc_record("response", "http://www.state.gov/logo.png", "2016-10-21T12:00:01Z",
                    http_response(b"\x89PNG\r\n", content_type=b"image/png")),
    ])
    r, db = import_file(tmp_path, "images.warc", data)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert r.stdout.startswith("no page captures in ") and "images.warc" in r.stdout
    assert not db.exists() or rows(db) == []


def test_revisit_of_a_stylesheet_whose_original_was_skipped_is_counted(tmp_path: Path) -> None:
    data = b"".join([
        warc_record("response", "http://www.state.gov/page", "2016-10-21T12:00:00Z",
                    http_response(PAGE)),
        warc_record("revisit", "http://www.state.gov/site.css", "2016-10-21T12:00:01Z",
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/css\r\n\r\n",
                    extra=[("WARC-Refers-To-Target-URI", "http://www.state.gov/site.css"),
                           ("WARC-Refers-To-Date", "2016-10-20T12:00:00Z"),
                           ("WARC-Payload-Digest", "sha1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
                           ("WARC-Profile", "http://netpreserve.org/warc/1.0/revisit/"
                                            "identical-payload-digest")]),
    ])
    r, db = import_file(tmp_path, "css.warc", data)
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    assert [u for u, _, _ in rows(db)] == ["http://www.state.gov/page"]


def test_a_device_is_not_called_missing(tmp_path: Path) -> None:
    r = run_cli("import", "/dev/null", "--db", str(tmp_path / "a.db"), timeout=60)
    assert r.returncode == 3
    assert "/dev/null: not a regular file" in r.stderr and "no such file" not in r.stderr
