"""The archive's history as HTML pages with SVG charts (data: :mod:`archive.timeline_view`).

One rendering, two deliveries: ``coop-archive serve`` answers these pages from Datasette
(:mod:`scraper.datasette_timeline`), ``coop-archive publish`` writes them as a static site
(:mod:`archive.publish`). What differs is only where a link points, so every renderer takes a
:class:`Links`.

- The index: every page with a small chart of its captures per month (changes in blue,
  failures marked in red) and its last change.
- A page's timeline: every version with the span of dates it was seen, its title, Updated
  date and what changed from the previous version in one line; failures, gone periods and
  gaps between them; a diff of two versions (the HTML report of :mod:`archive.report`); the
  raw capture, served as plain text.

No JavaScript, no external assets, inline CSS; everything scraped goes through
:func:`html.escape`, and only http(s) URLs become links. Pure functions returning strings.
"""

from __future__ import annotations

import codecs
import html
from collections.abc import Sequence
from typing import Protocol

from archive.compare import diff_between
from archive.errors import UsageError
from archive.report import render
from archive.store import Archive
from archive.timeline_view import (
    Event,
    Month,
    PageSummary,
    PageTimeline,
    Stretch,
    archive_months,
    page_heading,
    page_summaries,
    page_timeline,
)

#: What our own pages may do: nothing but show inline styles and submit a form to us. A
#: scraped ``<script>`` that an escape had missed would still not run.
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; "
       "form-action 'self'; base-uri 'none'; frame-ancestors 'self'")
#: The raw capture: text, in a sandbox, allowed nothing.
RAW_CSP = "default-src 'none'; sandbox"

_EVENT_WORDS = {"failed": "capture failed", "blocked": "capture blocked",
                "suspect": "error page served as 200", "gone": "page gone",
                "gap": "gap in the captures"}
_CSS = """
body{font:15px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:68em;padding:0 1em;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em}a{color:#0645ad}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.35em .5em;
text-align:left;vertical-align:top}td{overflow-wrap:anywhere}th{background:#f4f4f4}
.meta,.url{color:#555;font-size:.9em}.url{word-break:break-all}
.event td{background:#fff6f0;color:#842}.gap td{background:#f6f6f6;color:#555}
.gone td{background:#fdecec}
svg{vertical-align:middle}.legend span{margin-right:1em}
.sw{display:inline-block;width:.8em;height:.8em;margin-right:.3em;vertical-align:-.05em}
nav{margin-bottom:1em}.when,.acts{white-space:nowrap}
"""


class Links(Protocol):
    """Where a rendered page's links point: Datasette routes, or the static site's files."""

    def index(self) -> str:
        """The index of pages."""

    def page(self, page_id: int) -> str:
        """A page's timeline."""

    def diff(self, page_id: int, from_snapshot: int, to_snapshot: int) -> str | None:
        """The diff between two stretches (by their first snapshots); None if not offered."""

    def raw(self, snapshot_id: int) -> str | None:
        """A capture's stored body as plain text; None if not offered."""

    def compare_form(self, page_id: int) -> str | None:
        """Where a form choosing any two versions submits (GET ``page``, ``from``, ``to``),
        or None when there is no server to answer it (the static site)."""


def e(s: object) -> str:
    """``s`` as HTML text or attribute value (None as empty)."""
    return html.escape("" if s is None else str(s), quote=True)


def external_link(url: str | None, label: str | None = None) -> str:
    """A link to a scraped URL when it is http(s); anything else (javascript:, data:) is text.

    >>> external_link("javascript:alert(1)")
    'javascript:alert(1)'
    """
    text = e(label if label is not None else url)
    if url and url.lower().startswith(("http://", "https://")):
        return f'<a href="{e(url)}" rel="noopener noreferrer nofollow">{text}</a>'
    return text


def day(instant: str | None) -> str:
    """The date part of an archive instant (UTC)."""
    return instant[:10] if instant else "-"


