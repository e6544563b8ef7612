"""archive.query and the schema v2 views on the fixture archive (tests/query_fixture.py).

The four research questions of the issue, answered through the views and the library:
1. what did the hub list on 1 November 2016?
2. when did a fact sheet first appear, and when did the hub stop linking it?
3. every version of the Strategic Track fact sheet;
4. which pages mention the Paris Agreement, and since when?
"""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from archive import datasette_meta, export
from archive import query as q
from archive import search as fulltext
from archive.errors import UsageError
from archive.reader_limits import QueryLimitError, ReaderLimits
from archive.schema import MIGRATIONS
from archive.sql_readonly import run_sql
from archive.store import Archive
from tests import query_fixture as fx
from tests.builders import at, capture


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("q") / "fixture.db")
    fx.build(path)
    return path


@pytest.fixture
def ro(db: str) -> Archive:
    archive = Archive.open(db, readonly=True)
    yield archive
    archive.close()


V1_ITEMS = ["Climate Change and Clean Energy", "Strategic Track Select Outcomes",
            "Economic Track Resource", "Building on Paris Agreement and Strengthening Climate "
            "Change Cooperation", "EcoPartnerships Program"]
V3_ITEMS = [
    "Climate Change and Clean Energy", "Strategic Track Select Outcomes",
    "Economic Track Resource", "2nd U.S.-China Climate-Smart/Low-Carbon Cities Summit",
    "Building on Paris Agreement and Strengthening Climate Change Cooperation",
    "EcoPartnerships Program", "Strategic Track Outcomes",
    "Ten-Year Framework for Energy and Environment Cooperation Meetings",
    "Annual Report: U.S.-China Climate Change Working Group (CCWG)",
]


# -- question 1: the hub on 1 November 2016 -------------------------------------------------

def test_q1_hub_as_of_a_date_through_the_view(ro: Archive) -> None:
    rows = ro.conn.execute(
        """SELECT section, title FROM hub_items WHERE version_id = (
             SELECT s.version_id FROM snapshots s JOIN pages p ON p.id = s.page_id
              WHERE p.url = ? AND s.captured_at <= '2016-11-01T23:59:59.999999Z'
                AND s.suspect = 0 AND s.outcome IN ('new', 'unchanged', 'not_modified')
              ORDER BY s.captured_at DESC LIMIT 1)
           ORDER BY position""", (fx.HUB,)).fetchall()
    assert [r["title"] for r in rows] == V3_ITEMS
    assert [r["section"] for r in rows] == ["Fact Sheets"] * 4 + ["Media Notes"] * 5


def test_q1_show_as_of(ro: Archive) -> None:
    view = q.show_as_of(ro, fx.HUB, "2016-11-01")
    assert view.status == "ok" and not view.failed
    assert view.at == "2016-11-01T23:59:59.999999Z"
    assert [i.title for i in view.page.items] == V3_ITEMS
    assert view.page.updated_on == "2016-10-21"
    assert view.snapshot["captured_at"] == at("2016-10-21")  # the 304 of 11-15 is later
    assert view.version_span == q.Span(at("2016-10-21"), at("2016-11-15"), 2)


def test_show_defaults_to_the_latest_runs_seed_and_latest_snapshot(ro: Archive) -> None:
    view = q.show_as_of(ro, None, None)
    assert view.url == fx.HUB
    # The latest snapshot (2017-03-01) is a suspect error page: the content is v4 of 01-25.
    assert view.failed and view.status == "ok"
    assert view.latest["suspect"] == 1
    assert view.snapshot["captured_at"] == at("2017-01-25")
    assert "Economic Track Resource" not in [i.title for i in view.page.items]


def test_show_during_a_failed_capture_says_so_and_shows_the_last_good(ro: Archive) -> None:
    view = q.show_as_of(ro, None, "2016-09-06")
    assert view.failed and view.latest["error"] == "timed out"
    assert view.page.updated_on == "2016-08-09"


def test_show_gone_and_not_yet_captured(ro: Archive, tmp_path: Path) -> None:
    gone = q.show_as_of(ro, fx.STRATEGIC, "2017-02-01")
    assert gone.status == "gone" and gone.page is None and gone.snapshot["http_status"] == 404
    copy = str(tmp_path / "copy.db")
    ro.copy_to(copy)
    with Archive.open(copy) as w:  # a page first captured later than WHEN
        capture(w, "https://example.org/late", at("2017-03-02"),
                fx.Page(url="https://example.org/late", title="Late"))
        early = q.show_as_of(w, "https://example.org/late", "2016-07-01")
    assert early.status == "not_captured" and early.first_captured == at("2017-03-02")


