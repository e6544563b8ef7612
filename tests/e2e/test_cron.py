"""Cron-grade operation with real processes: one crawl at a time, readers never blocked,
SIGTERM and kill -9 in mid-crawl, quiet output, stale runs, migrations with a backup."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archive.check import check
from archive.schema import MIGRATIONS, SCHEMA_VERSION
from archive.store import Archive, backup_path
from tests.builders import doc_html, hub_html
from tests.cli import cli_command
from tests.servers import Gated, LoopbackServer, Static, Trickle

PY = cli_command()


def hub(docs: list[str]) -> bytes:
    return hub_html(*[(u, f"Document {n}", f"Summary {n}.") for n, u in enumerate(docs)],
                    title="Hub", updated="Friday, October 21, 2016")


def doc(n: int) -> bytes:
    return doc_html(f"Doc {n}", f"Body of document {n}.")


@dataclass
class HeldSite:
    """A hub linking three documents, each held back until the test opens ``gate``.

    A crawl of it stays mid-run (holding the archive's lock, its hub written) for exactly as
    long as the test needs: a fixed delay would bet that the test's own steps (each starts a
    CLI process) finish within it, and a loaded CI machine loses that bet.
    """

    srv: LoopbackServer
    gate: threading.Event

    def url(self, path: str) -> str:
        return self.srv.url(path)

    def held(self) -> bool:
        """Whether the crawl is inside the first held request (so past its hub)."""
        return len(self.srv.requests_to("/doc0")) >= 1


@pytest.fixture
def held_site(http_server: Callable[..., LoopbackServer]) -> Iterator[HeldSite]:
    srv = http_server("127.0.0.2")
    site = HeldSite(srv, threading.Event())
    docs = [srv.url(f"/doc{n}") for n in range(3)]
    srv.route("/hub", Static(body=hub(docs)))
    for n in range(3):
        srv.route(f"/doc{n}", Gated(site.gate, Static(body=doc(n))))
    yield site
    site.gate.set()  # a test that failed early must not leave a crawl waiting


def crawl_args(db: Path, seed: str, *extra: str) -> list[str]:
    return [*PY, "crawl", seed, "--db", str(db), "--delay", "0", "--ignore-robots",
            "--timeout", "5", "--retries", "0", *extra]


#: For a crawl of a held site: its read timeout outlasts whatever the test does meanwhile.
HELD = ("--timeout", "120")


def wait_for(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def waits_for_lock(pid: int, db: Path) -> bool:
    """Whether process ``pid`` has the archive's lock file open: a crawl waiting for the lock
    (it opens the file right before it tries the lock, and holds it open while it waits)."""
    lock = os.path.realpath(db) + ".lock"
    fds = Path(f"/proc/{pid}/fd")
    try:
        return any(os.path.realpath(fds / fd) == lock for fd in os.listdir(fds))
    except OSError:  # the process ended, or closed a descriptor while we looked
        return False


def count(db: Path, sql: str) -> int:
    """A count from the archive; 0 while the crawl has not yet created its tables."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError as e:
        if "no such table" in str(e):
            return 0
        raise
    finally:
        conn.close()


