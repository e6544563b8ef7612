"""The archive on real SQLite files: versions, dedup, blobs, 304s, failures, migrations."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from archive import blobs
from archive.capture import Capture
from archive.errors import ArchiveError, SchemaTooNewError
from archive.model import Item, Page, Section
from archive.schema import SCHEMA_VERSION
from archive.store import Archive
from archive.vocab import BODY_OUTCOMES, sql_list
from tests.builders import history

URL = "http://127.0.0.1:9/hub"


def page(summary: str = "Climate change is a pillar.", title: str = "U.S.-China Cooperation",
         updated: str = "2016-10-21") -> Page:
    return Page(
        url=URL, title=title, updated_on=updated, text=f"{title}\n{summary}",
        sections=[Section("Fact Sheets", 2, ""), Section("Media Notes", 3, "", parent=0)],
        items=[Item("Climate Change and Clean Energy", "http://s/1", summary, 0),
               Item("EcoPartnerships Program", "http://s/2", "Six new.", 1)],
    )


def ok(body: bytes, *, status: int = 200, etag: str | None = None,
       last_modified: str | None = None) -> Capture:
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if etag:
        headers.append(("ETag", etag))
    if last_modified:
        headers.append(("Last-Modified", last_modified))
    return Capture(url=URL, final_url=URL, status=status, headers=headers, body=body,
                       fetched_at="2016-10-21T00:00:00.000000Z")


@pytest.fixture
def archive(tmp_path):
    a = Archive.open(tmp_path / "a.db")
    yield a
    a.close()


def test_unchanged_content_with_noisy_bytes_reuses_the_version(archive):
    run = archive.begin_run(URL)
    r1 = archive.record_snapshot(run, URL, captured_at="2016-10-21T00:00:00.000000Z",
                                 result=ok(b"<html>token=1</html>"), page=page())
    r2 = archive.record_snapshot(run, URL, captured_at="2016-10-22T00:00:00.000000Z",
                                 result=ok(b"<html>token=2</html>"), page=page())
    assert (r1.outcome, r1.changed, r1.new_version, r1.first) == ("new", True, True, True)
    assert (r2.outcome, r2.changed, r2.new_version) == ("unchanged", False, False)
    assert r1.version_id == r2.version_id
    c = archive.conn
    assert c.execute("SELECT count(*) FROM versions").fetchone()[0] == 1
    assert c.execute("SELECT count(*) FROM items").fetchone()[0] == 2
    # both raw bodies are kept, byte for byte
    shas = [r[0] for r in c.execute("SELECT body_sha256 FROM snapshot_bodies"
                                    " ORDER BY snapshot_id")]
    assert [archive.blob(s) for s in shas] == [b"<html>token=1</html>", b"<html>token=2</html>"]


def test_edit_makes_a_new_version_and_round_trips(archive):
    run = archive.begin_run(URL)
    archive.record_snapshot(run, URL, captured_at="2016-10-21T00:00:00.000000Z",
                            result=ok(b"a"), page=page())
    r = archive.record_snapshot(run, URL, captured_at="2016-11-15T00:00:00.000000Z",
                                result=ok(b"b"), page=page("Climate change is the pillar."))
    assert r.new_version and r.changed
    back = archive.load_version(r.version_id)
    assert back.items[0].summary == "Climate change is the pillar."
    assert back.sections[1].parent == 0 and back.items[1].section == 1
    assert back.content_hash() == page("Climate change is the pillar.").content_hash()


def test_going_back_to_an_old_version_is_a_change_but_not_a_new_version(archive):
    run = archive.begin_run(URL)
    a = archive.record_snapshot(run, URL, captured_at="2016-10-01T00:00:00.000000Z",
                                result=ok(b"a"), page=page("one"))
    archive.record_snapshot(run, URL, captured_at="2016-10-02T00:00:00.000000Z",
                            result=ok(b"b"), page=page("two"))
    c = archive.record_snapshot(run, URL, captured_at="2016-10-03T00:00:00.000000Z",
                                result=ok(b"a"), page=page("one"))
    assert c.version_id == a.version_id
    assert (c.outcome, c.changed, c.new_version) == ("unchanged", True, False)


def test_not_modified_points_at_the_confirmed_body_and_version(archive):
    run = archive.begin_run(URL)
    first = archive.record_snapshot(
        run, URL, captured_at="2016-10-21T00:00:00.000000Z",
        result=ok(b"body", etag='"v1"', last_modified="Fri, 21 Oct 2016 10:00:00 GMT"),
        page=page())
    prev = archive.previous_capture(URL)
    assert (prev.etag, prev.last_modified) == ('"v1"', "Fri, 21 Oct 2016 10:00:00 GMT")
    r = archive.record_snapshot(run, URL, captured_at="2016-10-22T00:00:00.000000Z",
                                result=ok(b"", status=304))
    assert (r.outcome, r.version_id, r.changed) == ("not_modified", first.version_id, False)
    sha = archive.conn.execute("SELECT body_sha256 FROM snapshot_bodies WHERE snapshot_id=?",
                               (r.snapshot_id,)).fetchone()[0]
    assert archive.blob(sha) == b"body"


def test_failure_keeps_everything_and_is_not_a_change(archive):
    run = archive.begin_run(URL)
    good = archive.record_snapshot(run, URL, captured_at="2016-10-21T00:00:00.000000Z",
                                   result=ok(b"a"), page=page())
    bad = archive.record_snapshot(run, URL, captured_at="2016-10-22T00:00:00.000000Z",
                                  error="connection reset")
    again = archive.record_snapshot(run, URL, captured_at="2016-10-23T00:00:00.000000Z",
                                    result=ok(b"a"), page=page())
    assert (bad.outcome, bad.changed, bad.version_id) == ("failed", False, None)
    assert (again.changed, again.version_id) == (False, good.version_id)
    # a failure never becomes the base of a conditional request
    assert archive.previous_capture(URL).snapshot_id == again.snapshot_id


def test_gone_then_back_are_changes(archive):
    run = archive.begin_run(URL)
    archive.record_snapshot(run, URL, captured_at="2016-10-21T00:00:00.000000Z",
                            result=ok(b"a"), page=page())
    gone = archive.record_snapshot(run, URL, captured_at="2016-10-22T00:00:00.000000Z",
                                   result=ok(b"Not found", status=404))
    back = archive.record_snapshot(run, URL, captured_at="2016-10-23T00:00:00.000000Z",
                                   result=ok(b"a"), page=page())
    assert (gone.outcome, gone.changed) == ("gone", True)
    assert (back.outcome, back.changed) == ("unchanged", True)


def test_suspect_capture_is_kept_but_does_not_move_the_baseline(archive):
    run = archive.begin_run(URL)
    good = archive.record_snapshot(run, URL, captured_at="2016-10-21T00:00:00.000000Z",
                                   result=ok(b"a"), page=page())
    sus = archive.record_snapshot(run, URL, captured_at="2016-10-22T00:00:00.000000Z",
                                  result=ok(b"maintenance"), page=Page(url=URL, title="Oops"),
                                  suspect=True)
    assert (sus.suspect, sus.changed) == (True, False)
    assert archive.previous_capture(URL).snapshot_id == good.snapshot_id
    after = archive.record_snapshot(run, URL, captured_at="2016-10-23T00:00:00.000000Z",
                                    result=ok(b"a"), page=page())
    assert after.changed is False


def test_near_identical_bodies_are_stored_as_small_deltas(archive):
    run = archive.begin_run(URL)
    base = ("<html>" + "".join(f"<p>Paragraph {i} of the cooperation page.</p>" for i in range(800))
            + "</html>")
    shas = []
    for n in range(5):
        body = base.replace("Paragraph 7 ", f"Paragraph 7 token={n} ").encode()
        r = archive.record_snapshot(run, URL, captured_at=f"2016-10-2{n}T00:00:00.000000Z",
                                    result=ok(body), page=page())
        shas.append(archive.conn.execute("SELECT body_sha256 FROM snapshot_bodies"
                                         " WHERE snapshot_id=?", (r.snapshot_id,)).fetchone()[0])
    rows = [archive.conn.execute("SELECT sha256, codec, base_sha256, stored_size, size"
                                 " FROM blobs_hex WHERE sha256 = ?", (sha,)).fetchone()
            for sha in shas]
    assert rows[0]["codec"] == "zstd"
    # each body is a delta against its predecessor, not against the first
    assert all(r["codec"] == "zstd-dict" and r["base_sha256"] == prev["sha256"]
               for prev, r in zip(rows, rows[1:], strict=False))
    assert all(r["stored_size"] < 100 for r in rows[1:]), [r["stored_size"] for r in rows]
    for n, sha in enumerate(shas):
        assert archive.blob(sha) == base.replace(
            "Paragraph 7 ", f"Paragraph 7 token={n} ").encode()


def test_blob_codec_round_trip_and_keyframe_fallback():
    a = bytes(range(256)) * 40
    unrelated = b"".join(n.to_bytes(4, "big") for n in range(5000, 9000))
    enc = blobs.encode(unrelated, (7, a))
    assert enc.codec == "zstd"  # a delta against an unrelated base is no saving
    assert blobs.decode(enc.codec, enc.data) == unrelated


def test_newer_schema_is_refused_and_untouched(tmp_path):
    path = tmp_path / "new.db"
    Archive.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="newer than this coop-archive"):
        Archive.open(path)
    with pytest.raises(SchemaTooNewError):
        Archive.open(path, readonly=True)
    assert path.read_bytes() == before


def test_foreign_sqlite_file_and_garbage_file_are_refused(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE t (x)")
    conn.close()
    with pytest.raises(ArchiveError, match="not a coop-archive"):
        Archive.open(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ArchiveError, match="cannot use archive"):
        Archive.open(junk)
    assert junk.read_bytes() == b"this is not a database" * 100


def test_readonly_open_cannot_write(tmp_path):
    path = tmp_path / "a.db"
    Archive.open(path).close()
    with Archive.open(path, readonly=True) as ro:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            ro.conn.execute("DELETE FROM runs")
    with pytest.raises(ArchiveError, match="no archive"):
        Archive.open(tmp_path / "missing.db", readonly=True)


def test_interrupted_write_leaves_nothing_half_written(archive):
    run = archive.begin_run(URL)
    broken = page()
    broken.items.append(Item(None, None, "", None))  # type: ignore[arg-type]  # NOT NULL title
    with pytest.raises(sqlite3.IntegrityError):
        archive.record_snapshot(run, URL, captured_at="2016-10-21T00:00:00.000000Z",
                                result=ok(b"x"), page=broken)
    c = archive.conn
    for table in ("versions", "sections", "items", "snapshots", "blobs"):
        assert c.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == 0, table


def test_header_sets_are_shared_across_days_and_the_view_gives_them_back(archive):
    run = archive.begin_run(URL)
    sent = []
    for day, date in ((21, "Fri, 21 Oct 2016 06:17:27 GMT"), (22, "Sat, 22 Oct 2016 06:17:28 GMT"),
                      (23, "Sunday, 23-Oct-16 06:17:29 GMT")):  # obsolete form: kept as text
        headers = [("Server", "Apache"), ("Date", date), ("Content-Type", "text/html"),
                   ("X-Note", 'a "quoted", null] value')]
        request = [("Host", "127.0.0.1:9"), ("User-Agent", "coop-archive")]
        result = Capture(url=URL, final_url=URL, status=200, headers=headers,
                             request_headers=request, body=f"body {day}".encode(),
                             fetched_at=f"2016-10-{day}T00:00:00.000000Z")
        r = archive.record_snapshot(run, URL, captured_at=f"2016-10-{day}T00:00:00.000000Z",
                                    result=result, page=page())
        sent.append((r.snapshot_id, headers, request))
    c = archive.conn
    assert c.execute("SELECT count(*) FROM header_sets").fetchone()[0] == 2  # response, request
    dates = [r[0] for r in c.execute("SELECT typeof(response_date) FROM snapshots ORDER BY id")]
    assert dates == ["integer", "integer", "text"]
    for sid, headers, request in sent:
        got = c.execute("SELECT response_headers, request_headers FROM snapshot_headers"
                        " WHERE snapshot_id = ?", (sid,)).fetchone()
        assert [tuple(p) for p in json.loads(got[0])] == headers
        assert [tuple(p) for p in json.loads(got[1])] == request
    # no redirect: final_url is not repeated in the row, history still gives it
    assert c.execute("SELECT count(*) FROM snapshots WHERE final_url IS NULL").fetchone()[0] == 3
    assert {h["final_url"] for h in history(archive, URL)} == {URL}


def test_delta_chains_stay_bounded_and_decode_from_a_cold_cache(tmp_path):
    path = tmp_path / "chain.db"
    base = "".join(f"<p>Paragraph {i} of the cooperation page.</p>" for i in range(400))
    bodies = [(base + f"<p>token {n:04d}</p>").encode() for n in range(blobs.MAX_DEPTH * 2 + 5)]
    with Archive.open(path) as a:
        run = a.begin_run(URL)
        for n, body in enumerate(bodies):
            when = f"2016-10-21T00:{n // 60:02d}:{n % 60:02d}.000000Z"
            a.record_snapshot(run, URL, captured_at=when, result=ok(body), page=page())
    with Archive.open(path, readonly=True) as a:  # a fresh connection: nothing cached
        depth = {}
        for sha, base_id in a.conn.execute("SELECT sha256, base_id FROM blobs"):
            n, cur = 0, base_id
            while cur is not None:
                n += 1
                cur = a.conn.execute("SELECT base_id FROM blobs WHERE id = ?",
                                     (cur,)).fetchone()[0]
            depth[sha] = n
        assert max(depth.values()) <= blobs.MAX_DEPTH
        assert sum(1 for d in depth.values() if d == 0) == 1  # one keyframe, then deltas
        for body in reversed(bodies):
            assert a.blob(blobs.sha256_hex(body)) == body


def test_bodies_written_at_another_zstd_level_stay_readable(tmp_path, monkeypatch):
    # Archives written before the level changed (19) must read back under the current one.
    path = tmp_path / "old.db"
    first = "".join(f"<p>Paragraph {i} of the cooperation page.</p>" for i in range(400))
    bodies = [first.encode(), (first + "<p>token 1</p>").encode()]
    monkeypatch.setattr(blobs, "KEYFRAME_LEVEL", 19)
    monkeypatch.setattr(blobs, "DELTA_LEVEL", 19)
    with Archive.open(path) as a:
        run = a.begin_run(URL)
        for n, body in enumerate(bodies):
            a.record_snapshot(run, URL, captured_at=f"2016-10-2{n}T00:00:00.000000Z",
                              result=ok(body), page=page())
    monkeypatch.setattr(blobs, "KEYFRAME_LEVEL", 1)
    monkeypatch.setattr(blobs, "DELTA_LEVEL", 1)
    with Archive.open(path, readonly=True) as a:
        codecs = sorted(r[0] for r in a.conn.execute("SELECT codec FROM blobs"))
        assert codecs == ["zstd", "zstd-dict"]
        for body in bodies:
            assert a.blob(blobs.sha256_hex(body)) == body


def test_a_large_body_that_does_not_compress_is_stored_as_it_is(archive):
    import random

    noise = random.Random(1).randbytes(5_000_000)
    text = ("<p>" + "Cooperation on climate and clean energy. " * 120_000 + "</p>").encode()
    run = archive.begin_run(URL)
    for n, body in enumerate((noise, text)):
        url = f"{URL}/{n}"
        archive.record_snapshot(run, url, captured_at="2016-10-21T00:00:00.000000Z",
                                result=ok(body), page=Page(url=url, kind="other"))
    rows = {r["sha256"]: r for r in archive.conn.execute(
        "SELECT sha256, codec, stored_size, size FROM blobs_hex")}
    raw, packed = rows[blobs.sha256_hex(noise)], rows[blobs.sha256_hex(text)]
    assert (raw["codec"], raw["stored_size"]) == ("identity", len(noise))
    assert packed["codec"] == "zstd" and packed["stored_size"] < len(text) // 10
    assert archive.blob(blobs.sha256_hex(noise)) == noise
    assert archive.blob(blobs.sha256_hex(text)) == text


def test_an_obvious_delta_costs_one_compression_not_two(monkeypatch):
    import random

    base = "".join(f"<p>Paragraph {i} of the cooperation page.</p>" for i in range(800)).encode()
    body = base.replace(b"Paragraph 7 ", b"Paragraph 7 token=1 ")
    calls = []
    real = blobs.encode_alone
    monkeypatch.setattr(blobs, "encode_alone", lambda b: calls.append(len(b)) or real(b))
    enc = blobs.encode(body, (7, base))
    assert enc.codec == "zstd-dict" and calls == []  # the keyframe was never tried
    assert blobs.decode(enc.codec, enc.data, base) == body
    unrelated = random.Random(2).randbytes(50_000)  # nothing in common with the base
    assert blobs.encode(unrelated, (7, base)).codec == "zstd"
    assert calls == [len(unrelated)]  # a delta that is not obviously small is weighed


class _NoBlobIO:
    """A connection as Python 3.10 has it: no ``blobopen``."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def execute(self, *args):  # noqa: ANN002, ANN201 - a pass-through
        return self._conn.execute(*args)


