"""``coop-archive reparse`` as a person runs it: the demo archive, an older-parser archive,
and a kill -9 in the middle of a reparse followed by a rerun."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.cli import ROOT, run_cli
from tests.reparse_fixture import build, dump, url_of

# A reparse that holds each page's transaction open a moment before committing, and says so
# on stderr: the test kills it -9 there, mid-write.
SLOW_REPARSE = textwrap.dedent("""
    import sys, time
    import archive.rederive as rederive
    real = rederive.reconcile_page
    def slow(c, pid):
        n = real(c, pid)
        print(f"IN-TRANSACTION {pid}", file=sys.stderr, flush=True)
        time.sleep(0.4)
        return n
    rederive.reconcile_page = slow
    from scraper.cli import main
    main(sys.argv[1:])
""")


def test_reparse_of_the_demo_archive_changes_nothing_and_says_so(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.db")
    demo = run_cli("demo", "--db", db, timeout=240, cwd=ROOT)
    assert demo.returncode == 0, demo.stderr
    before = dump(Path(db))
    p = run_cli("reparse", "--db", db)
    assert p.returncode == 0, p.stderr
    assert "nothing to do" in p.stdout
    p = run_cli("reparse", "--all", "--db", db)
    assert p.returncode == 0, p.stderr
    assert "11 page(s) re-derived, nothing changed" in p.stdout
    assert dump(Path(db)) == before
    check = run_cli("check", "--db", db)
    assert check.returncode == 0 and "older parser" not in check.stdout + check.stderr


def test_dry_run_then_reparse_then_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "old.db"
    build(db, monkeypatch)
    check = run_cli("check", "--db", str(db))
    assert check.returncode == 0, check.stderr
    assert "coop-archive reparse" in check.stdout + check.stderr
    before = dump(db)
    dry = run_cli("reparse", "--dry-run", "--db", str(db))
    assert dry.returncode == 0, dry.stderr
    assert f"{url_of(0)}: 4 of 4 snapshot(s) would be repointed, 4 -> 2" in dry.stdout
    assert "sample diff" in dry.stdout and "[-Trending now: ports-]" in dry.stdout
    assert dump(db) == before
    p = run_cli("reparse", "--json", "--db", str(db))
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    assert (out["pages_changed"], out["repointed"], out["superseded"]) == (1, 4, 4)
    check = run_cli("check", "--db", str(db))
    assert check.returncode == 0 and "older parser" not in check.stdout + check.stderr


def test_kill_9_mid_reparse_then_rerun_equals_one_reparse(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole, killed = tmp_path / "whole.db", tmp_path / "killed.db"
    build(whole, monkeypatch, docs=6)
    shutil.copy(whole, killed)

    p = run_cli("reparse", "--db", str(whole))
    assert p.returncode == 0, p.stderr

    proc = subprocess.Popen([sys.executable, "-c", SLOW_REPARSE, "reparse", "--db",
                             str(killed)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    seen = 0
    deadline = time.monotonic() + 120
    while seen < 3 and time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line, "the reparse ended before it could be killed"
        seen += line.startswith("IN-TRANSACTION")
    proc.kill()  # SIGKILL inside the third page's transaction
    proc.wait(timeout=30)
    proc.stderr.close()
    assert proc.returncode == -9

    # Two pages done, the third rolled back, the rest untouched: consistent, and half done.
    half = run_cli("check", "--db", str(killed))
    assert half.returncode == 0, half.stdout + half.stderr
    assert "coop-archive reparse" in half.stdout + half.stderr
    rerun = run_cli("reparse", "--db", str(killed))
    assert rerun.returncode == 0, rerun.stderr
    assert "5 page(s) re-derived" in rerun.stdout
    assert dump(killed) == dump(whole)


def test_sigterm_finishes_the_page_then_stops_and_a_rerun_finishes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "old.db"
    build(db, monkeypatch, docs=4)
    proc = subprocess.Popen([sys.executable, "-c", SLOW_REPARSE, "reparse", "--json", "--db",
                             str(db)], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    line = proc.stderr.readline()
    assert line.startswith("IN-TRANSACTION"), line
    proc.terminate()  # SIGTERM inside the first page's transaction: that page is finished
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "interrupted by signal 15" in err and "run it again" in err
    report = json.loads(out)
    assert report["interrupted"] and report["pages_reparsed"] == 1
    rerun = run_cli("reparse", "--json", "--db", str(db))
    assert rerun.returncode == 0, rerun.stderr
    assert json.loads(rerun.stdout)["pages_reparsed"] == 4  # three documents and the plain page
    assert run_cli("reparse", "--db", str(db)).stdout.startswith("reparse: nothing to do")


def test_one_url_a_watch_and_the_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from archive.lock import ArchiveLock

    db = tmp_path / "old.db"
    build(db, monkeypatch)
    config = tmp_path / "watch.toml"
    config.write_text(f'[[watch]]\nname = "docs"\nurl = "{url_of(0)}"\n', encoding="utf-8")
    for args, why in ((("--watch", "nope"), "no watch 'nope'"),
                      ((url_of(0), "--watch", "docs"), "not both"),
                      (("http://127.0.0.1:9/elsewhere",), "no page")):
        p = run_cli("reparse", *args, "--config", str(config), "--db", str(db))
        assert p.returncode == 2, p.stderr
        assert p.stderr.startswith("coop-archive: ") and why in p.stderr
        assert len(p.stderr.strip().splitlines()) == 1
    missing = run_cli("reparse", "--db", str(tmp_path / "none.db"))
    assert missing.returncode == 3 and "no archive at" in missing.stderr
    assert not (tmp_path / "none.db").exists()
    with ArchiveLock(db):
        locked = run_cli("reparse", "--db", str(db))
    assert locked.returncode == 75 and "another crawl holds the archive" in locked.stderr
    one = run_cli("reparse", url_of(1), "--json", "--db", str(db))
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout)["pages_reparsed"] == 1
    watch = run_cli("reparse", "--watch", "docs", "--json", "--config", str(config),
                    "--db", str(db))
    assert watch.returncode == 0, watch.stderr
    out = json.loads(watch.stdout)
    assert (out["pages_reparsed"], out["pages_changed"]) == (1, 1)  # the other one was done
