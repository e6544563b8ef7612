"""``publish``: the timeline pages of :mod:`archive.site` written as a static site.

One directory, flat, every link relative, so the site works from ``file://`` and from any
static host:

- ``index.html``: the pages, each with its chart;
- ``page-<page id>.html``: a page's timeline;
- ``diff-<page id>-<snapshot>-<snapshot>.html``: the HTML diff report between two versions
  (named by the first snapshot that showed each). A static site cannot answer "any two", so
  it holds every pair for a page of up to ALL_PAIRS_UP_TO versions, and for a page with more
  each version against the previous one and against the latest (``serve`` compares any two);
- ``raw-<snapshot>.txt``: a version's stored body as received, as plain text (``.bin`` for a
  PDF or other non-HTML body), never as live HTML.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from itertools import pairwise

from archive.errors import UsageError
from archive.site import diff_html, render_index, render_page
from archive.store import Archive
from archive.timeline_view import PageTimeline, archive_months, page_summaries, page_timeline

#: A page with at most this many versions gets a diff for every pair of them.
ALL_PAIRS_UP_TO = 12
# The files a publish writes, and so the only ones ``force`` removes first.
_OURS_RE = re.compile(r"^(index\.html|page-\d+\.html|diff-\d+-\d+-\d+\.html|raw-\d+\.(txt|bin))$")


@dataclass
class PublishStats:
    """What a publish wrote."""

    pages: int = 0
    diffs: int = 0
    raw: int = 0
    files: list[str] = field(default_factory=list)


class StaticLinks:
    """Links between the static site's files: bare relative names, so they work anywhere."""

    def __init__(self) -> None:
        self.pairs: set[tuple[int, int, int]] = set()
        self.raw_files: dict[int, str] = {}

    def index(self) -> str:
        """The index file."""
        return "index.html"

    def page(self, page_id: int) -> str:
        """A page's timeline file."""
        return f"page-{page_id}.html"

    def diff(self, page_id: int, from_snapshot: int, to_snapshot: int) -> str | None:
        """The diff file of a pair the site holds, else None."""
        if (page_id, from_snapshot, to_snapshot) not in self.pairs:
            return None
        return f"diff-{page_id}-{from_snapshot}-{to_snapshot}.html"

    def raw(self, snapshot_id: int) -> str | None:
        """The raw body file of a version's first snapshot, else None."""
        return self.raw_files.get(snapshot_id)

    def compare_form(self, page_id: int) -> str | None:
        """No server: the page shows a grid of the diffs the site holds instead."""
        return None


def pairs_for(t: PageTimeline) -> set[tuple[int, int, int]]:
    """The diffs the static site holds for a page: ``(page_id, earlier, later)`` snapshots."""
    ids = [s.snapshot_id for s in t.stretches]
    if len(ids) <= ALL_PAIRS_UP_TO:
        return {(t.page_id, a, b) for i, a in enumerate(ids) for b in ids[i + 1:]}
    pairs = {(t.page_id, a, b) for a, b in pairwise(ids)}
    return pairs | {(t.page_id, a, ids[-1]) for a in ids[:-1]}


def check_target(out: str, db_path: str, *, force: bool) -> None:
    """Refuse a target that is a file, the archive's own directory entry, or a non-empty
    directory holding anything but an earlier publish (unless ``force``). UsageError."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"{out} exists and is not a directory")
    if os.path.abspath(out) == os.path.abspath(db_path):
        raise UsageError(f"{out} is the archive itself; choose another directory")
    if os.path.isdir(out) and os.listdir(out) and not force:
        names = ", ".join(sorted(os.listdir(out))[:3])
        raise UsageError(f"{out} is not empty ({names} ...); use --force to replace an "
                         "earlier publish there")


def _write(path: str, data: bytes) -> None:
    # Write beside, then rename: a reader of the site never sees half a file.
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def publish_site(archive: Archive, out: str, *, force: bool = False) -> PublishStats:
    """Write the static site of ``archive`` into directory ``out`` (created; see the module
    docstring for its files). With ``force``, files of an earlier publish there are removed
    first; other files are left alone."""
    check_target(out, archive.path, force=force)
    os.makedirs(out, exist_ok=True)
    if force:
        for name in os.listdir(out):
            if _OURS_RE.match(name):
                os.remove(os.path.join(out, name))
    conn = archive.conn
    axis = archive_months(conn)
    summaries = page_summaries(conn)
    links = StaticLinks()
    timelines = [page_timeline(archive, p.page_id) for p in summaries]
    stats = PublishStats()
    for t in timelines:
        links.pairs |= pairs_for(t)
        for s in t.stretches:
            if s.has_body and s.snapshot_id not in links.raw_files:
                ext = "txt" if s.kind == "html" else "bin"
                links.raw_files[s.snapshot_id] = f"raw-{s.snapshot_id}.{ext}"

    def emit(name: str, data: bytes) -> None:
        _write(os.path.join(out, name), data)
        stats.files.append(name)

    for snapshot_id, name in sorted(links.raw_files.items()):
        body = conn.execute("SELECT body_id FROM snapshots WHERE id = ?",
                            (snapshot_id,)).fetchone()[0]
        emit(name, archive.body(int(body)))
        stats.raw += 1
    for page_id, a, b in sorted(links.pairs):
        emit(f"diff-{page_id}-{a}-{b}.html",
             diff_html(archive, page_id, a, b, links).encode("utf-8"))
        stats.diffs += 1
    for t in timelines:
        emit(links.page(t.page_id), render_page(t, axis, links).encode("utf-8"))
        stats.pages += 1
    emit("index.html", render_index(summaries, axis, links).encode("utf-8"))
    return stats