def test_a_large_body_is_written_in_parts_or_whole_to_the_same_row(archive):
    import random

    body = random.Random(3).randbytes(3 * blobs.STREAM_FROM + 123)  # parts, and a short last
    enc = blobs.Encoded("identity", None, body)
    c = archive.conn
    for conn in (c, _NoBlobIO(c)):  # incremental blob I/O, then one bound value
        blob_id = blobs.insert(conn, blobs.sha256(body), len(body), enc)  # type: ignore[arg-type]
        row = c.execute("SELECT data, stored_size, size, sha256 FROM blobs WHERE id = ?",
                        (blob_id,)).fetchone()
        assert (row["data"], row["stored_size"], row["size"]) == (body, len(body), len(body))
        assert row["sha256"] == hashlib.sha256(body).digest()
        c.execute("DELETE FROM blobs WHERE id = ?", (blob_id,))


@pytest.mark.parametrize("sql, index", [
    # a body found by its hash (every write), and the first capture of a body (WARC export)
    ("SELECT id FROM blobs WHERE sha256 = ?", "sqlite_autoindex_blobs_1"),
    ("SELECT s.id FROM snapshots s WHERE s.body_id = ? AND s.outcome IN"
     f" {sql_list(BODY_OUTCOMES)} ORDER BY s.captured_at, s.id LIMIT 1", "snapshots_body"),
    # the page's previous body, the base of its next delta
    ("SELECT body_id FROM snapshots WHERE page_id = ? AND body_id IS NOT NULL"
     " ORDER BY captured_at DESC, id DESC LIMIT 1", "snapshots_page_time"),
])
def test_body_lookups_use_their_index(archive, sql, index):
    plan = " ".join(r[3] for r in archive.conn.execute("EXPLAIN QUERY PLAN " + sql, (1,)))
    assert f"INDEX {index}" in plan, plan
