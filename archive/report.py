"""Render an :class:`archive.compare.ArchiveDiff` as text, JSON or one self-contained HTML page.

- text: for a terminal and a cron mail. Removed words are ``[-so-]``, added ``{+so+}`` (git's
  ``--word-diff=plain``); with ``color=True`` they are red and green instead. Long unchanged
  stretches are cut to a few words of context.
- json: :meth:`ArchiveDiff.to_dict` with sorted keys (docs/diff.md documents the shape).
- html: inline CSS, no scripts, no external assets. Everything that came from a scraped page
  goes through :func:`html.escape`; only http(s) links become ``href``.

Pure functions: they return strings, the CLI prints them.
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Sequence
from typing import Any

from archive.compare import ArchiveDiff, PageChange
from archive.diff import ItemChange, SectionChange, Segment, word_diff
from archive.diff_outside import OutsideChange, OutsideSide, not_recorded_reason
from archive.diff_vocab import FAILURE_FLAGS, Flag
from archive.diff_vocab import ItemChangeKind as Item
from archive.diff_vocab import PageChangeKind as Page
from archive.diff_vocab import SectionChangeKind as Sec
from archive.report_cron import never_fetched, not_fetched
from archive.text import json_safe, printable

FORMATS = ("text", "json", "html")
# Words of unchanged text kept on each side of a change in the text report.
CONTEXT_WORDS = 6

_RED, _GREEN, _YELLOW, _BOLD, _DIM, _RESET = (
    "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[2m", "\x1b[0m")
_WS_RE = re.compile(r"\s+")
# Control characters in scraped text: the text and html reports show them as
# archive.text.printable does; json writes them all as \\u escapes (archive.text.json_safe).
# The escape sequences the text report itself writes (colour), kept by the last pass.
_OUR_CODES_RE = re.compile("(" + "|".join(re.escape(c) for c in (
    "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[2m", "\x1b[0m")) + ")")
_MARKS: dict[str, str] = {Item.ADDED: "+", Item.REMOVED: "-", Item.CHANGED: "~", Item.MOVED: ">",
                          Sec.RENAMED: "~"}
_PAGE_COLOURS: dict[str, str] = {Page.ADDED: _GREEN, Page.RELINKED: _GREEN, Page.REMOVED: _RED,
                                 Page.GONE: _RED, Page.FAILED: _YELLOW}
_FLAG_TEXT: dict[str, str] = {
    Flag.SILENT_EDIT: "silent edit (content changed, Updated date did not)",
    Flag.DATE_ONLY: "date-only bump (Updated date changed, content did not)",
    Flag.FAILED: "latest capture failed: compared with the last good version",
    Flag.SUSPECT: "latest capture looked like an error page: compared with the last good "
                  "version",
    Flag.TRIVIAL: "typographic only (dashes or quotes)",
    Flag.RETURNED: "back after being gone: compared with its last version before it went",
    Flag.BLOCKED: "latest capture blocked (robots.txt or the address policy): compared with "
                  "the last good version",
}


def render(result: ArchiveDiff, fmt: str, *, color: bool = False) -> str:
    """Render in ``fmt`` ("text", "json" or "html"); ``color`` only affects text."""
    if fmt == "json":
        return render_json(result)
    if fmt == "html":
        return render_html(result)
    if fmt == "text":
        return render_text(result, color=color)
    raise ValueError(f"unknown format {fmt!r} (use one of {', '.join(FORMATS)})")


def render_json(result: ArchiveDiff) -> str:
    """The documented JSON shape, keys sorted, indented, UTF-8 kept as is (control
    characters as ``\\u`` escapes: the same data, and nothing a terminal would act on)."""
    text = json.dumps(result.to_dict(), sort_keys=True, indent=2, ensure_ascii=False)
    return json_safe(text) + "\n"


# -- text ---------------------------------------------------------------------------------------


def printable_tree(value: Any) -> Any:
    """A copy of a diff result (dataclasses, dicts, lists, tuples) with every string made
    :func:`printable`: what the text report renders, so no scraped string is missed."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, list):
        return [printable_tree(v) for v in value]
    if isinstance(value, tuple):
        return tuple(printable_tree(v) for v in value)
    if isinstance(value, dict):
        return {k: printable_tree(v) for k, v in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: printable_tree(getattr(value, f.name))
            for f in dataclasses.fields(value) if f.init})
    return value


