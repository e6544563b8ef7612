"""What the reader commands print: no scraped escape or bidi control reaches the terminal,
one line per error with the right exit code, a header on history, each paragraph once."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from archive.store import Archive
from scraper.parse import parse
from tests.builders import at, capture
from tests.cli import run_cli

URL = "http://www.state.gov/r/pa/doc.htm"
RLO = "\u202e"
PARAGRAPH = "The two countries agreed on a plan for clean energy research."


def page(title: str, text: str) -> bytes:
    return (f"<html><head><title>{title}</title></head><body><main><h1>{title}</h1>"
            f"<h2>Section</h2><p>{text}</p></main></body></html>").encode()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "a.db"
    with Archive.open(path) as a:
        for day, title in (("2016-10-21", "Plain title"),
                           ("2016-11-15", f"Evil {RLO}txt.exe\x1b]0;pwned\x07 title")):
            body = page(title, PARAGRAPH)
            capture(a, URL, at(day), parse(body, url=URL, content_type="text/html"),
                    body=body)
    return path


def test_show_and_diff_neutralise_bidi_controls(db: Path) -> None:
    for args in (["show", URL], ["diff", URL], ["diff"], ["show", URL, "--json"]):
        r = run_cli(*args, "--db", str(db))
        assert r.returncode == 0, (args, r.stderr)
        assert RLO not in r.stdout and "\x1b]" not in r.stdout, args
        assert "txt.exe" in r.stdout, args


def test_sql_csv_neutralises_escape_sequences(db: Path) -> None:
    r = run_cli("sql", "SELECT title FROM versions ORDER BY id", "--csv", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert "\x1b" not in r.stdout and "\x07" not in r.stdout and RLO not in r.stdout
    assert r.stdout.splitlines()[0] == "title" and "pwned" in r.stdout


def test_show_prints_a_paragraph_once(db: Path) -> None:
    r = run_cli("show", URL, "--db", str(db), "--as-of", "2016-10-21")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count(PARAGRAPH) == 1, r.stdout


def test_history_has_a_header_row(db: Path) -> None:
    r = run_cli("history", URL, "--db", str(db))
    lines = r.stdout.splitlines()
    assert lines[0].split()[:3] == ["id", "captured", "at"] and "url" in lines[0]
    assert len(lines) == 3  # the header and two snapshots


@pytest.mark.parametrize(("when", "message"), [
    ("12", "'12' is not a date: write #12 (or id:12) for snapshot 12"),
    ("#99999999999999999999999", "no snapshot with id 99999999999999999999999"),
])
def test_odd_snapshot_ids_are_usage_errors(db: Path, when: str, message: str) -> None:
    r = run_cli("show", URL, "--db", str(db), "--as-of", when)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"coop-archive: {message}") and r.stderr.count("\n") == 1


def test_serve_on_a_busy_port_fails_before_saying_serving(db: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = run_cli("serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port),
                    timeout=60)
    assert r.returncode == 2, r.stderr
    assert "serving" not in r.stderr and len(r.stderr.splitlines()) == 1, r.stderr
    assert f"cannot serve on 127.0.0.1:{port}" in r.stderr