def document(title: str, body: Sequence[str]) -> str:
    """A whole HTML page: our CSP, inline CSS, ``title`` (escaped here) and ``body``."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<meta http-equiv=\"Content-Security-Policy\" content=\"{e(CSP)}\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<meta name=\"referrer\" content=\"no-referrer\">"
            f"<title>{e(title)}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")


# -- charts -----------------------------------------------------------------------------------


def chart(axis: Sequence[str], months: dict[str, Month], *, width: int = 240,
          height: int = 36, label: str = "") -> str:
    """An inline SVG bar chart of ``months`` along ``axis`` (YYYY-MM, in order).

    Each month with captures gets a grey bar (its captures, on a scale shared by the chart),
    a blue bar over it for the captures that showed something new, and a red mark above for
    failures. Each bar carries a ``<title>`` (a tooltip) with its numbers; the chart an
    ``aria-label`` summing them up.
    """
    n = max(len(axis), 1)
    slot = width / n
    top = 6  # room for the failure marks
    most = max([m.captures for m in months.values()] + [1])
    bars = []
    for i, month in enumerate(axis):
        m = months.get(month)
        if m is None:
            continue
        x = i * slot
        w = max(slot - 1, 1)
        h = max((height - top) * m.captures / most, 2)
        tip = (f"{month}: {m.captures} capture{'s' * (m.captures != 1)}, {m.changes} "
               f"change{'s' * (m.changes != 1)}, {m.failures} failure{'s' * (m.failures != 1)}")
        parts = [f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{w:.1f}" height="{h:.1f}" '
                 'fill="#bbb"/>']
        if m.changes:
            hc = max(h * min(m.changes, m.captures) / m.captures, 2)
            parts.append(f'<rect x="{x:.1f}" y="{height - hc:.1f}" width="{w:.1f}" '
                         f'height="{hc:.1f}" fill="#1f6fd1" class="change"/>')
        if m.failures:
            parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{top - 2}" '
                         'fill="#d12f1f" class="failure"/>')
        bars.append(f"<g><title>{e(tip)}</title>{''.join(parts)}</g>")
    total = sum(m.captures for m in months.values())
    changes = sum(m.changes for m in months.values())
    failures = sum(m.failures for m in months.values())
    span = f"{axis[0]} to {axis[-1]}" if axis else "no captures"
    aria = (f"{label + ': ' if label else ''}{total} captures, {changes} changes, "
            f"{failures} failures, {span}")
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(aria)}" class="chart">'
            f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" '
            f'stroke="#ddd"/>{"".join(bars)}</svg>')


def _legend(axis: Sequence[str]) -> str:
    span = f" ({e(axis[0])} to {e(axis[-1])}, one bar a month)" if axis else ""
    return ('<p class="legend meta"><span><i class="sw" style="background:#bbb"></i>captures'
            '</span><span><i class="sw" style="background:#1f6fd1"></i>changes</span>'
            f'<span><i class="sw" style="background:#d12f1f"></i>failures</span>{span}</p>')


# -- the index --------------------------------------------------------------------------------


def render_index(pages: Sequence[PageSummary], axis: Sequence[str], links: Links, *,
                 name: str = "coop-archive") -> str:
    """The index: one row per page with its chart, counts and last change."""
    rows = []
    for p in pages:
        status = {"gone": " <small>(gone)</small>",
                  "never": " <small>(never captured)</small>"}.get(p.status, "")
        rows.append(
            f'<tr class="page-row"><td><a href="{e(links.page(p.page_id))}">'
            f"{e(p.title or p.url)}</a>{status}"
            f'<div class="url">{external_link(p.url)}</div></td>'
            f"<td>{chart(axis, p.months, label=p.title or p.url)}</td>"
            f"<td>{p.versions}</td><td>{p.captures}</td><td>{p.failures}</td>"
            f"<td>{e(day(p.last_change))}</td></tr>")
    body = [f"<h1>{e(name)}: the archive's pages</h1>",
            f'<p class="meta">{len(pages)} page{"s" * (len(pages) != 1)}; '
            "follow a page for its versions and what changed between them.</p>",
            _legend(axis),
            "<table><thead><tr><th>Page</th><th>Captures per month</th><th>Versions</th>"
            "<th>Captures</th><th>Failures</th><th>Last change</th></tr></thead><tbody>",
            *rows, "</tbody></table>"]
    if not pages:
        body.append("<p>The archive holds no pages yet.</p>")
    return document(f"{name}: timeline", body)


# -- a page's timeline ------------------------------------------------------------------------


def _stretch_row(t: PageTimeline, s: Stretch, prev: Stretch | None, latest: Stretch,
                 links: Links) -> str:
    seen = day(s.first_seen) if day(s.first_seen) == day(s.last_seen) else \
        f"{day(s.first_seen)} – {day(s.last_seen)}"
    count = f"{s.snapshots} capture{'s' * (s.snapshots != 1)}"
    actions = []
    for label, other in (("diff with previous", prev), ("diff with latest", latest)):
        if other is None or other is s:
            continue
        a, b = (other, s) if other.first_seen <= s.first_seen else (s, other)
        href = links.diff(t.page_id, a.snapshot_id, b.snapshot_id)
        if href:
            actions.append(f'<a href="{e(href)}" class="diff-link">{label}</a>')
    raw = links.raw(s.snapshot_id) if s.has_body else None
    if raw:
        actions.append(f'<a href="{e(raw)}" class="raw-link">raw capture</a>')
    return (f'<tr class="version" id="v{s.snapshot_id}"><td>v{s.number}</td>'
            f'<td class="when">{e(seen)}<div class="meta">{e(count)}</div></td>'
            f'<td>{e(s.title)}</td><td class="when">{e(s.updated_on or "-")}</td>'
            f'<td>{e(s.summary)}</td><td class="acts">{"<br>".join(actions)}</td></tr>')


def _event_row(ev: Event) -> str:
    when = day(ev.start) if day(ev.start) == day(ev.end) else f"{day(ev.start)} – {day(ev.end)}"
    count = f" ({ev.count} captures)" if ev.count > 1 else ""
    cls = "gap" if ev.kind == "gap" else "gone" if ev.kind == "gone" else "event"
    detail = f": {ev.detail}" if ev.detail else ""
    return (f'<tr class="{cls}"><td></td><td class="when">{e(when)}</td>'
            f'<td colspan="4">{e(_EVENT_WORDS.get(ev.kind, ev.kind))}{e(detail)}{e(count)}'
            "</td></tr>")


def _compare(t: PageTimeline, links: Links) -> list[str]:
    """Choosing two versions: a form when a server answers, else a grid of the diffs the
    static site holds."""
    stretches = t.stretches
    if len(stretches) < 2:
        return []
    action = links.compare_form(t.page_id)
    out = ["<h2>Compare two versions</h2>"]
    if action is not None:
        def options(selected: int) -> str:
            return "".join(
                f'<option value="{s.snapshot_id}"{" selected" * (i == selected)}>'
                f"v{s.number}, {e(day(s.first_seen))}</option>"
                for i, s in enumerate(stretches))
        out.append(f'<form method="get" action="{e(action)}" class="compare">'
                   f'<input type="hidden" name="page" value="{t.page_id}">'
                   f'<label>from <select name="from">{options(len(stretches) - 2)}</select>'
                   f'</label> <label>to <select name="to">{options(len(stretches) - 1)}'
                   '</select></label> <button type="submit">Show the diff</button></form>')
        return out
    head = "".join(f"<th>v{s.number}<div class=meta>{e(day(s.first_seen))}</div></th>"
                   for s in stretches[1:])
    rows = []
    for i, a in enumerate(stretches[:-1]):
        cells = []
        for j, b in enumerate(stretches[1:], 1):
            href = links.diff(t.page_id, a.snapshot_id, b.snapshot_id) if j > i else None
            cells.append(f'<td><a href="{e(href)}" class="pair-link">diff</a></td>' if href
                         else "<td></td>")
        rows.append(f"<tr><th>from v{a.number}<div class=meta>{e(day(a.first_seen))}</div>"
                    f"</th>{''.join(cells)}</tr>")
    out.append(f'<table class="grid"><thead><tr><th></th>{head}</tr></thead><tbody>'
               + "".join(rows) + "</tbody></table>")
    return out


def render_page(t: PageTimeline, axis: Sequence[str], links: Links, *,
                name: str = "coop-archive") -> str:
    """A page's timeline, newest first, with its chart and the choice of two versions."""
    stretches = t.stretches
    latest = stretches[-1] if stretches else None
    rows = []
    prev_of: dict[int, Stretch | None] = {}
    for i, s in enumerate(stretches):
        prev_of[id(s)] = stretches[i - 1] if i else None
    for entry in reversed(t.entries):
        if isinstance(entry, Stretch):
            assert latest is not None
            rows.append(_stretch_row(t, entry, prev_of[id(entry)], latest, links))
        else:
            rows.append(_event_row(entry))
    versions = len({s.version_id for s in stretches})
    body = [f'<nav><a href="{e(links.index())}">← all pages</a></nav>',
            f"<h1>{e(t.title or t.url)}</h1>",
            f'<p class="url">{external_link(t.url)}</p>',
            f"<p>{chart(axis, t.months, width=720, height=60, label=t.title or t.url)}</p>",
            _legend(axis),
            f'<p class="meta">{versions} version{"s" * (versions != 1)}, newest first. '
            "A version's dates are the first and last captures that showed it; the page may "
            "have changed at any moment between the last and the next capture.</p>",
            "<table class=\"timeline\"><thead><tr><th>Version</th><th>Seen</th><th>Title</th>"
            "<th>Updated</th><th>What changed</th><th></th></tr></thead><tbody>",
            *rows, "</tbody></table>", *_compare(t, links)]
    if not t.entries:
        body.append("<p>No captures of this page yet.</p>")
    return document(f"{name}: {t.title or t.url}", body)


