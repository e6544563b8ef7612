"""Run the real ``coop-archive`` command, the way cron or a person would.

``run_cli`` runs it in a subprocess (``python -m scraper``, or the installed console script
with ``script=True``) and captures its output as text; ``cli_command`` is the argument list for
tests that need a ``Popen`` (to signal or race it). ``invoke`` runs it in-process through click's
test runner, for checks that need no process of their own. ``db_rows`` reads what a command
wrote, read-only.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: The installed console script (what a crontab names), beside this interpreter.
SCRIPT = Path(sys.executable).with_name("coop-archive")


def cli_command(*args: str, script: bool = False, prefix: tuple[str, ...] = ()) -> list[str]:
    """The argument list that runs ``coop-archive ARGS`` (behind ``prefix``, a wrapper command
    such as ``setpriv ...``).

    >>> cli_command("history", "--db", "a.db")[-3:]
    ['history', '--db', 'a.db']
    """
    base = [str(SCRIPT)] if script else [sys.executable, "-m", "scraper"]
    return [*prefix, *base, *args]


def run_cli(*args: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None,
            timeout: float = 120, script: bool = False,
            prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """Run ``coop-archive ARGS`` to completion; stdout and stderr are captured as text.

    ``env`` is the whole environment when given (None inherits this process's); ``cwd``
    defaults to this process's. A command still running after ``timeout`` seconds fails the
    test (subprocess.TimeoutExpired).
    """
    return subprocess.run(cli_command(*args, script=script, prefix=prefix), capture_output=True,
                          text=True,
                          env=None if env is None else dict(env), cwd=cwd, timeout=timeout,
                          check=False)


def invoke(*args: str) -> Any:
    """Run ``coop-archive ARGS`` in this process with click's CliRunner; returns its Result."""
    from click.testing import CliRunner

    from scraper.cli import _register, cli

    _register()  # the commands register themselves lazily, as ``main`` does
    return CliRunner().invoke(cli, list(args))


def db_rows(db: str | Path, sql: str, *params: object) -> list[tuple[Any, ...]]:
    """The rows of ``sql`` on the archive file ``db``, opened read-only (mode=ro)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def run_cli_signalled(*args: str, after: float, sig: int | None = None, timeout: float = 60,
                      ready: Callable[[int], bool] | None = None,
                      ) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``coop-archive ARGS``; ``after`` seconds in (it must still be running then), send
    ``sig`` (None: send nothing, just wait). Returns the finished process with its output, and
    the seconds it took to end after the signal (after the start when there was none). A
    command still running ``timeout`` seconds after that is killed and fails the test.

    With ``ready``, the signal goes when ``ready(pid)`` first holds instead (polled; ``after``
    is then the most seconds to wait for it, and not holding by then fails the test): a fixed
    wait bets that the command got that far, and a loaded machine loses the bet."""
    import time

    proc = subprocess.Popen(cli_command(*args), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    started = time.monotonic()
    try:
        if sig is not None:
            if ready is None:
                time.sleep(after)
            else:
                _wait_until(lambda: ready(proc.pid) or proc.poll() is not None, after)
            assert proc.poll() is None, f"ended before the signal: {proc.communicate()[1]}"
            assert ready is None or ready(proc.pid), f"not ready after {after}s"
            started = time.monotonic()
            proc.send_signal(sig)
        out, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    took = time.monotonic() - started
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err), took


def run_cli_budgeted(args_for: Callable[[int], Sequence[str]], *, reached: Callable[[], bool],
                     budgets: Sequence[int] = (3, 6, 12, 24), timeout: float = 60,
                     ) -> tuple[subprocess.CompletedProcess[str], float, int]:
    """Run ``coop-archive`` with ``args_for(budget)`` (which gives ``--max-run-seconds
    budget``, and a fresh archive for each budget) until ``reached()`` holds after the run:
    the run got to the state the test is about (a request in flight, the pages before it
    stored) before its budget ran out. Returns the process, the seconds it ran and the budget.

    A run's budget is a timer from its start, the very thing under test: a fixed one bets
    that the run gets there in time, and a loaded machine loses the bet. A run that did not
    get there is run again with the next, longer budget; the test fails when none was enough.
    """
    for budget in budgets:
        proc, took = run_cli_signalled(*args_for(budget), after=0, timeout=timeout + budget)
        if reached():
            return proc, took, budget
    raise AssertionError(f"the run never got there within {budgets[-1]}s: {proc.stderr}")


def _wait_until(condition: Callable[[], bool], seconds: float) -> None:
    import time

    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def descendant_cmdlines(pid: int) -> list[str]:
    """The command lines (arguments joined by spaces) of every live descendant of ``pid``,
    read from /proc (Linux): shows which child processes a command has started."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue  # it ended meanwhile
            # "pid (comm) state ppid ...": comm may hold spaces and parentheses.
            parents[int(entry.name)] = int(stat[stat.rindex(")") + 2:].split()[1])
    found, frontier = [], {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier}
        for child in frontier:
            try:
                raw = Path(f"/proc/{child}/cmdline").read_bytes()
            except OSError:
                continue
            found.append(raw.replace(b"\0", b" ").decode(errors="replace"))
    return found


def has_open(pid: int, path: str | Path) -> bool:
    """Whether process ``pid`` has the file ``path`` open (read from /proc, Linux)."""
    target = Path(path).resolve()
    try:
        return any(Path(fd).resolve() == target for fd in Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False  # ended, or an fd closed while we looked
