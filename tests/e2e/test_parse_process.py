"""A crawl that parses in a child process leaves no process behind, however it ends: SIGTERM
mid-level (the run is interrupted, what was written is kept) and kill -9 (the child sees its
input close and ends by itself)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.builders import doc_html, hub_html
from tests.cli import cli_command, run_cli
from tests.servers import Gated, LoopbackServer, Static

N_DOCS = 12  # a level over scraper.sources.crawl.PARSE_PROCESS_MIN


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    """Holds the site's later documents back until set (at the latest when the test ends)."""
    event = threading.Event()
    yield event
    event.set()


@pytest.fixture
def slow_site(http_server: Callable[..., LoopbackServer], gate: threading.Event,
              ) -> LoopbackServer:
    """A hub and its documents: the first two at once, the others held by ``gate``, so a crawl
    is mid-level, its parser process started, for as long as the test needs (a delay per
    document bet that the test would act before the last one arrived)."""
    srv = http_server("127.0.0.2")
    docs = [srv.url(f"/doc{n}") for n in range(N_DOCS)]
    srv.route("/hub", Static(body=hub_html(*[(u, f"Doc {n}", "") for n, u in enumerate(docs)])))
    for n in range(N_DOCS):
        reply = Static(body=doc_html(f"Doc {n}", f"Text {n}."))
        srv.route(f"/doc{n}", reply if n < 2 else Gated(gate, reply))
    return srv


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    """Running (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def snapshots(db: Path) -> int:
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            return int(conn.execute("SELECT count(*) FROM snapshots").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def started_crawl(db: Path, seed: str, *, session: bool = False,
                  ) -> tuple[subprocess.Popen[str], list[int]]:
    """A crawl that has written its hub and has its parser process; (process, its children).
    ``session``: in a process group of its own, as a terminal's foreground job."""
    proc = subprocess.Popen(cli_command("crawl", seed, "--db", str(db), "--delay", "0",
                                        "--ignore-robots", "--timeout", "120", "--retries", "0"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=session)
    deadline = time.monotonic() + 30
    kids: list[int] = []
    while time.monotonic() < deadline and proc.poll() is None:
        kids = children(proc.pid)
        if kids and snapshots(db) >= 2:
            return proc, kids
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"the crawl never had a parser process: {proc.communicate()[1]}")


def test_sigterm_mid_level_interrupts_the_run_and_ends_the_parser(
        slow_site: LoopbackServer, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    proc, kids = started_crawl(db, slow_site.url("/hub"))
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert not [k for k in kids if alive(k)]
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    written = conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    assert 2 <= written <= 4  # at most the hub, doc0, doc1 and doc2 (held, cut short)
    # the run's counts are those of the snapshots kept (a fetch the stop cut short: failed)
    assert conn.execute("SELECT pages_fetched FROM runs").fetchone()[0] == conn.execute(
        "SELECT count(*) FROM snapshots WHERE outcome NOT IN ('failed', 'blocked')").fetchone()[0]
    conn.close()


def test_ctrl_c_reaching_the_whole_group_is_one_clean_stop(
        slow_site: LoopbackServer, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    proc, kids = started_crawl(db, slow_site.url("/hub"), session=True)
    os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C does: the crawl and its parser both
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "parser process" not in err, err
    assert not [k for k in kids if alive(k)]


def test_kill_9_leaves_no_parser_behind(slow_site: LoopbackServer, gate: threading.Event,
                                       tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    proc, kids = started_crawl(db, slow_site.url("/hub"))
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.monotonic() + 10
    while [k for k in kids if alive(k)] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [k for k in kids if alive(k)]
    gate.set()
    r = subprocess.run(cli_command("crawl", slow_site.url("/hub"), "--db", str(db), "--delay",
                                   "0", "--ignore-robots"), capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    assert "marked stale run(s) [1] interrupted" in r.stderr


#: Many sections under scraper.parse_process.MAX_CHILD_BODY: seconds of the child's CPU.
HEAVY = b"<html><body><main>" + b"<h2>T</h2><p>x</p>" * 200_000 + b"</main></body></html>"


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) ``pid`` has used; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_parser_killed_mid_crawl_costs_its_page_only_and_the_crawl_goes_on(
        http_server: Callable[..., LoopbackServer], gate: threading.Event,
        tmp_path: Path) -> None:
    # doc1 takes the child seconds of CPU; the others after it are held until it is killed
    srv = http_server("127.0.0.2")
    docs = [srv.url(f"/doc{n}") for n in range(N_DOCS)]
    srv.route("/hub", Static(body=hub_html(*[(u, f"Doc {n}", "") for n, u in enumerate(docs)])))
    for n in range(N_DOCS):
        reply = Static(body=HEAVY if n == 1 else doc_html(f"Doc {n}", f"Text {n}."))
        srv.route(f"/doc{n}", reply if n < 2 else Gated(gate, reply))
    db = tmp_path / "a.db"
    proc, kids = started_crawl(db, srv.url("/hub"))
    assert len(kids) == 1
    # Its start-up and doc0 take a fraction of a second: past one second it is inside doc1
    # (about four), the only page it has.
    deadline = time.monotonic() + 60
    while cpu_seconds(kids[0]) < 1.0 and time.monotonic() < deadline and alive(kids[0]):
        time.sleep(0.02)
    assert alive(kids[0]) and cpu_seconds(kids[0]) >= 1.0
    os.kill(kids[0], signal.SIGKILL)
    gate.set()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err  # a failed page: the run is partial
    conn = sqlite3.connect(db)
    rows = dict(conn.execute("SELECT p.url, s.outcome || ' ' || ifnull(s.error, '')"
                             " FROM snapshots s JOIN pages p ON p.id = s.page_id"))
    status = conn.execute("SELECT status FROM runs").fetchone()[0]
    conn.close()
    reason = "the parser process was killed (SIGKILL) while parsing this page"
    assert rows.pop(docs[1]) == f"failed {docs[1]}: {reason}"
    assert rows == {u: "new " for u in [srv.url("/hub"), *docs[:1], *docs[2:]]}
    assert status == "partial"
    assert f"coop-archive: {docs[1]}: {reason}" in err.splitlines()
    assert run_cli("check", "--db", str(db)).returncode == 0
    # nothing lost: the next crawl reads doc1 (its child lives) and the rest are unchanged
    r = run_cli("crawl", srv.url("/hub"), "--db", str(db), "--delay", "0", "--ignore-robots")
    assert r.returncode == 0, r.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT s.outcome FROM snapshots s JOIN pages p ON p.id = s.page_id"
                        " WHERE p.url = ? ORDER BY s.id", (docs[1],)).fetchall() == \
        [("failed",), ("new",)]
    conn.close()
