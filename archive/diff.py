"""What changed between two versions of a page, and between two moments of the archive.

Two layers, both pure (no printing, no click):

- :func:`diff_pages` compares two :class:`~archive.model.Page` records the way a careful reader
  would: title and Updated date, items matched by identity (added, removed, changed, moved),
  sections (added, removed, renamed, changed text), and a word-level diff of the main text.
- :func:`diff_archive` compares the whole archive (or one page) at two instants, using
  :mod:`archive.timeline` for what "the page at D" means: added / relinked / removed (linked
  from the hub or not), gone, failed, changed, unchanged, with the silent-edit, date-only and
  returned flags. A gap (a 404, a failure) is compared across: a page back after one is
  compared with its last version before it.

Comparisons go through :func:`archive.model.norm_text`, so white space and no-break spaces are
never a change. docs/diff.md documents the JSON shape (:meth:`ArchiveDiff.to_dict`).

>>> old = Page(url="u", title="Hub", updated_on="2016-10-21",
...            items=[Item("Fact sheet", "https://s/1", "Old words here")])
>>> new = Page(url="u", title="Hub", updated_on="2016-10-21",
...            items=[Item("Fact sheet", "https://s/1", "New words here")])
>>> d = diff_pages(old, new)
>>> [(i.change, i.fields) for i in d.items], d.flags
([('changed', ['summary'])], ['silent_edit'])
"""

from __future__ import annotations

import difflib
import logging
import re
import sqlite3
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from archive.errors import UsageError
from archive.model import Item, Page, Section, norm_text
from archive.store import Archive
from archive.timeline import (
    PageState,
    hub_at,
    page_state_at,
    resolve_when,
)
from archive.urls import normalize_url

logger = logging.getLogger(__name__)

# One word of the text with the white space that follows it (white space is never matched on,
# but is kept so the diff shows the text as it was written).
_WORD_RE = re.compile(r"\S+\s*")
# Typographic variants folded to ASCII to decide whether a change is "trivial": the same
# words, only dashes or quotes differ ("U.S.–China" / "U.S.-China").
_TYPOGRAPHIC = str.maketrans({
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2015": "-",
    "\u2212": "-", "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2033": '"',
})
# Hosts that moved without the documents changing: State's pre-2017 pages now live on the
# archive host, and the move often came with http -> https.
_HOST_ALIASES = {"www.state.gov": "2009-2017.state.gov", "state.gov": "2009-2017.state.gov"}
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
# Two unmatched sections at the same place are one renamed section when their content (text
# words and item identities) is at least this similar.
RENAME_SIMILARITY = 0.5
# Two items without a link left unpaired in the same section are one edited item when their
# words (title and summary) are at least this similar (difflib ratio).
ITEM_SIMILARITY = 0.6
# Page changes, in the order the reports list them.
PAGE_CHANGES = ("added", "relinked", "removed", "gone", "failed", "changed", "unchanged")
# Outcomes of a snapshot that shows content (a version), as opposed to gone / failed / blocked.
_CONTENT_OUTCOMES = ("new", "unchanged", "not_modified")

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
    matcher = difflib.SequenceMatcher(None, [norm_text(t) for t in ta],
                                      [norm_text(t) for t in tb], autojunk=False)
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

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            emit("=", tb[j1:j2])
        else:
            emit("-", ta[i1:i2])
            emit("+", tb[j1:j2])
    return out


def typographic(s: str | None) -> str:
    """``norm_text`` with dashes and quotes folded to ASCII: equal means "only typography
    differs".

    >>> typographic("U.S.\\u2013China \\u201cdialogue\\u201d")
    'U.S.-China "dialogue"'
    """
    return norm_text(s).translate(_TYPOGRAPHIC)


