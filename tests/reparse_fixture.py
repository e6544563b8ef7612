"""An archive made by a deliberately older parser, for the ``reparse`` tests.

The older rule: the text of the page's ``<aside>`` (a rotating "Trending now" box) was kept
as part of the page's text. The current parser leaves it out, so every capture whose aside
rotated made a version under the old rule that the current parser merges. The records are the
current parser's own output (:func:`scraper.ingest.parse_capture`) with the aside appended,
recorded as :data:`archive.model.PARSER_VERSION` minus one, through the store's real writes.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from archive import model
from archive.capture import Capture
from archive.model import Page
from archive.store import Archive
from scraper.ingest import parse_capture
from tests.builders import at

OLD_PARSER = model.PARSER_VERSION - 1
DAYS = ("2024-03-01", "2024-03-02", "2024-03-03", "2024-03-04")
ASIDES = ("Trending now: ports", "Trending now: rail", "Trending now: air",
          "Trending now: sea")
# The article's own text on each day: the one real edit is on the third day.
ARTICLES = ("The cooperation agreement was signed by both ministers.",) * 2 + (
    "The cooperation agreement was signed by both ministers in Paris.",) * 2
HEADERS = [("Content-Type", "text/html; charset=utf-8")]


def body(n: int, day: int, *, aside: bool = True) -> bytes:
    """Document ``n`` as served on ``day`` (0-3): its article, and a rotating aside."""
    box = f"<aside><p>{ASIDES[day]}</p></aside>" if aside else ""
    return (f"<html><head><title>Document {n}</title></head><body><main>"
            f"<h1>Document {n}</h1><p>{ARTICLES[day]} Number {n}.</p></main>{box}"
            "</body></html>").encode()


def old_parse(capture: Capture) -> Page:
    """The older rule: the current records, with the aside's text kept in the page's text."""
    page = parse_capture(capture)
    assert page is not None
    found = re.search(rb"<aside><p>(.*?)</p></aside>", capture.body)
    if found:
        page.text = f"{page.text}\n{found.group(1).decode()}"
    return page


def url_of(n: int) -> str:
    return f"http://127.0.0.1:9/doc/{n}"


def build(path: Path, monkeypatch: pytest.MonkeyPatch, *, docs: int = 1,
          plain: bool = True, old_days: int = len(DAYS)) -> None:
    """Capture ``docs`` documents with an aside (and, ``plain``, one without) on each of
    :data:`DAYS`, one run per day: the first ``old_days`` days parsed by the older rule, the
    rest by the current parser (an archive that crosses a parser upgrade)."""
    with Archive.open(path) as archive:
        for day, date in enumerate(DAYS):
            old = day < old_days
            if old:
                # the store reads archive.model.PARSER_VERSION when it writes a version
                monkeypatch.setattr("archive.model.PARSER_VERSION", OLD_PARSER)
            else:
                monkeypatch.undo()
            when = at(date)
            run = archive.begin_run(url_of(0), started_at=when)
            for n in range(docs + int(plain)):
                url = url_of(n)
                cap = Capture(url=url, final_url=url, status=200, headers=list(HEADERS),
                              body=body(n, day, aside=n < docs), fetched_at=when)
                page = old_parse(cap) if old else parse_capture(cap)
                archive.record_snapshot(run, url, captured_at=when, result=cap, page=page)
            archive.finish_run(run, "complete", finished_at=when)
    monkeypatch.undo()


def dump(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table but the FTS indexes' internals, without the reparse's own
    timestamps: what must be the same however a reparse got there."""
    conn = sqlite3.connect(path)
    try:
        out: dict[str, list[tuple[object, ...]]] = {}
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%'"
            " ORDER BY name")]
        for table in tables:
            cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                    if r[1] not in ("reparsed_at", "superseded_at")]
            out[table] = conn.execute(
                f"SELECT {', '.join(cols)} FROM {table} ORDER BY 1, 2").fetchall()
        return out
    finally:
        conn.close()