def test_show_unknown_page_and_bad_when(ro: Archive) -> None:
    with pytest.raises(UsageError, match="no page"):
        q.show_as_of(ro, "https://nowhere.example/", None)
    with pytest.raises(UsageError, match="before the first snapshot"):
        q.show_as_of(ro, None, "2015-01-01")
    with pytest.raises(UsageError, match="not a date"):
        q.show_as_of(ro, None, "last tuesday")


# -- question 2: first appearance and removal ---------------------------------------------

def test_q2_item_history(ro: Archive) -> None:
    row = ro.conn.execute("SELECT * FROM item_history WHERE url = ?", (fx.ECONOMIC,)).fetchone()
    assert dict(row) == {
        "url": fx.ECONOMIC, "title": "Economic Track Resource",
        "first_seen": at("2016-06-20"), "last_seen": at("2016-11-15"),
        "removed_at": at("2017-01-25"), "versions": 3, "titles": 1, "pages": 1,
        "linked_from": fx.HUB, "target_page_id": None,
    }
    summit = ro.conn.execute("SELECT first_seen, removed_at, versions FROM item_history"
                             " WHERE url = ?", (fx.SUMMIT,)).fetchone()
    assert tuple(summit) == (at("2016-08-10"), None, 3)
    linked = ro.conn.execute("SELECT target_page_id FROM item_history WHERE url = ?",
                             (fx.STRATEGIC,)).fetchone()[0]
    assert linked == ro.page_id(fx.STRATEGIC)
    assert ro.conn.execute("SELECT count(*) FROM item_history").fetchone()[0] == 9


# -- question 3: every version of the Strategic Track fact sheet --------------------------

def test_q3_versions_of_a_page(ro: Archive) -> None:
    rows = ro.conn.execute(
        "SELECT version_id, first_seen, last_seen, snapshots, replaced_at FROM version_spans"
        " WHERE page_url = ? ORDER BY first_seen", (fx.STRATEGIC,)).fetchall()
    assert [tuple(r)[1:] for r in rows] == [
        (at("2016-06-20"), at("2016-08-10"), 3, at("2016-10-21")),
        (at("2016-10-21"), at("2016-10-21"), 1, at("2017-01-25")),  # replaced by the 404
    ]
    latest = ro.conn.execute("SELECT version_id, status, checked_at FROM latest_versions"
                             " WHERE url = ?", (fx.STRATEGIC,)).fetchone()
    assert (latest["version_id"], latest["status"], latest["checked_at"]) == (
        rows[1]["version_id"], "gone", at("2017-01-25"))


def test_latest_versions_ignore_suspect_captures(ro: Archive) -> None:
    rows = {r["url"]: r for r in ro.conn.execute("SELECT * FROM latest_versions")}
    assert rows[fx.HUB]["updated_on"] == "2017-01-20"  # not the 2017-03-01 error page
    assert rows[fx.HUB]["status"] == "current"
    assert rows[fx.CLIMATE]["last_seen"] == at("2017-01-25")


# -- question 4: the Paris Agreement --------------------------------------------------------

def test_q4_pages_mentioning_through_fts_and_views(ro: Archive) -> None:
    rows = ro.conn.execute(
        """SELECT vs.page_url, min(vs.first_seen) FROM versions_fts
             JOIN version_spans vs ON vs.version_id = versions_fts.rowid
            WHERE versions_fts MATCH '"Paris Agreement"' GROUP BY vs.page_url
            ORDER BY 2, 1""").fetchall()
    assert [tuple(r) for r in rows] == [
        (fx.STRATEGIC, at("2016-06-20")), (fx.HUB, at("2016-06-20")),
        (fx.CLIMATE, at("2016-08-10")),
    ]


def test_q4_search_pages(ro: Archive) -> None:
    hits = fulltext.search(ro, '"Paris Agreement"', kinds=["page"])
    got = {h.page_url: (h.first_seen, h.last_seen, len(h.versions)) for h in hits}
    assert got == {
        fx.HUB: (at("2016-06-20"), at("2017-01-25"), 4),
        fx.STRATEGIC: (at("2016-06-20"), at("2016-10-21"), 2),
        fx.CLIMATE: (at("2016-08-10"), at("2017-01-25"), 1),
    }


