"""What makes ingest fast must not change what it stores (issue 12): snapshots committed in
batches, the full-text indexes filled per version (schema V7), and the HTML parsed in a child
process (scraper/parse_process.py) give the same archive as one transaction and one parse in
this process per page."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.capture import Capture
from archive.check import check
from archive.errors import ArchiveError
from archive.model import Item, Page, Section
from archive.schema import MIGRATIONS
from archive.search import search
from archive.store import Archive
from scraper.parse_process import MAX_CHILD_BODY, ParseProcess, for_child, parse_here
from scraper.settings import CrawlSettings
from scraper.sources import crawl as crawl_module
from scraper.sources import warc_import
from scraper.sources.crawl import crawl
from scraper.sources.warc_import import import_warc
from tests.builders import at, capture, hub_html
from tests.servers import LoopbackServer, Static
from tests.warc_files import http_response, warc_record

N_DOCS = 10  # over PARSE_PROCESS_MIN: the crawl's level 1 and the import use the child


def doc(n: int) -> bytes:
    # Sections, items, a date and text outside the main content: every table a version fills.
    return (b"<html><head><title>Doc %d</title></head><body><nav><a href='/'>Home</a> "
            b"Menu line %d</nav><main><h1>Doc %d</h1><p>Updated: October %d, 2016</p>"
            b"<h2>Emissions</h2><p>Heavy-duty vehicles, part %d.</p><ul>"
            b"<li><a href='/x%d'>Fact sheet %d</a> A summary.</li></ul></main>"
            b"<footer>Page generated %d</footer></body></html>") % ((n,) * 8)


def site(srv: LoopbackServer) -> str:
    docs = [srv.url(f"/doc{n}") for n in range(N_DOCS)]
    srv.route("/hub", Static(body=hub_html(*[(u, f"Document {n}", f"Summary {n}.")
                                             for n, u in enumerate(docs)])))
    for n in range(N_DOCS):
        srv.route(f"/doc{n}", Static(body=doc(n)))
    srv.route("/doc3", Static(body=b"%PDF-1.4 not really a pdf", content_type="application/pdf"))
    return srv.url("/hub")


def records(db: Path) -> list[tuple[object, ...]]:
    """Everything a snapshot stands for, without ids and times that differ by run."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            """SELECT p.url, s.outcome, b.body_sha256, v.content_hash, v.title, v.updated_on,
                      v.text, v.kind, s.truncated,
                      (SELECT group_concat(x, '//') FROM
                         (SELECT coalesce(heading, '') || '|' || text AS x FROM sections
                           WHERE version_id = v.id ORDER BY position)),
                      (SELECT group_concat(x, '//') FROM
                         (SELECT title || '|' || coalesce(url, '') || '|' || summary AS x
                            FROM items WHERE version_id = v.id ORDER BY position)),
                      (SELECT text FROM snapshot_outside_text o WHERE o.snapshot_id = s.id)
                 FROM snapshots s JOIN pages p ON p.id = s.page_id
                 LEFT JOIN versions v ON v.id = s.version_id
                 LEFT JOIN snapshot_bodies b ON b.snapshot_id = s.id ORDER BY p.url""").fetchall()
        fts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
               for t in ("versions_fts", "sections_fts", "items_fts", "text_lines_fts")]
        return [*rows, tuple(fts)]
    finally:
        conn.close()


def crawled(db: Path, seed: str) -> list[tuple[object, ...]]:
    settings = CrawlSettings(delay=0.0, ignore_robots=True, depth=1)
    with Archive.open(db) as archive:
        report = crawl(archive, seed, settings=settings)
        assert report.status == "complete"
        assert check(archive.conn, deep=True).ok
    return records(db)


def test_a_crawl_parsed_in_the_child_stores_what_a_crawl_parsed_here_stores(
        server: LoopbackServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seed = site(server)
    submitted: list[str] = []
    real_submit = ParseProcess.submit

    def counting(self: ParseProcess, cap: Capture):  # type: ignore[no-untyped-def]
        submitted.append(cap.url)
        return real_submit(self, cap)

    monkeypatch.setattr(ParseProcess, "submit", counting)
    in_child = crawled(tmp_path / "child.db", seed)
    assert len(submitted) == N_DOCS - 1  # the HTML documents; the PDF stayed in its worker
    monkeypatch.setattr(crawl_module, "PARSE_PROCESS_MIN", 10**6)
    here = crawled(tmp_path / "here.db", seed)
    assert len(submitted) == N_DOCS - 1  # no child this time
    assert in_child == here
    assert len(in_child) == N_DOCS + 2  # hub, documents, the index counts


def _warc(path: Path) -> Path:
    path.write_bytes(b"".join(
        warc_record("response", f"http://www.state.gov/doc{n}", f"2016-10-21T12:00:{n:02d}Z",
                    http_response(doc(n))) for n in range(N_DOCS)))
    return path


def imported(db: Path, warc: Path) -> list[tuple[object, ...]]:
    with Archive.open(db) as archive:
        report = import_warc(archive, [warc])
        assert report.status == "complete", report.problems
    return records(db)


def test_an_import_parsed_in_the_child_stores_what_an_import_parsed_here_stores(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warc = _warc(tmp_path / "a.warc")
    in_child = imported(tmp_path / "child.db", warc)
    monkeypatch.setattr(warc_import, "PARSE_PROCESS_MIN", 10**6)
    here = imported(tmp_path / "here.db", warc)
    assert in_child == here and len(here) == N_DOCS + 1
    # Importing again parses nothing ahead (every capture is stored) and adds nothing.
    asked: list[str] = []
    monkeypatch.setattr(warc_import, "PARSE_PROCESS_MIN", 1)
    monkeypatch.setattr(ParseProcess, "submit", lambda self, cap: asked.append(cap.url))
    assert imported(tmp_path / "child.db", warc) == in_child and asked == []
    # Each record is looked up once ahead and once when written, however the window moves.
    looked: list[str] = []
    real = warc_import.has_capture
    monkeypatch.setattr(warc_import, "has_capture",
                        lambda archive, url, *a, **k: looked.append(url) or real(archive, url,
                                                                                 *a, **k))
    imported(tmp_path / "child.db", warc)
    assert looked and max(looked.count(u) for u in looked) <= 2


def test_a_big_body_is_parsed_where_it_was_received_not_in_the_child() -> None:
    # Shipped to the child, a big body would be held once more with its pickled parse: a
    # crawl or an import meeting big pages holds one big body at a time, as without the child.
    html = (b"<html><body><main><p>" + b"word " * (MAX_CHILD_BODY // 5)
            + b"</p></main></body></html>")
    big = Capture(url="http://x.example/big", final_url="http://x.example/big", status=200,
                  headers=[("Content-Type", "text/html")], body=html)
    small = Capture(url="http://x.example/s", final_url="http://x.example/s", status=200,
                    headers=[("Content-Type", "text/html")], body=html[:MAX_CHILD_BODY - 1])
    assert len(big.body) >= MAX_CHILD_BODY and not for_child(big) and for_child(small)


def test_the_child_gives_the_page_and_hash_of_a_parse_here_and_its_log_lines(
        caplog: pytest.LogCaptureFixture) -> None:
    bad_charset = Capture(url="http://x.example/a", final_url="http://x.example/a", status=200,
                          headers=[("Content-Type", "text/html; charset=no-such-charset")],
                          body=doc(1))
    pdf = Capture(url="http://x.example/b", final_url="http://x.example/b", status=200,
                  headers=[("Content-Type", "application/pdf")], body=b"%PDF-1.4")
    assert for_child(bad_charset) and not for_child(pdf)
    caplog.set_level("DEBUG", logger="scraper.encoding")
    with ParseProcess() as parser:
        fut = parser.submit(bad_charset)
        page, content_hash = parser.parse(fut, bad_charset)
    assert (page, content_hash) == parse_here(bad_charset)
    assert page is not None and content_hash == page.content_hash()
    # the parser's debug line about the charset, logged in the child, is logged here too
    assert sum("no-such-charset" in r.getMessage() for r in caplog.records) == 2


def test_a_dead_child_costs_time_not_a_page() -> None:
    cap = Capture(url="http://x.example/a", final_url="http://x.example/a", status=200,
                  headers=[("Content-Type", "text/html")], body=doc(2))
    parser = ParseProcess()
    parser.start()
    assert parser._child is not None
    parser._child.kill()
    parser._child.wait()
    try:
        results = [parser.parse(parser.submit(cap), cap) for _ in range(3)]
    finally:
        parser.close()
    assert results == [parse_here(cap)] * 3


def test_close_ends_the_child_even_while_it_parses() -> None:
    huge = Capture(url="http://x.example/a", final_url="http://x.example/a", status=200,
                   headers=[("Content-Type", "text/html")],
                   body=b"<html><body><main>" + b"<p>word</p>" * 350_000 + b"</main></body>")
    parser = ParseProcess()
    fut = parser.submit(huge)
    child = parser._child
    assert child is not None
    parser.close()  # at once: a stopped run does not wait for the parse
    assert child.poll() is not None
    assert fut.done()


# -- batches ---------------------------------------------------------------------------------


def _count(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])
    finally:
        conn.close()


def _page(n: int) -> Page:
    return Page(url=f"http://x.example/{n}", title=f"Page {n}", text=f"Paris text {n}")


def test_a_batch_commits_whole_snapshots_and_a_failed_one_costs_itself_only(
        tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as archive:
        run_id = archive.begin_run("http://x.example/")
        archive.begin_batch(units=100, seconds=3600)
        for n in range(3):
            capture(archive, f"http://x.example/{n}", at("2016-10-21"), _page(n), run_id=run_id)
        assert _count(db) == 0  # written, not yet committed: another reader sees none
        with pytest.raises(ArchiveError, match="304 without a stored capture"):
            archive.record_snapshot(run_id, "http://x.example/never", captured_at=at("2016-10-22"),
                                    result=Capture(url="http://x.example/never",
                                                   final_url="http://x.example/never",
                                                   status=304))
        assert archive.commit_batch() == 3
        assert _count(db) == 3
        capture(archive, "http://x.example/3", at("2016-10-21"), _page(3), run_id=run_id)
        archive.end_batch()
        assert _count(db) == 4
        assert check(archive.conn, deep=True).ok
        assert {h.page_url for h in search(archive, "paris")} == \
            {f"http://x.example/{n}" for n in range(4)}


@pytest.mark.parametrize("max_chars", [None, 0])
def test_a_failed_unit_takes_its_index_entries_with_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, max_chars: int | None) -> None:
    """Inside a batch the index entries wait for the commit (archive/fts_rows.py): a snapshot
    that fails after its version, sections, items and outside lines were written must leave
    none of their entries behind, and the others' must all be there; also when the entries
    kept are written before the next snapshot (``max_chars`` 0: every time)."""
    from archive import fts_rows, outside

    if max_chars is not None:
        monkeypatch.setattr(fts_rows, "MAX_CHARS", max_chars)

    db = tmp_path / "a.db"
    real = outside.note_snapshot
    with Archive.open(db) as archive:
        run_id = archive.begin_run("http://x.example/")
        archive.begin_batch(units=100, seconds=3600)
        capture(archive, "http://x.example/0", at("2016-10-21"), _page(0), run_id=run_id)

        def fail_after(*args: object, **kw: object) -> None:
            real(*args, **kw)  # its outside lines are stored and their entries kept
            raise RuntimeError("disk on fire")

        monkeypatch.setattr(outside, "note_snapshot", fail_after)
        doomed = Page(url="http://x.example/1", title="Doomed", text="Lyon text",
                      sections=[Section("Lyon", 2, "Lyon section")],
                      items=[Item("Lyon item", "http://x.example/i", "Lyon summary", 0)],
                      outside_text="Lyon menu")
        with pytest.raises(RuntimeError, match="disk on fire"):
            capture(archive, "http://x.example/1", at("2016-10-21"), doomed, run_id=run_id)
        monkeypatch.setattr(outside, "note_snapshot", real)
        capture(archive, "http://x.example/2", at("2016-10-21"), _page(2), run_id=run_id)
        archive.end_batch()
        assert check(archive.conn, deep=True).ok
        assert {h.page_url for h in search(archive, "paris")} == \
            {"http://x.example/0", "http://x.example/2"}
        for fts in ("versions_fts", "sections_fts", "items_fts", "text_lines_fts"):
            assert archive.conn.execute(
                f"SELECT count(*) FROM {fts} WHERE {fts} MATCH 'lyon'").fetchone()[0] == 0


def test_a_batch_whose_index_cannot_be_written_is_not_committed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are never committed without their index entries: a failure writing them at the
    commit rolls the whole batch back, and the archive goes on from there."""
    from archive import fts_rows

    db = tmp_path / "a.db"
    real = fts_rows.IndexRows.write
    with Archive.open(db) as archive:
        run_id = archive.begin_run("http://x.example/")
        archive.begin_batch(units=100, seconds=3600)
        for n in range(2):
            capture(archive, f"http://x.example/{n}", at("2016-10-21"), _page(n), run_id=run_id)

        def half_then_fail(self: fts_rows.IndexRows, conn: sqlite3.Connection) -> None:
            conn.execute(fts_rows.INSERT["versions_fts"], self.rows["versions_fts"][0])
            raise sqlite3.OperationalError("database or disk is full")

        monkeypatch.setattr(fts_rows.IndexRows, "write", half_then_fail)
        with pytest.raises(sqlite3.OperationalError, match="disk is full"):
            archive.commit_batch()
        monkeypatch.setattr(fts_rows.IndexRows, "write", real)
        assert not archive.conn.in_transaction
        assert _count(db) == 0
        capture(archive, "http://x.example/2", at("2016-10-21"), _page(2), run_id=run_id)
        archive.end_batch()
        assert _count(db) == 1
        assert check(archive.conn, deep=True).ok
        assert {h.page_url for h in search(archive, "paris")} == {"http://x.example/2"}