def canonical_url(url: str) -> str:
    """A URL with its scheme, ``www.``, a trailing slash and known host moves folded away.

    Only for matching an item across a site move, never for storage.

    >>> canonical_url("http://www.state.gov/r/pa/prs/ps/2016/06/258178.htm")
    '//2009-2017.state.gov/r/pa/prs/ps/2016/06/258178.htm'
    >>> canonical_url("https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258178.htm")
    '//2009-2017.state.gov/r/pa/prs/ps/2016/06/258178.htm'
    """
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    host = _HOST_ALIASES.get(host, host)
    host = host[4:] if host.startswith("www.") else host
    return urlunsplit(("", host, parts.path.rstrip("/") or "/", parts.query, ""))


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

    change: str  # added | removed | changed | moved
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

    change: str  # added | removed | renamed | changed
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


# -- matching ---------------------------------------------------------------------------------


def _pair_by(keyfn: Callable[[int, bool], Hashable | None], n_old: int, n_new: int,
             pairs: dict[int, int]) -> None:
    """Pair still-unpaired old and new indices whose keys are equal, first come first served
    (so duplicates pair in document order). ``keyfn(index, is_new)``; None never pairs."""
    taken = set(pairs.values())
    waiting: dict[Hashable, list[int]] = defaultdict(list)
    for i in range(n_old):
        if i not in pairs:
            k = keyfn(i, False)
            if k is not None:
                waiting[k].append(i)
    for j in range(n_new):
        if j in taken:
            continue
        k = keyfn(j, True)
        if k is not None and waiting.get(k):
            pairs[waiting[k].pop(0)] = j
            taken.add(j)


def match_items(old: Sequence[Item], new: Sequence[Item],
                section_map: dict[int, int] | None = None) -> dict[int, int]:
    """Pair old item indices with new ones by identity; returns ``{old_index: new_index}``.

    In order of trust: the same entry exactly; the same link URL (or, without a link, the
    same title); the same document after a scheme or host move (:func:`canonical_url`); the
    same title and summary under another link (a renamed link). Texts compare typographically
    folded. Last, items without a link still unpaired are paired with a similar one in the
    same section (:func:`_pair_similar`): an edited bullet is one changed item, not one
    removed and one added. ``section_map`` pairs old section indices with new ones (default:
    the same index).
    """
    pairs: dict[int, int] = {}

    def side(j: int, is_new: bool) -> Item:
        return new[j] if is_new else old[j]

    def ident(j: int, is_new: bool) -> Hashable:
        it = side(j, is_new)
        return ("url", it.url) if it.url else ("title", norm_text(it.title))

    def moved_host(j: int, is_new: bool) -> Hashable | None:
        it = side(j, is_new)
        return canonical_url(it.url) if it.url else None

    def same_words(j: int, is_new: bool) -> Hashable:
        it = side(j, is_new)
        return (typographic(it.title), typographic(it.summary))

    def exact(j: int, is_new: bool) -> Hashable:
        # Identical entries first, so duplicates (two "Media Note" entries without links)
        # pair with their own text rather than by position.
        return (ident(j, is_new), same_words(j, is_new))

    for keyfn in (exact, ident, moved_host, same_words):
        _pair_by(keyfn, len(old), len(new), pairs)
    _pair_similar(old, new, pairs, section_map)
    return pairs


def _item_words(item: Item) -> list[str]:
    return typographic(f"{item.title} {item.summary or ''}").split()


