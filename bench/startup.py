"""Measure 8: start-up, ``coop-archive --help`` against ``sqlite-utils --help``.

Both are console scripts of the same environment (sqlite-utils is one of our dependencies), so
both pay the same interpreter start-up and site imports; what differs is what each imports to
print its help. Runs alternate (ours, theirs, ours, ...) so that the machine's noise falls on
both, and each figure is the median. ``python -c pass`` is the interpreter alone.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from bench.util import PYTHON, Result, bench_env, median, ms, ratio, table, verdict

GOAL = 1.0


def _script(name: str) -> list[str] | None:
    """The console script ``name`` beside our interpreter (else on PATH), as a command."""
    beside = Path(PYTHON).parent / name
    if beside.exists():
        return [str(beside)]
    found = shutil.which(name)
    return [found] if found else None


def _once(args: list[str]) -> float:
    t = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, env=bench_env())
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}")
    return wall


def run(*, quick: bool) -> Result:
    """Time the three commands, interleaved, ``n`` times each after a warm-up."""
    n = 5 if quick else 21
    ours = _script("coop-archive") or [PYTHON, "-m", "scraper"]
    theirs = _script("sqlite-utils")
    cmds = {"`coop-archive --help`": [*ours, "--help"],
            "`python -c pass`": [PYTHON, "-c", "pass"]}
    if theirs:
        cmds["`sqlite-utils --help`"] = [*theirs, "--help"]
    times: dict[str, list[float]] = {k: [] for k in cmds}
    for args in cmds.values():
        _once(args)  # warm the page cache
    for _ in range(n):
        for k, args in cmds.items():
            times[k].append(_once(args))
    m = {k: median(v) for k, v in times.items()}
    peer = m.get("`sqlite-utils --help`")
    ref = peer or m["`coop-archive --help`"]
    rows = [[k, ms(v), ratio(v / ref)] for k, v in m.items()]
    body = "\n\n".join([
        f"Median of {n} runs each, interleaved; console scripts of the same environment. "
        "Each command imports only what it needs when it runs (the crawl's requests, lxml and "
        "the store are not imported to print help). Both run from compiled bytecode, as "
        "installed packages do (`python -m bench` compiles ours first).",
        table(["", "wall", "/ sqlite-utils --help"], rows),
    ])
    res = Result("startup", "8. Start-up", body)
    if peer is None:
        res.shortfalls.append("sqlite-utils is not installed here: no peer to compare "
                              "`coop-archive --help` with.")
        return res
    r = m["`coop-archive --help`"] / peer
    res.rows.append(("`coop-archive --help` / `sqlite-utils --help`", f"<= {GOAL:.1f}x",
                     ratio(r), verdict(r <= GOAL)))
    if r > GOAL:
        res.shortfalls.append(
            f"`coop-archive --help` takes {r:.2f}x `sqlite-utils --help` "
            f"({ms(m['`coop-archive --help`'])} against {ms(peer)}): click and the command "
            "modules are imported to build the help (`python -X importtime -m scraper --help` "
            "shows what).")
    return res