def _one_line(s: str | None) -> str:
    return printable(_WS_RE.sub(" ", s or "").strip())


def clip_segments(segments: Sequence[Segment], context: int = CONTEXT_WORDS) -> list[list[Segment]]:
    """Split a word diff into hunks: each change with ``context`` unchanged words around it.

    An unchanged run longer than twice the context separates two hunks; the cut ends are
    marked "…".

    >>> clip_segments([("=", "a b c d e f g h"), ("-", "x"), ("+", "y"), ("=", "i j")], 2)
    [[('=', '… g h '), ('-', 'x'), ('+', 'y'), ('=', ' i j')]]
    """
    hunks: list[list[Segment]] = []
    current: list[Segment] = []
    for n, (op, text) in enumerate(segments):
        if op != "=":
            current.append((op, _one_line(text)))
            continue
        words = _one_line(text).split(" ")
        first, last = n == 0, n == len(segments) - 1
        if not current and first:
            head = words[-context:] if context else []
            if head and head != [""]:
                lead = "… " if len(words) > context else ""
                current.append(("=", lead + " ".join(head) + " "))
            continue
        if last:
            tail = words[:context]
            trail = " …" if len(words) > context else ""
            current.append(("=", " " + " ".join(tail) + trail))
            continue
        if len(words) <= 2 * context:
            current.append(("=", " " + " ".join(words) + " "))
            continue
        current.append(("=", " " + " ".join(words[:context]) + " …"))
        hunks.append(current)
        current = [("=", "… " + " ".join(words[-context:]) + " ")]
    if any(op != "=" for op, _t in current):
        hunks.append(current)
    return hunks


def _words_text(segments: Sequence[Segment], *, color: bool) -> list[str]:
    out = []
    for hunk in clip_segments(segments):
        parts = []
        for op, text in hunk:
            if op == "=":
                parts.append(text)
            elif color:
                parts.append(f"{_RED if op == '-' else _GREEN}{text}{_RESET}")
            else:
                parts.append(f"[-{text}-]" if op == "-" else f"{{+{text}+}}")
        out.append("".join(parts))
    return out


def _inline_diff(old: str | None, new: str | None, *, color: bool) -> str:
    return " … ".join(_words_text(word_diff(old, new), color=color)) or "(white space only)"


def _item_lines(item: ItemChange, *, color: bool) -> list[str]:
    side = item.side
    where = f"{side['section']} › " if side["section"] else ""
    head = f"    {_MARKS[item.change]} {item.change:<8} {where}{_one_line(side['title'])}"
    lines = [head]
    pad = " " * 15
    if item.change == Item.ADDED:
        if side["summary"]:
            lines.append(f"{pad}{_one_line(side['summary'])}")
    if item.change in (Item.ADDED, Item.REMOVED) and side["url"]:
        lines.append(f"{pad}{printable(side['url'])}")
    if item.old is not None and item.new is not None:
        old, new = item.old, item.new
        for name in ("title", "summary"):
            if name in item.fields:
                lines.append(f"{pad}{name}: {_inline_diff(old[name], new[name], color=color)}")
        if "url" in item.fields:
            lines.append(f"{pad}url: {printable(old['url'])} → {printable(new['url'])}")
        if "section" in item.fields:
            lines.append(f"{pad}section: {old['section'] or '(none)'} → "
                         f"{new['section'] or '(none)'}")
        if "position" in item.fields:
            lines.append(f"{pad}position: {old['position'] + 1} → {new['position'] + 1}")
        if item.trivial:
            lines.append(f"{pad}(typographic only)")
    return lines


def _section_lines(s: SectionChange, *, color: bool) -> list[str]:
    mark = _MARKS.get(s.change, "~")
    if s.change == "renamed" and s.old is not None and s.new is not None:
        old, new = _one_line(s.old["heading"]), _one_line(s.new["heading"])
        head = f"    {mark} renamed  {old!r} → {new!r}"
    else:
        head = f"    {mark} {s.change:<8} {_one_line(s.heading)!r}"
    lines = [head]
    if s.text_diff:
        lines += [f"{' ' * 15}{h}" for h in _words_text(s.text_diff, color=color)]
    return lines


