"""``python -m bench [--quick] [--out PATH] [--only NAME ...]``: run the measures, write the report.

Measures run one after another (never in parallel: they time things), and the report goes
to docs/benchmarks.md unless ``--out`` says otherwise.
"""

from __future__ import annotations

import argparse
import compileall
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    content,
    crawl_time,
    cron_year,
    heldout,
    ingest,
    memory,
    parse_cost,
    queries,
    recrawl,
    startup,
)
from bench.report import render
from bench.util import ROOT, Result

MEASURES: dict[str, Callable[..., Result]] = {
    "crawl": crawl_time.run,
    "recrawl": recrawl.run,
    "cron": cron_year.run,
    "parse": parse_cost.run,
    "queries": queries.run,
    "memory": memory.run,
    "ingest": ingest.run,
    "startup": startup.run,
    "content": content.run,
    "heldout": heldout.run,
}


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run the chosen measures, write the report; returns the exit code."""
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--quick", action="store_true",
                    help="reduced sizes (what CI runs to keep the harness working)")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md",
                    help="where to write the report (default: docs/benchmarks.md)")
    ap.add_argument("--only", nargs="+", choices=sorted(MEASURES), metavar="NAME",
                    help=f"run only these measures ({', '.join(MEASURES)})")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    started = time.perf_counter()
    # Commands are timed as an installed package runs them: with its modules' bytecode written
    # (pip compiles it at install; sqlite-utils, the start-up peer, has it). Where
    # PYTHONDONTWRITEBYTECODE is set, Python reads bytecode but never writes it, and every
    # timed command would compile our modules again.
    for package in ("scraper", "archive"):
        compileall.compile_dir(ROOT / package, quiet=1)
    results = []
    for name, fn in MEASURES.items():
        if args.only and name not in args.only:
            continue
        t = time.perf_counter()
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        results.append(fn(quick=args.quick))
        print(f"bench: {name} done in {time.perf_counter() - t:.1f} s", file=sys.stderr,
              flush=True)
    text = render(results, quick=args.quick, elapsed=time.perf_counter() - started)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(f"bench: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
