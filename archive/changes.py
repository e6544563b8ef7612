"""A run's news: what it changed, compared with the previous run of the same seed, less noise.

Notifications (scraper/notify.py) and the Atom feed (archive/feed.py) both tell people what a
run found; this module decides what that is, so they never disagree:

- :func:`run_diff`: the diff of a run against the previous run with the same seed (a watch),
  through :func:`archive.diff.diff_between`. None for a run that is the first capture of its
  seed: a first capture is not a change.
- :func:`news`: the pages of that diff worth telling about. Unchanged pages never are; a
  date-only bump (the Updated date moved, the content did not) and a failed or suspect
  capture only when asked.
- :func:`watch_status`: a watch's last run and last change, for ``coop-archive watches``.
"""

from __future__ import annotations

import dataclasses
import html
import re
from typing import Any

from archive.compare import ArchiveDiff, PageChange, diff_between
from archive.report import render
from archive.report_cron import iter_changed
from archive.store import Archive
from archive.urls import normalize_url

_FAILURES = ("failed", "suspect", "blocked")
# Runs that observe the live site (the demo's are crawls of its bundled copy).
_LIVE = "('crawl', 'demo')"
_PAGE_SECTION = re.compile(r'<section class="page"[^>]*>.*?</section>', re.S)


def _last_snapshot(archive: Archive, run_id: int) -> int | None:
    row = archive.conn.execute(
        "SELECT id FROM snapshots WHERE run_id = ? ORDER BY captured_at DESC, id DESC LIMIT 1",
        (run_id,)).fetchone()
    return int(row[0]) if row is not None else None


def previous_run(archive: Archive, run_id: int) -> int | None:
    """The latest crawl run before ``run_id`` with the same seed that captured anything.

    Only crawls: an import or a Wayback backfill in between holds captures of other times
    (their diff against today would be years of changes, not this run's news).
    """
    row = archive.conn.execute(
        f"""SELECT r.id FROM runs r, runs this
            WHERE this.id = ? AND r.seed_url = this.seed_url AND r.id < this.id
              AND r.source IN {_LIVE}
              AND EXISTS (SELECT 1 FROM snapshots s WHERE s.run_id = r.id)
            ORDER BY r.id DESC LIMIT 1""", (run_id,)).fetchone()
    return int(row[0]) if row is not None else None


def run_diff(archive: Archive, run_id: int) -> ArchiveDiff | None:
    """Run ``run_id`` compared with the previous crawl of its seed; None when there is none
    (the first capture of a watch), the run captured nothing or is not a crawl."""
    source = archive.conn.execute("SELECT source FROM runs WHERE id = ?", (run_id,)).fetchone()
    if source is None or f"'{source[0]}'" not in _LIVE:
        return None
    end = _last_snapshot(archive, run_id)
    before = previous_run(archive, run_id)
    if end is None or before is None:
        return None
    start = _last_snapshot(archive, before)
    return diff_between(archive, f"#{start}", f"#{end}")


def news(result: ArchiveDiff, *, date_only: bool = False,
         failures: bool = False) -> list[PageChange]:
    """The pages of ``result`` worth a notification or a feed entry.

    A page whose only change is its Updated date counts with ``date_only``; a page that
    failed, looked like an error page or was blocked (and showed no other change) counts with
    ``failures``.
    """
    out = []
    for page in iter_changed(result):
        if page.change == "failed" and not failures:
            continue
        if "date_only" in page.flags and page.change == "changed" and not date_only:
            continue
        if (page.change == "changed" and not page.diff.changed
                and any(f in _FAILURES for f in page.flags) and not failures):
            continue
        out.append(page)
    return out


def only(result: ArchiveDiff, pages: list[PageChange]) -> ArchiveDiff:
    """``result`` restricted to ``pages`` (what a message or a feed entry shows)."""
    return dataclasses.replace(result, pages=pages)


def page_html(result: ArchiveDiff, page: PageChange) -> str:
    """One page's change summary as an HTML fragment (the HTML report's section for it)."""
    full = render(only(result, [page]), "html")
    found = _PAGE_SECTION.search(full)
    if found is not None:
        return found.group(0)
    # Never expected; the text report says the same things.
    return f"<pre>{html.escape(render(only(result, [page]), 'text'))}</pre>"


def watch_status(archive: Archive, seed_url: str) -> dict[str, Any]:
    """What ``coop-archive watches`` shows of one watch (its runs are those of its seed):
    its last run (id, start, end, status; None if never run), how many runs, and when a
    page of it last changed (a first capture is not a change)."""
    seed = normalize_url(seed_url)
    conn = archive.conn
    last = conn.execute(
        "SELECT id, started_at, finished_at, status FROM runs WHERE seed_url = ?"
        " ORDER BY id DESC LIMIT 1", (seed,)).fetchone()
    runs = conn.execute("SELECT count(*) FROM runs WHERE seed_url = ?", (seed,)).fetchone()[0]
    changed = conn.execute(
        """SELECT max(s.captured_at) FROM snapshots s JOIN runs r ON r.id = s.run_id
            WHERE r.seed_url = ? AND s.changed = 1
              AND EXISTS (SELECT 1 FROM snapshots e WHERE e.page_id = s.page_id
                            AND e.captured_at < s.captured_at)""", (seed,)).fetchone()[0]
    return {"last_run": dict(last) if last is not None else None, "runs": runs,
            "last_change": changed}


def watch_pages(archive: Archive, seed_url: str) -> set[str]:
    """The URLs of the pages a watch covers: every page its runs (those of its seed) have
    captured, the seed included."""
    rows = archive.conn.execute(
        """SELECT DISTINCT p.url FROM snapshots s JOIN runs r ON r.id = s.run_id
             JOIN pages p ON p.id = s.page_id WHERE r.seed_url = ?""",
        (normalize_url(seed_url),))
    return {row[0] for row in rows}