def _pair_similar(old: Sequence[Item], new: Sequence[Item], pairs: dict[int, int],
                  section_map: dict[int, int] | None) -> None:
    """Pair unpaired items without a link, in the same section, whose words (title and
    summary, normalised) are at least ITEM_SIMILARITY alike: best pair first, ties in
    document order. Linked items keep their identity rules (a link is an identity; a bullet
    of a fact sheet has only its words)."""
    taken = set(pairs.values())
    olds = [i for i in range(len(old)) if i not in pairs and not old[i].url]
    news = [j for j in range(len(new)) if j not in taken and not new[j].url]
    if not olds or not news:
        return

    def section_of(i: int) -> int | None:
        sec = old[i].section
        if sec is None:
            return None
        return section_map.get(sec, -1) if section_map is not None else sec

    words_new = {j: _item_words(new[j]) for j in news}
    candidates: list[tuple[float, int, int]] = []
    for i in olds:
        words = _item_words(old[i])
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(words)  # set_seq2 caches its analysis: the old item is the fixed one
        for j in news:
            if new[j].section != section_of(i):
                continue
            matcher.set_seq1(words_new[j])
            if (matcher.real_quick_ratio() >= ITEM_SIMILARITY
                    and matcher.quick_ratio() >= ITEM_SIMILARITY):
                score = matcher.ratio()
                if score >= ITEM_SIMILARITY:
                    candidates.append((-score, i, j))
    used: set[int] = set()
    for _score, i, j in sorted(candidates):
        if i not in pairs and j not in used:
            pairs[i] = j
            used.add(j)


def _increasing_run(seq: Sequence[int]) -> set[int]:
    """Indices into ``seq`` of one longest strictly increasing subsequence (O(n log n)).

    Matched items in this order kept their relative places; only the others moved, so one
    insertion never makes every following item "moved".
    """
    tails: list[int] = []  # tails[k]: value ending the best run of length k+1
    tail_at: list[int] = []  # index in seq of that value
    back: list[int] = [-1] * len(seq)
    for n, v in enumerate(seq):
        k = bisect_left(tails, v)
        if k == len(tails):
            tails.append(v)
            tail_at.append(n)
        else:
            tails[k] = v
            tail_at[k] = n
        back[n] = tail_at[k - 1] if k > 0 else -1
    keep: set[int] = set()
    n = tail_at[-1] if tail_at else -1
    while n >= 0:
        keep.add(n)
        n = back[n]
    return keep


def _section_content(page: Page, index: int) -> list[str]:
    """Words of a section's text and the identities of its items: what a rename keeps."""
    words = norm_text(page.sections[index].text).split()
    words += [i.url or norm_text(i.title) for i in page.items if i.section == index]
    return words


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


def _similarity(a: list[str], b: list[str]) -> float:
    if not a and not b:
        return 1.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def match_sections(old: Page, new: Page) -> tuple[dict[int, int], set[int]]:
    """Pair old section indices with new ones: ``({old: new}, {old indices renamed})``.

    Headings (normalised, with their level) are aligned in order, so a repeated heading such as
    "Media Notes" pairs with its own counterpart. Within a stretch that does not align, a
    section pairs with one at the same level (or with the same heading) whose text and items
    are largely the same: that is a rename.
    """
    a = [(norm_text(s.heading), s.level) for s in old.sections]
    b = [(norm_text(s.heading), s.level) for s in new.sections]
    pairs: dict[int, int] = {}
    renamed: set[int] = set()
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
            continue
        if tag != "replace":
            continue
        candidates = []
        for i in range(i1, i2):
            for j in range(j1, j2):
                same_heading = a[i][0] == b[j][0]
                if a[i][1] != b[j][1] and not same_heading:
                    continue
                score = 1.0 if same_heading else _similarity(_section_content(old, i),
                                                             _section_content(new, j))
                if score >= RENAME_SIMILARITY:
                    # Prefer the best content match, then the same relative place.
                    candidates.append((-score, abs((i - i1) - (j - j1)), i, j))
        used: set[int] = set()
        for _score, _dist, i, j in sorted(candidates):
            if i not in pairs and j not in used:
                pairs[i] = j
                used.add(j)
                if a[i][0] != b[j][0]:
                    renamed.add(i)
    return pairs, renamed


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
    in_order = _increasing_run([j for _i, j in ordered])
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
        change = "changed" if text_fields else "moved"
        changes.append(((j, 0), ItemChange(
            change, _item_dict(a, i, old.sections), _item_dict(b, j, new.sections),
            sorted(fields), moved, trivial=bool(text_fields) and trivial)))
    # A removed item is listed where it stood: after the new position of the matched item
    # before it (so a report reads in document order).
    new_of_old = dict(pairs)
    for i, a in enumerate(old.items):
        if i in pairs:
            continue
        before = max((new_of_old[k] for k in range(i) if k in new_of_old), default=-1)
        changes.append(((before + 0.5, i), ItemChange(
            "removed", _item_dict(a, i, old.sections), None)))
    matched_new = set(pairs.values())
    for j, b in enumerate(new.items):
        if j not in matched_new:
            changes.append(((j, 1), ItemChange("added", None, _item_dict(b, j, new.sections))))
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
        change = "renamed" if i in renamed or heading_changed else "changed"
        out.append(((j, 0), SectionChange(
            change, _section_dict(a), _section_dict(b), fields, trivial,
            word_diff(mine_a, mine_b) if text_changed else [])))
    for i, a in enumerate(old.sections):
        if i not in pairs:
            before = max((pairs[k] for k in range(i) if k in pairs), default=-1)
            out.append(((before + 0.5, i), SectionChange("removed", _section_dict(a), None)))
    taken = set(pairs.values())
    for j, b in enumerate(new.sections):
        if j not in taken:
            out.append(((j, 1), SectionChange("added", None, _section_dict(b))))
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
        result.flags.append("silent_edit")
    if not content_changed and old.updated_on != new.updated_on:
        result.flags.append("date_only")
    if triv and all(triv):
        result.flags.append("trivial")
    return result


