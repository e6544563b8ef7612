"""``history``'s listing, byte for byte, on a small archive with every kind of row: a new
version, unchanged, 304, gone, back, failed (an error with a new line and a control
character), suspect, truncated (a reason with a new line), a URL with non-ASCII and a control
character, ids and versions of several widths. The expected text is the listing as it was
before the formatting was made cheap (docs/benchmarks.md section 5): it must not change."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from archive.history import history_text
from archive.model import Page
from archive.store import Archive
from archive.text import json_safe
from archive.vocab import HISTORY_COLUMNS
from tests.builders import at, capture
from tests.cli import run_cli

HUB = "http://127.0.0.1:9/hub"
ODD = "http://127.0.0.1:9/caf\u00e9/\u202eexe"


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("history") / "a.db"
    with Archive.open(path) as a:
        capture(a, HUB, at("2016-10-21"), Page(HUB, title="Hub", text="one"))
        capture(a, HUB, at("2016-10-22"), Page(HUB, title="Hub", text="one"))
        capture(a, HUB, at("2016-10-23"), status=304)
        capture(a, HUB, at("2016-10-24"), Page(HUB, title="Hub", text="two"), suspect=True)
        capture(a, HUB, at("2016-10-25"), error="timed out\nafter 30 s \x1b[31m \x9b2J")
        capture(a, HUB, at("2016-10-26"), status=404, body=b"gone")
        capture(a, ODD, at("2016-10-26", 13),
                Page(ODD, title="Caf\u00e9", text="x", truncated="page budget\n(2 pages)"))
        for day in range(1, 10):  # ids and versions past one digit
            capture(a, HUB, at(f"2016-11-{day:02d}"), Page(HUB, title="Hub", text=f"v{day}"))
    return path


EXPECTED = "".join(line + "\n" for line in (
    "    id captured at (UTC)           http version  outcome      url  (* changed)",
    "     1 2016-10-21T12:00:00.000000Z  200 v1     * new          http://127.0.0.1:9/hub",
    "     2 2016-10-22T12:00:00.000000Z  200 v1       unchanged    http://127.0.0.1:9/hub",
    "     3 2016-10-23T12:00:00.000000Z  304 v1       not_modified http://127.0.0.1:9/hub",
    "     4 2016-10-24T12:00:00.000000Z  200 v2       new          http://127.0.0.1:9/hub suspect",
    "     5 2016-10-25T12:00:00.000000Z    - v-       failed       "
    "http://127.0.0.1:9/hub  timed out after 30 s \ufffd[31m \ufffd2J",
    "     6 2016-10-26T12:00:00.000000Z  404 v-     * gone         http://127.0.0.1:9/hub",
    "     7 2016-10-26T13:00:00.000000Z  200 v3     * new          "
    "http://127.0.0.1:9/caf\u00e9/\ufffdexe truncated (page budget (2 pages))",
    "     8 2016-11-01T12:00:00.000000Z  200 v4     * new          http://127.0.0.1:9/hub",
    "     9 2016-11-02T12:00:00.000000Z  200 v5     * new          http://127.0.0.1:9/hub",
    "    10 2016-11-03T12:00:00.000000Z  200 v6     * new          http://127.0.0.1:9/hub",
    "    11 2016-11-04T12:00:00.000000Z  200 v7     * new          http://127.0.0.1:9/hub",
    "    12 2016-11-05T12:00:00.000000Z  200 v8     * new          http://127.0.0.1:9/hub",
    "    13 2016-11-06T12:00:00.000000Z  200 v9     * new          http://127.0.0.1:9/hub",
    "    14 2016-11-07T12:00:00.000000Z  200 v10    * new          http://127.0.0.1:9/hub",
    "    15 2016-11-08T12:00:00.000000Z  200 v11    * new          http://127.0.0.1:9/hub",
    "    16 2016-11-09T12:00:00.000000Z  200 v12    * new          http://127.0.0.1:9/hub",
))


def test_the_listing_of_every_page_is_unchanged(db: Path) -> None:
    r = run_cli("history", "--db", str(db))
    assert r.returncode == 0, r.stderr
    assert r.stdout == EXPECTED


def test_the_listing_of_one_page_is_its_rows_of_every_page(db: Path) -> None:
    r = run_cli("history", ODD, "--db", str(db))
    assert r.returncode == 0, r.stderr
    lines = EXPECTED.splitlines(keepends=True)
    assert r.stdout == lines[0] + lines[7]


def test_json_lines_are_unchanged_but_for_control_characters_escaped(db: Path) -> None:
    # json escapes C0 itself; the C1 CSI (U+009B) and the right-to-left override (U+202E)
    # are escaped too, so that no scraped character reaches the terminal raw
    r = run_cli("history", "--db", str(db), "--json")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 16
    assert lines[4] == (
        '{"id": 5, "url": "http://127.0.0.1:9/hub", "run_id": 5, "captured_at": '
        '"2016-10-25T12:00:00.000000Z", "source": "crawl", "outcome": "failed", '
        '"http_status": null, "final_url": null, "version_id": null, "changed": 0, '
        '"suspect": 0, "error": "timed out\\nafter 30 s \\u001b[31m \\u009b2J", "truncated": null}')
    assert lines[6] == (
        '{"id": 7, "url": "http://127.0.0.1:9/caf\u00e9/\\u202eexe", "run_id": 7, "captured_at": '
        '"2016-10-26T13:00:00.000000Z", "source": "crawl", "outcome": "new", '
        '"http_status": 200, "final_url": "http://127.0.0.1:9/caf\u00e9/\\u202eexe", '
        '"version_id": 3, "changed": 1, "suspect": 0, "error": null, '
        '"truncated": "page budget\\n(2 pages)"}')
    # the same data: the escapes decode to the characters stored
    assert json.loads(lines[6])["url"] == ODD
    assert json.loads(lines[4])["error"].endswith("\x1b[31m \x9b2J")


def _reference(db: Path, url: str | None, *, as_json: bool) -> str:
    """The listing made the plain way: the library's rows, one json.dumps per row."""
    with Archive.open(db, readonly=True) as archive:
        rows = archive.history(url)
    if not rows:
        return ""
    if as_json:
        return json_safe("\n".join(json.dumps(dict(zip(HISTORY_COLUMNS, r, strict=True)),
                                              ensure_ascii=False) for r in rows)) + "\n"
    return history_text(rows) + "\n"


