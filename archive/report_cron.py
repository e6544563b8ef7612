"""The cron mail's wording: one short line per changed page of a run.

:func:`summarize_run` compares the end of the previous run with the end of a run
(:func:`archive.compare.run_range`) and says, per page that changed, what changed in a phrase
(:func:`describe`). :func:`not_fetched` and :func:`never_fetched` are shared with the full
reports of :mod:`archive.report`. Pure wording: nothing here prints.
"""

from __future__ import annotations

from collections.abc import Iterable

from archive.compare import ArchiveDiff, PageChange, diff_archive, run_range
from archive.diff_vocab import FAILURE_FLAGS, Flag, ItemChangeKind, PageChangeKind
from archive.diff_vocab import SectionChangeKind as Sec
from archive.store import Archive
from archive.vocab import Outcome


def describe(page: PageChange) -> str:
    """One short phrase for what happened to a page (the cron summary's line)."""
    if page.change == PageChangeKind.ADDED:
        if never_fetched(page):
            # Linked, but never fetched: there is no content to call "added".
            return (("first linked from the hub" if page.linked_by else "added")
                    + f"; not fetched: {not_fetched(page)}")
        if page.captures["from"] is not None:
            return "added (first fetched)"
        return "added" + (" (first linked from the hub)" if page.linked_by else "")
    if page.change == PageChangeKind.REMOVED:
        return "removed (no longer linked from the hub)" if not page.hub else "removed"
    if page.change == PageChangeKind.GONE:
        return _gone(page)
    notes = [_FLAG_WORDS[f] for f in page.flags if f in _FLAG_WORDS and f != Flag.RETURNED]
    tail = f" ({', '.join(notes)})" if notes else ""
    if page.change == PageChangeKind.RELINKED:
        first = (page.linked_by or {}).get("first")
        head = "linked again" + (f" (first linked {first['seen'][:10]})" if first else "")
        to = page.captures["to"] or {}
        if never_fetched(page):
            return f"{head}; not fetched: {not_fetched(page)}"
        if to.get("outcome") == Outcome.GONE:
            return f"{head}; {_gone(page)}"
        failure = any(f in page.flags for f in FAILURE_FLAGS)
        return "; ".join([head, *_content_parts(page, failure=failure)]) + tail
    parts = _content_parts(page, failure=page.change == PageChangeKind.FAILED)
    if Flag.RETURNED in page.flags:
        # Back after a 404/410, compared with the version before it went.
        return ("; ".join(["back", *parts]) if parts else "back, unchanged") + tail
    return ("; ".join(parts) or page.change) + tail


def _gone(page: PageChange) -> str:
    status = (page.captures["to"] or {}).get("http_status")
    return f"gone (HTTP {status})" if status else "gone"


def _content_parts(page: PageChange, *, failure: bool) -> list[str]:
    """The phrases for a page's content diff (and, with ``failure``, its failed capture)."""
    parts: list[str] = []
    if failure:
        to = page.captures["to"] or {}
        if Flag.SUSPECT in page.flags:
            why = "looked like an error page (kept, flagged suspect)"
        else:
            why = f"could not be fetched ({to.get('error') or 'failed'})"
        since = to.get("good_captured_at")
        parts.append(why + (f"; compared with the last good capture of {since[:10]}"
                            if since else ""))
    d = page.diff
    counts = d.counts()
    for kind, noun in (("items", "item"), ("sections", "section")):
        bits = [f"{counts[kind][c]} {_CHANGE_WORDS[c]}" for c in _ORDER if c in counts[kind]]
        if bits:
            # "2 items added, 1 removed": the noun once, after the first number.
            n, rest = bits[0].split(" ", 1)
            bits[0] = f"{n} {noun}{'' if n == '1' else 's'} {rest}"
            parts.append(", ".join(bits))
    if "title" in d.fields:
        old, new = d.fields["title"]
        parts.append(f"title {old!r} → {new!r}")
    if d.text_diff and not d.items and not d.sections and Flag.DATE_ONLY not in d.flags:
        parts.append("text edited")
    if "updated" in d.fields:
        old, new = d.fields["updated"]
        parts.append(f"Updated {old or '-'} → {new or '-'}")
    return parts


def not_fetched(page: PageChange) -> str:
    """Why the latest capture by ``to`` did not show the page, or "" if it did: ``blocked
    (disallowed by robots.txt)``, ``fetch failed (...)`` or ``looked like an error page``."""
    to = page.captures["to"] or {}
    if to.get("outcome") == Outcome.BLOCKED:
        return f"blocked ({to.get('error') or 'by policy'})"
    if to.get("outcome") == Outcome.FAILED:
        return f"fetch failed ({to.get('error') or 'no reason given'})"
    if to.get("suspect"):
        return "looked like an error page"
    return ""


def never_fetched(page: PageChange) -> bool:
    """True when the page has no content to show by ``to``: only failed, blocked or suspect
    captures (a 404/410 is content: the page is gone)."""
    to = page.captures["to"] or {}
    return bool(page.captures["to"]) and to.get("version") is None \
        and to.get("good_snapshot") is None


# Item and section changes in the order a line lists them, and the word for each.
_ORDER = (ItemChangeKind.ADDED, ItemChangeKind.REMOVED, ItemChangeKind.CHANGED, Sec.RENAMED,
          ItemChangeKind.MOVED)
_CHANGE_WORDS = {ItemChangeKind.ADDED: "added", ItemChangeKind.REMOVED: "removed",
                 ItemChangeKind.CHANGED: "edited", Sec.RENAMED: "renamed",
                 ItemChangeKind.MOVED: "moved"}
_FLAG_WORDS: dict[str, str] = {
    Flag.SILENT_EDIT: "silent edit: Updated date not changed",
    Flag.DATE_ONLY: "date-only bump",
    Flag.TRIVIAL: "typographic only",
    Flag.RETURNED: "back after being gone",
    Flag.BLOCKED: "latest capture blocked by a rule; compared with the last good",
}


def summarize_run(archive: Archive, run_id: int, *, own_pages: bool = False) -> str:
    """A few lines for a crawl's cron mail: per changed page, what changed in this run.

    Compares the end of the previous run with the end of run ``run_id``. Returns "" when
    nothing changed (so a quiet cron job stays silent). ``own_pages``: only the pages the
    runs of this run's seed have captured (a watch list's run: the pages of the other
    watches are not its news, nor "removed" because this watch does not link to them).

    e.g. ``hub: 1 item added, 1 removed, 1 edited; Updated 2016-10-21 → 2016-11-15``
    """
    span = run_range(archive, run_id)
    if span is None:
        return ""
    result = diff_archive(archive, span[0], span[1])
    pages = [p for p in result.pages if p.change != PageChangeKind.UNCHANGED]
    if own_pages:
        captured = {row[0] for row in archive.conn.execute(
            """SELECT DISTINCT p.url FROM runs this JOIN runs r ON r.seed_url = this.seed_url
                 JOIN snapshots s ON s.run_id = r.id JOIN pages p ON p.id = s.page_id
                WHERE this.id = ?""", (run_id,))}
        pages = [p for p in pages if p.url in captured]
    return "\n".join(f"{'hub' if p.hub else p.url}: {describe(p)}" for p in pages)


def iter_changed(result: ArchiveDiff) -> Iterable[PageChange]:
    """The pages of a diff that are not unchanged, in report order."""
    return (p for p in result.pages if p.change != PageChangeKind.UNCHANGED)
