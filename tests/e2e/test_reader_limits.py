"""Readers cannot run away (issue 16): ``sql`` and ``search`` have a time limit, a result size
limit, refuse a query of thousands of terms, and stop on SIGINT/SIGTERM, in real processes."""

from __future__ import annotations

import resource
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from archive.reader_limits import QueryLimitError, QueryStopped, ReaderLimits
from archive.search import search
from archive.store import Archive
from tests.cli import cli_command, has_open, run_cli, run_cli_signalled

RECURSIVE = ("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) "
             "SELECT count(*) FROM c")


@pytest.fixture
def db(tmp_path: Path) -> str:
    path = tmp_path / "a.db"
    Archive.open(path).close()
    return str(path)


def test_a_runaway_sql_query_ends_at_its_time_limit(db: str) -> None:
    started = time.monotonic()
    out = run_cli("sql", RECURSIVE, "--db", db, "--timeout", "1", timeout=30)
    took = time.monotonic() - started
    assert out.returncode == 2, out.stderr
    assert "query stopped after 1s" in out.stderr and "--timeout" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert took < 10


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_ends_a_runaway_sql_query_at_once(db: str, sig: int, code: int) -> None:
    # Signalled once the archive is open: its signal handlers are in place by then (sent
    # earlier, the signal would end the interpreter before it could say 130 or 143), and
    # the query about to run or running. A fixed wait loses that race on a loaded machine.
    proc, took = run_cli_signalled("sql", RECURSIVE, "--db", db, "--timeout", "600",
                                   after=60, ready=lambda pid: has_open(pid, db), sig=sig)
    assert took < 3
    assert proc.returncode == code, proc.stderr


def _limit_memory() -> None:
    ceiling = 1 << 30  # 1 GiB of address space: a 400 MB value built twice would not fit
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))


def test_a_huge_value_is_refused_before_it_is_built(db: str) -> None:
    out = subprocess.run(cli_command("sql", "SELECT zeroblob(400000000)", "--db", db),
                         capture_output=True, text=True, timeout=60, check=False,
                         preexec_fn=_limit_memory)
    assert out.returncode == 2, out.stderr
    assert "larger than 20000000 bytes" in out.stderr


def test_sql_refuses_a_result_over_max_rows(db: str) -> None:
    out = run_cli("sql", "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 50) "
                  "SELECT x FROM c", "--db", db, "--max-rows", "10", timeout=30)
    assert out.returncode == 2 and "more than 10 rows" in out.stderr
    ok = run_cli("sql", "SELECT 1 AS one", "--db", db, "--max-rows", "1", "--json")
    assert ok.returncode == 0 and '"one": 1' in ok.stdout


def test_a_search_of_thousands_of_terms_is_refused_at_once(db: str) -> None:
    terms = " OR ".join(f"word{i}" for i in range(5000))
    started = time.monotonic()
    out = run_cli("search", terms, "--db", db, timeout=30)
    assert out.returncode == 2
    assert "too many terms" in out.stderr or "too long" in out.stderr
    assert time.monotonic() - started < 10
    many = run_cli("search", " ".join(f"w{i}" for i in range(65)), "--db", db)
    assert many.returncode == 2 and "too many terms: 65 (at most 64)" in many.stderr
    fine = run_cli("search", "climate cooperation", "--db", db)
    assert fine.returncode == 0 and "no matches" in fine.stderr


def test_search_stops_on_its_event_and_at_its_time_limit(db: str) -> None:
    stop = threading.Event()
    stop.set()
    with Archive.open(db, readonly=True) as archive:
        with pytest.raises(QueryStopped):
            search(archive, "climate", stop=stop)
        with pytest.raises(QueryLimitError, match="time limit"):
            search(archive, "climate", limits=ReaderLimits(seconds=-1))
        assert search(archive, "climate") == []  # the connection is usable afterwards
