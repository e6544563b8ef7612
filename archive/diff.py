"""What changed between two versions of a page: a pure comparison of records.

:func:`diff_pages` compares two :class:`~archive.model.Page` records the way a careful reader
would: title and Updated date, items matched by identity (added, removed, changed, moved),
sections (added, removed, renamed, changed text), and a word-level diff of the main text. No
SQL, no archive: which item and section is which is :mod:`archive.diff_match`, the
whole-archive diff built on it :mod:`archive.compare`, its renderings :mod:`archive.report`.

Comparisons go through :func:`archive.model.norm_text`, so white space and no-break spaces are
never a change. docs/diff.md documents the JSON shape.

>>> old = Page(url="u", title="Hub", updated_on="2016-10-21",
...            items=[Item("Fact sheet", "https://s/1", "Old words here")])
>>> new = Page(url="u", title="Hub", updated_on="2016-10-21",
...            items=[Item("Fact sheet", "https://s/1", "New words here")])
>>> d = diff_pages(old, new)
>>> [(str(i.change), i.fields) for i in d.items], [str(f) for f in d.flags]
([('changed', ['summary'])], ['silent_edit'])
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from archive.diff_match import (
    increasing_run,
    match_items,
    match_sections,
    opcodes_within_budget,
    typographic,
)
from archive.diff_vocab import Flag, ItemChangeKind, SectionChangeKind
from archive.model import Item, Page, Section, norm_text

logger = logging.getLogger(__name__)

# One word of the text with the white space that follows it (white space is never matched on,
# but is kept so the diff shows the text as it was written).
_WORD_RE = re.compile(r"\S+\s*")
# A line that only states the page's date ("Updated: Friday, October 21, 2016", a fact sheet's
# dateline): masked when deciding whether the *content* changed, since the Updated date is
# compared on its own (date-only bump, silent edit).
_DATELINE_RE = re.compile(
    r"^\s*(?:(?:last\s+)?(?:updated|modified|revised|posted|published)(?:\s+on)?\s*:?\s*)?"
    r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s*)?"
    r"(?:[a-z]{3,9}\.?\s+\d{1,2},?\s+\d{4}|\d{1,2}\s+[a-z]{3,9}\.?\s+\d{4}"
    r"|\d{1,2}/\d{1,2}/\d{4}|\d{4}-\d{2}-\d{2})\s*$",
    re.IGNORECASE,
)

Segment = tuple[str, str]  # (op, text): op is "=" kept, "-" removed, "+" added


# -- words --------------------------------------------------------------------------------------


def word_diff(a: str | None, b: str | None) -> list[Segment]:
    """A word-level diff of two texts, as ``(op, text)`` runs: ``=`` kept, ``-`` removed, ``+``
    added. Words are matched on their normalised form; the text shown is the original.

    ``=`` runs show ``b``'s spelling, so the ``=`` and ``+`` runs joined give ``b`` (white
    space between runs aside).

    >>> word_diff("The quick brown fox", "The slow  brown fox")
    [('=', 'The '), ('-', 'quick '), ('+', 'slow  '), ('=', 'brown fox')]
    >>> word_diff("same\\u00a0words", "same words")
    [('=', 'same words')]
    """
    ta = _WORD_RE.findall((a or "").strip())
    tb = _WORD_RE.findall((b or "").strip())
    opcodes = opcodes_within_budget([norm_text(t) for t in ta], [norm_text(t) for t in tb])
    out: list[Segment] = []

    def emit(op: str, words: list[str]) -> None:
        if not words:
            return
        text = "".join(words)
        if out and out[-1][0] == op:
            out[-1] = (op, out[-1][1] + text)
            return
        # The last word of a text has no trailing space; keep runs from gluing together.
        if out and not out[-1][1][-1:].isspace():
            prev_op, prev = out[-1]
            out[-1] = (prev_op, prev + " ")
        out.append((op, text))

    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            emit("=", tb[j1:j2])
        else:
            emit("-", ta[i1:i2])
            emit("+", tb[j1:j2])
    return out


# -- result records -----------------------------------------------------------------------------


def _item_dict(item: Item, position: int, sections: Sequence[Section]) -> dict[str, Any]:
    return {"title": item.title, "url": item.url, "summary": item.summary,
            "section": _heading(sections, item.section), "position": position}


def _heading(sections: Sequence[Section], index: int | None) -> str | None:
    if index is None or not 0 <= index < len(sections):
        return None
    return sections[index].heading


@dataclass
class ItemChange:
    """One item that was added, removed, changed or moved.

    ``old`` / ``new`` are the item on each side (title, url, summary, section heading,
    position), None on the side where it does not exist. ``fields`` names what differs for a
    matched item (``section``, ``summary``, ``title``, ``url``, and ``position`` when moved).
    ``trivial`` is true when the only text differences are dashes or quotes.
    """

    change: str  # an ItemChangeKind
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    fields: list[str] = field(default_factory=list)
    moved: bool = False
    trivial: bool = False

    @property
    def side(self) -> dict[str, Any]:
        """The newest side that exists (the old one for a removed item)."""
        side = self.new if self.new is not None else self.old
        assert side is not None
        return side

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/diff.md, "items")."""
        return {"change": self.change, "section": self.side["section"],
                "title": self.side["title"], "url": self.side["url"], "old": self.old,
                "new": self.new, "fields": self.fields, "moved": self.moved,
                "trivial": self.trivial}


