"""docs/schema.md cannot rot: every example query runs on a fresh demo archive and must print
the table that follows it in the doc; every table, view and column is documented; the doc's
examples are Datasette's canned queries.

To refresh the outputs after a deliberate change (e.g. the demo site changed):
``COOP_UPDATE_SCHEMA_DOC=1 .venv/bin/pytest tests/e2e/test_schema_doc.py`` rewrites them.

The demo dates its captures on the days of its two copies of the site, but the time of day
comes from the clock and the order of fetches across hosts varies, and so may the server's
port: outputs are compared with each timestamp cut to its date and each loopback origin
spelled ``http://127.0.0.1:PORT``. Examples show no ids that depend on fetch order.
"""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from archive.datasette_meta import canned_queries
from archive.schema import SCHEMA_VERSION
from tests.cli import run_cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "schema.md"
UPDATE = os.environ.get("COOP_UPDATE_SCHEMA_DOC") == "1"

_TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_ORIGIN_RE = re.compile(r"http://(127\.\d+\.\d+\.\d+|localhost):\d+")


@dataclass
class Example:
    """One ```sql block of the doc, the title above it and the output table after it."""

    name: str
    title: str
    sql: str
    output: list[str]
    out_start: int  # line index where the output table starts (or would)
    out_end: int


def parse_examples(text: str) -> list[Example]:
    """Every ```sql block with its ``-- name:`` line, heading and following Markdown table."""
    lines = text.splitlines()
    out: list[Example] = []
    title = ""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("### "):
            title = re.sub(r"^###\s+\d+\.\s*", "", line).strip()
        if line.strip() == "```sql":
            j = i + 1
            while lines[j].strip() != "```":
                j += 1
            body = lines[i + 1:j]
            m = re.match(r"--\s*name:\s*(\w+)", body[0]) if body else None
            assert m, f"docs/schema.md line {i + 1}: an example starts with '-- name: <name>'"
            sql = "\n".join(body[1:]).strip()
            k = j + 1
            while k < len(lines) and not lines[k].strip():
                k += 1
            start = k
            while k < len(lines) and lines[k].startswith("|"):
                k += 1
            out.append(Example(m.group(1), title, sql, lines[start:k], start, k))
            i = k
            continue
        i += 1
    return out


def _cell(v: Any) -> str:
    if v is None:
        return "NULL"
    return str(v).replace("\n", " ").replace("|", "\\|")


def render(columns: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
    """A result as the doc's Markdown table."""
    lines = ["| " + " | ".join(columns) + " |", "| " + " | ".join("---" for _ in columns) + " |"]
    lines += ["| " + " | ".join(_cell(v) for v in r) + " |" for r in rows]
    return lines


def normalise(lines: list[str]) -> list[str]:
    """Timestamps cut to their date, loopback origins to one spelling."""
    text = "\n".join(lines)
    text = _ORIGIN_RE.sub("http://127.0.0.1:PORT", text)
    return _TS_RE.sub(lambda m: m.group(0)[:10] + "T…Z", text).splitlines()


def run_example(db: str, sql: str) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        cur = conn.execute(sql)
        return render([d[0] for d in cur.description], cur.fetchall())
    finally:
        conn.close()


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh demo archive, made by the real command in a subprocess."""
    db = str(tmp_path_factory.mktemp("demo") / "demo.db")
    proc = run_cli("demo", "--db", db, timeout=240, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    return db


def test_doc_examples_match_the_demo_archive(demo_db: str) -> None:
    text = DOC.read_text(encoding="utf-8")
    examples = parse_examples(text)
    assert len(examples) >= 10
    if UPDATE:
        lines = text.splitlines()
        for ex in reversed(examples):
            lines[ex.out_start:ex.out_end] = run_example(demo_db, ex.sql)
        DOC.write_text("\n".join(lines) + "\n", encoding="utf-8")
        examples = parse_examples(DOC.read_text(encoding="utf-8"))
    for ex in examples:
        got = normalise(run_example(demo_db, ex.sql))
        assert got == normalise(ex.output), f"example {ex.name!r} ({ex.title}) is stale"
        assert len(ex.output) > 2, f"example {ex.name!r} shows no rows on the demo archive"


def test_every_table_view_and_column_is_documented(tmp_path: Path) -> None:
    from archive.store import Archive

    text = DOC.read_text(encoding="utf-8")
    db = tmp_path / "a.db"
    Archive.open(db).close()
    conn = sqlite3.connect(db)
    objects = conn.execute(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view')"
        " AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%_fts_%'").fetchall()
    assert f"currently {SCHEMA_VERSION}" in text
    for name, _kind in objects:
        assert name in text, f"{name} is not documented in docs/schema.md"
        if name.endswith("_fts"):
            continue  # documented together, with their columns, under "Full-text indexes"
        heading = f"\n### {name}\n"
        assert heading in text, f"no section '### {name}' in docs/schema.md"
        section = text[text.index(heading) + len(heading):]
        section = section[: section.find("\n### ")]
        first_cells = {c.strip() for line in section.splitlines() if line.startswith("| ")
                       for c in line.split("|")[1].split(",")}
        for (col,) in conn.execute(f"SELECT name FROM pragma_table_info('{name}')"):
            assert col in first_cells, f"{name}.{col} is not documented in docs/schema.md"
    conn.close()


def test_examples_are_the_datasette_canned_queries() -> None:
    examples = parse_examples(DOC.read_text(encoding="utf-8"))
    queries = canned_queries()
    assert list(queries) == [ex.name for ex in examples]
    for ex in examples:
        assert queries[ex.name]["sql"] == ex.sql, ex.name
        assert queries[ex.name]["title"] == ex.title, ex.name


def test_examples_run_on_the_fixture_archive(tmp_path: Path) -> None:
    """Until (and besides) the demo: every example is valid SQL over the schema."""
    from tests.query_fixture import build

    db = str(tmp_path / "f.db")
    build(db)
    for ex in parse_examples(DOC.read_text(encoding="utf-8")):
        assert len(run_example(db, ex.sql)) >= 2, ex.name


def test_canned_query_names_do_not_hide_tables_or_views(tmp_path: Path) -> None:
    """Datasette serves a canned query at /db/<name>: one named like a table would hide it."""
    from archive.store import Archive

    db = tmp_path / "a.db"
    Archive.open(db).close()
    conn = sqlite3.connect(db)
    names = {n for (n,) in conn.execute("SELECT name FROM sqlite_master")}
    conn.close()
    assert not names & set(canned_queries())
