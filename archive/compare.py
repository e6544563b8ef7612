"""What changed between two moments of the archive (or of one page).

:func:`diff_archive` compares the whole archive (or one page) at two instants, using
:mod:`archive.timeline` for what "the page at D" means: added / relinked / removed (linked
from the hub or not), gone, failed, changed, unchanged, with the silent-edit, date-only and
returned flags. A gap (a 404, a failure) is compared across: a page back after one is
compared with its last version before it. Page content is compared by the pure
:func:`archive.diff.diff_pages`; the lookups it needs are :mod:`archive.queries`.

docs/diff.md documents the JSON shape (:meth:`ArchiveDiff.to_dict`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from archive import queries
from archive.diff import PageDiff, diff_pages
from archive.diff_outside import OutsideChange, outside_changes
from archive.diff_vocab import FAILURE_FLAGS, PAGE_CHANGES, Flag, PageChangeKind
from archive.errors import UsageError
from archive.model import Page
from archive.store import Archive
from archive.timeline import PageState, hub_at, page_state_at, resolve_when
from archive.urls import normalize_url


@dataclass
class PageChange:
    """One page between two moments: how it changed, what the diff compared, and its link."""

    url: str
    change: str  # a PageChangeKind
    title: str
    hub: bool
    captures: dict[str, dict[str, Any] | None]
    diff: PageDiff = field(default_factory=PageDiff)
    flags: list[str] = field(default_factory=list)
    linked_by: dict[str, Any] | None = None
    # [old, new] parser_version of the two versions compared when different parsers made
    # them: what differs may be the parser's, not the page's (docs/diff.md, "parsers").
    parsers: list[int] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/diff.md, "pages")."""
        return {
            "url": self.url, "change": self.change, "title": self.title, "hub": self.hub,
            "captures": self.captures,
            "fields": {k: list(v) for k, v in self.diff.fields.items()},
            "flags": self.flags,
            "items": [i.to_dict() for i in self.diff.items],
            "sections": [s.to_dict() for s in self.diff.sections],
            "text_diff": [list(s) for s in self.diff.text_diff],
            "counts": self.diff.counts(),
            "linked_by": self.linked_by,
            "parsers": self.parsers,
        }


