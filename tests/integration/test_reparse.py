"""``reparse``: an archive made by an older parser, re-derived from its stored bodies."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive import model
from archive.check import check
from archive.compare import diff_between
from archive.report import render
from archive.search import search
from archive.store import Archive
from scraper.sources.reparse import reparse
from tests.builders import at
from tests.reparse_fixture import ASIDES, DAYS, OLD_PARSER, build, dump, url_of


@pytest.fixture
def old_db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "old.db"
    build(path, monkeypatch)
    return path


def versions(archive: Archive, url: str) -> list[tuple[int, int]]:
    """(version id, parser_version) of the page's snapshots, in capture order."""
    return [(r[0], r[1]) for r in archive.conn.execute(
        "SELECT s.version_id, v.parser_version FROM snapshots s JOIN pages p ON p.id = s.page_id"
        " JOIN versions v ON v.id = s.version_id WHERE p.url = ? ORDER BY s.captured_at",
        (url,))]


def test_reparse_merges_the_versions_the_old_rule_made(old_db: Path) -> None:
    with Archive.open(old_db) as archive:
        before = versions(archive, url_of(0))
        assert len({v for v, _ in before}) == 4 and {p for _, p in before} == {OLD_PARSER}
        # The old rule's artefact: the rotating aside reads as a change of the document.
        early = diff_between(archive, at(DAYS[0]), at(DAYS[1]), url=url_of(0))
        assert early.changed

        report = reparse(archive)

        assert [p.url for p in report.pages] == [url_of(0), url_of(1)]
        doc, plain = report.pages
        assert (doc.repointed, doc.versions_before, doc.versions_after) == (4, 4, 2)
        assert (doc.new_versions, doc.superseded) == (2, 4)
        # The page without an aside: the current parser derives the same records.
        assert (plain.repointed, plain.relabelled, plain.changed) == (0, 2, False)

        after = versions(archive, url_of(0))
        assert len({v for v, _ in after}) == 2
        assert {p for _, p in after} == {model.PARSER_VERSION}
        rows = archive.conn.execute(
            "SELECT s.changed, s.outcome FROM snapshots s JOIN pages p ON p.id = s.page_id"
            " WHERE p.url = ? ORDER BY s.captured_at", (url_of(0),)).fetchall()
        assert [tuple(r) for r in rows] == [(1, "new"), (0, "unchanged"), (1, "new"),
                                            (0, "unchanged")]
        # The artefact is gone from the diff; the real edit stays.
        assert not diff_between(archive, at(DAYS[0]), at(DAYS[1]), url=url_of(0)).changed
        edit = diff_between(archive, at(DAYS[1]), at(DAYS[2]), url=url_of(0))
        assert edit.changed and "Paris" in str(edit.to_dict()["pages"][0]["text_diff"])

        # The old derivation is kept and says which parser made it; the FTS index follows.
        old = archive.conn.execute(
            "SELECT parser_version, superseded_by_parser, text FROM superseded_versions"
            " ORDER BY id").fetchall()
        assert len(old) == 4 and {(r[0], r[1]) for r in old} == {(OLD_PARSER,
                                                                  model.PARSER_VERSION)}
        assert [a in r[2] for r, a in zip(old, ASIDES, strict=True)] == [True] * 4
        links = archive.conn.execute(
            "SELECT count(*) FROM reparsed_snapshots WHERE superseded_id IS NOT NULL"
            " AND old_parser_version = ? AND new_parser_version = ?",
            (OLD_PARSER, model.PARSER_VERSION)).fetchone()[0]
        assert links == 4
        assert search(archive, "rail") == []
        assert search(archive, "Paris")
        for fts in ("versions_fts", "sections_fts", "items_fts"):
            archive.conn.execute(f"INSERT INTO {fts} ({fts}) VALUES ('integrity-check')")
        assert check(archive.conn).ok


def test_a_second_reparse_finds_nothing_and_all_changes_nothing(old_db: Path) -> None:
    with Archive.open(old_db) as archive:
        reparse(archive)
    first = dump(old_db)
    with Archive.open(old_db) as archive:
        assert reparse(archive).pages == []
        again = reparse(archive, every=True)
        assert len(again.pages) == 2 and again.changed_pages == []
    assert dump(old_db) == first


