"""Readers do work in proportion to what they show, not to the archive's age.

Not a timed test: SQLite's progress handler counts virtual-machine steps, which do not depend
on the machine's load. An archive four times longer must not make the default `diff`, `show`
or the hub lookup do anything like four times the work (a full scan of snapshots would).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest

from archive.compare import diff_between
from archive.model import Item, Page, Section
from archive.query import show_as_of
from archive.store import Archive
from archive.timeline import hub_at
from tests.builders import at, capture

HUB = "http://127.0.0.2/hub"
DOCS = [f"http://127.0.0.3/doc{n}" for n in range(2)]


def _build(path, days: int) -> None:
    with Archive.open(path) as a:
        start = date(2016, 1, 1)
        for d in range(days):
            day = (start + timedelta(days=d)).isoformat()
            run = a.begin_run(HUB, started_at=at(day))
            edition = d // 50  # a real change every 50 days
            hub = Page(url=HUB, title="Hub", updated_on=day if d % 50 == 0 else None,
                       text=f"edition {edition}", sections=[Section("Fact Sheets", 2)],
                       items=[Item(f"Doc {n}", u, f"summary {edition}", 0)
                              for n, u in enumerate(DOCS)])
            capture(a, HUB, at(day), hub, run_id=run, body=f"hub {d}".encode())
            for n, u in enumerate(DOCS):
                capture(a, u, at(day, 13), Page(url=u, title=f"Doc {n}", text=f"doc {edition}"),
                        run_id=run, body=f"doc {n} {d}".encode())
            a.finish_run(run, "complete", finished_at=at(day, 14))


def _steps(path, fn: Callable[[Archive], object]) -> int:
    with Archive.open(path, readonly=True) as a:
        count = [0]

        def tick() -> int:
            count[0] += 1
            return 0

        a.conn.set_progress_handler(tick, 100)
        fn(a)
        a.conn.set_progress_handler(None, 0)
        return count[0]


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    short, long = tmp_path_factory.mktemp("s") / "a.db", tmp_path_factory.mktemp("l") / "a.db"
    _build(short, 150)
    _build(long, 600)
    return short, long


@pytest.mark.parametrize("name, fn", [
    ("diff (default: previous run against the latest)", lambda a: diff_between(a)),
    ("show (the hub, latest)", lambda a: show_as_of(a, None, None)),
    ("hub lookup", lambda a: hub_at(a.conn)),
    ("diff between two recent dates", lambda a: diff_between(a, "2016-05-01", "2016-05-20")),
])
def test_work_does_not_grow_with_the_archive(archives, name, fn):
    short, long = archives
    few, many = _steps(short, fn), _steps(long, fn)
    # 4x the history: allow a little growth (B-tree depth), nowhere near 4x.
    assert many <= 1.6 * few + 50, (name, few, many)


def test_the_counter_does_see_a_full_scan(archives):
    short, long = archives

    def scan(a: Archive) -> object:
        return a.conn.execute("SELECT count(*) FROM snapshots WHERE error IS NULL"
                              " AND length(captured_at) > 0").fetchone()

    few, many = _steps(short, scan), _steps(long, scan)
    assert many > 3 * few  # so the bound above would catch a scan


def test_a_timeline_diff_does_not_read_the_page_history(archives):
    # The diff of two versions (serve's and publish's diff pages) reads those versions, not
    # the page's whole timeline: it stays cheap however long the archive.
    from archive.publish import StaticLinks
    from archive.site import diff_html
    from archive.timeline_view import page_timeline

    def first_two(a: Archive) -> Callable[[Archive], object]:
        first, second = page_timeline(a, 1).stretches[:2]
        return lambda b: diff_html(b, 1, first.snapshot_id, second.snapshot_id,
                                   StaticLinks())

    short, long = archives
    with Archive.open(short, readonly=True) as a:
        on_short = first_two(a)
    with Archive.open(long, readonly=True) as a:
        on_long = first_two(a)
    few, many = _steps(short, on_short), _steps(long, on_long)
    assert many <= 1.6 * few + 50, (few, many)
