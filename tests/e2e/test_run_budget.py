"""A run has a wall-clock budget (issue 16): when it runs out the run ends ``interrupted``
(exit 1, never 75) and frees the lock; a run stuck past it is ended; a later crawl that finds
the lock held longer than the budget says so in one line, with the holder's pid."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from archive.lock import ArchiveLock
from scraper.run_budget import RunBudget
from tests.cli import run_cli, run_cli_budgeted
from tests.e2e.test_fetch_deadline import TrickleHeaders
from tests.servers import LoopbackServer


def test_a_run_ends_when_its_budget_runs_out_and_frees_the_lock(server: LoopbackServer,
                                                                tmp_path: Path) -> None:
    server.route("/hub", TrickleHeaders(interval=0.2))

    def args(budget: int) -> list[str]:
        return ["crawl", server.url("/hub"), "--db", str(tmp_path / f"{budget}.db"),
                "--ignore-robots", "--delay", "0", "--timeout", "600",
                "--max-run-seconds", str(budget)]

    # The request's own total deadline would be 4 x 600 s: only the run's budget ends it,
    # once the request is in flight (the server has it).
    proc, took, budget = run_cli_budgeted(args, reached=lambda: bool(server.requests_to("/hub")))
    db = tmp_path / f"{budget}.db"
    err = proc.stderr
    assert took < budget + 12, err
    assert proc.returncode == 1, err
    assert f"time budget (--max-run-seconds {budget}) ran out" in err
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    conn.close()
    with ArchiveLock(db):
        pass  # free


def test_a_lock_held_longer_than_the_budget_is_named_with_its_pid(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with ArchiveLock(db) as lock:
        assert lock.path.read_text().strip() == str(os.getpid())
        busy = run_cli("crawl", "http://127.0.0.1:9/", "--db", str(db), timeout=60)
        assert busy.returncode == 75
        assert f"pid {os.getpid()}" in busy.stderr and "stuck" not in busy.stderr
        two_days_ago = time.time() - 2 * 86400
        os.utime(lock.path, (two_days_ago, two_days_ago))
        stuck = run_cli("crawl", "http://127.0.0.1:9/", "--db", str(db), timeout=60)
    assert stuck.returncode == 75
    line = stuck.stderr.strip()
    assert len(line.splitlines()) == 1
    assert line.startswith("coop-archive: warning: another crawl (pid ")
    assert f"pid {os.getpid()}" in line and "2d" in line and "(1h)" in line and "stuck" in line


def test_a_run_stuck_past_its_budget_is_ended() -> None:
    stop = threading.Event()
    overran = threading.Event()
    with RunBudget(0.2, stop, grace=0.3, on_overrun=overran.set) as budget:
        assert stop.wait(5)  # the budget sets the stop event first...
        assert budget.expired
        assert overran.wait(5)  # ...then, the run still going, calls it stuck
    quick = threading.Event()
    with RunBudget(5, quick, on_overrun=overran.clear) as budget:
        pass
    budget._thread.join(5)  # the watcher has ended: it can no longer stop the run
    assert not budget._thread.is_alive()
    assert not quick.is_set() and overran.is_set()