def test_dry_run_counts_and_shows_a_sample_but_writes_nothing(old_db: Path) -> None:
    before = dump(old_db)
    with Archive.open(old_db, readonly=True) as archive:
        report = reparse(archive, dry_run=True)
    assert dump(old_db) == before
    doc = report.changed_pages
    assert [p.url for p in doc] == [url_of(0)]
    assert (doc[0].repointed, doc[0].versions_before, doc[0].versions_after) == (4, 4, 2)
    assert len(report.samples) == 1 and ASIDES[0].split(": ")[1] in report.samples[0]


def test_reparse_of_one_url_leaves_the_others(old_db: Path) -> None:
    with Archive.open(old_db) as archive:
        report = reparse(archive, page_ids=[archive.page_id(url_of(1)) or 0])
        assert [p.url for p in report.pages] == [url_of(1)]
        assert {p for _, p in versions(archive, url_of(0))} == {OLD_PARSER}


def test_diff_across_a_parser_boundary_says_so_until_reparse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "upgraded.db"
    build(db, monkeypatch, old_days=2)  # parsed by the old rule on days 1-2, the new on 3-4
    with Archive.open(db) as archive:
        crossing = diff_between(archive, at(DAYS[1]), at(DAYS[2]), url=url_of(0))
        data = crossing.to_dict()
        assert data["parsers"] == {"from": [OLD_PARSER], "to": [model.PARSER_VERSION],
                                   "pages": 1}
        assert data["pages"][0]["parsers"] == [OLD_PARSER, model.PARSER_VERSION]
        for fmt in ("text", "html"):
            assert "parser boundary: 1 page(s)" in render(crossing, fmt)
            assert "coop-archive reparse" in render(crossing, fmt)
        same = diff_between(archive, at(DAYS[2]), at(DAYS[3]), url=url_of(0))
        assert same.to_dict()["parsers"] is None and "parser boundary" not in render(same,
                                                                                     "text")
        reparse(archive)
        after = diff_between(archive, at(DAYS[1]), at(DAYS[2]), url=url_of(0))
        assert after.parsers is None and "parser boundary" not in render(after, "text")
        # Only the real edit is left: the aside the old rule kept is no change.
        text = str(after.to_dict()["pages"][0]["text_diff"])
        assert "Paris" in text and "Trending" not in text


def test_the_schema_doc_queries_compare_the_two_derivations(old_db: Path) -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "schema.md").read_text("utf-8")
    part = doc[doc.index("## Reparse"):doc.index("## Views")]
    queries = [q.strip() for q in part.split("```")[1::2]]
    assert len(queries) == 2
    with Archive.open(old_db) as archive:
        reparse(archive)
        rows = archive.conn.execute(queries[0]).fetchall()
        assert len(rows) == 4  # the four snapshots of the document with the rotating aside
        for r in rows:
            assert (r["old_parser_version"], r["new_parser_version"]) == (OLD_PARSER,
                                                                          model.PARSER_VERSION)
            assert r["old_title"] == r["new_title"] and r["old_chars"] > r["new_chars"]
        per_page = archive.conn.execute(queries[1]).fetchall()
        assert [tuple(r) for r in per_page] == [(url_of(0), OLD_PARSER, model.PARSER_VERSION,
                                                 4)]


def test_check_finds_a_full_text_index_out_of_step(old_db: Path) -> None:
    with Archive.open(old_db) as archive:
        reparse(archive)
        assert check(archive.conn).ok
        # A write that bypasses the triggers (what reparse must never do) is found.
        archive.conn.execute("DROP TRIGGER versions_au")
        archive.conn.execute("UPDATE versions SET text = 'elsewhere' WHERE id = "
                             "(SELECT min(id) FROM versions)")
        problems = check(archive.conn).problems
        # The index out of step, and (the text was edited in place) the version's hash.
        assert len(problems) == 2, problems
        assert "versions_fts does not match" in problems[0]
        assert problems[1].startswith("version content does not match its hash")
