"""``export`` of the tables beside the versions: the text around the main content as stored
(outside_texts, text_lines; snapshots.outside_text_id points at it), what reparse replaced
(superseded_versions, reparsed_snapshots) and the notifications (outbox), on an archive
crawled across a parser upgrade, reparsed, with a notification queued."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from archive import export, outbox
from archive.store import Archive
from scraper.cli.commands_query import export as export_command
from scraper.sources.reparse import reparse
from tests.builders import at
from tests.reparse_fixture import ASIDES, DAYS, build, url_of

NEW_TABLES = ("outside_texts", "text_lines", "superseded_versions", "reparsed_snapshots",
              "outbox")


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "a.db"
    build(path, monkeypatch)  # doc/0 with a rotating aside, doc/1 without; old parser
    with Archive.open(path) as archive:
        reparse(archive)
        outbox.enqueue(archive, 1, target_key="k", target="json://127.0.0.1:9/hook",
                       message=outbox.Message("1 page changed", "text", "<p>html</p>"),
                       watch="docs")
    return path


def _json(archive: Archive, tmp_path: Path, **kw: Any) -> dict[str, list[dict[str, Any]]]:
    out = tmp_path / f"x{len(list(tmp_path.iterdir()))}.json"
    export.export(archive, out, "json", **kw)
    tables: dict[str, list[dict[str, Any]]] = json.loads(out.read_text("utf-8"))["tables"]
    return tables


def _texts(tables: dict[str, list[dict[str, Any]]]) -> dict[int, str]:
    """Each exported outside text rebuilt from the two exported tables."""
    line = {r["line_id"]: r["text"] for r in tables["text_lines"]}
    lines: dict[int, list[str]] = defaultdict(list)
    for r in sorted(tables["outside_texts"], key=lambda r: (r["outside_text_id"], r["position"])):
        lines[r["outside_text_id"]].append(line[r["line_id"]])
    return {k: "\n".join(v) for k, v in lines.items()}


def test_the_new_tables_rebuild_what_the_archive_holds(db: Path, tmp_path: Path) -> None:
    view = {r[0]: r[1] for r in sqlite3.connect(db).execute(
        "SELECT snapshot_id, text FROM snapshot_outside_text")}
    assert len(view) == len(DAYS)  # doc/0 on each day; doc/1 has no aside
    with Archive.open(db, readonly=True) as archive:
        stats = export.export(archive, tmp_path / "csv", "csv")
        tables = _json(archive, tmp_path)
    assert {t: stats.rows[t] for t in NEW_TABLES} == {t: len(tables[t]) for t in NEW_TABLES}
    texts = _texts(tables)
    shown = {s["snapshot_id"]: texts[s["outside_text_id"]]
             for s in tables["snapshots"] if s["outside_text_id"] is not None}
    assert shown == view
    assert sorted({t for t in shown.values()}) == sorted(ASIDES)
    assert len(tables["text_lines"]) == len(ASIDES)  # each line once, however often shown
    # reparse: doc/0's four old-rule versions replaced, its four snapshots repointed.
    assert [r["page_url"] for r in tables["superseded_versions"]] == [url_of(0)] * 4
    assert {r["page_url"] for r in tables["reparsed_snapshots"]} == {url_of(0)}
    assert len(tables["reparsed_snapshots"]) == 4
    (note,) = tables["outbox"]
    assert (note["seed_url"], note["watch"], note["subject"], note["delivered_at"]) == (
        url_of(0), "docs", "1 page changed", None)
    # CSV: the same rows, NULL as an empty field.
    with open(tmp_path / "csv" / "outside_texts.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(int(r["outside_text_id"]), int(r["position"]), int(r["line_id"])) for r in rows] == [
        (r["outside_text_id"], r["position"], r["line_id"]) for r in tables["outside_texts"]]


def test_as_of_and_a_watch_s_pages_filter_the_new_tables(db: Path, tmp_path: Path) -> None:
    with Archive.open(db, readonly=True) as archive:
        early = _json(archive, tmp_path, as_of=at(DAYS[1]))
        doc1 = _json(archive, tmp_path, pages={url_of(1)})
        doc0 = _json(archive, tmp_path, pages={url_of(0)}, as_of=at(DAYS[0]))
    # As of the second day: the texts the snapshots by then showed, only those lines.
    assert sorted(_texts(early).values()) == sorted(ASIDES[:2])
    assert sorted(r["text"] for r in early["text_lines"]) == sorted(ASIDES[:2])
    assert {r["captured_at"] for r in early["reparsed_snapshots"]} == {at(DAYS[0]),
                                                                      at(DAYS[1])}
    assert early["outbox"] == []  # queued after that day
    # The page without an aside: nothing around its main content, nothing reparsed, and the
    # notification is its run's seed's (doc/0), not its own.
    assert all(not doc1[t] for t in NEW_TABLES)
    assert list(_texts(doc0).values()) == [ASIDES[0]]
    assert len(doc0["superseded_versions"]) == 1


def test_the_cli_offers_every_table_for_jsonl() -> None:
    (table,) = [p for p in export_command.params if p.name == "table"]
    assert tuple(table.type.choices) == export.EXPORT_TABLES  # type: ignore[attr-defined]