def test_a_batch_commits_when_it_is_due(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as archive:
        run_id = archive.begin_run("http://x.example/")
        archive.begin_batch(units=2, seconds=3600)
        capture(archive, "http://x.example/0", at("2016-10-21"), _page(0), run_id=run_id)
        assert _count(db) == 0
        capture(archive, "http://x.example/1", at("2016-10-21"), _page(1), run_id=run_id)
        assert _count(db) == 2
        archive.begin_batch(units=100, seconds=0.0)  # every unit is a second old at once
        capture(archive, "http://x.example/2", at("2016-10-21"), _page(2), run_id=run_id)
        assert _count(db) == 3


def test_closing_the_archive_commits_its_batch(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as archive:
        run_id = archive.begin_run("http://x.example/")
        archive.begin_batch()
        capture(archive, "http://x.example/0", at("2016-10-21"), _page(0), run_id=run_id)
    assert _count(db) == 1


def test_reconciling_leaves_the_index_of_versions_whose_first_seen_stays_alone(
        tmp_path: Path) -> None:
    """The update trigger takes a version's text out of the index and puts it back: an import
    reconciles every page it touched, and must not do that to versions it does not change;
    a version seen earlier than it knew still moves back."""
    from archive.reconcile import reconcile_pages

    with Archive.open(tmp_path / "a.db") as archive:
        rec = capture(archive, "http://x.example/0", at("2016-10-21"), _page(0))
        older = capture(archive, "http://x.example/1", at("2016-10-21"), _page(1))
        archive.conn.execute("UPDATE snapshots SET captured_at = ? WHERE id = ?",
                             (at("2016-10-01"), older.snapshot_id))
        def index() -> list[tuple[object, ...]]:
            return [tuple(r) for r in archive.conn.execute(
                "SELECT * FROM versions_fts_data ORDER BY id")]

        before = index()
        reconcile_pages(archive, [rec.page_id])
        assert index() == before  # nothing taken out and put back
        reconcile_pages(archive, [older.page_id])
        assert index() != before
        first_seen = dict(archive.conn.execute("SELECT id, first_seen FROM versions"))
        assert first_seen == {rec.version_id: at("2016-10-21"),
                              older.version_id: at("2016-10-01")}
        assert check(archive.conn, deep=True).ok
        assert {h.page_url for h in search(archive, "paris")} == \
            {"http://x.example/0", "http://x.example/1"}


def test_a_crawl_fetches_ahead_of_the_writer_within_its_byte_budget() -> None:
    """The crawl's workers wait while AHEAD_BYTES of bodies are not yet recorded, go on as
    the writer records them, and stop waiting when the crawl is stopped."""
    import threading

    room = crawl_module._Room()
    stop = threading.Event()
    room.take(crawl_module.AHEAD_BYTES)
    waiter = threading.Thread(target=room.wait, args=(stop,))
    waiter.start()
    waiter.join(timeout=0.5)
    assert waiter.is_alive()  # the writer is AHEAD_BYTES behind: no more fetching
    room.give(1)
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    room.take(1)
    waiter = threading.Thread(target=room.wait, args=(stop,))
    waiter.start()
    stop.set()
    waiter.join(timeout=5)
    assert not waiter.is_alive()


# -- schema V7 -------------------------------------------------------------------------------


def test_v7_drops_the_insert_triggers_and_the_indexes_stay_whole(tmp_path: Path) -> None:
    path_old = tmp_path / "old.db"
    conn = sqlite3.connect(path_old)
    for script in MIGRATIONS[:6]:
        conn.executescript(script)
    conn.execute("PRAGMA user_version = 6")
    conn.execute("INSERT INTO pages VALUES (1, 'http://x.example/old', 'a', 'a')")
    conn.execute("INSERT INTO versions (id, page_id, content_hash, title, text, first_seen,"
                 " parser_version) VALUES (1, 1, 'h', 'Old title', 'Paris Agreement', 'a', 1)")
    conn.commit()
    conn.close()
    with Archive.open(path_old) as archive:  # V6 -> V7: the rows indexed before stay indexed
        names = {r[0] for r in archive.conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
        assert not {n for n in names if n.endswith("_ai")}
        assert {"versions_ad", "versions_au", "items_ad", "text_lines_au"} <= names
        capture(archive, "http://x.example/new", at("2016-10-21"), _page(1))
        hits = [tuple(r) for r in archive.conn.execute(
            "SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'paris' ORDER BY rowid")]
        assert len(hits) == 2  # the row indexed by V2's trigger and the one the store indexed


def test_sources_batch(monkeypatch: pytest.MonkeyPatch, server: LoopbackServer,
                       tmp_path: Path) -> None:
    """The crawl and the import write in batches; the run row stays consistent."""
    begun: list[bool] = []
    real: Callable[..., None] = Archive.begin_batch

    def spy(self: Archive, **kw: object) -> None:
        begun.append(True)
        real(self, **kw)

    monkeypatch.setattr(Archive, "begin_batch", spy)
    crawled(tmp_path / "c.db", site(server))
    imported(tmp_path / "i.db", _warc(tmp_path / "a.warc"))
    assert begun == [True, True]
    for db in ("c.db", "i.db"):
        conn = sqlite3.connect(tmp_path / db)
        counted = conn.execute("SELECT pages_fetched FROM runs").fetchone()[0]
        assert counted == conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        conn.close()