@dataclass
class ArchiveDiff:
    """The archive (or one page, ``url``) between instants ``from_at`` and ``to_at``.

    ``from_at`` is None when there was nothing before (the first capture): every page is added.
    ``outside`` is None unless asked for (``diff --outside``): then the pages whose text
    around the main content changed (:mod:`archive.diff_outside`), never a change of content.
    """

    from_at: str | None
    to_at: str
    hub: str | None
    url: str | None
    pages: list[PageChange]
    outside: list[OutsideChange] | None = None

    @property
    def changed(self) -> bool:
        """True when any page is anything but unchanged (what ``--exit-code`` reports). The
        text around the main content (``outside``) never counts."""
        return any(p.change != PageChangeKind.UNCHANGED for p in self.pages)

    def counts(self) -> dict[str, int]:
        """How many pages changed each way (every key of PAGE_CHANGES present)."""
        out: dict[str, int] = dict.fromkeys(PAGE_CHANGES, 0)
        for p in self.pages:
            out[p.change] += 1
        return out

    @property
    def parsers(self) -> dict[str, Any] | None:
        """The parser boundary the diff crosses: ``{"from": [...], "to": [...], "pages": n}``
        (the parser versions of the compared versions on each side, and how many pages
        compare versions of different parsers), or None when no page does."""
        crossing = [p.parsers for p in self.pages if p.parsers]
        if not crossing:
            return None
        return {"from": sorted({p[0] for p in crossing}), "to": sorted({p[1] for p in crossing}),
                "pages": len(crossing)}

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/diff.md); ``outside`` only when asked for, so the
        shape without it is the same as before it existed."""
        out = {"from": self.from_at, "to": self.to_at, "hub": self.hub, "url": self.url,
               "changed": self.changed, "counts": self.counts(), "parsers": self.parsers,
               "pages": [p.to_dict() for p in self.pages]}
        if self.outside is not None:
            out["outside"] = [o.to_dict() for o in self.outside]
        return out


def default_from(archive: Archive, to_at: str, *,
                 page_id: int | None = None) -> str | None:
    """The instant a diff ending at ``to_at`` starts from when the user gave no ``--from``.

    Whole archive: the last capture before the run that made ``to_at``'s latest snapshot
    began, i.e. the end of the previous run. One page: that page's capture before its latest
    one. None when there is none (everything is then "added").
    """
    if page_id is not None:
        return queries.page_capture_before(archive, page_id, to_at)
    run = queries.run_at(archive, to_at)
    if run is None:
        return None
    span = queries.run_span(archive, run["id"])
    assert span is not None  # the run made a snapshot at or before to_at
    return queries.capture_before(archive, span[0])


def resolve_range(archive: Archive, from_when: str | None, to_when: str | None, *,
                  url: str | None = None) -> tuple[str | None, str, int | None]:
    """Turn the user's ``--from`` / ``--to`` (and URL) into ``(from_at, to_at, page_id)``.

    ``to`` defaults to the latest snapshot, ``from`` to :func:`default_from`. For the whole
    archive a snapshot id, or an instant inside a crawl run (or a crawl run re-imported from
    our WARC export; :func:`archive.timeline.run_end`), means the end of that run (the run's whole
    picture, not its hub with the previous run's documents); for one URL a
    snapshot id means that snapshot. Raises UsageError for a malformed WHEN, one before the
    first snapshot, an unknown URL, or ``--from`` later than ``--to``.
    """
    conn = archive.conn
    page_id = None
    if url is not None:
        page_id = archive.page_id(normalize_url(url))
        if page_id is None:
            raise UsageError(f"no page {url} in the archive")
    whole = page_id is None

    def resolve(when: str | None) -> str:
        return resolve_when(conn, when, whole_run=whole)

    to_at = resolve(to_when)
    if from_when is None:
        return default_from(archive, to_at, page_id=page_id), to_at, page_id
    from_at = resolve(from_when)
    if from_at > to_at:
        raise UsageError(f"--from {from_when} ({from_at}) is later than --to "
                         f"{to_when if to_when is not None else '(latest)'} ({to_at}): "
                         "swap them")
    return from_at, to_at, page_id


def _hub_at(archive: Archive, at: str | None) -> str | None:
    """The hub at ``at``: the seed of the latest run that captured its seed by then
    (:func:`archive.timeline.hub_at`, so a typo or failed run cannot take over), else the seed
    of the run of the latest snapshot."""
    if at is None:
        return None
    hub = hub_at(archive.conn, at)
    if hub is not None:
        return normalize_url(hub)
    run = queries.run_at(archive, at)
    return normalize_url(run["seed_url"]) if run is not None else None


def _version_page(archive: Archive, state: PageState | None,
                  cache: dict[int, Page]) -> Page | None:
    return _load(archive, state.version_id if state is not None else None, cache)


def _load(archive: Archive, vid: int | None, cache: dict[int, Page]) -> Page | None:
    if vid is None:
        return None
    if vid not in cache:
        cache[vid] = archive.load_version(vid)
    return cache[vid]



def _capture(state: PageState | None) -> dict[str, Any] | None:
    """What a side of the diff saw: its latest snapshot and the trustworthy one compared."""
    if state is None:
        return None
    latest, good = state.latest, state.good
    return {
        "snapshot": latest["id"], "captured_at": latest["captured_at"],
        "outcome": latest["outcome"], "http_status": latest["http_status"],
        "suspect": bool(latest["suspect"]), "error": latest["error"],
        "version": state.version_id,
        "good_snapshot": good["id"] if good is not None else None,
        "good_captured_at": good["captured_at"] if good is not None else None,
    }


def _live(archive: Archive, at: str | None, hub_id: int | None,
          hub_page: Page | None) -> tuple[set[int], set[str]]:
    """The pages that are "in the archive's picture" at ``at``: the hub, the documents its
    content links to, and whatever the latest run captured. Returns (page ids, linked URLs)."""
    if at is None:
        return set(), set()
    linked = {i.url for i in hub_page.items if i.url} if hub_page is not None else set()
    ids = queries.page_ids(archive, linked)
    if hub_id is not None:
        ids.add(hub_id)
    run = queries.run_at(archive, at)
    if run is not None:
        ids |= queries.pages_of_run(archive, run["id"], at)
    return ids, linked


def diff_archive(archive: Archive, from_at: str | None, to_at: str, *,
                 page_id: int | None = None) -> ArchiveDiff:
    """Compare the archive (or the page ``page_id``) at instant ``from_at`` with ``to_at``.

    Which pages: at each moment, the hub (the seed of the run that made the latest snapshot),
    the documents its (last good) version links to, and the pages that run captured. A page
    only on the later side is ``added`` (``relinked`` when it was in an earlier picture: captured
    before ``from_at``), only on the earlier ``removed``; otherwise ``gone``
    (404/410 now), ``failed`` (latest capture failed or was suspect; the content diff then
    compares the last good versions), ``changed`` or ``unchanged``. Instants come from
    :func:`resolve_range`; states from :func:`archive.timeline.page_state_at`.
    """
    conn = archive.conn
    cache: dict[int, Page] = {}
    hub_url = _hub_at(archive, to_at) or _hub_at(archive, from_at)
    hub_id = archive.page_id(hub_url) if hub_url else None

    def hub_page(at: str | None) -> Page | None:
        if at is None or hub_id is None:
            return None
        state = page_state_at(conn, hub_id, at)
        if state is not None and state.gone:
            # A hub answering 404 says nothing new about its documents: they stay in the
            # picture as its last version linked them (as for a failed hub capture), so a
            # hub that comes back does not bring them back as "added".
            return _load(archive, queries.content_before(archive, hub_id, at), cache)
        return _version_page(archive, state, cache)

    live_from, linked_from = _live(archive, from_at, hub_id, hub_page(from_at))
    live_to, linked_to = _live(archive, to_at, hub_id, hub_page(to_at))
    candidates = {page_id} if page_id is not None else live_from | live_to
    pages: list[PageChange] = []
    for pid in candidates:
        before = page_state_at(conn, pid, from_at) if from_at is not None else None
        after = page_state_at(conn, pid, to_at)
        # Asked about one page by name, show it even when the hub no longer links it.
        in_from = before is not None and (pid in live_from or page_id is not None)
        in_to = after is not None and (pid in live_to or page_id is not None)
        if page_id is not None and pid in live_from and pid not in live_to:
            in_to = False
        if not in_from and not in_to:
            continue
        # Captured before --from, out of the picture then, in it again now: linked again.
        earlier = before if in_to and not in_from else None
        pages.append(_page_change(archive, pid, before if in_from else None,
                                  after if in_to else None, cache, hub_id=hub_id,
                                  linked=linked_from | linked_to, to_at=to_at,
                                  earlier=earlier))
    pages.sort(key=lambda p: (not p.hub, p.url))
    url = None
    if page_id is not None:
        url = pages[0].url if pages else queries.page_url(archive, page_id)
    return ArchiveDiff(from_at, to_at, hub_url, url, pages)


def _page_change(archive: Archive, pid: int, before: PageState | None, after: PageState | None,
                 cache: dict[int, Page], *, hub_id: int | None, linked: set[str],
                 to_at: str, earlier: PageState | None = None) -> PageChange:
    """Classify one page between its two states and diff its content where that means
    something (both sides have a trustworthy version).

    ``earlier`` is the page's state at ``from`` when it was then out of the picture although
    captured before (unlinked for a while): it comes back ``relinked``, its content compared
    with that state's. A page back after a 404/410 (flag ``returned``) is compared with its
    last version before it went, so coming back as it was is no content change.
    """
    state = after if after is not None else before
    assert state is not None
    base = before if before is not None else earlier
    old = _version_page(archive, base, cache)
    new = _version_page(archive, after, cache)
    shown = new or old
    flags: list[str] = []
    failure = after.failure if after is not None else None
    if failure is not None:
        flags.append(failure)  # failed | suspect | blocked
    diff = PageDiff()
    parsers = None
    if after is None:
        change = PageChangeKind.REMOVED
    elif base is None:
        change = PageChangeKind.ADDED
    elif after.gone:
        change = PageChangeKind.UNCHANGED if base.gone else PageChangeKind.GONE
    else:
        if old is not None and new is not None and base.version_id != after.version_id:
            diff = diff_pages(old, new)
            parsers = queries.parsers_of(archive, base.version_id, after.version_id)
        elif old is None and new is not None and base.gone:
            flags.append(Flag.RETURNED)  # back after a 404/410: compared with what it was before
            last = queries.content_before(archive, pid, str(base.good["captured_at"])) \
                if base.good is not None else None
            if last != after.version_id:
                diff = diff_pages(_load(archive, last, cache) or Page(url=new.url), new)
                parsers = queries.parsers_of(archive, last, after.version_id)
        # A failure is news when it is newly observed: the state before was not the same kind
        # of failure (a page that keeps failing, or the same failed snapshot seen from both
        # moments, is no change). "blocked" is a rule (robots.txt, the address policy), never
        # news: the content compared is the last good one on each side.
        if failure in FAILURE_FLAGS and base.failure != failure and before is not None:
            change = PageChangeKind.FAILED
        elif old is None and new is not None and not base.gone and before is not None:
            # First fetched (before, it had only failed or been blocked).
            change = PageChangeKind.ADDED
        elif Flag.RETURNED in flags:
            # 404/410 then, content now: news even when the content is the same.
            change = PageChangeKind.CHANGED
        else:
            change = PageChangeKind.CHANGED if diff.changed else PageChangeKind.UNCHANGED
    if earlier is not None and after is not None:
        # Whatever happened to its content is said by the diff and flags.
        change = PageChangeKind.RELINKED
    flags += diff.flags
    url = str(state.url)
    link = (queries.linked_by(archive, hub_id, url, to_at)
            if hub_id is not None and pid != hub_id and url in linked else None)
    return PageChange(url, change, shown.title if shown is not None else "", pid == hub_id,
                      {"from": _capture(before), "to": _capture(after)}, diff, flags, link,
                      parsers)


def diff_between(archive: Archive, from_when: str | None = None, to_when: str | None = None,
                 *, url: str | None = None, outside: bool = False) -> ArchiveDiff:
    """Resolve the user's WHENs (:func:`resolve_range`) and diff (:func:`diff_archive`).

    ``outside``: also list the text around each page's main content that changed
    (:func:`archive.diff_outside.outside_changes`); it changes nothing else in the result.
    """
    from_at, to_at, page_id = resolve_range(archive, from_when, to_when, url=url)
    result = diff_archive(archive, from_at, to_at, page_id=page_id)
    if outside:
        result.outside = outside_changes(archive, result)
    return result


def run_range(archive: Archive, run_id: int) -> tuple[str | None, str] | None:
    """The instants a run's own diff compares: the previous run's end and this run's end."""
    span = queries.run_span(archive, run_id)
    if span is None:
        return None
    return queries.capture_before(archive, span[0]), span[1]