def render_diff_page(report_html: str, page_id: int, name: str, links: Links) -> str:
    """The diff report (:func:`archive.report.render`, html) with a way back to the timeline
    of page ``page_id`` (called ``name``) and the index. The report is a whole document; the
    navigation goes first in its body."""
    nav = (f'<nav><a href="{e(links.page(page_id))}">← timeline of '
           f'{e(name)}</a> · <a href="{e(links.index())}">all pages</a></nav>\n')
    head, sep, rest = report_html.partition("<body>\n")
    return head + sep + nav + rest if sep else nav + report_html


# -- from the archive -------------------------------------------------------------------------


def index_html(archive: Archive, links: Links) -> str:
    """The index page of ``archive``."""
    return render_index(page_summaries(archive.conn), archive_months(archive.conn), links)


def page_html(archive: Archive, page_id: int, links: Links) -> str:
    """Page ``page_id``'s timeline (UsageError when there is no such page)."""
    return render_page(page_timeline(archive, page_id), archive_months(archive.conn), links)


def _shown_snapshot(archive: Archive, page_id: int, snapshot_id: int) -> str:
    """The capture time of a snapshot of ``page_id`` that showed content, else UsageError."""
    row = archive.conn.execute(
        "SELECT captured_at FROM snapshots WHERE id = ? AND page_id = ? AND suspect = 0"
        " AND version_id IS NOT NULL AND outcome IN ('new', 'unchanged', 'not_modified')",
        (snapshot_id, page_id)).fetchone()
    if row is None:
        raise UsageError(f"snapshot {snapshot_id} is not a version of page {page_id}")
    return str(row[0])