@dataclass
class SectionChange:
    """One section that was added, removed, renamed or whose text changed.

    ``old`` / ``new`` hold heading, level and text; ``fields`` names what differs
    (``heading``, ``level``, ``text``); ``text_diff`` is the word diff of the section's text.
    """

    change: str  # a SectionChangeKind
    old: dict[str, Any] | None
    new: dict[str, Any] | None
    fields: list[str] = field(default_factory=list)
    trivial: bool = False
    text_diff: list[Segment] = field(default_factory=list)

    @property
    def heading(self) -> str:
        side = self.new if self.new is not None else self.old
        assert side is not None
        return str(side["heading"])

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/diff.md, "sections")."""
        return {"change": self.change, "heading": self.heading, "old": self.old,
                "new": self.new, "fields": self.fields, "trivial": self.trivial,
                "text_diff": [list(s) for s in self.text_diff]}


@dataclass
class PageDiff:
    """The content difference between two versions of one page (see :func:`diff_pages`).

    ``fields`` holds only what changed, as ``(old, new)``: ``title``, ``updated`` (the page's
    own Updated date, YYYY-MM-DD), ``kind``. ``flags`` may hold ``silent_edit``, ``date_only``
    and ``trivial`` (every text change is typographic only).
    """

    fields: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    items: list[ItemChange] = field(default_factory=list)
    sections: list[SectionChange] = field(default_factory=list)
    text_diff: list[Segment] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when anything at all differs (the Updated date included)."""
        return bool(self.fields or self.items or self.sections or self.text_diff)

    def counts(self) -> dict[str, dict[str, int]]:
        """How many items and sections changed each way."""
        out: dict[str, dict[str, int]] = {"items": {}, "sections": {}}
        for i in self.items:
            out["items"][i.change] = out["items"].get(i.change, 0) + 1
        for s in self.sections:
            out["sections"][s.change] = out["sections"].get(s.change, 0) + 1
        return out


def own_text(page: Page, index: int) -> str:
    """A section's text without the lines that are its items' titles and summaries.

    The parser's section text includes its list items; their changes are reported per item,
    so a section's "text changed" should mean its own prose changed.
    """
    item_lines: set[str] = set()
    for i in page.items:
        if i.section == index:
            item_lines.update((norm_text(i.title), norm_text(i.summary)))
    lines = page.sections[index].text.splitlines()
    return "\n".join(ln for ln in lines if norm_text(ln) not in item_lines)


def _undated(text: str) -> str:
    """Text without its date-only lines (see _DATELINE_RE)."""
    return "\n".join(ln for ln in text.splitlines() if not _DATELINE_RE.match(ln))


def _content(page: Page) -> dict[str, Any]:
    """What a silent edit / date-only bump compares: the records without the Updated date,
    and without the lines of text that only state a date."""
    rec = page.records()
    rec.pop("updated_on")
    rec["text"] = norm_text(_undated(page.text))
    rec["sections"] = [[norm_text(s.heading), s.level, s.parent, norm_text(_undated(s.text))]
                       for s in page.sections]
    return rec


# -- page diff --------------------------------------------------------------------------------


def _text_changed(a: str | None, b: str | None) -> tuple[bool, bool]:
    """(changed, trivial): differs after norm_text; and only in dashes/quotes."""
    if norm_text(a) == norm_text(b):
        return False, False
    return True, typographic(a) == typographic(b)


