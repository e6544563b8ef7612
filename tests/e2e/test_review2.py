"""Regressions found by review: broken links on the hub, the log file as a permanent record,
a seed that is gone, a crash recorded as such, and the hub readers default to."""

from __future__ import annotations

import sqlite3
import subprocess

from tests.builders import hub_html
from tests.cli import cli_command
from tests.servers import Static

PY = cli_command()


def hub(links: list[str], title: str = "Hub") -> bytes:
    return hub_html(*[(u, f"Doc {n}", f"Summary {n}.") for n, u in enumerate(links)],
                    title=title, section=None)


def crawl(db, seed, *extra):
    return subprocess.run([*PY, "crawl", seed, "--db", str(db), "--delay", "0", "--ignore-robots",
                           "--retries", "0", "--timeout", "5", *extra],
                          capture_output=True, text=True, timeout=60)


def rows(db, sql):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_broken_links_on_the_hub_are_recorded_not_fatal(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    bad = ["http://x:99999/", "http://[::1/", "http://:80/nohost"]
    srv.route("/hub", Static(body=hub([*bad, srv.url("/d")])))
    srv.route("/d", Static(body=b"<html><body><main><h1>D</h1><p>Text.</p></main></body></html>"))
    db = tmp_path / "a.db"
    r = crawl(db, srv.url("/hub"))
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    outcomes = dict(rows(db, "SELECT p.url, s.outcome FROM snapshots s JOIN pages p"
                             " ON p.id = s.page_id"))
    assert outcomes[srv.url("/d")] == "new"
    assert [o for u, o in outcomes.items() if u != srv.url("/d") and u != srv.url("/hub")] \
        and all(o == "blocked" for u, o in outcomes.items()
                if u not in (srv.url("/d"), srv.url("/hub")))


def test_the_log_file_records_every_page_and_the_changes(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([srv.url("/d")])))
    srv.route("/d", Static(body=b"<html><body><main><h1>D</h1><p>One.</p></main></body></html>"))
    db, log = tmp_path / "a.db", tmp_path / "crawl.log"
    assert crawl(db, srv.url("/hub"), "--quiet", "--log-file", str(log)).returncode == 0
    srv.route("/d", Static(body=b"<html><body><main><h1>D</h1><p>Two.</p></main></body></html>"))
    r = crawl(db, srv.url("/hub"), "--quiet", "--log-file", str(log))
    assert r.returncode == 0 and r.stderr == ""
    text = log.read_text()
    assert f"new {srv.url('/d')} changed" in text
    assert f"unchanged {srv.url('/hub')}" in text
    assert "run 2 complete" in text and "run 2 changes:" in text


def test_a_seed_that_is_gone_is_a_failed_crawl(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    db = tmp_path / "a.db"
    r = crawl(db, srv.url("/typo"))
    assert r.returncode == 3, r.stderr
    assert rows(db, "SELECT status FROM runs") == [("failed",)]


def test_readers_default_to_the_hub_not_a_failed_typo_run(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([], title="The real hub")))
    db = tmp_path / "a.db"
    assert crawl(db, srv.url("/hub")).returncode == 0
    assert crawl(db, srv.url("/typo")).returncode == 3
    r = subprocess.run([*PY, "show", "--db", str(db)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "The real hub" in r.stdout


def test_a_lock_file_that_cannot_be_made_is_one_line_and_exit_3(tmp_path):
    db = tmp_path / "a.db"
    (tmp_path / "a.db.lock").mkdir()  # a directory where the lock file should be
    r = subprocess.run([*PY, "crawl", "http://127.0.0.2:9/", "--db", str(db)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 3, r.stderr
    assert r.stderr.startswith("coop-archive: cannot create the lock file")
    assert r.stderr.count("\n") == 1


def test_diff_defaults_to_the_hub_not_a_failed_typo_run(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([srv.url("/d")])))
    srv.route("/d", Static(body=b"<html><body><main><h1>D</h1><p>One.</p></main></body></html>"))
    db = tmp_path / "a.db"
    assert crawl(db, srv.url("/hub")).returncode == 0
    assert crawl(db, srv.url("/hub")).returncode == 0
    assert crawl(db, srv.url("/typo")).returncode == 3
    r = subprocess.run([*PY, "diff", "--db", str(db), "--format", "json"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    import json

    result = json.loads(r.stdout)
    assert result["hub"] == srv.url("/hub")
    assert not [p for p in result["pages"] if p["change"] == "removed"]