def diff_html(archive: Archive, page_id: int, from_snapshot: int, to_snapshot: int,
              links: Links) -> str:
    """The HTML diff report between two captures of page ``page_id`` that showed content
    (in time order whichever way they are given), with a link back to its timeline.
    UsageError for a snapshot that is not such a capture of that page."""
    url, title = page_heading(archive, page_id)
    a, b = from_snapshot, to_snapshot
    if _shown_snapshot(archive, page_id, a) > _shown_snapshot(archive, page_id, b):
        a, b = b, a
    report = render(diff_between(archive, f"#{a}", f"#{b}", url=url), "html")
    return render_diff_page(report, page_id, title or url, links)


def raw_capture(archive: Archive, snapshot_id: int) -> tuple[bytes, str]:
    """The stored body of snapshot ``snapshot_id`` and the charset its Content-Type named
    (else utf-8): what the raw capture link shows, as plain text. UsageError when the
    snapshot has no body."""
    row = archive.conn.execute("SELECT body_id, content_type FROM snapshots WHERE id = ?",
                               (snapshot_id,)).fetchone()
    if row is None or row[0] is None:
        raise UsageError(f"snapshot {snapshot_id} has no stored body")
    return archive.body(int(row[0])), charset_of(row[1])


def charset_of(content_type: str | None) -> str:
    """The charset a Content-Type names, if it is a plain token Python knows, else utf-8.

    >>> charset_of("text/html; charset=ISO-8859-1"), charset_of("text/html; charset=\\"x;y\\"")
    ('iso-8859-1', 'utf-8')
    """
    for part in (content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        value = value.strip().strip('"').lower()
        if key.strip().lower() == "charset" and value and all(
                c.isalnum() or c in "-_.:" for c in value) and _known_codec(value):
            return value
    return "utf-8"


def _known_codec(name: str) -> bool:
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True