def _page_text(p: PageChange, *, color: bool) -> list[str]:
    label = f"{p.change:<9}"
    if color:
        c = _PAGE_COLOURS.get(p.change, _BOLD)
        label = f"{c}{label}{_RESET}"
    lines = [f"{label} {printable(p.url)}{'  [hub]' if p.hub else ''}"]
    if p.title:
        lines.append(f"  {_one_line(p.title)}")
    to = p.captures.get("to") or {}
    if p.change == Page.GONE and to.get("http_status"):
        lines.append(f"  HTTP {to['http_status']} at {to['captured_at']}")
    if p.change == Page.FAILED:
        why = "suspect (looked like an error page)" if to.get("suspect") else printable(
            to.get("error") or "failed")
        lines.append(f"  latest capture {to.get('captured_at')}: {why}")
        if to.get("good_captured_at"):
            lines.append(f"  compared with the last good capture, {to['good_captured_at']}")
    if p.linked_by and p.change in (Page.ADDED, Page.RELINKED, Page.REMOVED):
        first, last = p.linked_by["first"], p.linked_by["last"]
        lines.append(f"  linked from the hub: first {first['seen']} (v{first['version']})"
                     + (f", last {last['seen']} (v{last['version']})" if last else ""))
    unseen = never_fetched(p)
    if unseen:
        lines.append(f"  not fetched: {printable(not_fetched(p))}")
    d = p.diff
    if "title" in d.fields:
        old, new = d.fields["title"]
        lines.append(f"  Title: {_inline_diff(old, new, color=color)}")
    if "updated" in d.fields:
        old, new = d.fields["updated"]
        lines.append(f"  Updated: {old or '(none)'} → {new or '(none)'}")
    if "kind" in d.fields:
        old, new = d.fields["kind"]
        lines.append(f"  Kind: {old} → {new}")
    shown_above = FAILURE_FLAGS + ((Flag.BLOCKED,) if unseen else ())
    notes = [_FLAG_TEXT[f] for f in p.flags if f in _FLAG_TEXT and f not in shown_above]
    if p.parsers:
        notes.append(_parsers_note(p.parsers))
    for note in notes:
        lines.append(f"  ! {note}")
    if d.items:
        lines.append("  Items:")
        for item in d.items:
            lines += _item_lines(item, color=color)
    if d.sections:
        lines.append("  Sections:")
        for s in d.sections:
            lines += _section_lines(s, color=color)
    if d.text_diff:
        lines.append("  Text:")
        lines += [f"    {h}" for h in _words_text(d.text_diff, color=color)]
    return lines


def _parsers_note(parsers: list[int]) -> str:
    return f"versions made by different parsers ({parsers[0]} → {parsers[1]})"


def _boundary_line(result: ArchiveDiff) -> str | None:
    """The header's warning when the diff crosses a parser boundary (docs/diff.md)."""
    b = result.parsers
    if b is None:
        return None
    old, new = ", ".join(map(str, b["from"])), ", ".join(map(str, b["to"]))
    return (f"parser boundary: {b['pages']} page(s) compare versions made by different parsers "
            f"({old} → {new}); what differs may be the parser's, not the page's: "
            "'coop-archive reparse' re-derives the older ones")


def _count_line(result: ArchiveDiff) -> str:
    counts = result.counts()
    bits = [f"{n} {k}" for k, n in counts.items() if n]
    total = len(result.pages)
    return f"{total} page{'' if total == 1 else 's'}" + (f": {', '.join(bits)}" if bits else "")