# -- the archive at two moments ---------------------------------------------------------------


@dataclass
class PageChange:
    """One page between two moments: how it changed, what the diff compared, and its link."""

    url: str
    change: str  # one of PAGE_CHANGES
    title: str
    hub: bool
    captures: dict[str, dict[str, Any] | None]
    diff: PageDiff = field(default_factory=PageDiff)
    flags: list[str] = field(default_factory=list)
    linked_by: dict[str, Any] | None = None

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
        }


@dataclass
class ArchiveDiff:
    """The archive (or one page, ``url``) between instants ``from_at`` and ``to_at``.

    ``from_at`` is None when there was nothing before (the first capture): every page is added.
    """

    from_at: str | None
    to_at: str
    hub: str | None
    url: str | None
    pages: list[PageChange]

    @property
    def changed(self) -> bool:
        """True when any page is anything but unchanged (what ``--exit-code`` reports)."""
        return any(p.change != "unchanged" for p in self.pages)

    def counts(self) -> dict[str, int]:
        """How many pages changed each way (every key of PAGE_CHANGES present)."""
        out = dict.fromkeys(PAGE_CHANGES, 0)
        for p in self.pages:
            out[p.change] += 1
        return out

    def to_dict(self) -> dict[str, Any]:
        """The documented JSON shape (docs/diff.md)."""
        return {"from": self.from_at, "to": self.to_at, "hub": self.hub, "url": self.url,
                "changed": self.changed, "counts": self.counts(),
                "pages": [p.to_dict() for p in self.pages]}


def _run_at(conn: sqlite3.Connection, at: str) -> sqlite3.Row | None:
    """The run of the archive's latest snapshot at or before ``at``."""
    return conn.execute(
        """SELECT r.id, r.seed_url FROM snapshots s JOIN runs r ON r.id = s.run_id
            WHERE s.captured_at <= ? ORDER BY s.captured_at DESC, s.id DESC LIMIT 1""",
        (at,),
    ).fetchone()