def test_search_hits_carry_page_section_snippet_and_dates(ro: Archive) -> None:
    hits = fulltext.search(ro, "EcoPartnerships", kinds=["item"])
    assert len(hits) == 1  # the same item in four versions is one hit
    h = hits[0]
    assert (h.page_url, h.section, h.title, h.url) == (
        fx.HUB, "Media Notes", "EcoPartnerships Program", fx.ECO)
    assert h.snippet == "[EcoPartnerships] Program"
    assert (h.first_seen, h.last_seen) == (at("2016-06-20"), at("2017-01-25"))
    assert len(h.versions) == 4 and h.rank < 0
    assert json.loads(json.dumps(h.to_dict()))["snippet"] == h.snippet


def test_search_ranks_title_matches_first_and_stems(ro: Archive) -> None:
    hits = fulltext.search(ro, "emission", kinds=["item"])  # porter: matches "emissions"
    assert [h.title for h in hits] == [
        "Ten-Year Framework for Energy and Environment Cooperation Meetings"]
    hits = fulltext.search(ro, "climate", kinds=["item"], limit=3)
    assert len(hits) == 3 and "Climate" in hits[0].title


def test_search_as_of_keeps_what_was_shown_then(ro: Archive) -> None:
    before = fulltext.search(ro, "CCWG", as_of="2016-09-30")
    after = fulltext.search(ro, "CCWG", as_of="2016-11-01")
    assert before == []
    assert {h.title for h in after if h.kind == "item"} == {
        "Ten-Year Framework for Energy and Environment Cooperation Meetings",
        "Annual Report: U.S.-China Climate Change Working Group (CCWG)"}
    # Dates still cover the whole archive: since when, until when.
    summit = fulltext.search(ro, '"Cities Summit"', as_of="2016-08-10", kinds=["item"])
    assert [(h.first_seen, h.last_seen) for h in summit] == [(at("2016-08-10"),
                                                              at("2017-01-25"))]
    gone_text = fulltext.search(ro, "Economic", as_of="2017-02-01", kinds=["item"])
    assert gone_text == []


@pytest.mark.parametrize("bad", ['"unbalanced', "AND", "title:", "NEAR(", "a OR"])
def test_search_syntax_errors_are_usage_errors(ro: Archive, bad: str) -> None:
    with pytest.raises(UsageError) as e:
        fulltext.search(ro, bad)
    assert "\n" not in str(e.value) and "bad search query" in str(e.value)


def test_search_rejects_empty_query_and_unknown_kind(ro: Archive) -> None:
    with pytest.raises(UsageError):
        fulltext.search(ro, "  ")
    with pytest.raises(UsageError):
        fulltext.search(ro, "x", kinds=["blob"])


# -- FTS kept in step, rebuilt, migrated -----------------------------------------------------

def test_fts_follows_writes_and_rebuild(tmp_path: Path) -> None:
    path = str(tmp_path / "a.db")
    with Archive.open(path) as a:
        capture(a, fx.HUB, at("2016-06-20"), fx.hub(1))
        assert fulltext.search(a, "CCWG") == []
        capture(a, fx.HUB, at("2016-10-21"), fx.hub(3))
        assert {h.kind for h in fulltext.search(a, "CCWG")} == {"page", "section", "item"}
        a.conn.execute("DELETE FROM items_fts")  # an index gone wrong (external content)
        assert fulltext.rebuild_fts(a) == {"versions_fts": 2, "sections_fts": 8, "items_fts": 14,
                                           "text_lines_fts": 0}
        assert {h.kind for h in fulltext.search(a, "CCWG")} == {"page", "section", "item"}
    with Archive.open(path, readonly=True) as r, pytest.raises(UsageError):
        fulltext.rebuild_fts(r)


def test_v1_archive_migrates_with_its_rows_indexed(tmp_path: Path) -> None:
    path = str(tmp_path / "old.db")
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0])
    conn.execute("PRAGMA user_version = 1")
    conn.execute("INSERT INTO pages VALUES (1, 'http://x/', 'a', 'a')")
    conn.execute("INSERT INTO versions (id, page_id, content_hash, title, text, first_seen,"
                 " parser_version) VALUES (1, 1, 'h', 'Old title', 'Paris Agreement', 'a', 1)")
    conn.commit()
    conn.close()
    with Archive.open(path) as a:
        assert a.conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert [tuple(r) for r in a.conn.execute(
            "SELECT rowid FROM versions_fts WHERE versions_fts MATCH 'paris'")] == [(1,)]