def diff_items(old: Page, new: Page, section_map: dict[int, int]) -> list[ItemChange]:
    """Item changes in new-document order, removed items after the item they followed."""
    pairs = match_items(old.items, new.items, section_map)
    ordered = sorted(pairs.items())  # by old position
    in_order = increasing_run([j for _i, j in ordered])
    kept_order = {ordered[n][0] for n in in_order}
    changes: list[tuple[tuple[float, int], ItemChange]] = []
    for i, j in ordered:
        a, b = old.items[i], new.items[j]
        fields: list[str] = []
        trivial = True
        for name in ("title", "summary"):
            changed, triv = _text_changed(getattr(a, name), getattr(b, name))
            if changed:
                fields.append(name)
                trivial = trivial and triv
        if a.url != b.url:
            fields.append("url")
            trivial = False
        mapped = section_map.get(a.section) if a.section is not None else None
        section_moved = mapped != b.section
        if section_moved:
            fields.append("section")
        moved = section_moved or i not in kept_order
        if i not in kept_order:
            fields.append("position")
        if not fields:
            continue
        text_fields = [f for f in fields if f not in ("section", "position")]
        change = ItemChangeKind.CHANGED if text_fields else ItemChangeKind.MOVED
        changes.append(((j, 0), ItemChange(
            change, _item_dict(a, i, old.sections), _item_dict(b, j, new.sections),
            sorted(fields), moved, trivial=bool(text_fields) and trivial)))
    # A removed item is listed where it stood: after the new position of the matched item
    # before it (so a report reads in document order).
    # The largest new position of the matched items before it, kept as the loop goes (a max
    # over them all for each removed item took a minute for 100,000 entries, 10,000 edited).
    before = -1
    for i, a in enumerate(old.items):
        if i in pairs:
            before = max(before, pairs[i])
            continue
        changes.append(((before + 0.5, i), ItemChange(
            ItemChangeKind.REMOVED, _item_dict(a, i, old.sections), None)))
    matched_new = set(pairs.values())
    for j, b in enumerate(new.items):
        if j not in matched_new:
            changes.append(((j, 1), ItemChange(
                ItemChangeKind.ADDED, None, _item_dict(b, j, new.sections))))
    return [c for _k, c in sorted(changes, key=lambda kc: kc[0])]


def _section_dict(s: Section) -> dict[str, Any]:
    return {"heading": s.heading, "level": s.level, "text": s.text}


def diff_sections(old: Page, new: Page, pairs: dict[int, int],
                  renamed: set[int]) -> list[SectionChange]:
    """Section changes in new-document order (removed ones where they stood)."""
    out: list[tuple[tuple[float, int], SectionChange]] = []
    for i, j in sorted(pairs.items()):
        a, b = old.sections[i], new.sections[j]
        fields: list[str] = []
        trivial = True
        heading_changed, triv = _text_changed(a.heading, b.heading)
        if heading_changed:
            fields.append("heading")
            trivial = triv
        if a.level != b.level:
            fields.append("level")
            trivial = False
        mine_a, mine_b = own_text(old, i), own_text(new, j)
        text_changed, triv = _text_changed(mine_a, mine_b)
        if text_changed:
            fields.append("text")
            trivial = trivial and triv
        if not fields:
            continue
        change = (SectionChangeKind.RENAMED if i in renamed or heading_changed
                  else SectionChangeKind.CHANGED)
        out.append(((j, 0), SectionChange(
            change, _section_dict(a), _section_dict(b), fields, trivial,
            word_diff(mine_a, mine_b) if text_changed else [])))
    for i, a in enumerate(old.sections):
        if i not in pairs:
            before = max((pairs[k] for k in range(i) if k in pairs), default=-1)
            out.append(((before + 0.5, i), SectionChange(
                SectionChangeKind.REMOVED, _section_dict(a), None)))
    taken = set(pairs.values())
    for j, b in enumerate(new.sections):
        if j not in taken:
            out.append(((j, 1), SectionChange(
                SectionChangeKind.ADDED, None, _section_dict(b))))
    return [c for _k, c in sorted(out, key=lambda kc: kc[0])]


def diff_pages(old: Page, new: Page) -> PageDiff:
    """Everything that differs between two versions of a page, as a :class:`PageDiff`.

    Flags: ``silent_edit`` when the content changed but the page's own Updated date did not
    (and it has one); ``date_only`` when the Updated date changed and nothing else did;
    ``trivial`` when every change of text is in dashes or quotes only.
    """
    result = PageDiff()
    triv: list[bool] = []
    changed, t = _text_changed(old.title, new.title)
    if changed:
        result.fields["title"] = (old.title, new.title)
        triv.append(t)
    if old.updated_on != new.updated_on:
        result.fields["updated"] = (old.updated_on, new.updated_on)
    if old.kind != new.kind:
        result.fields["kind"] = (old.kind, new.kind)
        triv.append(False)
    section_map, renamed = match_sections(old, new)
    result.sections = diff_sections(old, new, section_map, renamed)
    result.items = diff_items(old, new, section_map)
    changed, t = _text_changed(old.text, new.text)
    if changed:
        result.text_diff = word_diff(old.text, new.text)
        triv.append(t)
    triv += [s.trivial for s in result.sections] + [i.trivial for i in result.items]

    # "Content" is everything the version hash sees except the Updated date (and the lines of
    # text that only state it).
    content_changed = _content(old) != _content(new)
    if content_changed and old.updated_on == new.updated_on and new.updated_on:
        result.flags.append(Flag.SILENT_EDIT)
    if not content_changed and old.updated_on != new.updated_on:
        result.flags.append(Flag.DATE_ONLY)
    if triv and all(triv):
        result.flags.append(Flag.TRIVIAL)
    return result
