"""Build archives for tests without a network: captures at chosen times from Page records.

Shared by the diff, query and export tests; the crawler's own tests use real servers instead.
"""

from __future__ import annotations

import json

from archive.capture import Capture
from archive.model import Page
from archive.store import Archive, Recorded


def capture(archive: Archive, url: str, when: str, page: Page | None = None, *,
            status: int = 200, body: bytes | None = None, error: str | None = None,
            suspect: bool = False, run_id: int | None = None,
            headers: list[tuple[str, str]] | None = None) -> Recorded:
    """Record one observation of ``url`` at ``when`` (archive UTC text, e.g.
    "2016-10-21T12:00:00.000000Z"), in its own run unless ``run_id`` is given.

    ``page`` with status 2xx stores a version; 304 confirms the previous capture; 404/410 is
    gone; ``error`` records a failure. ``body`` defaults to the page's records as JSON.
    """
    if run_id is None:
        run_id = archive.begin_run(url, started_at=when)
    if error is not None:
        return archive.record_snapshot(run_id, url, captured_at=when, error=error)
    if body is None:
        body = json.dumps(page.records() if page else {}, sort_keys=True).encode()
    result = Capture(url=url, final_url=url, status=status,
                         headers=headers or [("Content-Type", "text/html; charset=utf-8")],
                         body=b"" if status == 304 else body, fetched_at=when)
    return archive.record_snapshot(run_id, url, captured_at=when, result=result,
                                   page=page if 200 <= status < 300 else None, suspect=suspect)


def at(day: str, hour: int = 12) -> str:
    """'2016-10-21' -> '2016-10-21T12:00:00.000000Z' (archive time text)."""
    return f"{day}T{hour:02d}:00:00.000000Z"