def test_views_stay_fast_on_many_snapshots(tmp_path: Path) -> None:
    """40,000 snapshots of 40 pages: each view answers in well under a second."""
    import time

    path = str(tmp_path / "big.db")
    with Archive.open(path) as a:
        for n in range(40):
            capture(a, f"https://x.example/{n}", at("2016-01-01"),
                    fx.Page(url=f"https://x.example/{n}", title=f"p{n}", text="t",
                            items=[fx.Item(f"i{n}", f"https://y.example/{n}")]))
        # Bulk snapshots confirming those versions: the shape of ten years of daily runs.
        rows = [(1, 1 + (k % 40), f"2016-01-02T00:00:{k % 60:02d}.{k:06d}Z", "unchanged",
                 1 + (k % 40)) for k in range(40_000)]
        with a.transaction() as c:
            hid = c.execute("INSERT INTO header_sets (hash, headers) VALUES (0, ?)",
                      ('[["X", "' + "x" * 800 + '"]]',)).lastrowid
            c.executemany("INSERT INTO snapshots (run_id, page_id, captured_at, outcome,"
                          " version_id, response_headers_id, response_date)"
                          " VALUES (?, ?, ?, ?, ?, ?, 'Sat, 02 Jan 2016 00:00:00 GMT')",
                          [r + (hid,) for r in rows])
        for view in ("version_spans", "latest_versions", "hub_items", "item_history"):
            t = time.perf_counter()
            a.conn.execute(f"SELECT * FROM {view}").fetchall()
            assert time.perf_counter() - t < 1.0, view
        t = time.perf_counter()
        q.show_as_of(a, "https://x.example/7", None)
        fulltext.search(a, "i7")
        assert time.perf_counter() - t < 1.0


# -- read-only SQL ---------------------------------------------------------------------------

def _sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


WRITES = [
    "DELETE FROM snapshots",
    "UPDATE pages SET url = 'x'",
    "INSERT INTO runs (started_at, seed_url, status) VALUES ('a', 'b', 'complete')",
    "ATTACH DATABASE '{tmp}/new.db' AS other",
    "PRAGMA writable_schema = 1",
    "PRAGMA user_version = 7",
    "VACUUM INTO '{tmp}/copy.db'",
    "CREATE TEMP TABLE t (a)",
    "DROP VIEW hub_items",
    "WITH x AS (SELECT 1) DELETE FROM pages",
    "REPLACE INTO pages VALUES (1, 'x', 'a', 'a')",
    "BEGIN",
    "SELECT load_extension('x')",
    "  /* sneaky */ -- comment\n  delete from pages",
]


@pytest.mark.parametrize("stmt", WRITES)
def test_run_sql_refuses_writes_and_leaves_the_file_unchanged(db: str, tmp_path: Path,
                                                              stmt: str) -> None:
    before = _sha(db)
    with Archive.open(db, readonly=True) as a:
        with pytest.raises(UsageError, match="refused") as e:
            run_sql(a, stmt.format(tmp=tmp_path))
        assert "\n" not in str(e.value)
        # The connection is still usable, and unguarded afterwards only by mode=ro.
        assert run_sql(a, "SELECT count(*) FROM pages").rows == [(3,)]
    assert _sha(db) == before
    assert list(tmp_path.iterdir()) == []


def test_run_sql_reads(ro: Archive) -> None:
    r = run_sql(ro, "SELECT url FROM pages WHERE id = :id", {"id": 1})
    assert r.columns == ["url"] and r.rows == [(fx.HUB,)]
    assert run_sql(ro, "PRAGMA table_info(pages)").rows[1][1] == "url"
    assert run_sql(ro, "PRAGMA user_version").rows == [(len(MIGRATIONS),)]
    assert run_sql(ro, "SELECT name FROM pragma_table_info('items')").rows[0] == ("id",)
    fts = run_sql(ro, "SELECT highlight(items_fts, 0, '<', '>') FROM items_fts"
                        " WHERE items_fts MATCH 'ecopartnerships' LIMIT 1")
    assert fts.rows == [("<EcoPartnerships> Program",)]
    assert len(run_sql(ro, "SELECT * FROM snapshots LIMIT 2",
                       limits=ReaderLimits(max_rows=2)).rows) == 2
    with pytest.raises(QueryLimitError, match="more than 2 rows"):
        run_sql(ro, "SELECT * FROM snapshots", limits=ReaderLimits(max_rows=2))
    assert run_sql(ro, "EXPLAIN QUERY PLAN SELECT * FROM pages").columns