def test_second_crawl_exits_75_and_readers_are_not_blocked(tmp_path, held_site):
    db = tmp_path / "a.db"
    first = subprocess.Popen(crawl_args(db, held_site.url("/hub"), *HELD),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # the first crawl holds the lock, its hub written, until the gate opens
        wait_for(lambda: held_site.held() and count(db, "SELECT count(*) FROM snapshots") >= 1)
        started = time.monotonic()
        second = subprocess.run(crawl_args(db, held_site.url("/hub")), capture_output=True,
                                text=True, timeout=60)
        took = time.monotonic() - started
        assert second.returncode == 75, second.stderr
        assert second.stderr.count("\n") == 1 and "another crawl holds the archive" in second.stderr
        # at once: refused while the first still holds the lock (it cannot finish before the
        # gate opens), without waiting for it (the bound is a process start on a loaded
        # machine, far below any wait a default would be worth having)
        assert first.poll() is None, "the first crawl should still be running"
        assert took < 20, took
        assert len(held_site.srv.requests_to("/hub")) == 1  # the refused crawl fetched nothing
        # a reader during the crawl: answers at once, sees whole snapshots only
        reader = subprocess.run([*PY, "history", "--db", str(db)], capture_output=True,
                                text=True, timeout=60)
        assert reader.returncode == 0, reader.stderr
        assert held_site.srv.url("/hub") in reader.stdout
        assert first.poll() is None, "the first crawl should still be running"
    finally:
        held_site.gate.set()
        out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert count(db, "SELECT count(*) FROM runs") == 1  # the refused crawl wrote nothing


def test_wait_lets_the_second_crawl_run_after_the_first(tmp_path, held_site):
    db = tmp_path / "a.db"
    first = subprocess.Popen(crawl_args(db, held_site.url("/hub"), *HELD),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    second = None
    try:
        wait_for(held_site.held)
        second = subprocess.Popen(crawl_args(db, held_site.url("/hub"), "--wait", "120"),
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        # the second reaches the lock while the first holds it, and waits instead of exit 75
        wait_for(lambda: waits_for_lock(second.pid, db) or second.poll() is not None, 60)
        assert second.poll() is None, second.stderr.read() if second.stderr else ""
        assert len(held_site.srv.requests_to("/hub")) == 1  # nothing fetched while waiting
    finally:
        held_site.gate.set()
        first.communicate(timeout=60)
        err = second.communicate(timeout=90)[1] if second is not None else ""
    assert second is not None and (first.returncode, second.returncode) == (0, 0), err
    assert count(db, "SELECT count(*) FROM runs WHERE status = 'complete'") == 2
    assert len(held_site.srv.requests_to("/hub")) == 2  # the second ran after the first


def test_sigterm_keeps_what_was_captured_and_marks_the_run_interrupted(tmp_path, held_site):
    held_site.srv.route("/doc0", Static(body=doc(0)))  # the hub and doc0 arrive, doc1 is held
    db = tmp_path / "a.db"
    proc = subprocess.Popen(crawl_args(db, held_site.url("/hub"), *HELD),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: len(held_site.srv.requests_to("/doc1")) >= 1
                 and count(db, "SELECT count(*) FROM snapshots") >= 2)
        proc.send_signal(signal.SIGTERM)  # while it waits for doc1
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 143, err
    assert "interrupted" in err
    assert count(db, "SELECT count(*) FROM runs WHERE status = 'interrupted'") == 1
    kept = count(db, "SELECT count(*) FROM snapshots WHERE outcome = 'new'")
    assert kept == 2  # the hub and doc0; nothing of the held documents
    conn = sqlite3.connect(db)
    assert check(conn).ok
    conn.close()


def test_kill_9_mid_body_leaves_a_consistent_archive_and_the_next_crawl_succeeds(
        tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([srv.url("/big")])))
    # the body arrives slowly, so the kill lands while the server is still sending
    srv.route("/big", Trickle(body=doc(9) * 40, interval=0.01))
    db = tmp_path / "a.db"
    proc = subprocess.Popen(crawl_args(db, srv.url("/hub"), "--timeout", "30"),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(srv.requests_to("/big")) >= 1)
    time.sleep(0.3)
    proc.kill()  # SIGKILL: no handler runs, no transaction commits
    proc.wait(timeout=10)
    conn = sqlite3.connect(db)
    try:
        report = check(conn, deep=True)
        assert report.ok, report.problems
        assert report.running_runs == [1]  # left behind by the dead process
    finally:
        conn.close()
    srv.route("/big", Static(body=doc(9)))
    r = subprocess.run(crawl_args(db, srv.url("/hub")), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "marked stale run(s) [1] interrupted" in r.stderr
    assert count(db, "SELECT count(*) FROM runs WHERE status = 'interrupted'") == 1
    assert count(db, "SELECT count(*) FROM snapshots s JOIN pages p ON p.id = s.page_id"
                     " WHERE p.url LIKE '%/big' AND s.outcome = 'new'") == 1


def test_quiet_is_silent_when_nothing_changed_and_speaks_when_something_did(
        tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([srv.url("/d")])))
    srv.route("/d", Static(body=doc(1)))
    db = tmp_path / "a.db"
    first = subprocess.run(crawl_args(db, srv.url("/hub"), "--quiet"), capture_output=True,
                           text=True, timeout=60)
    assert first.returncode == 0 and "/d: added" in first.stdout  # first sight is a change
    again = subprocess.run(crawl_args(db, srv.url("/hub"), "--quiet"), capture_output=True,
                           text=True, timeout=60)
    assert (again.returncode, again.stdout, again.stderr) == (0, "", "")
    srv.route("/d", Static(body=doc(2)))
    changed = subprocess.run(crawl_args(db, srv.url("/hub"), "--quiet"), capture_output=True,
                             text=True, timeout=60)
    assert changed.returncode == 0 and changed.stderr == ""
    assert changed.stdout.startswith(srv.url("/d") + ": ")  # one line per changed page
    assert "hub" not in changed.stdout
    srv.route("/d", Static(500))
    failed = subprocess.run(crawl_args(db, srv.url("/hub"), "--quiet"), capture_output=True,
                            text=True, timeout=60)
    assert failed.returncode == 1 and failed.stdout == ""
    assert "HTTP 500" in failed.stderr


def test_log_file_keeps_a_permanent_record(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([srv.url("/d")])))
    srv.route("/d", Static(500))
    db, log = tmp_path / "a.db", tmp_path / "crawl.log"
    r = subprocess.run(crawl_args(db, srv.url("/hub"), "--quiet", "--log-file", str(log),
                                  "--log-level", "INFO"), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 1
    text = log.read_text()
    assert f"failed {srv.url('/d')}: HTTP 500" in text  # one line per page, with why


def _archive_at_schema(path: Path, version: int) -> None:
    """An archive as an older coop-archive (schema ``version``) would have left it."""
    conn = sqlite3.connect(path)
    for n in range(version):
        conn.executescript(MIGRATIONS[n])
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("INSERT INTO runs (started_at, seed_url, status) VALUES ('2016-10-21T00:00:00"
                 ".000000Z', 'http://x/', 'complete')")
    conn.commit()
    conn.close()


@pytest.mark.skipif(SCHEMA_VERSION < 2, reason="needs a schema with more than one migration")
def test_older_archive_is_backed_up_then_migrated(tmp_path):
    path = tmp_path / "old.db"
    _archive_at_schema(path, 1)
    with Archive.open(path) as a:
        assert a.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert a.conn.execute("SELECT seed_url FROM runs").fetchone()[0] == "http://x/"
    backup = Path(backup_path(str(path), 1))
    conn = sqlite3.connect(backup)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    conn.close()


@pytest.mark.skipif(SCHEMA_VERSION < 2, reason="needs a schema with more than one migration")
def test_failed_migration_rolls_back_and_leaves_the_archive_as_it_was(tmp_path, monkeypatch):
    path = tmp_path / "old.db"
    _archive_at_schema(path, 1)
    import archive.migrate as migrate

    broken = [*MIGRATIONS[:1], MIGRATIONS[1] + "\nCREATE TABLE runs (x);"]
    monkeypatch.setattr(migrate, "MIGRATIONS", broken)
    with pytest.raises(Exception, match="already exists"):
        Archive.open(path)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
    assert conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 1
    conn.close()


def test_archive_in_a_missing_directory_is_a_configuration_error(tmp_path):
    r = subprocess.run(crawl_args(tmp_path / "no" / "such" / "a.db", "http://127.0.0.2:9/"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith("coop-archive: directory does not exist")
    assert r.stderr.count("\n") == 1


@pytest.mark.parametrize("seed", ["not a url", "ftp://example.com/", "http:///nohost",
                                  "http://127.0.0.2:99999/"])
def test_bad_seed_is_exit_2_and_creates_nothing(tmp_path, seed):
    r = subprocess.run(crawl_args(tmp_path / "a.db", seed), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr
    assert not (tmp_path / "a.db").exists()


def test_unwritable_log_file_is_exit_2(tmp_path):
    r = subprocess.run(crawl_args(tmp_path / "a.db", "http://127.0.0.2:9/", "--log-file",
                                  str(tmp_path / "no" / "x.log")),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and "cannot write the log file" in r.stderr


@pytest.mark.parametrize("args", [["--depth", "-1"], ["--delay", "x"], ["--bogus"]])
def test_bad_arguments_are_exit_2(tmp_path, args):
    r = subprocess.run([*PY, "crawl", "--db", str(tmp_path / "a.db"), *args],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert not (tmp_path / "a.db").exists()


def test_environment_variable_names_the_archive(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    srv.route("/hub", Static(body=hub([])))
    env = {**os.environ, "COOP_ARCHIVE_DB": str(tmp_path / "env.db")}
    r = subprocess.run([*PY, "crawl", srv.url("/hub"), "--delay", "0", "--ignore-robots"],
                       capture_output=True, text=True, timeout=60, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "env.db").exists() and not (tmp_path / "coop-archive.db").exists()


def test_readers_default_to_the_last_whole_run_while_a_crawl_is_writing(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    docs = [srv.url(f"/doc{n}") for n in range(3)]
    srv.route("/hub", Static(body=hub(docs)))
    for n in range(3):
        srv.route(f"/doc{n}", Static(body=doc(n)))
    db = tmp_path / "a.db"
    assert subprocess.run(crawl_args(db, srv.url("/hub")), timeout=60).returncode == 0
    # the second run: a new hub at once, then documents held until the readers have looked
    gate = threading.Event()
    srv.route("/hub", Static(body=hub(docs).replace(b"<h1>Hub</h1>", b"<h1>Hub renamed</h1>")))
    for n in range(3):
        srv.route(f"/doc{n}", Gated(gate, Static(body=doc(n + 10))))
    proc = subprocess.Popen(crawl_args(db, srv.url("/hub"), *HELD), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: count(db, "SELECT count(*) FROM snapshots WHERE run_id = 2") >= 1)
        shown = subprocess.run([*PY, "show", srv.url("/hub"), "--db", str(db), "--json"],
                               capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert '"Hub renamed"' not in shown.stdout and '"Hub"' in shown.stdout
        assert proc.poll() is None, "the crawl should still be running"
    finally:
        gate.set()
        proc.wait(timeout=60)
    assert proc.returncode == 0
    shown = subprocess.run([*PY, "show", srv.url("/hub"), "--db", str(db), "--json"],
                           capture_output=True, text=True, timeout=60)
    assert '"Hub renamed"' in shown.stdout  # once the run is whole, it is the latest


def test_a_server_that_always_answers_304_cannot_hide_a_change_for_ever(tmp_path, http_server):
    srv = http_server("127.0.0.2")
    body = {"v": hub([]).replace(b"Hub", b"Hub one")}

    def reply(req):
        if req.header("If-None-Match") or req.header("If-Modified-Since"):
            return Static(304, headers=[("ETag", '"same"')], content_type=None)
        return Static(body=body["v"], headers=[("ETag", '"same"')])

    from tests.servers import Dynamic

    srv.route("/hub", Dynamic(reply))
    db = tmp_path / "a.db"
    assert subprocess.run(crawl_args(db, srv.url("/hub")), timeout=60).returncode == 0
    body["v"] = hub([]).replace(b"Hub", b"Hub two")
    # within the revalidation window the (lying) 304 is trusted...
    assert subprocess.run(crawl_args(db, srv.url("/hub")), timeout=60).returncode == 0
    assert count(db, "SELECT count(*) FROM versions") == 1
    time.sleep(1.1)
    # ...after it, the page is fetched in full and the change is found
    r = subprocess.run(crawl_args(db, srv.url("/hub"), "--revalidate-days", "0.00001"),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert count(db, "SELECT count(*) FROM versions") == 2
    assert srv.requests_to("/hub")[-1].header("If-None-Match") is None


@pytest.mark.parametrize("damage", ["28b52ffd00000000", "deadbeefdeadbeef"],
                         ids=["decodes-to-something-else", "garbage"])
def test_a_damaged_stored_body_is_refetched_not_a_crash(tmp_path, http_server, damage):
    srv = http_server("127.0.0.2")
    from tests.servers import Validated

    srv.route("/hub", Validated(body=hub([srv.url("/d")])))
    srv.route("/d", Static(body=doc(1)))
    db = tmp_path / "a.db"
    assert subprocess.run(crawl_args(db, srv.url("/hub")), timeout=60).returncode == 0
    conn = sqlite3.connect(db)
    # a valid empty zstd frame (decodes, but not to the body), or plain garbage
    conn.execute(f"UPDATE blobs SET data = X'{damage}' WHERE id = (SELECT body_id"
                 " FROM snapshots WHERE id = 1)")
    conn.commit()
    conn.close()
    r = subprocess.run(crawl_args(db, srv.url("/hub")), capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert "Traceback" not in r.stderr
    assert srv.requests_to("/hub")[-1].header("If-None-Match") is None  # fetched in full
    assert count(db, "SELECT count(*) FROM snapshots WHERE run_id = 2 AND outcome = 'unchanged'"
                 " AND page_id = 1") == 1
