"""``coop-archive diff`` run for real: a subprocess against a SQLite file on disk."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.builders import at
from tests.cli import run_cli
from tests.fixtures.diff import scenario as sc
from tests.fixtures.diff.scenario import D1, D2, D4, HUB

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("diffcli") / "archive.db"
    sc.build_archive(path)
    return str(path)


def run(*args: str, db: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k not in ("COOP_ARCHIVE_DB", "NO_COLOR")}
    full_env.update(env or {})
    return run_cli("diff", *args, *(["--db", db] if db is not None else []), env=full_env,
                   cwd=ROOT, timeout=60)


def test_default_is_previous_run_against_latest_as_text(db):
    p = run(db=db)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[0] == (
        f"coop-archive diff {at('2016-12-01', 13)} → {at('2016-12-15', 13)}")
    assert f"failed    {HUB}  [hub]" in p.stdout
    assert "\x1b[" not in p.stdout  # not a terminal: no colour
    assert p.stderr == ""


def test_json_format_between_dates(db):
    p = run("--from", "2016-10-21", "--to", "2016-11-15", "--format", "json", db=db)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert (data["from"], data["to"]) == ("2016-10-21T23:59:59.999999Z",
                                          "2016-11-15T23:59:59.999999Z")
    assert {pg["url"]: pg["change"] for pg in data["pages"]}[D2] == "gone"
    assert data["counts"]["added"] == 1 and data["changed"] is True


def test_one_url(db):
    p = run(D4, "--from", "2016-11-15", "--to", "2016-12-01", "--format", "json", db=db)
    data = json.loads(p.stdout)
    assert data["url"] == D4
    assert [(pg["url"], pg["change"], pg["flags"]) for pg in data["pages"]] == [
        (D4, "changed", ["date_only"])]


def test_html_format_is_one_escaped_page(db):
    p = run("--from", "2016-10-21", "--to", "2016-11-15", "--format", "html", db=db)
    assert p.returncode == 0
    assert p.stdout.startswith("<!DOCTYPE html>")
    assert "&lt;script&gt;" in p.stdout and "<script" not in p.stdout


def test_exit_code_1_when_changed_0_when_not(db):
    assert run("--from", "2016-11-15", "--to", "2016-12-01", "--exit-code",
               db=db).returncode == 1
    same = run("--from", "2016-11-15", "--to", "2016-11-20", "--exit-code", db=db)
    assert same.returncode == 0, same.stdout
    assert same.stdout.endswith("no changes\n")
    # noise-only recapture of one page
    assert run(D1, "--from", "2016-10-21", "--to", "2016-11-15", "--exit-code",
               db=db).returncode == 0
    # without --exit-code a change still exits 0
    assert run("--from", "2016-11-15", "--to", "2016-12-01", db=db).returncode == 0


@pytest.mark.parametrize("args, message", [
    (["--from", "2016-10-01"], "is before the first snapshot"),
    (["--to", "2015-01-01"], "is before the first snapshot"),
    (["--from", "last tuesday"], "not a date or time: 'last tuesday'"),
    (["--from", "2016-13-45"], "not a date or time"),
    (["--to", "#987654"], "no snapshot with id 987654"),
    (["--to", "987654"], "write #987654 (or id:987654) for snapshot 987654"),
    (["--to", "#99999999999999999999999"], "no snapshot with id 99999999999999999999999"),
    (["https://nowhere.example/x"], "no page https://nowhere.example/x"),
])
def test_bad_when_or_url_is_exit_2_with_one_line(db, args, message):
    p = run(*args, db=db)
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and p.stderr.startswith("coop-archive: ")
    assert message in p.stderr


def test_bad_format_is_a_usage_error(db):
    assert run("--format", "xml", db=db).returncode == 2


def test_missing_archive_is_exit_3_and_not_created(tmp_path):
    missing = tmp_path / "none.db"
    p = run(db=str(missing))
    assert p.returncode == 3 and "no archive at" in p.stderr
    assert not missing.exists()


def test_archive_opened_read_only(db, tmp_path):
    # A read-only file still diffs: the command never writes.
    copy = tmp_path / "ro.db"
    src = sqlite3.connect(db)
    dest = sqlite3.connect(copy)
    src.backup(dest)
    src.close()
    dest.close()
    copy.chmod(0o444)
    before = copy.read_bytes()
    p = run("--from", "2016-10-21", db=str(copy))
    assert p.returncode == 0, p.stderr
    assert copy.read_bytes() == before


def test_color_always_and_never(db):
    args = ["--from", "2016-11-15", "--to", "2016-12-01"]
    assert "\x1b[32m" in run(*args, "--color", "always", db=db).stdout
    assert "\x1b[" not in run(*args, "--color", "never", db=db).stdout
    assert "{+first+}" in run(*args, db=db).stdout


def test_db_from_environment(db):
    p = run("--from", "2016-11-15", "--to", "2016-12-01", env={"COOP_ARCHIVE_DB": db})
    assert p.returncode == 0 and "silent edit" in p.stdout


def test_help_documents_every_option():
    p = run_cli("diff", "--help", cwd=ROOT, timeout=60)
    for opt in ("--db", "--from", "--to", "--format", "--exit-code", "--color"):
        assert opt in p.stdout
    doc = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    for opt in ("--from", "--to", "--format", "--exit-code", "--color"):
        assert f"`{opt}" in doc, f"{opt} missing from docs/diff.md"


@pytest.mark.parametrize("args, message", [
    (["--from", "2017"], "'2017' is ambiguous: write 2017-12-31 for a date, or #2017 for "
                         "snapshot 2017"),
    (["--to", "#2017"], "no snapshot with id 2017"),
    (["--from", "2016-12-01", "--to", "2016-11-15"], "is later than --to"),
    ([D1, "--from", "2016-12-01", "--to", "2016-11-15"], "is later than --to"),
])
def test_ambiguous_when_and_reversed_range_are_exit_2_with_one_line(db, args, message):
    p = run(*args, db=db)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.count("\n") == 1 and message in p.stderr


def test_snapshot_ids_of_two_runs_compare_the_runs_whole(db):
    hub_ids = [r[0] for r in sqlite3.connect(db).execute(
        "SELECT s.id FROM snapshots s JOIN pages p ON p.id = s.page_id WHERE p.url = ?"
        " ORDER BY s.captured_at", (HUB,))]
    p = run("--from", f"#{hub_ids[0]}", "--to", f"id:{hub_ids[1]}", "--format", "json", db=db)
    assert p.returncode == 0, p.stderr
    data = json.loads(p.stdout)
    assert (data["from"], data["to"]) == (at("2016-10-21", 13), at("2016-11-15", 13))
    assert data["counts"]["added"] == 1  # D4 only: run 1's documents are not "added"


def test_exit_code_0_when_the_only_problem_is_a_persistently_blocked_link(tmp_path):
    from archive.store import Archive
    from tests.builders import capture

    path = tmp_path / "blocked.db"
    with Archive.open(path) as a:
        for day in ("2016-10-21", "2016-10-22", "2016-10-23"):
            r = sc.run(a, day)
            capture(a, HUB, at(day), sc.hub(), run_id=r)
            capture(a, D1, at(day, 13), sc.D1_V1, run_id=r)
            a.record_snapshot(r, D2, captured_at=at(day, 13), error="disallowed by robots.txt",
                              blocked=True)
            a.finish_run(r, "complete", finished_at=at(day, 14))
    p = run("--exit-code", db=str(path))
    assert p.returncode == 0, p.stdout
    assert p.stdout.endswith("3 pages: 3 unchanged\n\nno changes\n")
    assert run("--from", "2016-10-21", "--exit-code", db=str(path)).returncode == 0
