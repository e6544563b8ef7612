"""An Atom 1.0 feed of the archive's latest changes: one entry per changed page per run.

Entries come from :mod:`archive.changes` (the same news a notification tells): each has a
stable ``tag:`` id (run and page), the page's capture time as ``updated``, a link to the page
and the change summary as escaped HTML content (the HTML report's section for the page, so
scraped text was escaped once there and the feed escapes that markup again: a scraped
``<script>`` reaches a reader as text). :func:`write_atomic` replaces the file in one rename,
so a web server publishing it never serves half a feed.
"""

from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import dataclass

from archive.changes import news, page_html, run_diff
from archive.store import Archive
from archive.timeutil import utcnow_iso
from archive.urls import normalize_url

ATOM = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 does not allow, even escaped; scraped text can hold them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class FeedEntry:
    """One changed page in one run."""

    id: str
    title: str
    updated: str
    link: str
    html: str
    run_id: int


def _xml_text(s: str) -> str:
    return _NOT_XML.sub("\ufffd", s)


def entries(archive: Archive, *, seed_url: str | None = None, runs: int = 50,
            date_only: bool = False, failures: bool = False,
            label: str | None = None) -> list[FeedEntry]:
    """The feed's entries, newest run first: the news of the latest ``runs`` finished crawl
    runs (of the watch whose seed is ``seed_url``, when given). ``label`` (a watch name)
    starts each title."""
    where, args = "", []
    if seed_url is not None:
        where, args = "AND seed_url = ?", [normalize_url(seed_url)]
    rows = archive.conn.execute(
        f"""SELECT id FROM runs WHERE status != 'running' AND source IN ('crawl', 'demo')
            {where} ORDER BY id DESC LIMIT ?""", (*args, runs)).fetchall()
    out: list[FeedEntry] = []
    for (run_id,) in rows:
        result = run_diff(archive, run_id)
        if result is None:
            continue
        for page in news(result, date_only=date_only, failures=failures):
            to = page.captures.get("to") or {}
            updated = str(to.get("captured_at") or result.to_at)
            page_id = archive.page_id(page.url)
            title = f"{page.title or page.url}: {page.change}"
            out.append(FeedEntry(
                id=f"tag:coop-archive,{updated[:10]}:run-{run_id}/page-{page_id}",
                title=f"{label}: {title}" if label else title, updated=updated,
                link=page.url, html=page_html(result, page), run_id=run_id))
    return out


def render(items: list[FeedEntry], *, title: str, feed_id: str,
           self_link: str | None = None) -> str:
    """The Atom 1.0 document for ``items`` (ElementTree escapes every text)."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = _xml_text(text)
        return el

    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    sub(feed, "updated", max((e.updated for e in items), default=utcnow_iso()))
    author = sub(feed, "author")
    sub(author, "name", "coop-archive")
    sub(feed, "generator", "coop-archive")
    if self_link:
        sub(feed, "link", rel="self", href=self_link)
    for item in items:
        entry = sub(feed, "entry")
        sub(entry, "id", item.id)
        sub(entry, "title", item.title)
        sub(entry, "updated", item.updated)
        if item.link.lower().startswith(("http://", "https://")):
            sub(entry, "link", rel="alternate", href=_xml_text(item.link))
        sub(entry, "content", item.html, type="html")
    ET.indent(feed)
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            + ET.tostring(feed, encoding="unicode") + "\n")


def build(archive: Archive, *, seed_url: str | None = None, label: str | None = None,
          runs: int = 50, date_only: bool = False, failures: bool = False,
          self_link: str | None = None) -> str:
    """The whole feed: of every watch, or of the one whose seed is ``seed_url`` (its name
    ``label``). What ``coop-archive feed`` writes, and a crawl rewrites after its runs."""
    items = entries(archive, seed_url=seed_url, runs=runs, date_only=date_only,
                    failures=failures, label=label)
    name = f"coop-archive: {label}" if label else "coop-archive"
    return render(items, title=f"{name}: changes",
                  feed_id=f"tag:coop-archive,2026:feed/{label or 'all'}", self_link=self_link)


def write_atomic(path: str, text: str) -> None:
    """Replace the file at ``path`` with ``text`` in one rename (a reader sees the old file
    or the new one, never a part); the temporary file is removed on failure."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".feed-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # published by a web server: mkstemp's 0600 would hide it
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
