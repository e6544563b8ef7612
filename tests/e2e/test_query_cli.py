"""The research commands (show, search, sql, export, serve, rebuild-fts) run for real:
``python -m scraper`` in a subprocess on a real SQLite file (tests/query_fixture.py)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests import query_fixture as fx
from tests.builders import at
from tests.cli import cli_command, run_cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("cli") / "fixture.db")
    fx.build(path)
    return path


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, cwd=ROOT)


def sha(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- the four questions ----------------------------------------------------------------------

def test_q1_show_hub_as_of_1_november_2016(db: str) -> None:
    p = run("show", "--db", db, "--as-of", "2016-11-01", "--json")
    assert p.returncode == 0, p.stderr
    view = json.loads(p.stdout)
    assert view["status"] == "ok" and view["url"] == fx.HUB
    assert [i["title"] for i in view["page"]["items"]][:3] == [
        "Climate Change and Clean Energy", "Strategic Track Select Outcomes",
        "Economic Track Resource"]
    assert len(view["page"]["items"]) == 9
    assert view["snapshot"]["captured_at"] == at("2016-10-21")
    text = run("show", "--db", db, "--as-of", "2016-11-01")
    assert text.returncode == 0
    out = text.stdout
    assert out.startswith(fx.HUB + "\nas of 2016-11-01T23:59:59.999999Z: snapshot ")
    assert "updated: 2016-10-21" in out
    assert "### Fact Sheets" in out and "## U.S.-China Climate Change Working Group (CCWG)" in out
    assert f"  - Economic Track Resource <{fx.ECONOMIC}>" in out
    assert "-- text --" in out


def test_q2_sql_item_history(db: str) -> None:
    p = run("sql", "--db", db, "--json",
            "SELECT title, first_seen, removed_at FROM item_history WHERE url = :u",
            "-p", "u", fx.ECONOMIC)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == [{"title": "Economic Track Resource",
                                     "first_seen": at("2016-06-20"),
                                     "removed_at": at("2017-01-25")}]


def test_q3_sql_versions_of_the_strategic_track_fact_sheet(db: str) -> None:
    p = run("sql", "--db", db, "--csv",
            f"SELECT first_seen, last_seen, snapshots FROM version_spans"
            f" WHERE page_url = '{fx.STRATEGIC}' ORDER BY first_seen")
    assert p.returncode == 0, p.stderr
    assert list(csv.reader(p.stdout.splitlines())) == [
        ["first_seen", "last_seen", "snapshots"],
        [at("2016-06-20"), at("2016-08-10"), "3"],
        [at("2016-10-21"), at("2016-10-21"), "1"],
    ]


def test_q4_search_paris_agreement_pages(db: str) -> None:
    p = run("search", "--db", db, '"Paris Agreement"', "--kind", "page", "--json")
    assert p.returncode == 0, p.stderr
    got = {h["page_url"]: h["first_seen"] for h in json.loads(p.stdout)}
    assert got == {fx.HUB: at("2016-06-20"), fx.STRATEGIC: at("2016-06-20"),
                   fx.CLIMATE: at("2016-08-10")}


# -- show ------------------------------------------------------------------------------------

def test_show_says_when_the_page_was_gone_or_failed(db: str) -> None:
    gone = run("show", fx.STRATEGIC, "--db", db, "--as-of", "2017-02-01")
    assert gone.returncode == 0
    assert "GONE (HTTP 404 at 2017-01-25T12:00:00.000000Z" in gone.stdout
    failed = run("show", "--db", db, "--as-of", "2016-09-06", "--no-text")
    assert "failed: timed out; showing the last good capture" in failed.stdout
    assert "updated: 2016-08-09" in failed.stdout and "-- text --" not in failed.stdout


@pytest.mark.parametrize("args, message", [
    (["show", "https://nowhere.example/"], "no page https://nowhere.example/"),
    (["show", "--as-of", "2015-01-01"], "before the first snapshot"),
    (["show", "--as-of", "soon"], "not a date"),
])
def test_show_usage_errors(db: str, args: list[str], message: str) -> None:
    p = run(*args, "--db", db)
    assert p.returncode == 2
    assert message in p.stderr and len(p.stderr.strip().splitlines()) == 1


def test_missing_archive_is_exit_3(tmp_path: Path) -> None:
    p = run("show", "--db", str(tmp_path / "none.db"))
    assert p.returncode == 3 and "no archive" in p.stderr


# -- search ----------------------------------------------------------------------------------

def test_search_text_output(db: str) -> None:
    p = run("search", "--db", db, "EcoPartnerships", "--kind", "item")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[:3] == [
        f"  1. [item] {fx.HUB}  § Media Notes",
        f"     item: EcoPartnerships Program <{fx.ECO}>",
        "     [EcoPartnerships] Program",
    ]
    assert lines[3].startswith(f"     seen {at('2016-06-20')} .. {at('2017-01-25')} in "
                               "version(s) 1,4,6,8  (rank -")
    assert len(lines) == 4


def test_search_as_of(db: str) -> None:
    before = run("search", "--db", db, "CCWG", "--as-of", "2016-09-30", "--json")
    assert json.loads(before.stdout) == []
    after = run("search", "--db", db, "CCWG", "--as-of", "2016-11-01", "--json")
    assert {h["kind"] for h in json.loads(after.stdout)} == {"page", "section", "item"}
    none = run("search", "--db", db, "CCWG", "--as-of", "2016-09-30")
    assert none.returncode == 0 and none.stdout == "" and "no matches" in none.stderr


@pytest.mark.parametrize("bad", ['"unbalanced', "NEAR(", "AND"])
def test_search_syntax_error_is_one_line_exit_2(db: str, bad: str) -> None:
    p = run("search", "--db", db, bad)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("coop-archive: bad search query")
    assert "Traceback" not in p.stderr


# -- sql -------------------------------------------------------------------------------------

@pytest.mark.parametrize("stmt", [
    "DELETE FROM snapshots", "UPDATE pages SET url = 'x'",
    "ATTACH DATABASE '{tmp}/new.db' AS x", "PRAGMA writable_schema = 1",
    "VACUUM INTO '{tmp}/copy.db'", "INSERT INTO pages VALUES (9, 'u', 'a', 'a')",
])
def test_sql_refuses_writes_exit_2_archive_unchanged(db: str, tmp_path: Path,
                                                     stmt: str) -> None:
    before = sha(db)
    p = run("sql", "--db", db, stmt.format(tmp=tmp_path))
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and "refused" in lines[0] and "read" in lines[0]
    assert sha(db) == before
    assert list(tmp_path.iterdir()) == []


def test_sql_table_output_and_errors(db: str) -> None:
    p = run("sql", "--db", db, "SELECT id, status FROM runs WHERE id <= 4 ORDER BY id")
    assert p.stdout.splitlines() == [
        "id  status", "--  --------", "1   complete", "2   complete", "3   complete",
        "4   partial"]
    bad = run("sql", "--db", db, "SELECT * FROM nope")
    assert bad.returncode == 2 and "no such table: nope" in bad.stderr


# -- export ----------------------------------------------------------------------------------

def test_export_csv_json_jsonl(db: str, tmp_path: Path) -> None:
    p = run("export", "--db", db, "--format", "csv", str(tmp_path / "csv"))
    assert p.returncode == 0, p.stderr
    assert "29 items" in p.stderr
    with open(tmp_path / "csv" / "items.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["page_url"] for r in rows} == {fx.HUB}
    assert set(rows[0]) >= {"page_url", "section", "title", "url", "summary",
                            "version_first_seen", "version_last_seen"}
    p = run("export", "--db", db, "--format", "json", "--as-of", "2016-07-01",
            str(tmp_path / "a.json"))
    assert p.returncode == 0, p.stderr
    doc = json.loads((tmp_path / "a.json").read_text(encoding="utf-8"))
    assert len(doc["tables"]["items"]) == 5
    p = run("export", "--db", db, "--format", "jsonl", "--table", "snapshots",
            str(tmp_path / "s.jsonl"))
    lines = (tmp_path / "s.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["outcome"] for x in lines][:3] == ["new", "new", "new"]
    assert len(lines) == 18


def test_export_to_standard_output_streams_what_a_file_would_hold(db: str,
                                                                  tmp_path: Path) -> None:
    p = run("export", "--db", db, "--format", "jsonl", "--table", "snapshots", "-")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert len(lines) == 18 and json.loads(lines[0])["outcome"] == "new"
    assert run("export", "--db", db, "--format", "jsonl", "--table", "snapshots",
               str(tmp_path / "s.jsonl")).returncode == 0
    assert p.stdout == (tmp_path / "s.jsonl").read_text(encoding="utf-8")
    p = run("export", "--db", db, "--format", "json", "--as-of", "2016-07-01", "-")
    assert p.returncode == 0, p.stderr
    assert len(json.loads(p.stdout)["tables"]["items"]) == 5
    p = run("export", "--db", db, "--format", "csv", "-")
    assert p.returncode == 2 and "cannot go to standard output" in p.stderr


def test_export_warc_dispatches_to_archive_warc(db: str, tmp_path: Path) -> None:
    out = tmp_path / "a.warc.gz"
    p = run("export", "--db", db, "--format", "warc", str(out))
    assert p.returncode == 0, p.stderr
    assert out.stat().st_size > 0


# -- rebuild-fts and serve -------------------------------------------------------------------

def test_rebuild_fts(db: str, tmp_path: Path) -> None:
    copy = tmp_path / "c.db"
    copy.write_bytes(Path(db).read_bytes())
    p = run("rebuild-fts", "--db", str(copy))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == ("versions_fts: 9 rows, sections_fts: 18 rows, "
                                "items_fts: 29 rows, text_lines_fts: 0 rows")


def test_serve_without_datasette_says_how_to_install(db: str) -> None:
    # find_spec returning None is how the command sees a missing optional dependency.
    code = ("import sys, importlib.util as u; real = u.find_spec; "
            "u.find_spec = lambda n, *a: None if n == 'datasette' else real(n, *a); "
            "from scraper.cli import main; sys.argv = ['coop-archive'] + sys.argv[1:]; main()")
    p = subprocess.run([sys.executable, "-c", code, "serve", "--db", db],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert p.returncode == 2
    assert "pip install 'coop-archive[datasette]'" in p.stderr


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_datasette_with_the_metadata(db: str) -> None:
    port = _free_port()
    proc = subprocess.Popen(cli_command("serve", "--db", db, "--port", str(port)), cwd=ROOT,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONWARNINGS": ""})
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/fixture/item_history.json?_shape=array",
                        timeout=2) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.2)
        if body is None:
            proc.terminate()
            pytest.fail(f"datasette did not answer: {proc.communicate(timeout=10)[1]}")
        assert len(body) == 9
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/-/metadata.json") as r:
            meta = json.loads(r.read())
        assert "item_first_last_seen" in meta["databases"]["fixture"]["queries"]
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.communicate(timeout=10)


# -- outputs that must never destroy or garble anything -------------------------------------


@pytest.mark.parametrize("fmt", ["json", "jsonl", "warc"])
def test_export_never_overwrites_the_archive(db: str, fmt: str) -> None:
    before = sha(db)
    r = run("export", "--db", db, "--format", fmt, db)
    assert r.returncode == 2 and "is the archive itself" in r.stderr
    r = run("export", "--db", db, "--format", fmt, db + "-wal")
    assert r.returncode == 2
    assert sha(db) == before


def test_export_refuses_an_existing_output_unless_forced(db: str, tmp_path: Path) -> None:
    out = tmp_path / "items.json"
    out.write_text("precious")
    r = run("export", "--db", db, "--format", "json", str(out))
    assert r.returncode == 2 and "--force" in r.stderr
    assert out.read_text() == "precious"
    assert run("export", "--db", db, "--format", "json", str(out), "--force").returncode == 0
    assert json.loads(out.read_text())["tables"]["items"]
    r = run("export", "--db", db, "--format", "csv", str(out))  # a file where a dir is wanted
    assert r.returncode == 2 and "not a directory" in r.stderr
    r = run("export", "--db", db, "--format", "json", str(tmp_path))  # a dir where a file is
    assert r.returncode == 2 and "is a directory" in r.stderr
    r = run("export", "--db", db, "--format", "json", str(tmp_path / "x.json"), "--from",
            "2016-10-21")
    assert r.returncode == 2 and "--from goes with --format warc" in r.stderr


def test_sql_blobs_come_out_as_hex_in_every_format(db: str) -> None:
    q = "SELECT x'00ff' AS b"
    r = run("sql", "--db", db, q, "--json")
    assert r.returncode == 0 and json.loads(r.stdout) == [{"b": "00ff"}]
    r = run("sql", "--db", db, q, "--csv")
    assert r.stdout.splitlines() == ["b", "00ff"]


def test_search_with_punctuation_is_read_as_words(db: str) -> None:
    r = run("search", "--db", db, "U.S.-China", "--json")
    assert r.returncode == 0, r.stderr
    assert all("U.S.-China" in h["snippet"].replace("[", "").replace("]", "")
               for h in json.loads(r.stdout))


def test_show_neutralises_terminal_escapes_in_scraped_text(tmp_path: Path) -> None:
    from archive.model import Item, Page, Section
    from archive.store import Archive
    from tests.builders import capture

    path = tmp_path / "esc.db"
    url = "http://127.0.0.2/hub"
    with Archive.open(path) as a:
        capture(a, url, at("2016-10-21"), Page(
            url=url, title="Hub \x1b[2J\x1b[31mRED", text="x",
            sections=[Section("S", 2)], items=[Item("Bell\x07", None, "CR\rover", 0)]))
    r = run("show", url, "--db", str(path))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and "\r" not in r.stdout
    assert "Hub \ufffd[2J\ufffd[31mRED" in r.stdout
    r = run("show", url, "--db", str(path), "--json")
    assert json.loads(r.stdout)["page"]["title"] == "Hub \x1b[2J\x1b[31mRED"  # data intact
