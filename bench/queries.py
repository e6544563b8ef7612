"""Measure 5: query latency on the synthetic ten-year archive (one year in quick mode).

Each query as a whole command (``python -m scraper ...`` in a subprocess: what a person at a
terminal waits for) and as a library call on an open read-only archive (warm). The floor for
a command is the interpreter's start-up: ``python -c pass``, and ``python -m scraper --help``
(start-up plus importing the CLI). Every figure is the median of N runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from archive.compare import diff_between
from archive.history import history_listing
from archive.query import show_as_of
from archive.search import search
from archive.store import Archive
from bench import tenyear
from bench.util import PYTHON, Result, db_size, kb, median, ms, ratio, table, time_cmd, timed

INSTANT_GOAL = 1.0  # seconds: "a diff should feel instant (well under a second)"
QUERY = "climate change"


def _moments(years: int) -> tuple[str, str, str]:
    """Dates inside the archive: diff from, diff to, show --as-of."""
    start = tenyear.START

    def at(frac: float) -> str:
        return (start + timedelta(days=int(years * 365 * frac))).isoformat()
    return at(0.3), at(0.8), at(0.55)


def run(*, quick: bool) -> Result:
    """Generate (or reuse) the archive, then time each query both ways."""
    years = 1 if quick else 10
    t = time.perf_counter()
    db, generated = tenyear.ensure(years)
    gen_time = time.perf_counter() - t
    n_cmd, n_lib = (3, 5) if quick else (7, 15)
    d_from, d_to, as_of = _moments(years)
    with Archive.open(db, readonly=True) as archive:
        hub = archive.conn.execute("SELECT seed_url FROM runs LIMIT 1").fetchone()[0]
        snaps, versions, pages = archive.conn.execute(
            "SELECT (SELECT count(*) FROM snapshots), (SELECT count(*) FROM versions),"
            " (SELECT count(*) FROM pages)").fetchone()
        lib: dict[str, Callable[[], object]] = {
            "history (hub)": lambda: archive.history(hub),
            "history (all pages)": lambda: archive.history(),
            f"diff --from {d_from} --to {d_to}": lambda: diff_between(archive, d_from, d_to),
            f"search '{QUERY}'": lambda: search(archive, QUERY),
            f"show --as-of {as_of}": lambda: show_as_of(archive, None, as_of),
        }
        lib_times = {k: median(timed(fn, n_lib)) for k, fn in lib.items()}
        # what the command does instead of the library call for every page: reading the rows
        # and laying them out as lines in one pass
        listing_time = median(timed(lambda: history_listing(archive), n_lib))
    base = [PYTHON, "-m", "scraper"]
    cmds = {
        "history (hub)": [*base, "history", hub, "--db", str(db)],
        "history (all pages)": [*base, "history", "--db", str(db)],
        f"diff --from {d_from} --to {d_to}": [*base, "diff", "--from", d_from, "--to", d_to,
                                              "--db", str(db)],
        f"search '{QUERY}'": [*base, "search", QUERY, "--db", str(db)],
        f"show --as-of {as_of}": [*base, "show", "--as-of", as_of, "--db", str(db)],
    }
    floors = {"python -c pass": median(time_cmd([PYTHON, "-c", "pass"], n_cmd)),
              "python -m scraper --help": median(time_cmd([*base, "--help"], n_cmd))}
    cmd_times = {k: median(time_cmd(c, n_cmd)) for k, c in cmds.items()}
    start_up = floors["python -m scraper --help"]
    def above(k: str) -> str:
        extra = cmd_times[k] - start_up
        return ms(extra) if extra > 0 else "within start-up noise"

    rows = [[k, ms(cmd_times[k]), ratio(cmd_times[k] / start_up), above(k), ms(lib_times[k])]
            for k in cmds]
    rows += [[k, ms(v), ratio(v / start_up), "", ""] for k, v in floors.items()]
    size = db_size(db)
    origin = f"generated in {gen_time:.0f} s" if generated else "cached in bench/out/"
    body = "\n\n".join([
        f"{years}-year archive: {snaps} snapshots, {versions} versions, {pages} pages, "
        f"{kb(size)} on disk ({origin}). "
        f"Commands: median of {n_cmd} subprocess runs; library: median of {n_lib} calls on an "
        "open read-only archive.",
        table(["query", "command", "/ CLI start-up", "command − start-up", "library call"],
              rows),
    ])
    res = Result("queries", f"5. Query latency on a {years}-year archive", body)
    diff_key = next(k for k in cmds if k.startswith("diff"))
    for key in cmds:
        what = key.split(" ")[0] + (" (all pages)" if key.startswith("history (all") else "")
        res.rows.append((f"`{what}` command ({years}-year archive)",
                         f"< {INSTANT_GOAL:.0f} s, dominated by start-up",
                         f"{ms(cmd_times[key])} ({ratio(cmd_times[key] / start_up)} start-up)",
                         "meets" if cmd_times[key] < INSTANT_GOAL
                         and cmd_times[key] < 2 * start_up else "**short**"))
    if cmd_times[diff_key] >= 2 * start_up or cmd_times[diff_key] >= INSTANT_GOAL:
        res.shortfalls.append(
            f"`diff` between two dates takes {ms(cmd_times[diff_key])} as a command, "
            f"{ms(lib_times[diff_key])} of it in the library: not dominated by start-up "
            f"({ms(start_up)}).")
    slow = [k for k in cmds if not k.startswith("diff") and cmd_times[k] >= 2 * start_up]
    for k in slow:
        why = (f" The library returns all {snaps} rows in {ms(lib_times[k])}; reading them"
               f" and laying them out as lines takes {ms(listing_time)}"
               " (archive.history.history_listing); the rest is importing the archive layer"
               " and writing the text."
               if k.startswith("history (all") else "")
        res.shortfalls.append(f"`{k}` takes {ms(cmd_times[k])} as a command "
                              f"({ms(lib_times[k])} in the library) against a "
                              f"{ms(start_up)} start-up.{why}")
    res.rows.append((f"archive size on disk ({years} years)", "(reported)", kb(size), ""))
    return res


def archive_for(quick: bool) -> Path:
    """The archive this measure uses (for the memory measure)."""
    return tenyear.ensure(1 if quick else 10)[0]


def diff_args(quick: bool) -> list[str]:
    """``--from``/``--to`` of the timed diff."""
    d_from, d_to, _ = _moments(1 if quick else 10)
    return ["--from", d_from, "--to", d_to]