@pytest.fixture(scope="module")
def odd_db(db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The archive above with values the writer never stores but a foreign tool could: a
    status that is not a whole number, text where numbers belong, an error with quotes, a
    backslash and a NUL, a run id repeated over pages."""
    path = tmp_path_factory.mktemp("odd") / "odd.db"
    shutil.copy(db, path)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE snapshots SET http_status = 200.5 WHERE id = 2")
        conn.execute("UPDATE snapshots SET version_id = 'v?', http_status = '2xx' WHERE id = 3")
        conn.execute("UPDATE snapshots SET error = ?, truncated = '' WHERE id = 8",
                     ('said "no" \\ here\x00\u2028end',))
        conn.execute("UPDATE snapshots SET final_url = 'http://127.0.0.1:9/elsewhere'"
                     " WHERE id = 9")
        conn.execute("UPDATE snapshots SET run_id = 1 WHERE id IN (10, 11)")
    conn.close()
    return path


@pytest.mark.parametrize("which", ["db", "odd_db"])
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
@pytest.mark.parametrize("url", [None, HUB, ODD], ids=["all", "hub", "odd"])
def test_the_command_lays_out_what_the_library_returns(
        which: str, as_json: bool, url: str | None, request: pytest.FixtureRequest) -> None:
    # the command reads the cursor and makes each line from parts made once; the library's
    # rows laid out one by one must give the same bytes, odd values included
    path = request.getfixturevalue(which)
    r = run_cli("history", *([url] if url else []), "--db", str(path),
                *(["--json"] if as_json else []))
    assert r.returncode == 0, r.stderr
    assert r.stdout == _reference(path, url, as_json=as_json)
    if as_json:  # and it is JSON, one object a line (U+2028 inside a string is no new line)
        lines = r.stdout.rstrip("\n").split("\n")
        assert [json.loads(line)["id"] for line in lines] == [
            json.loads(line)["id"] for line in _reference(path, url, as_json=True).split("\n")
            if line]
