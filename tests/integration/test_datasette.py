"""The archive in a real Datasette (its Python API, no server): a table page, a foreign key
shown as a labelled link, full-text search, and a canned query, through the JSON API."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

import datasette.app as datasette_app  # a test dependency: missing must fail, not skip
import pytest

from archive.datasette_meta import datasette_metadata
from tests import query_fixture as fx
from tests.builders import at


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("ds") / "coop-archive.db")
    fx.build(path)
    return path


def get(db: str, *paths: str) -> list[Any]:
    """GET each path from a fresh Datasette on ``db`` with our metadata; the parsed JSON."""

    async def go() -> list[Any]:
        ds = datasette_app.Datasette(files=[db], metadata=datasette_metadata(db))
        await ds.invoke_startup()
        out = []
        for path in paths:
            r = await ds.client.get(path)
            assert r.status_code == 200, (path, r.status_code, r.text[:500])
            out.append(r.json())
        return out

    return asyncio.run(go())


def test_table_page_with_metadata(db: str) -> None:
    (table, meta) = get(db, "/coop-archive/snapshots.json?_shape=objects&_size=100",
                        "/-/metadata.json")
    assert len(table["rows"]) == 18
    assert {r["outcome"] for r in table["rows"]} == {"new", "unchanged", "not_modified",
                                                     "failed", "gone"}
    tables = meta["databases"]["coop-archive"]["tables"]
    assert tables["snapshots"]["columns"]["captured_at"].startswith("When the answer came")


def test_foreign_key_is_a_labelled_link(db: str) -> None:
    (rows,) = get(db, "/coop-archive/versions.json?_shape=array&_labels=on&_size=1"
                      "&_sort=id")
    assert rows[0]["page_id"] == {"value": 1, "label": fx.HUB}
    (items,) = get(db, "/coop-archive/items.json?_shape=array&_labels=on&_size=1&_sort=id")
    assert items[0]["version_id"] == {"value": 1, "label": "U.S.-China Cooperation"}
    assert items[0]["section_id"]["label"] == "Fact Sheets"


def test_full_text_search_on_tables_and_views(db: str) -> None:
    items, hub_items, versions = get(
        db,
        "/coop-archive/items.json?_search=EcoPartnerships&_shape=array",
        "/coop-archive/hub_items.json?_search=EcoPartnerships&_shape=array",
        "/coop-archive/version_spans.json?_search=%22Paris+Agreement%22&_shape=array",
    )
    assert [r["title"] for r in items] == ["EcoPartnerships Program"] * 4
    assert {(r["page_url"], r["section"]) for r in hub_items} == {(fx.HUB, "Media Notes")}
    assert {r["page_url"] for r in versions} == {fx.HUB, fx.STRATEGIC, fx.CLIMATE}


def test_canned_queries_run(db: str) -> None:
    (changes, history, index) = get(
        db, "/coop-archive/hub_changes.json?_shape=array",
        "/coop-archive/item_first_last_seen.json?_shape=array",
        "/coop-archive.json")
    assert changes == [{"change": "removed", "title": "Economic Track Resource",
                        "url": fx.ECONOMIC}]
    economic = [r for r in history if r["title"] == "Economic Track Resource"]
    assert economic == [{"title": "Economic Track Resource", "first_seen": at("2016-06-20"),
                         "last_seen": at("2016-11-15"), "removed_at": at("2017-01-25"),
                         "versions": 3}]
    # The views are listed and searchable, and the canned queries too.
    assert {"hub_items", "item_history", "latest_versions", "version_spans"} <= {
        v["name"] for v in index["views"]}
    assert len(index["queries"]) == 10


def test_datasette_leaves_the_archive_unchanged(db: str) -> None:
    before = hashlib.sha256(Path(db).read_bytes()).hexdigest()
    get(db, "/coop-archive/pages.json", "/coop-archive/storage.json")
    assert hashlib.sha256(Path(db).read_bytes()).hexdigest() == before


def test_metadata_describes_only_columns_that_exist(tmp_path: Path) -> None:
    """The labels must follow the schema: a renamed column would silently lose its docs."""
    import sqlite3

    from archive.store import Archive

    path = tmp_path / "empty.db"
    Archive.open(path).close()
    conn = sqlite3.connect(path)
    meta = datasette_metadata(path)["databases"]["empty"]["tables"]
    for table, spec in meta.items():
        have = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        assert have, f"metadata describes a missing table or view {table}"
        assert set(spec.get("columns", {})) <= have, (table, set(spec["columns"]) - have)
    conn.close()
