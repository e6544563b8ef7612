"""Build what tests need without a network: HTML pages, and archives of captures.

The HTML builders make the hub and document pages that loopback servers, fake Waybacks and
WARC tests serve (one hub shape: a <main> with its title, an "Updated:" dateline, a section
heading and a list of links). The archive builders record captures at chosen times from Page
records, for the diff, query and export tests; the crawler's own tests use real servers.
"""

from __future__ import annotations

import html
import json

from archive.capture import Capture
from archive.model import Page
from archive.store import Archive, Recorded
from archive.vocab import HISTORY_COLUMNS

# -- HTML pages ------------------------------------------------------------------------------

#: One link on a hub: (url, link text) or (url, link text, summary after the link).
Link = tuple[str, str] | tuple[str, str, str]


def hub_html(*links: Link, title: str = "U.S.-China Cooperation", head_title: str | None = None,
             updated: str | None = None, section: str | None = "Fact Sheets",
             nav: str | None = None) -> bytes:
    """A hub page the parser reads as a hub: <h1>``title``</h1>, then "Updated: ``updated``"
    when given, then <h2>``section``</h2> when given, then one <li> per link.

    ``head_title`` adds a <title>; ``nav`` adds a <nav> link "Home" to that URL outside <main>
    (a link the crawler must not follow).

    >>> hub_html(("/a", "A"), title="Hub", section=None)
    b'<html><body><main><h1>Hub</h1><ul><li><a href="/a">A</a></li></ul></main></body></html>'
    """
    items = "".join(f'<li><a href="{html.escape(link[0])}">{link[1]}</a>'
                    + (f" {link[2]}" if len(link) > 2 else "") + "</li>" for link in links)
    head = f"<head><title>{head_title}</title></head>" if head_title is not None else ""
    top = f'<nav><a href="{html.escape(nav)}">Home</a></nav>' if nav is not None else ""
    dateline = f"<p>Updated: {updated}</p>" if updated is not None else ""
    heading = f"<h2>{section}</h2>" if section is not None else ""
    return (f"<html>{head}<body>{top}<main><h1>{title}</h1>{dateline}{heading}<ul>{items}</ul>"
            "</main></body></html>").encode()


def doc_html(title: str, text: str) -> bytes:
    """A document page: <h1>``title``</h1> and one paragraph of ``text``."""
    return f"<html><body><main><h1>{title}</h1><p>{text}</p></main></body></html>".encode()


# -- Archives --------------------------------------------------------------------------------


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


def history(archive: Archive, url: str) -> list[dict[str, object]]:
    """:meth:`Archive.history` of ``url`` with each row's columns by name, for assertions."""
    return [dict(zip(HISTORY_COLUMNS, row, strict=True)) for row in archive.history(url)]
