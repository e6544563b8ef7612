"""Benchmark ``diff`` between two dates on a large synthetic archive.

About ten years of daily runs of the hub and its ~10 linked documents: ~40,000 snapshots.
The hub changes about monthly and swaps a linked document every quarter; documents change
every couple of months; some captures fail, some documents go 404. The archive is built
through the public store API (``Archive.record_snapshot`` via tests/builders.capture) and
kept, so later runs only time.

    .venv/bin/python bench/bench_diff.py [--db /tmp/bench-diff.db] [--days 3650] [--repeat 5]

Prints the median time of each diff in-process, and the wall time of the real CLI (which is
dominated by Python start-up and imports). Figures go in docs/diff.md ("Performance").
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from archive.compare import diff_between  # noqa: E402
from archive.model import Item, Page, Section  # noqa: E402
from archive.report import render  # noqa: E402
from archive.store import Archive  # noqa: E402
from tests.builders import at, capture  # noqa: E402

HUB = "https://www.transportation.gov/r2ze/US-China-Cooperation"
START = date(2016, 1, 1)
DOCS = 10


def doc_url(n: int) -> str:
    return f"https://2009-2017.state.gov/r/pa/prs/ps/2016/06/{258000 + n}.htm"


def linked(day: int) -> list[int]:
    """The documents the hub links on ``day``: one swapped for a new one every quarter."""
    first = day // 90
    return list(range(first, first + DOCS))


def hub_page(day: int) -> Page:
    month = day // 30
    items = [Item(f"Fact sheet {n}", doc_url(n), f"Summary of {n}, revision {month // 3}.",
                  1 if n % 2 else 2) for n in linked(day)]
    updated = str(START + timedelta(month * 30))
    return Page(url=HUB, title="U.S.-China Cooperation", updated_on=updated,
                text=f"Introduction, revision {month}.\n" + "\n".join(
                    f"{i.title}\n{i.summary}" for i in items),
                sections=[Section("U.S.-China Dialogue", 2, f"Intro {month}"),
                          Section("Fact Sheets", 3, "", 0), Section("Media Notes", 3, "", 0)],
                items=items)


def doc_page(n: int, day: int) -> Page:
    rev = (day + n * 7) // 60
    return Page(url=doc_url(n), title=f"Fact sheet {n}", updated_on="2016-06-07",
                text=f"Fact Sheet\nOffice of the Spokesperson\nParagraph of {n}, revision {rev}. "
                     + "Words of the fact sheet. " * 40)


def build(path: Path, days: int) -> int:
    with Archive.open(path) as a:
        for day in range(days):
            when = START + timedelta(day)
            run = a.begin_run(HUB, started_at=at(str(when), 12))
            capture(a, HUB, at(str(when), 12), hub_page(day), run_id=run)
            for k, n in enumerate(linked(day)):
                t = f"{when}T12:{1 + k:02d}:00.000000Z"
                if (day * 31 + n) % 211 == 0:
                    capture(a, doc_url(n), t, error="connection timed out", run_id=run)
                elif n % 7 == 3 and day % 90 > 60:
                    capture(a, doc_url(n), t, status=404, body=b"Not Found", run_id=run)
                else:
                    capture(a, doc_url(n), t, doc_page(n, day), run_id=run)
            a.finish_run(run, "complete", finished_at=f"{when}T12:30:00.000000Z")
        return a.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default="/tmp/bench-diff.db")
    ap.add_argument("--days", type=int, default=3650)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    path = Path(args.db)
    if not path.exists():
        t0 = time.perf_counter()
        n = build(path, args.days)
        print(f"built {path}: {n} snapshots in {time.perf_counter() - t0:.1f} s")
    with Archive.open(path, readonly=True) as a:
        c = a.conn
        n = c.execute("SELECT count(*) FROM snapshots").fetchone()[0]
        last = c.execute("SELECT max(captured_at) FROM snapshots").fetchone()[0][:10]
        print(f"{n} snapshots, {c.execute('SELECT count(*) FROM versions').fetchone()[0]} "
              f"versions, {c.execute('SELECT count(*) FROM pages').fetchone()[0]} pages, "
              f"up to {last}")
        cases = [
            ("default (previous run vs latest)", lambda: diff_between(a)),
            ("one day apart, mid-history", lambda: diff_between(a, "2020-03-01", "2020-03-02")),
            ("one year apart", lambda: diff_between(a, "2019-01-01", "2020-01-01")),
            ("whole history", lambda: diff_between(a, "2016-01-01", last)),
            ("one URL, whole history",
             lambda: diff_between(a, "2016-01-01", last, url=HUB)),
            ("whole history, rendered html",
             lambda: render(diff_between(a, "2016-01-01", last), "html")),
        ]
        for label, fn in cases:
            print(f"  {label:<36} {timed(fn, args.repeat) * 1000:8.1f} ms")
    cli = [sys.executable, "-m", "scraper", "diff", "--db", str(path), "--from", "2019-01-01",
           "--to", "2020-01-01", "--format", "json"]
    base = [sys.executable, "-c", "import scraper.cli"]
    root = Path(__file__).resolve().parent.parent
    run_cli = lambda: subprocess.run(cli, capture_output=True, check=True, cwd=root)  # noqa: E731
    run_base = lambda: subprocess.run(base, capture_output=True, check=True, cwd=root)  # noqa: E731
    print(f"  {'CLI diff, one year apart (wall)':<36} {timed(run_cli, args.repeat) * 1000:8.1f} ms")
    print(f"  {'python start-up + import scraper.cli':<36} "
          f"{timed(run_base, args.repeat) * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
