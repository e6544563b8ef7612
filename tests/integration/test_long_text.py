"""A version whose text is long (archive.blobs.TEXT_STREAM_FROM or more) is written into its row
in parts, not bound whole: it must be stored exactly as binding it stores it, and found by
search, read back and checked like any other."""

from __future__ import annotations

import sqlite3

import pytest

from archive import blobs
from archive.capture import Capture
from archive.check import check
from archive.model import Page, Section
from archive.search import search
from archive.store import Archive

URL = "http://127.0.0.1:9/report"
# ASCII, and text whose UTF-8 is longer than its characters (the row's size is in bytes).
WORDS = {"ascii": "annual report plain words ", "utf8": "rapport annuel déjà vu 北京 "}


def _long_page(words: str, marker: str) -> Page:
    repeat = blobs.TEXT_STREAM_FROM // len(words) + 10
    body = words * repeat
    text = f"Report\n{body}{marker}\n{body}"
    return Page(url=URL, title="Report", text=text,
                sections=[Section("Part one", 2, f"{body}{marker}"), Section("Part two", 2, body)])


@pytest.mark.parametrize("batched", [False, True], ids=["alone", "in a batch"])
@pytest.mark.parametrize("kind", sorted(WORDS))
def test_a_long_text_is_stored_as_bound_searchable_and_checked(tmp_path, kind: str,
                                                               batched: bool) -> None:
    """In a batch too, where the other index entries wait for the commit (archive.fts_rows)
    and the long text is indexed from its row at once."""
    page = _long_page(WORDS[kind], "zyzzyvamarker")
    assert len(page.text) >= blobs.TEXT_STREAM_FROM
    with Archive.open(tmp_path / "a.db") as archive:
        run = archive.begin_run(URL)
        if batched:
            archive.begin_batch()
        rec = archive.record_snapshot(
            run, URL, captured_at="2026-01-01T00:00:00.000000Z",
            result=Capture(url=URL, final_url=URL, status=200, body=b"<p>x</p>",
                           headers=[("Content-Type", "text/html")]),
            page=page)
        if batched:
            archive.end_batch()
        assert rec.version_id is not None
        loaded = archive.load_version(rec.version_id)
        assert loaded.text == page.text
        assert loaded.content_hash() == page.content_hash()
        hits = search(archive, "zyzzyvamarker")
        assert {h.kind for h in hits} >= {"page", "section"}, hits
        assert check(archive.conn, deep=True).ok
    conn = sqlite3.connect(tmp_path / "a.db")
    # The stored value is the TEXT binding gives: same type, bytes and length.
    conn.execute("CREATE TEMP TABLE bound (text TEXT)")
    conn.execute("INSERT INTO bound VALUES (?)", (page.text,))
    row = conn.execute(
        "SELECT typeof(v.text), v.text = b.text, length(v.text) = length(b.text),"
        " CAST(v.text AS BLOB) = CAST(b.text AS BLOB) FROM versions v, bound b").fetchone()
    conn.close()
    assert row == ("text", 1, 1, 1)
