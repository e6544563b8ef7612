"""Measure 2: re-crawling an unchanged site: bytes on the wire and archive growth per run.

Two servers of the same synthetic site: one that supports validators (ETag and
Last-Modified, so an unchanged page is a 304 with headers only) and one that does not and
renders a fresh form token into the hub on every request (so the hub's bytes differ each run
while its records do not). Bytes are counted on the server side (status line, headers and
body, as written to the socket); archive size is the file after a WAL checkpoint.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from archive.store import Archive
from bench.crawl_time import HOSTS, crawl_once, serve_site
from bench.server import CountingServer
from bench.util import Result, kb, median, table, verdict

GROWTH_GOAL = 250  # bytes per page per unchanged run (issue 12, goal 3)


def _size_after_checkpoint(db: Path) -> int:
    with Archive.open(db) as archive:
        archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db.stat().st_size


def _scenario(*, validators: bool, noise: bool, reruns: int, docs: int) -> dict[str, float]:
    servers = [CountingServer(h).start() for h in HOSTS[:2]]
    try:
        seed = serve_site(servers, docs=docs, delay=0.0, validators=validators, noise=noise)
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "a.db"
            empty = _size_after_checkpoint(db)
            crawl_once(db, seed, delay=0.0)
            first_bytes = sum(s.bytes_sent for s in servers)
            first_size = _size_after_checkpoint(db)
            pages = sum(1 for s in servers for r in s.requests if r.path != "/robots.txt")
            per_bytes, per_growth = [], []
            size = first_size
            for _ in range(reruns):
                before = sum(s.bytes_sent for s in servers)
                crawl_once(db, seed, delay=0.0)
                per_bytes.append(sum(s.bytes_sent for s in servers) - before)
                new_size = _size_after_checkpoint(db)
                per_growth.append(new_size - size)
                size = new_size
            with Archive.open(db) as archive:
                statuses = [r[0] for r in archive.conn.execute(
                    "SELECT outcome FROM snapshots WHERE run_id = (SELECT max(id) FROM runs)")]
                headers = archive.conn.execute(
                    "SELECT avg(coalesce(length(response_headers_id), 0)"
                    " + coalesce(length(request_headers_id), 0)"
                    " + coalesce(length(response_date), 0))"
                    " FROM snapshots WHERE run_id = (SELECT max(id) FROM runs)").fetchone()[0]
                indexes = archive.conn.execute(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                    " AND tbl_name = 'snapshots'").fetchone()[0]
    finally:
        for s in servers:
            s.stop()
    return {
        "pages": pages, "first_bytes": first_bytes, "first_growth": first_size - empty,
        "bytes": median(per_bytes), "growth": (size - first_size) / reruns,
        "not_modified": statuses.count("not_modified"), "unchanged": statuses.count("unchanged"),
        "total": len(statuses), "headers": headers or 0.0, "indexes": indexes,
    }


def run(*, quick: bool) -> Result:
    """Crawl once, then ``reruns`` more times with nothing changed, for both servers."""
    reruns, docs = (3, 6) if quick else (12, 9)
    a = _scenario(validators=True, noise=False, reruns=reruns, docs=docs)
    b = _scenario(validators=False, noise=True, reruns=reruns, docs=docs)
    n = docs + 1

    def row(name: str, s: dict[str, float]) -> list[str]:
        return [name, kb(s["first_bytes"]), kb(s["bytes"]),
                f"{s['bytes'] / s['first_bytes']:.3f}", kb(s["first_growth"]),
                kb(s["growth"]), f"{s['growth'] / n:.0f} B",
                f"{s['not_modified']:.0f} / {s['unchanged']:.0f} of {s['total']:.0f}"]

    body = "\n\n".join([
        f"Hub + {docs} documents on two loopback hosts, politeness 0; a first crawl, then "
        f"{reruns} re-crawls with nothing changed. Bytes: median per re-crawl, counted by the "
        "server (headers included, robots.txt included). Growth: archive file size after "
        "`PRAGMA wal_checkpoint(TRUNCATE)`, averaged over the re-crawls (SQLite grows in "
        "4 KiB pages, so single runs are lumpy).",
        table(["server", "first crawl bytes", "re-crawl bytes", "re / first",
               "first crawl growth", "re-crawl growth", "growth per page",
               "last run: 304 / unchanged"],
              [row("validators (ETag, Last-Modified)", a),
               row("no validators, fresh form token per request", b)]),
    ])
    res = Result("recrawl", "2. Re-crawl of an unchanged site", body)
    headers_only = a["bytes"] / a["first_bytes"]
    res.rows.append(("re-crawl bytes / first crawl (304s)", "headers only",
                     f"{headers_only:.3f} ({kb(a['bytes'])} per run)",
                     verdict(a["not_modified"] == a["total"])))
    for name, s in (("validators", a), ("no validators", b)):
        per_page = s["growth"] / n
        res.rows.append((f"archive growth per page per unchanged run ({name})",
                         f"<= {GROWTH_GOAL} B", f"{per_page:.0f} B",
                         verdict(per_page <= GROWTH_GOAL)))
        if per_page > GROWTH_GOAL:
            res.shortfalls.append(
                f"An unchanged re-crawl ({name}) adds {per_page:.0f} bytes per page to the "
                f"archive (goal {GROWTH_GOAL}): each snapshot row keeps its capture time as "
                f"27-byte text, its validators and content type, header references and Date "
                f"({s['headers']:.0f} bytes per snapshot here), and the snapshots table's "
                f"{s['indexes']:.0f} indexes grow with every row, three repeating the time (the "
                "archive's time range, as-of and version-span lookups read them: without "
                "the time index a diff between dates takes several times as long). "
                "Header lists that repeat cost nothing more (header_sets); real servers that "
                "send per-request headers (cookies, request ids) make new ones.")
    if a["not_modified"] != a["total"]:
        res.shortfalls.append("Not every unchanged page came back as a 304 on the validating "
                              "server.")
    return res