def default_from(conn: sqlite3.Connection, to_at: str, *,
                 page_id: int | None = None) -> str | None:
    """The instant a diff ending at ``to_at`` starts from when the user gave no ``--from``.

    Whole archive: the last capture before the run that made ``to_at``'s latest snapshot
    began, i.e. the end of the previous run. One page: that page's capture before its latest
    one. None when there is none (everything is then "added").
    """
    if page_id is not None:
        row = conn.execute(
            """SELECT captured_at FROM snapshots WHERE page_id = ? AND captured_at <= ?
                ORDER BY captured_at DESC, id DESC LIMIT 1""", (page_id, to_at)).fetchone()
        if row is None:
            return None
        prev = conn.execute("SELECT max(captured_at) FROM snapshots"
                            " WHERE page_id = ? AND captured_at < ?",
                            (page_id, row[0])).fetchone()
        return prev[0] if prev else None
    run = _run_at(conn, to_at)
    if run is None:
        return None
    start = conn.execute("SELECT min(captured_at) FROM snapshots WHERE run_id = ?",
                         (run["id"],)).fetchone()[0]
    return conn.execute("SELECT max(captured_at) FROM snapshots WHERE captured_at < ?",
                        (start,)).fetchone()[0]


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
        return default_from(conn, to_at, page_id=page_id), to_at, page_id
    from_at = resolve(from_when)
    if from_at > to_at:
        raise UsageError(f"--from {from_when} ({from_at}) is later than --to "
                         f"{to_when if to_when is not None else '(latest)'} ({to_at}): "
                         "swap them")
    return from_at, to_at, page_id


def _hub_at(conn: sqlite3.Connection, at: str | None) -> str | None:
    """The hub at ``at``: the seed of the latest run that captured its seed by then
    (:func:`archive.timeline.hub_at`, so a typo or failed run cannot take over), else the seed
    of the run of the latest snapshot."""
    if at is None:
        return None
    hub = hub_at(conn, at)
    if hub is not None:
        return normalize_url(hub)
    run = _run_at(conn, at)
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


def _content_before(conn: sqlite3.Connection, page_id: int, at: str) -> int | None:
    """The version of the page's last trustworthy capture *with content* (not gone, failed,
    blocked or suspect) at or before ``at``: what a page back after a 404 is compared with.
    One indexed lookup (snapshots_page_time)."""
    row = conn.execute(
        f"""SELECT version_id FROM snapshots
             WHERE page_id = ? AND captured_at <= ? AND suspect = 0
               AND version_id IS NOT NULL
               AND outcome IN ({",".join("?" * len(_CONTENT_OUTCOMES))})
             ORDER BY captured_at DESC, id DESC LIMIT 1""",
        (page_id, at, *_CONTENT_OUTCOMES)).fetchone()
    return int(row[0]) if row is not None else None


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


def _linked_by(conn: sqlite3.Connection, hub_id: int, url: str,
               to_at: str) -> dict[str, Any] | None:
    """The hub versions that first and last linked ``url`` (up to ``to_at``), with dates.

    ``first``: the earliest hub version listing it, first captured ``seen``. ``last``: the hub
    version shown by the latest hub snapshot that listed it, ``seen`` then. Indexed lookups
    (items_url, snapshots_page_time): a few rows, however long the history.
    """
    linking = """SELECT DISTINCT i.version_id FROM items i JOIN versions v ON v.id = i.version_id
                  WHERE i.url = ? AND v.page_id = ?"""
    first = conn.execute(
        f"""SELECT id, first_seen FROM versions WHERE id IN ({linking}) AND first_seen <= ?
             ORDER BY first_seen, id LIMIT 1""", (url, hub_id, to_at)).fetchone()
    if first is None:
        return None
    last = conn.execute(
        f"""SELECT version_id, captured_at FROM snapshots
             WHERE page_id = ? AND captured_at <= ? AND version_id IN ({linking})
             ORDER BY captured_at DESC, id DESC LIMIT 1""",
        (hub_id, to_at, url, hub_id)).fetchone()
    out: dict[str, Any] = {"first": {"version": first["id"], "seen": first["first_seen"]},
                           "last": None}
    if last is not None:
        out["last"] = {"version": last["version_id"], "seen": last["captured_at"]}
    return out


