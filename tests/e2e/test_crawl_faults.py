"""The real CLI against a fault-injecting loopback site: exit codes, what the archive holds
afterwards, and that nothing already archived is lost (issue: cron-grade operation).

Each case first crawls a healthy site, then the same site with one fault, and checks the run's
exit code, the faulty page's snapshot, that every earlier snapshot and version is still there,
and that the archive passes its own check.
"""

from __future__ import annotations

import sqlite3
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from archive.check import check
from tests import builders
from tests.cli import run_cli
from tests.servers import (
    Dynamic,
    GzipBomb,
    Hang,
    LoopbackServer,
    Redirect,
    Reset,
    Static,
    http_date,
)

DOC = (b"<html><head><title>Doc</title></head><body><main><h1>Fact Sheet</h1>"
       + b"".join(b"<p>Paragraph %d of the fact sheet on climate cooperation.</p>" % i
                  for i in range(40))
       + b"</main></body></html>")


HOME = b"<html><body><main><h1>Home</h1><p>Welcome.</p></main></body></html>"


def hub_html(doc_url: str, home_url: str) -> bytes:
    return builders.hub_html(
        (doc_url, "Climate Change and Clean Energy",
         "Climate change is a pillar of the U.S.-China bilateral relationship."),
        head_title="Hub", updated="Friday, October 21, 2016", nav=home_url)


