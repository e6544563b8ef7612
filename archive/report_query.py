"""Render what the reader commands print: ``show``'s page view, ``search``'s hits, ``sql``'s
rows (a table for a terminal, JSON or CSV for programs) and ``check``'s report.

Pure functions that return text; the CLI prints it. Every scraped string in the human forms
goes through :func:`archive.text.printable`, so no control character reaches a terminal.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Sequence
from typing import Any

from archive.check import CheckReport
from archive.query import PageView
from archive.search import SearchHit
from archive.sql_readonly import QueryResult
from archive.text import json_safe, printable

# Columns of the human forms: summaries and section texts are wrapped at this width.
WRAP = 96


def to_json(obj: Any) -> str:
    """The JSON the reader commands print: two-space indent, UTF-8 kept as is but for the
    control and bidirectional characters, written as ``\\u`` escapes
    (:func:`archive.text.json_safe`)."""
    return json_safe(json.dumps(obj, indent=2, ensure_ascii=False))


def _lines(lines: Sequence[str]) -> str:
    return "".join(printable(line) + "\n" for line in lines)


def render_page_view(view: PageView, *, text: bool = True, outside: bool = False) -> str:
    """The human form of a :class:`archive.query.PageView`: where it came from, title,
    Updated date, sections with their items, (with ``text``) the main text and (with
    ``outside``) the text around the main content."""
    out = [view.url]
    if view.status == "not_captured":
        first = f" (first captured {view.first_captured})" if view.first_captured else ""
        out.append(f"as of {view.at}: not captured yet{first}")
        return _lines(out)
    latest = view.latest or {}
    if view.failed:
        why = latest.get("error") or ("looked like an error page" if latest.get("suspect")
                                      else latest.get("outcome"))
        out.append(f"note: the capture at {latest.get('captured_at')} (snapshot "
                   f"{latest.get('id')}) failed: {why}; showing the last good capture")
    if view.status == "no_content":
        out.append(f"as of {view.at}: no trustworthy capture yet")
        return _lines(out)
    snap = view.snapshot or {}
    if view.status == "gone":
        out.append(f"as of {view.at}: GONE (HTTP {snap.get('http_status')} at "
                   f"{snap.get('captured_at')}, snapshot {snap.get('id')})")
        return _lines(out)
    span, page = view.version_span, view.page
    assert span is not None and page is not None  # status "ok"
    out.append(f"as of {view.at}: snapshot {snap.get('id')} ({snap.get('captured_at')}, "
               f"{snap.get('outcome')}), version {view.version_id} "
               f"(seen {span.first_seen} .. {span.last_seen}, {span.snapshots} snapshot(s))")
    if snap.get("truncated"):
        out.append(f"TRUNCATED: {snap['truncated']}; the text below is not the whole document")
    out.append(f"title:   {page.title}")
    out.append(f"updated: {page.updated_on or '-'}")
    by_section: dict[int | None, list[Any]] = {}
    for item in page.items:
        by_section.setdefault(item.section, []).append(item)

    # The main text holds every section's prose: printed below, it is not printed here too,
    # and a summary that only repeats its item's title is left out (one paragraph, once).
    main_text = bool(text and page.text)

    def items(of: int | None, indent: str) -> None:
        for item in by_section.get(of, []):
            link = f" <{item.url}>" if item.url else ""
            out.append(f"{indent}- {item.title}{link}")
            if item.summary and item.summary.strip() != (item.title or "").strip():
                out.append(textwrap.fill(item.summary, width=WRAP,
                                         initial_indent=indent + "    ",
                                         subsequent_indent=indent + "    "))

    for n, sec in enumerate(page.sections):
        out.append("")
        out.append(f"{'#' * max(sec.level, 1)} {sec.heading}")
        if sec.text and not main_text:
            out.append(textwrap.fill(sec.text, width=WRAP))
        items(n, "  ")
    if by_section.get(None):
        out += ["", "(items outside any section)"]
        items(None, "  ")
    if main_text:
        out += ["", "-- text --", page.text]
    if outside and view.outside_text:
        out += ["", "-- around the main content --", view.outside_text]
    return _lines(out)


def render_hits(hits: Sequence[SearchHit]) -> str:
    """The human form of search hits: page and section, the item, a wrapped snippet, and the
    versions and dates the text was seen in."""
    out: list[str] = []
    for n, h in enumerate(hits, 1):
        where = h.page_url + (f"  § {h.section}" if h.section else "")
        out.append(f"{n:>3}. [{h.kind}] {where}")
        if h.kind == "item":
            out.append(f"     item: {h.title}" + (f" <{h.url}>" if h.url else ""))
        out.append(textwrap.fill(h.snippet.replace("\n", " "), width=WRAP,
                                 initial_indent="     ", subsequent_indent="     "))
        versions = ",".join(str(v) for v in h.versions)
        out.append(f"     seen {h.first_seen} .. {h.last_seen} in version(s) {versions}"
                   f"  (rank {h.rank:.3f})")
    return _lines(out)


def plain(v: Any) -> Any:
    """A BLOB as hex (what sqlite3's own shell shows as X'..'), anything else as is.

    >>> plain(b"\\x00\\xff"), plain(3)
    ('00ff', 3)
    """
    return v.hex() if isinstance(v, (bytes, bytearray, memoryview)) else v


def _cell(v: Any, width: int) -> str:
    v = plain(v)
    s = "NULL" if v is None else printable(str(v)).replace("\n", " ")
    return s if len(s) <= width else s[: width - 1] + "…"


def render_table(result: QueryResult, *, max_width: int = 60) -> str:
    """Rows as an aligned text table for a terminal: a header, a rule, cells cut to
    ``max_width`` with "…", NULL spelled out, control characters neutralised.

    >>> print(render_table(QueryResult(["id", "url"], [(1, "https://a/"), (2, None)])), end="")
    id  url
    --  ----------
    1   https://a/
    2   NULL
    """
    cells = [[_cell(v, max_width) for v in r] for r in result.rows]
    columns = [printable(c) for c in result.columns]
    widths = [max([len(c)] + [len(r[i]) for r in cells]) for i, c in enumerate(columns)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
              for r in cells]
    return "".join(line + "\n" for line in lines)


def render_rows_json(result: QueryResult) -> str:
    """Rows as a JSON array of objects keyed by column (BLOBs as hex)."""
    return to_json([{k: plain(v) for k, v in row.items()} for row in result.dicts()]) + "\n"


def _csv_cell(value: Any) -> Any:
    return printable(value) if isinstance(value, str) else value


def render_rows_csv(result: QueryResult) -> str:
    """Rows as CSV with a header row (BLOBs as hex, NULL as an empty field). Text cells go
    through :func:`archive.text.printable`: a scraped title must not retitle the terminal
    the CSV is printed on (new lines and tabs stay, quoted as CSV quotes them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([printable(c) for c in result.columns])
    w.writerows([_csv_cell(plain(v)) for v in r] for r in result.rows)
    return buf.getvalue()


def render_check(report: CheckReport, db: str, *, as_json: bool = False) -> str:
    """What ``check`` prints on stdout: the report as JSON, or for a healthy archive one
    ``ok:`` line with the counts (and a note on runs still marked running). Problems go to
    stderr, one line each, from the CLI."""
    if as_json:
        return to_json({"ok": report.ok, "problems": report.problems, "counts": report.counts,
                        "running_runs": report.running_runs,
                        "notices": report.notices}) + "\n"
    if not report.ok:
        return ""
    counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
    out = [f"ok: {db}: {counts}"]
    if report.running_runs:
        out.append(f"note: run(s) {report.running_runs} still marked running: a crawl in "
                   "progress, or one that died (the next crawl marks it interrupted)")
    out.extend(f"note: {n}" for n in report.notices)
    return _lines(out)