def render_text(result: ArchiveDiff, *, color: bool = False) -> str:
    """The terminal / cron-mail report: one block per page that is not unchanged.

    Scraped strings are shown :func:`printable`: no control character of theirs reaches the
    terminal (the report's own colour codes are the only escape sequences).
    """
    result = printable_tree(result)
    head = f"{_BOLD}coop-archive diff{_RESET}" if color else "coop-archive diff"
    lines = [f"{head} {result.from_at or '(nothing)'} → {result.to_at}"]
    if result.hub:
        lines.append(f"hub: {printable(result.hub)}")
    lines.append(_count_line(result))
    boundary = _boundary_line(result)
    if boundary:
        lines.append(f"! {boundary}")
    for p in result.pages:
        if p.change == Page.UNCHANGED:
            continue
        lines.append("")
        lines += _page_text(p, color=color)
    if not result.changed:
        lines += ["", "no changes"]
    if result.outside is not None:
        lines += ["", *_outside_text(result.outside, color=color)]
    # Every scraped string was made printable on its way in; this last pass makes sure of it
    # while keeping the report's own colour codes.
    out = "\n".join(lines) + "\n"
    return "".join(part if n % 2 else printable(part)
                   for n, part in enumerate(_OUR_CODES_RE.split(out)))


# The heading of the part ``--outside`` adds, in every format: what it is, and that it is not
# a change of the page.
OUTSIDE_HEADING = "Outside the main content"
OUTSIDE_NOTE = "menus, asides, footers; shown on request, never a change of the page"
OUTSIDE_REORDERED = "the same lines, in another order"


def _side_label(side: OutsideSide) -> str:
    return f"#{side.snapshot} ({side.captured_at})"


def _missing_line(o: OutsideChange) -> str:
    side, name = (o.old, "earlier") if o.missing == "from" else (o.new, "later")
    return (f"not compared: the {name} capture {_side_label(side)} has no text around its "
            f"main content ({not_recorded_reason(side)})")


def _outside_text(changes: Sequence[OutsideChange], *, color: bool) -> list[str]:
    """The text report's part for ``--outside``: per page, the lines added and removed."""
    head = f"{OUTSIDE_HEADING} ({OUTSIDE_NOTE}):"
    lines = [f"{_BOLD}{head}{_RESET}" if color else head]
    if not changes:
        return [*lines, "  no change"]
    for o in changes:
        lines.append(f"  {printable(o.url)}{'  [hub]' if o.hub else ''}  "
                     f"#{o.old.snapshot} → #{o.new.snapshot}")
        if o.missing:
            lines.append(f"    {_missing_line(o)}")
            continue
        for mark, colour, group in (("-", _RED, o.removed), ("+", _GREEN, o.added)):
            for line in group:
                text = f"{mark} {_one_line(line)}"
                lines.append(f"    {colour}{text}{_RESET}" if color else f"    {text}")
        if o.reordered and not (o.added or o.removed):
            lines.append(f"    {OUTSIDE_REORDERED}")
    return lines


# -- html ---------------------------------------------------------------------------------------

_CSS = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2em auto;
 max-width:70em;padding:0 1em;color:#1b1b1b;background:#fff}