def crawl(db: Path, seed: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("crawl", seed, "--db", str(db), "--delay", "0", "--ignore-robots",
                   "--timeout", "2", "--backoff", "0.05", "--retries", "2", *extra)


def rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


@pytest.fixture
def site(http_server: Callable[..., LoopbackServer]) -> tuple[LoopbackServer, LoopbackServer]:
    hub, docs = http_server("127.0.0.2"), http_server("127.0.0.3")
    hub.route("/hub", Static(body=hub_html(docs.url("/doc"), hub.url("/"))))
    hub.route("/", Static(body=HOME))
    docs.route("/doc", Static(body=DOC))
    return hub, docs


def _healthy_baseline(db: Path, hub: LoopbackServer) -> list[tuple]:
    r = crawl(db, hub.url("/hub"))
    assert r.returncode == 0, r.stderr
    return rows(db, "SELECT id, version_id, body_id FROM snapshots ORDER BY id")


def _assert_nothing_lost(db: Path, before: list[tuple]) -> None:
    after = rows(db, "SELECT id, version_id, body_id FROM snapshots ORDER BY id")
    assert after[: len(before)] == before
    conn = sqlite3.connect(db)
    try:
        report = check(conn, deep=True)
    finally:
        conn.close()
    assert report.ok, report.problems


def _doc_snapshot(db: Path) -> tuple:
    return rows(db, """SELECT s.outcome, s.http_status, s.suspect, s.changed, s.error IS NOT NULL
                         FROM snapshots s JOIN pages p ON p.id = s.page_id
                        WHERE p.url LIKE '%/doc' ORDER BY s.id DESC LIMIT 1""")[0]


# (name, replies for /doc on the second crawl, exit code, (outcome, status, suspect, changed))
DOC_FAULTS = [
    ("500s then success", [Static(500), Static(503), Static(body=DOC)], 0,
     ("unchanged", 200, 0, 0)),
    ("empty 200", [Static(body=b"")], 1, ("new", 200, 1, 0)),
    ("read hangs past the timeout", [Hang(30)], 1, ("failed", None, 0, 0)),
    ("connection reset mid-body", [Reset(DOC[:200], len(DOC))], 1, ("failed", None, 0, 0)),
    ("content-length larger than body",
     [Static(body=DOC[:-100] + b"CHANGED", content_length=len(DOC) + 500)], 1,
     ("failed", None, 0, 0)),
    ("redirect loop", [Redirect("/doc")], 1, ("failed", None, 0, 0)),
    ("gzip bomb", [GzipBomb(300 * 1024 * 1024)], 1, ("failed", None, 0, 0)),
    ("5 MB page", [Static(body=b"<html><body><main><h1>Big</h1>"
                   + b"<p>lorem ipsum dolor sit amet</p>" * 160_000 + b"</main></body></html>")],
     0, ("new", 200, 0, 1)),
    ("10,000-level nesting", [Static(body=DOC.replace(b"</main>", b"<div>" * 10_000 + b"deep"
                                                      + b"</div>" * 10_000 + b"</main>"))],
     # libxml2 stops descending at its depth limit: the page parses, its text is intact
     0, ("unchanged", 200, 0, 0)),
    ("410 gone", [Static(410, b"Gone")], 0, ("gone", 410, 0, 1)),
]


@pytest.mark.parametrize("name, replies, code, expected", DOC_FAULTS,
                         ids=[f[0] for f in DOC_FAULTS])
def test_document_fault(tmp_path, site, name, replies, code, expected):
    hub, docs = site
    db = tmp_path / "a.db"
    before = _healthy_baseline(db, hub)
    docs.route("/doc", *replies)
    started = time.monotonic()
    r = crawl(db, hub.url("/hub"))
    assert r.returncode == code, (r.stdout, r.stderr)
    assert _doc_snapshot(db) == (*expected[:2], expected[2], expected[3], expected[0] == "failed")
    _assert_nothing_lost(db, before)
    if code == 1:
        assert "/doc" in r.stderr  # the failure is said, on stderr, in one line per page
        assert all(line.startswith("coop-archive: ") for line in r.stderr.splitlines())
    assert "Traceback" not in r.stderr
    assert time.monotonic() - started < 60


def test_retry_after_seconds_and_http_date_are_honoured(tmp_path, site):
    hub, docs = site
    db = tmp_path / "a.db"
    _healthy_baseline(db, hub)
    docs.route("/doc",
               Static(429, headers=[("Retry-After", "1")]),
               Dynamic(lambda req: Static(503, headers=[("Retry-After", http_date(time.time() + 2)),
                                                        ("Date", http_date(time.time()))])),
               Static(body=DOC))
    r = crawl(db, hub.url("/hub"), "--retries", "3")
    assert r.returncode == 0, r.stderr
    times = [q.time for q in docs.requests_to("/doc")][-3:]
    assert times[1] - times[0] >= 0.9  # Retry-After: 1
    assert times[2] - times[1] >= 0.9  # an HTTP date ~2 s ahead (1-second resolution)


def test_soft_404_to_the_home_page_is_suspect_not_a_change(tmp_path, site):
    hub, docs = site
    db = tmp_path / "a.db"
    before = _healthy_baseline(db, hub)
    docs.route("/doc", Redirect(docs.url("/")))
    docs.route("/", Static(body=HOME))
    r = crawl(db, hub.url("/hub"))
    assert r.returncode == 1
    assert "looks like an error page" in r.stderr
    assert _doc_snapshot(db) == ("new", 200, 1, 0, False)
    _assert_nothing_lost(db, before)
    # the next good crawl is not a change either: the baseline never moved
    docs.route("/doc", Static(body=DOC))
    r = crawl(db, hub.url("/hub"))
    assert r.returncode == 0
    assert _doc_snapshot(db) == ("unchanged", 200, 0, 0, False)


@pytest.mark.parametrize("reply, why", [
    (Static(500), "500"),
    (Hang(30), "timed out"),
])
def test_seed_unreachable_is_exit_3_and_loses_nothing(tmp_path, site, reply, why):
    hub, docs = site
    db = tmp_path / "a.db"
    before = _healthy_baseline(db, hub)
    hub.route("/hub", reply)
    r = crawl(db, hub.url("/hub"))
    assert r.returncode == 3, r.stderr
    assert "crawl failed" in r.stderr
    _assert_nothing_lost(db, before)
    assert rows(db, "SELECT status FROM runs ORDER BY id DESC LIMIT 1") == [("failed",)]


def test_seed_refused_connection_is_exit_3(tmp_path):
    r = crawl(tmp_path / "a.db", "http://127.0.0.9:9/hub")
    assert r.returncode == 3
    assert r.stderr.strip().startswith("coop-archive: crawl failed")
