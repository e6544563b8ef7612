"""A page as of a moment: what ``show`` prints, and when the archive saw each version.

"As of WHEN" always means what :mod:`archive.timeline` says: the page's latest snapshot at or
before WHEN, and its content from the latest *trustworthy* snapshot (not failed, blocked or
suspect). Every function here reads.

The other readers, one job each: full-text search (:mod:`archive.search`), read-only SQL
(:mod:`archive.sql_readonly`), tidy exports (:mod:`archive.export`) and Datasette's metadata
(:mod:`archive.datasette_meta`); their renderings for a terminal are
:mod:`archive.report_query`. The tables, views and FTS indexes they read are documented in
docs/schema.md.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from archive import outside, queries
from archive.errors import UsageError
from archive.model import Page
from archive.store import Archive
from archive.timeline import PageState, hub_at, page_state_at, pages_at, resolve_when
from archive.urls import normalize_url
from archive.vocab import CONTENT_OUTCOMES, sql_list

logger = logging.getLogger(__name__)

#: What a trustworthy snapshot that showed content looks like, in SQL.
_SHOWN = f"suspect = 0 AND outcome IN {sql_list(CONTENT_OUTCOMES)}"

# -- spans ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """When the archive saw a version: its first and last trustworthy snapshots (UTC)."""

    first_seen: str | None
    last_seen: str | None
    snapshots: int


def version_spans(conn: sqlite3.Connection, version_ids: Iterable[int]) -> dict[int, Span]:
    """The :class:`Span` of each version id (same numbers as the ``version_spans`` view).

    Reads the partial index ``snapshots_version_good`` only, in chunks (SQLite caps the
    number of bound parameters).
    """
    ids = sorted(set(version_ids))
    out: dict[int, Span] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for vid, first, last, n in conn.execute(
            f"SELECT version_id, min(captured_at), max(captured_at), count(*) FROM snapshots"
            f" WHERE version_id IN ({marks}) AND {_SHOWN} GROUP BY version_id", chunk,
        ):
            out[vid] = Span(first, last, n)
    for vid in ids:
        out.setdefault(vid, Span(None, None, 0))
    return out


# -- show: a page as of a moment -----------------------------------------------------------


@dataclass
class PageView:
    """A page as the archive showed it at ``at``.

    ``status``:
    - ``ok``: ``page`` is the content of the latest trustworthy snapshot at or before ``at``.
    - ``gone``: the latest trustworthy snapshot found the page gone (404/410); ``page`` is None.
    - ``not_captured``: the page had no snapshot yet at ``at``.
    - ``no_content``: snapshots exist but none trustworthy (all failed, blocked or suspect).

    ``failed`` is true when the latest snapshot at ``at`` itself failed or looked like an error
    page: the content shown then comes from the earlier ``good`` snapshot.
    """

    url: str
    at: str
    status: str
    failed: bool = False
    page: Page | None = None
    version_id: int | None = None
    version_span: Span | None = None
    snapshot: dict[str, Any] | None = None  # the trustworthy snapshot the content comes from
    latest: dict[str, Any] | None = None  # the latest snapshot at ``at``, whatever its outcome
    first_captured: str | None = None
    # The visible text outside the main content in the snapshot shown (menus, asides,
    # footers): kept, not part of the version (see archive/outside.py).
    outside_text: str = ""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        d = asdict(self)
        d["page"] = self.page.to_dict() if self.page else None
        return d


_SNAPSHOT_FIELDS = ("id", "run_id", "captured_at", "outcome", "http_status", "suspect",
                    "error", "version_id", "truncated")


def _snap(row: sqlite3.Row | None) -> dict[str, Any] | None:
    return {k: row[k] for k in _SNAPSHOT_FIELDS} if row is not None else None


def default_url(archive: Archive) -> str:
    """What ``show`` shows without a URL: the hub (:func:`archive.timeline.hub_at`), i.e. the
    seed of the latest run that captured its seed; else the latest run's seed."""
    hub = hub_at(archive.conn)
    if hub is not None:
        return hub
    seed = queries.latest_seed(archive)
    if seed is None:
        raise UsageError("the archive holds no runs yet")
    return seed


def page_id_for(archive: Archive, url: str) -> int:
    """The page id of ``url`` (normalised first); UsageError if the archive never saw it."""
    norm = normalize_url(url)
    pid = archive.page_id(norm)
    if pid is None:
        raise UsageError(f"no page {url} in the archive")
    return pid


def show_as_of(archive: Archive, url: str | None, at: str | None) -> PageView:
    """The page ``url`` (default: the latest run's seed) as the archive showed it at ``at``.

    ``at`` is a WHEN (see :func:`archive.timeline.resolve_when`: an ISO date or time, a
    snapshot id, or None for the latest snapshot in the archive).
    """
    url = url or default_url(archive)
    pid = page_id_for(archive, url)
    conn = archive.conn
    instant = resolve_when(conn, at)
    norm = normalize_url(url)
    first = queries.first_capture(archive, pid)
    state: PageState | None = page_state_at(conn, pid, instant)
    if state is None:
        return PageView(norm, instant, "not_captured", first_captured=first)
    view = PageView(state.url, instant, "ok", failed=state.failed, latest=_snap(state.latest),
                    snapshot=_snap(state.good), first_captured=first)
    if state.good is None:
        view.status = "no_content"
    elif state.gone:
        view.status = "gone"
    else:
        vid = state.version_id
        assert vid is not None
        view.version_id = vid
        view.page = archive.load_version(vid)
        view.version_span = version_spans(conn, [vid])[vid]
        tid = state.good["outside_text_id"]
        if tid is not None:
            view.outside_text = outside.load(conn, tid)
    return view



def visible_versions(conn: sqlite3.Connection, at: str) -> set[int]:
    """The version ids the archive showed at instant ``at``, one per page at most."""
    return {s.version_id for s in pages_at(conn, at) if s.version_id is not None}
