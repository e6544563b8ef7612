"""export never follows, overwrites or deletes a file it did not create, and a failed export
leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from archive.store import Archive
from scraper.parse import parse
from tests.builders import at, capture, doc_html
from tests.cli import run_cli

URL = "http://www.state.gov/r/pa/doc.htm"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"
    body = doc_html("Doc", "Text.")
    with Archive.open(path) as a:
        capture(a, URL, at("2016-10-21"), parse(body, url=URL, content_type="text/html"),
                body=body)
    return path


@pytest.mark.parametrize(("fmt", "name", "old_temp"), [
    ("json", "out.json", "out.json.tmp"), ("warc", "out.warc", "out.warc.part")])
def test_planted_temp_names_are_neither_followed_nor_deleted(
        tmp_path: Path, db: Path, fmt: str, name: str, old_temp: str) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    (tmp_path / old_temp).symlink_to(victim)
    r = run_cli("export", str(tmp_path / name), "--format", fmt, "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious"
    assert (tmp_path / old_temp).is_symlink()  # not ours: left where it was
    assert (tmp_path / name).stat().st_size > 0
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp") and p != old_temp]


def test_a_symlink_at_the_output_is_replaced_not_followed(tmp_path: Path, db: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    out = tmp_path / "out.json"
    out.symlink_to(victim)
    r = run_cli("export", str(out), "--format", "json", "--db", str(db), "--force")
    assert r.returncode == 0, r.stderr
    assert victim.read_text() == "precious" and not out.is_symlink()


def test_a_failed_csv_export_leaves_no_directory(tmp_path: Path, db: Path) -> None:
    out = tmp_path / "new" / "csv"
    r = run_cli("export", str(out), "--format", "csv", "--db", str(db),
                "--as-of", "1999-01-01")
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("coop-archive: ") and len(r.stderr.splitlines()) == 1
    assert not (tmp_path / "new").exists()


def test_an_empty_output_name_is_a_usage_error(tmp_path: Path, db: Path) -> None:
    r = run_cli("export", "", "--format", "json", "--db", str(db))
    assert r.returncode == 2, r.stderr
    assert "empty" in r.stderr and "internal error" not in r.stderr