h1{font-size:1.4em}h2{font-size:1.15em;margin:0 0 .3em}h3{font-size:1em;margin:1em 0 .3em}
section.page{border:1px solid #ccc;border-radius:6px;padding:.8em 1em;margin:1em 0}
.url{color:#555;font-size:.9em;word-break:break-all;margin:0}
.badge{display:inline-block;border-radius:3px;padding:0 .4em;font-size:.85em;color:#fff;
 background:#555;text-transform:uppercase;letter-spacing:.03em}
.added,.relinked{background:#1a7f37}.removed,.gone{background:#b42318}.failed{background:#b54708}
.changed,.moved,.renamed{background:#175cd3}
.flag{display:inline-block;border:1px solid #b54708;color:#b54708;border-radius:3px;
 padding:0 .4em;margin:.2em .3em .2em 0;font-size:.85em}
table{border-collapse:collapse;width:100%;margin:.3em 0}
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f4f4f4}
del{background:#ffebe9;color:#82071e;text-decoration:line-through}
ins{background:#dafbe1;color:#116329;text-decoration:none}
.text{white-space:pre-wrap;background:#fafafa;border:1px solid #eee;padding:.5em;
 max-height:40em;overflow:auto}
dl.fields{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:.5em 0}
dt{font-weight:600}dd{margin:0}
.meta{color:#555;font-size:.9em}
"""


def _e(s: object) -> str:
    return html.escape(printable(s), quote=True)


def _link(url: str | None, label: str | None = None) -> str:
    """A link for an http(s) URL; anything else (javascript:, data:) is shown as text."""
    if not url:
        return _e(label or "")
    text = _e(label if label is not None else url)
    if url.lower().startswith(("http://", "https://")):
        return f'<a href="{_e(url)}">{text}</a>'
    return text


def _words_html(segments: Sequence[Segment]) -> str:
    out = []
    for op, text in segments:
        if op == "=":
            out.append(_e(text))
        elif op == "-":
            out.append(f"<del>{_e(text)}</del>")
        else:
            out.append(f"<ins>{_e(text)}</ins>")
    return "".join(out)


def _inline_html(old: str | None, new: str | None) -> str:
    return _words_html(word_diff(old, new))


def _item_row(item: ItemChange) -> str:
    side = item.side
    if item.change == Item.ADDED:
        what = f"<ins>{_e(side['summary'])}</ins>" if side["summary"] else ""
    elif item.change == Item.REMOVED:
        what = f"<del>{_e(side['summary'])}</del>" if side["summary"] else ""
    else:
        old, new = item.old or {}, item.new or {}
        bits = []
        for name in ("title", "summary"):
            if name in item.fields:
                bits.append(f"<div><b>{name}:</b> {_inline_html(old[name], new[name])}</div>")
        if "url" in item.fields:
            bits.append(f"<div><b>url:</b> <del>{_e(old['url'])}</del> → "
                        f"<ins>{_link(new['url'])}</ins></div>")
        if "section" in item.fields:
            bits.append(f"<div><b>section:</b> {_e(old['section'] or '(none)')} → "
                        f"{_e(new['section'] or '(none)')}</div>")
        if "position" in item.fields:
            bits.append(f"<div><b>position:</b> {old['position'] + 1} → "
                        f"{new['position'] + 1}</div>")
        if item.trivial:
            bits.append("<div class=meta>typographic only</div>")
        what = "".join(bits)
    return (f'<tr class="item-{_e(item.change)}"><td><span class="badge {_e(item.change)}">'
            f"{_e(item.change)}</span></td><td>{_e(side['section'] or '')}</td>"
            f"<td>{_link(side['url'], side['title'])}</td><td>{what}</td></tr>")


def _section_item(s: SectionChange) -> str:
    if s.change == "renamed" and s.old is not None and s.new is not None:
        head = f"{_inline_html(s.old['heading'], s.new['heading'])}"
    else:
        head = _e(s.heading)
    body = f'<div class="text">{_words_html(s.text_diff)}</div>' if s.text_diff else ""
    return (f'<li><span class="badge {_e(s.change)}">{_e(s.change)}</span> '
            f"{head}{body}</li>")


def _page_html(p: PageChange, n: int) -> str:
    out = [f'<section class="page" id="page-{n}">',
           f'<h2><span class="badge {_e(p.change)}">{_e(p.change)}</span> '
           f"{_e(p.title or p.url)}{' <small>(hub)</small>' if p.hub else ''}</h2>",
           f'<p class="url">{_link(p.url)}</p>']
    to = p.captures.get("to") or {}
    meta = []
    if p.change == Page.GONE and to.get("http_status"):
        meta.append(f"HTTP {_e(to['http_status'])} at {_e(to['captured_at'])}")
    if p.change == Page.FAILED:
        why = "looked like an error page" if to.get("suspect") else _e(to.get("error") or "failed")
        meta.append(f"latest capture {_e(to.get('captured_at'))}: {why}")
        if to.get("good_captured_at"):
            meta.append(f"compared with the last good capture, {_e(to['good_captured_at'])}")
    if p.linked_by:
        first, last = p.linked_by["first"], p.linked_by["last"]
        text = f"linked from the hub since {_e(first['seen'])} (version {_e(first['version'])})"
        if last:
            text += f", last {_e(last['seen'])} (version {_e(last['version'])})"
        meta.append(text)
    if never_fetched(p):
        meta.append(f"not fetched: {_e(not_fetched(p))}")
    if meta:
        out.append(f'<p class="meta">{"<br>".join(meta)}</p>')
    flags = [_FLAG_TEXT[f] for f in p.flags if f in _FLAG_TEXT]
    if p.parsers:
        flags.append(_parsers_note(p.parsers))
    if flags:
        out.append("<p>" + "".join(f'<span class="flag">{_e(f)}</span>'
                                   for f in flags) + "</p>")
    d = p.diff
    if d.fields:
        out.append('<dl class="fields">')
        for name, label in (("title", "Title"), ("updated", "Updated"), ("kind", "Kind")):
            if name in d.fields:
                old, new = d.fields[name]
                value = (_inline_html(old, new) if name == "title" else
                         f"<del>{_e(old or '(none)')}</del> → <ins>{_e(new or '(none)')}</ins>")
                out.append(f"<dt>{label}</dt><dd>{value}</dd>")
        out.append("</dl>")
    if d.items:
        out.append("<h3>Items</h3><table><thead><tr><th>Change</th><th>Section</th>"
                   "<th>Item</th><th>What changed</th></tr></thead><tbody>")
        out += [_item_row(i) for i in d.items]
        out.append("</tbody></table>")
    if d.sections:
        out.append("<h3>Sections</h3><ul>")
        out += [_section_item(s) for s in d.sections]
        out.append("</ul>")
    if d.text_diff:
        out.append(f'<h3>Text</h3><div class="text">{_words_html(d.text_diff)}</div>')
    out.append("</section>")
    return "\n".join(out)


def _outside_html(changes: Sequence[OutsideChange]) -> str:
    """The HTML report's part for ``--outside``: a section of its own after the pages."""
    # Existing classes only: the page's style sheet is the same with or without --outside.
    out = [f'<section class="page outside" id="outside"><h2>{_e(OUTSIDE_HEADING)}</h2>',
           '<p class="meta">The text around each page\'s main content, lines added and '
           f"removed: {_e(OUTSIDE_NOTE)}.</p>"]
    if not changes:
        out.append("<p>No change.</p>")
    for o in changes:
        out.append(f"<h3>{_link(o.url)}{' <small>(hub)</small>' if o.hub else ''} "
                   f'<span class="meta">#{o.old.snapshot} → #{o.new.snapshot}</span></h3>')
        if o.missing:
            out.append(f'<p class="meta">{_e(_missing_line(o))}</p>')
            continue
        out.append('<div class="text">'
                   + "".join(f"<del>- {_e(x)}</del>\n" for x in o.removed)
                   + "".join(f"<ins>+ {_e(x)}</ins>\n" for x in o.added) + "</div>")
        if o.reordered and not (o.added or o.removed):
            out.append(f'<p class="meta">{OUTSIDE_REORDERED}</p>')
    out.append("</section>")
    return "\n".join(out)


def render_html(result: ArchiveDiff) -> str:
    """One self-contained HTML page: inline CSS, no script, every scraped string escaped."""
    span = f"{_e(result.from_at or 'the beginning')} → {_e(result.to_at)}"
    body = [f"<h1>coop-archive diff: {span}</h1>",
            f'<p class="meta">{_e(_count_line(result))}'
            + (f"<br>hub: {_link(result.hub)}" if result.hub else "") + "</p>"]
    boundary = _boundary_line(result)
    if boundary:
        body.append(f'<p class="flag">{_e(boundary)}</p>')
    changed = [p for p in result.pages if p.change != Page.UNCHANGED]
    body += [_page_html(p, n) for n, p in enumerate(changed, 1)]
    if not changed:
        body.append("<p><strong>No changes.</strong></p>")
    same = [p for p in result.pages if p.change == Page.UNCHANGED]
    if same:
        body.append("<h3>Unchanged</h3><ul>" + "".join(
            f"<li>{_link(p.url, p.title or p.url)}</li>" for p in same) + "</ul>")
    if result.outside is not None:
        body.append(_outside_html(result.outside))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            # Defence in depth: escaping is what keeps scraped markup inert; this policy would
            # still stop a script or a remote fetch if an escape were ever missed.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>coop-archive diff {span}</title><style>{_CSS}</style></head>\n<body>\n"
            + "\n".join(body) + "\n</body></html>\n")