def test_run_sql_errors_are_one_line(ro: Archive) -> None:
    for bad, msg in [("SELEC 1", "syntax error"), ("SELECT * FROM nope", "no such table"),
                     ("SELECT 1; SELECT 2", "one statement")]:
        with pytest.raises(UsageError, match=msg):
            run_sql(ro, bad)


def test_run_sql_needs_a_readonly_archive(tmp_path: Path) -> None:
    with Archive.open(tmp_path / "w.db") as a, pytest.raises(UsageError):
        run_sql(a, "SELECT 1")


# -- exports ---------------------------------------------------------------------------------

def test_export_csv_tidy_tables(ro: Archive, tmp_path: Path) -> None:
    stats = export.export(ro, tmp_path / "out", "csv")
    assert stats.rows == {"items": 29, "versions": 9, "sections": 18, "pages": 3,
                          "snapshots": 18, "outside_texts": 0, "text_lines": 0,
                          "superseded_versions": 0, "reparsed_snapshots": 0, "outbox": 0}
    with open(tmp_path / "out" / "items.csv", encoding="utf-8", newline="") as f:
        items = list(csv.DictReader(f))
    assert len(items) == 29
    eco = [r for r in items if r["title"] == "Economic Track Resource"]
    assert [(r["page_url"], r["section"], r["version_first_seen"], r["version_last_seen"])
            for r in eco] == [
        (fx.HUB, "Fact Sheets", at("2016-06-20"), at("2016-07-15")),
        (fx.HUB, "Fact Sheets", at("2016-08-10"), at("2016-08-10")),
        (fx.HUB, "Fact Sheets", at("2016-10-21"), at("2016-11-15")),
    ]
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "items.csv", "outbox.csv", "outside_texts.csv", "pages.csv", "reparsed_snapshots.csv",
        "sections.csv", "snapshots.csv", "superseded_versions.csv", "text_lines.csv",
        "versions.csv"]


def test_export_json_and_jsonl_as_of(ro: Archive, tmp_path: Path) -> None:
    export.export(ro, tmp_path / "a.json", "json", as_of="2016-11-01")
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    hub_items = [r["title"] for r in doc["tables"]["items"] if r["page_url"] == fx.HUB]
    assert hub_items == V3_ITEMS
    assert {r["page_url"] for r in doc["tables"]["versions"]} == {fx.HUB, fx.STRATEGIC,
                                                                  fx.CLIMATE}
    assert max(r["captured_at"] for r in doc["tables"]["snapshots"]) == at("2016-10-21")
    assert doc["as_of"] == "2016-11-01"
    export.export(ro, tmp_path / "a.jsonl", "jsonl", as_of="2016-07-01")
    lines = (tmp_path / "a.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["title"] for x in lines] == V1_ITEMS
    export.export(ro, tmp_path / "v.jsonl", "jsonl", table="versions")
    assert len((tmp_path / "v.jsonl").read_text(encoding="utf-8").splitlines()) == 9


def test_export_errors(ro: Archive, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        export.export(ro, tmp_path / "x", "xml")
    with pytest.raises(UsageError):
        export.export(ro, tmp_path / "no" / "such" / "x.json", "json")


# -- Datasette metadata ----------------------------------------------------------------------

def test_datasette_metadata_is_named_for_the_file() -> None:
    meta = datasette_meta.datasette_metadata("/some/where/my-archive.db")
    assert list(meta["databases"]) == ["my-archive"]
    tables = meta["databases"]["my-archive"]["tables"]
    assert tables["hub_items"]["fts_table"] == "items_fts"
    assert len(datasette_meta.canned_queries()) == 10


def test_doctests_of_the_reader_renderers() -> None:
    import doctest

    from archive import report_query

    failed, attempted = doctest.testmod(report_query)
    assert attempted > 0 and failed == 0
