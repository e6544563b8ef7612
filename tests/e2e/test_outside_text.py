"""The text outside the main content (issue 15): kept with each snapshot, deduplicated by
line, searchable and shown on request, and never a reason for a version."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from archive.capture import Capture
from archive.query import show_as_of
from archive.search import search
from archive.store import Archive, Recorded
from scraper.parse import parse
from tests.cli import run_cli

URL = "http://127.0.0.1:8000/news/story"


def _page(chrome: str, lead: str = "The council approved the new budget on Tuesday") -> bytes:
    return f"""<html><head><title>Story | Site</title></head><body>
<div class="masthead"><a href="/">Home</a> <a href="/world">World</a></div>
<div class="layout">
 <article><h1>Budget approved</h1>
  <p>{lead}, after a debate that lasted most of the night and ended in a clear vote.</p>
  <p>The budget raises spending on schools and roads, and it lowers a tax on small firms
     that had been in place since the crisis years.</p>
 </article>
 <div class="rail"><h3>Most read</h3><p>{chrome}</p></div>
</div>
<div>Page generated {chrome}</div>
</body></html>""".encode()


def _record(archive: Archive, run: int, n: int, body: bytes, *,
            status: int = 200) -> Recorded:
    cap = Capture(url=URL, final_url=URL, status=status, body=b"" if status == 304 else body,
                  headers=[("Content-Type", "text/html; charset=utf-8")])
    page = parse(body, url=URL, content_type="text/html") if status == 200 else None
    return archive.record_snapshot(run, URL, captured_at=f"2026-11-0{n}T06:00:00.000000Z",
                                   result=cap, page=page)


def test_parse_keeps_chrome_outside_the_content() -> None:
    page = parse(_page("Ferry strike enters third day"), url=URL, content_type="text/html")
    assert "budget raises spending" in page.text
    assert "Ferry strike" not in page.text
    lines = page.outside_text.split("\n")
    assert "Most read" in lines and "Page generated Ferry strike enters third day" in lines
    assert "Home World" in lines or "Home" in lines
    assert "budget raises" not in page.outside_text  # the main content is not repeated


def test_chrome_changes_are_kept_not_versioned(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as archive:
        run = archive.begin_run(URL)
        r1 = _record(archive, run, 1, _page("Ferry strike enters third day"))
        r2 = _record(archive, run, 2, _page("Storm warning for the coast"))
        r3 = _record(archive, run, 3, b"", status=304)
        r4 = _record(archive, run, 4, _page("Storm warning for the coast",
                                            lead="The council rejected the new budget"))
        assert r1.new_version and not r2.new_version and not r2.changed
        assert r3.outcome == "not_modified"
        assert r4.new_version and r4.changed
        conn = archive.conn
        ids = [r[0] for r in conn.execute("SELECT outside_text_id FROM snapshots ORDER BY id")]
        assert ids[0] != ids[1] and ids[2] == ids[1] == ids[3]  # the 304 confirms its text
        # Lines are stored once: the second text added only its two changed lines.
        first = json.loads(conn.execute("SELECT lines FROM outside_texts WHERE id = ?",
                                        (ids[0],)).fetchone()[0])
        second = json.loads(conn.execute("SELECT lines FROM outside_texts WHERE id = ?",
                                         (ids[1],)).fetchone()[0])
        assert len(set(second) - set(first)) == 2
        assert conn.execute("SELECT count(*) FROM text_lines").fetchone()[0] == len(first) + 2
        view = show_as_of(archive, URL, "2026-11-01T23:00:00Z")
        assert view.page is not None
        assert "Ferry strike" in view.outside_text and "Ferry strike" not in view.page.text
        hits = search(archive, '"ferry strike"')
        assert hits == []  # the main content only, by default
        hits = search(archive, '"ferry strike"', kinds=["outside"])
        assert [h.kind for h in hits] == ["outside", "outside"]  # the rail and the footer
        assert {h.first_seen[:10] for h in hits} == {"2026-11-01"}
        assert {h.last_seen[:10] for h in hits} == {"2026-11-01"}
        assert search(archive, '"ferry strike"', kinds=["outside"],
                      as_of="2026-11-03T12:00:00Z") == []
        storm = search(archive, "storm", kinds=["outside"])
        assert {h.last_seen[:10] for h in storm} == {"2026-11-04"}
    view_row = sqlite3.connect(db).execute(
        "SELECT text FROM snapshot_outside_text ORDER BY snapshot_id LIMIT 1").fetchone()[0]
    assert "Ferry strike" in view_row

    out = run_cli("show", URL, "--db", str(db), "--as-of", "2026-11-02T12:00:00Z", "--outside",
                  timeout=60)
    assert out.returncode == 0, out.stderr
    assert "-- around the main content --" in out.stdout and "Storm warning" in out.stdout
    out = run_cli("search", "storm", "--db", str(db), "--kind", "outside", timeout=60)
    assert out.returncode == 0, out.stderr
    assert "[outside]" in out.stdout and "[Storm]" in out.stdout