def _live(conn: sqlite3.Connection, at: str | None, hub_id: int | None,
          hub_page: Page | None) -> tuple[set[int], set[str]]:
    """The pages that are "in the archive's picture" at ``at``: the hub, the documents its
    content links to, and whatever the latest run captured. Returns (page ids, linked URLs)."""
    if at is None:
        return set(), set()
    linked = {i.url for i in hub_page.items if i.url} if hub_page is not None else set()
    ids: set[int] = set()
    if hub_id is not None:
        ids.add(hub_id)
    for u in linked:
        row = conn.execute("SELECT id FROM pages WHERE url = ?", (u,)).fetchone()
        if row:
            ids.add(int(row[0]))
    run = _run_at(conn, at)
    if run is not None:
        ids.update(int(r[0]) for r in conn.execute(
            "SELECT DISTINCT page_id FROM snapshots WHERE run_id = ? AND captured_at <= ?",
            (run["id"], at)))
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
    hub_url = _hub_at(conn, to_at) or _hub_at(conn, from_at)
    hub_id = archive.page_id(hub_url) if hub_url else None

    def hub_page(at: str | None) -> Page | None:
        if at is None or hub_id is None:
            return None
        state = page_state_at(conn, hub_id, at)
        if state is not None and state.gone:
            # A hub answering 404 says nothing new about its documents: they stay in the
            # picture as its last version linked them (as for a failed hub capture), so a
            # hub that comes back does not bring them back as "added".
            return _load(archive, _content_before(conn, hub_id, at), cache)
        return _version_page(archive, state, cache)

    live_from, linked_from = _live(conn, from_at, hub_id, hub_page(from_at))
    live_to, linked_to = _live(conn, to_at, hub_id, hub_page(to_at))
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
        url = pages[0].url if pages else conn.execute(
            "SELECT url FROM pages WHERE id = ?", (page_id,)).fetchone()[0]
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
    if after is None:
        change = "removed"
    elif base is None:
        change = "added"
    elif after.gone:
        change = "unchanged" if base.gone else "gone"
    else:
        if old is not None and new is not None and base.version_id != after.version_id:
            diff = diff_pages(old, new)
        elif old is None and new is not None and base.gone:
            flags.append("returned")  # back after a 404/410: compared with what it was before
            last = _content_before(archive.conn, pid, str(base.good["captured_at"])) \
                if base.good is not None else None
            if last != after.version_id:
                diff = diff_pages(_load(archive, last, cache) or Page(url=new.url), new)
        # A failure is news when it is newly observed: the state before was not the same kind
        # of failure (a page that keeps failing, or the same failed snapshot seen from both
        # moments, is no change). "blocked" is a rule (robots.txt, the address policy), never
        # news: the content compared is the last good one on each side.
        if failure in ("failed", "suspect") and base.failure != failure and before is not None:
            change = "failed"
        elif old is None and new is not None and not base.gone and before is not None:
            change = "added"  # first fetched (before, it had only failed or been blocked)
        elif "returned" in flags:
            change = "changed"  # 404/410 then, content now: news even when content is the same
        else:
            change = "changed" if diff.changed else "unchanged"
    if earlier is not None and after is not None:
        change = "relinked"  # whatever happened to its content, said by the diff and flags
    flags += diff.flags
    url = str(state.url)
    link = (_linked_by(archive.conn, hub_id, url, to_at)
            if hub_id is not None and pid != hub_id and url in linked else None)
    return PageChange(url, change, shown.title if shown is not None else "", pid == hub_id,
                      {"from": _capture(before), "to": _capture(after)}, diff, flags, link)


def diff_between(archive: Archive, from_when: str | None = None, to_when: str | None = None,
                 *, url: str | None = None) -> ArchiveDiff:
    """Resolve the user's WHENs (:func:`resolve_range`) and diff (:func:`diff_archive`)."""
    from_at, to_at, page_id = resolve_range(archive, from_when, to_when, url=url)
    return diff_archive(archive, from_at, to_at, page_id=page_id)


def run_range(conn: sqlite3.Connection, run_id: int) -> tuple[str | None, str] | None:
    """The instants a run's own diff compares: the previous run's end and this run's end."""
    end = conn.execute("SELECT max(captured_at) FROM snapshots WHERE run_id = ?",
                       (run_id,)).fetchone()[0]
    if end is None:
        return None
    start = conn.execute("SELECT min(captured_at) FROM snapshots WHERE run_id = ?",
                         (run_id,)).fetchone()[0]
    prev = conn.execute("SELECT max(captured_at) FROM snapshots WHERE captured_at < ?",
                        (start,)).fetchone()[0]
    return prev, end


def describe(page: PageChange) -> str:
    """One short phrase for what happened to a page (the cron summary's line)."""
    if page.change == "added":
        if never_fetched(page):
            # Linked, but never fetched: there is no content to call "added".
            return (("first linked from the hub" if page.linked_by else "added")
                    + f"; not fetched: {not_fetched(page)}")
        if page.captures["from"] is not None:
            return "added (first fetched)"
        return "added" + (" (first linked from the hub)" if page.linked_by else "")
    if page.change == "removed":
        return "removed (no longer linked from the hub)" if not page.hub else "removed"
    if page.change == "gone":
        return _gone(page)
    notes = [_FLAG_WORDS[f] for f in page.flags if f in _FLAG_WORDS and f != "returned"]
    tail = f" ({', '.join(notes)})" if notes else ""
    if page.change == "relinked":
        first = (page.linked_by or {}).get("first")
        head = "linked again" + (f" (first linked {first['seen'][:10]})" if first else "")
        to = page.captures["to"] or {}
        if never_fetched(page):
            return f"{head}; not fetched: {not_fetched(page)}"
        if to.get("outcome") == "gone":
            return f"{head}; {_gone(page)}"
        failure = any(f in page.flags for f in ("failed", "suspect"))
        return "; ".join([head, *_content_parts(page, failure=failure)]) + tail
    parts = _content_parts(page, failure=page.change == "failed")
    if "returned" in page.flags:
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
        if "suspect" in page.flags:
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
    if d.text_diff and not d.items and not d.sections and "date_only" not in d.flags:
        parts.append("text edited")
    if "updated" in d.fields:
        old, new = d.fields["updated"]
        parts.append(f"Updated {old or '-'} → {new or '-'}")
    return parts


def not_fetched(page: PageChange) -> str:
    """Why the latest capture by ``to`` did not show the page, or "" if it did: ``blocked
    (disallowed by robots.txt)``, ``fetch failed (...)`` or ``looked like an error page``."""
    to = page.captures["to"] or {}
    if to.get("outcome") == "blocked":
        return f"blocked ({to.get('error') or 'by policy'})"
    if to.get("outcome") == "failed":
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


_ORDER = ("added", "removed", "changed", "renamed", "moved")
_CHANGE_WORDS = {"added": "added", "removed": "removed", "changed": "edited",
                 "renamed": "renamed", "moved": "moved"}
_FLAG_WORDS = {"silent_edit": "silent edit: Updated date not changed",
               "date_only": "date-only bump", "trivial": "typographic only",
               "returned": "back after being gone",
               "blocked": "latest capture blocked by a rule; compared with the last good"}


def summarize_run(archive: Archive, run_id: int) -> str:
    """A few lines for a crawl's cron mail: per changed page, what changed in this run.

    Compares the end of the previous run with the end of run ``run_id``. Returns "" when
    nothing changed (so a quiet cron job stays silent).

    e.g. ``hub: 1 item added, 1 removed, 1 edited; Updated 2016-10-21 → 2016-11-15``
    """
    span = run_range(archive.conn, run_id)
    if span is None:
        return ""
    result = diff_archive(archive, span[0], span[1])
    lines = [f"{'hub' if p.hub else p.url}: {describe(p)}"
             for p in result.pages if p.change != "unchanged"]
    return "\n".join(lines)


def iter_changed(result: ArchiveDiff) -> Iterable[PageChange]:
    """The pages of a diff that are not unchanged, in report order."""
    return (p for p in result.pages if p.change != "unchanged")
