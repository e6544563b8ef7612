"""Walk a page's main content (see :mod:`scraper.maincontent`) once into text, sections, items.

The walk is iterative (an explicit stack, never recursion), so a pathologically deep tree cannot
overflow Python's stack, and it touches only the main content, so a page's mega-menu costs
nothing beyond lxml's own parse. Chrome (nav, header banners, footers, asides, breadcrumbs),
invisible elements (``element-invisible``, ``display:none``, ``hidden``), scripts, styles, forms
and their inputs are skipped as whole subtrees; their tails (the text after them) are kept.

This module is the walk's specification. :mod:`scraper._cwalk` is a line-for-line port of its
loop and ``_Walker`` to Cython, reading libxml2's nodes directly, several times faster; it is
used when it is built (the install compiles it; it needs a C compiler) against the lxml in use.
Where it is not, the Python walk here runs, giving the same records. tests/unit/test_cwalk.py
holds the two equal on every corpus and on random documents.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from itertools import chain
from typing import Any

from lxml import etree

from archive.model import Item, Section
from scraper.markup import (
    BLOCK_TAGS,
    HEADING_LEVELS,
    SKIP_TAGS,
    Element,
    clean,
    collapse,
    is_excluded,
    is_hidden,
    new_item,
    new_section,
    nonspace,
    origin_of,
    resolve_link,
)

# Marks a block boundary inside collected text. lxml turns NUL into U+FFFD, so it never occurs.
BREAK = "\x00"
# Word-pasted bullets: "·" (Symbol font middle dot), "•", the private-use Symbol bullet.
_BULLETS = ("·", "•", "▪", "◦", "\uf0b7", "\uf0a7")
_ROMAN_HEADING_RE = re.compile(r"^(?=[IVXL]+\.)[IVXL]{1,6}\.\s+\S")
_MAX_PSEUDO_HEADING = 150


# The walk makes one of these per link, list entry and paragraph: plain slotted classes, filled
# in by the handlers that make them (object.__new__ and four stores cost a third of a
# dataclass's generated __init__, measured).
_new = object.__new__


class _Link:
    """A link being read: its URL, where its chunks start and end, its text once closed."""

    __slots__ = ("url", "start", "end", "text")
    url: str | None
    start: int  # index in _Walker.chunks of the link's first chunk
    end: int  # -1 until the link closes
    text: str  # set once when the link closes


class _ListEntry:
    """An <li> being read: where its chunks start, its links, the section it stands in."""

    __slots__ = ("start", "section", "slot", "links", "holes")
    start: int
    section: int | None
    slot: int  # index reserved in items, so a nested list's entries follow their parent's
    links: list[_Link]
    holes: list[tuple[int, int]]  # nested entries' chunk ranges


class _Para:
    """A <p> being read: where its chunks and lines start, its section, its links."""

    __slots__ = ("start", "line", "section", "links")
    start: int  # index in chunks
    line: int  # index in lines of the paragraph's first line
    section: int | None
    links: list[_Link]


# A shown line, a heading, or a block: a section's own lines that run together (index, lines).
_Shown = list[str | tuple[int, list[str]]]


class Extracted:
    """What the walk found in the main content.

    ``text`` and ``sections`` (their texts) are joined from the shown lines on first use, so
    that a caller done with lxml's tree drops it first: for a 20 MB page the tree is several
    times the text (:func:`scraper.parse.parse` does so). ``mass`` is what
    :func:`scraper.maincontent.nonspace` counts in ``text``, known before it is joined.
    """

    def __init__(self, shown: _Shown, own: dict[int, list[list[str]]], heads: list[Section],
                 items: list[Item], links: list[str], *, pre: bool, link_chars: int,
                 mass: int) -> None:
        self._shown: _Shown | None = shown
        self._own = own
        self._heads = heads
        self._text = ""
        self._sections: list[Section] = []
        self.items, self.links = items, links
        # True when a <pre> line is in the text: lines kept as written, not collapsed.
        self.pre = pre
        # Characters of link text in ``text`` (its spaces left out): how much of it is links.
        self.link_chars = link_chars
        self.mass = mass

    @classmethod
    def joined(cls, text: str, sections: list[Section], items: list[Item], links: list[str],
               *, pre: bool, link_chars: int, mass: int) -> Extracted:
        """What the walk found, its text and sections' texts joined already (the compiled
        walk joins a small text as it finishes)."""
        found = cls([], {}, [], items, links, pre=pre, link_chars=link_chars, mass=mass)
        found._shown, found._text, found._sections = None, text, sections
        return found

    @property
    def text(self) -> str:
        """The main content's text, one line per block."""
        self._join()
        return self._text

    @property
    def sections(self) -> list[Section]:
        """The sections, each with its own text."""
        self._join()
        return self._sections

    def _join(self) -> None:
        """The sections' texts, then the text from them (a section's block is its text when
        it has one block), the lines let go in between: at most two copies of the text at
        once, the lines and the sections' texts, then those and the text."""
        shown = self._shown
        if shown is None:
            return
        self._shown = None
        own = self._own
        sections = self._sections = [
            new_section(s.heading, s.level, _joined_blocks(own.get(i)), s.parent)
            for i, s in enumerate(self._heads)
        ]
        parts: list[str] = []
        for part in shown:
            if isinstance(part, str):
                parts.append(part)
            else:
                index, lines_of = part
                parts.append(sections[index].text if len(own[index]) == 1
                             else "\n".join(lines_of))
        del shown
        self._own, self._heads = {}, []
        self._text = "\n".join(parts)


class _Walker:
    """One pass over the main content, fed element starts, ends and text.

    All text goes into one list of chunks (with BREAK at block boundaries); links, list entries
    and paragraphs remember where they started in it and slice it when they close. One append
    per chunk keeps the walk cheap.
    """

    def __init__(self, base_url: str, page_url: str) -> None:
        self.base = base_url
        self.origin = origin_of(base_url)
        self.chunks: list[str] = []
        self.line_start = 0
        # A line is only located during the walk (finish() cleans them all at once): the
        # index of its first chunk (its chunks run to the next BREAK), bit-inverted (~start)
        # for a line in <pre>; a heading is (its text, its section). One small int a line,
        # not a record: a page of 600,000 short paragraphs has as many lines. A line belongs
        # to the section of the heading before it, as it did when it was made: lines are only
        # ever cut from the end, and a heading comes right after every cut.
        self.lines: list[int | tuple[str, int]] = []
        self.pre = 0
        self.cur_pre = False
        self.saw_pre = False
        self.bold = 0
        # (chunk index, bold depth from there on), at each change of depth: a paragraph asks
        # whether its text is all bold only when it could be a heading, so no per-chunk count.
        self.bold_log: list[tuple[int, int]] = [(0, 0)]
        self.link: _Link | None = None
        self.link_chars = 0
        self.entries: list[_ListEntry] = []
        self.paras: list[_Para] = []
        self.heading_start: list[tuple[str, int]] = []
        self.sections: list[Section] = []
        self.open: list[int] = []  # indices of sections enclosing the current point
        self.real: set[int] = set()  # sections from h1-h6 (not bold paragraphs)
        self.items: list[Item | None] = []
        self.pending: tuple[str, str | None, int | None] | None = None  # link-only paragraph
        self.links: list[str] = []
        self._seen_links: set[str] = {page_url}
        # What a watched tag's start and end do, by tag: one dict lookup, no chain of tests.
        self.starts = {"a": self._start_a, "strong": self._start_bold, "b": self._start_bold,
                       "li": self._start_li, "p": self._start_p, "pre": self._start_pre,
                       **dict.fromkeys(HEADING_LEVELS, self._start_heading)}
        self.ends = {"a": self._end_a, "strong": self._end_bold, "b": self._end_bold,
                     "li": self._end_li, "p": self._end_p, "pre": self._end_pre,
                     **dict.fromkeys(HEADING_LEVELS, self._end_heading)}

    @property
    def section(self) -> int | None:
        return self.open[-1] if self.open else None

    # -- text ---------------------------------------------------------------------------------
    def text(self, s: str) -> None:
        if self.pre:
            self.saw_pre = True
            first, *rest = s.split("\n")
            self._add(first)
            for piece in rest:
                self.newline()
                self._add(piece)
            self.cur_pre = True
            return
        self._add(s)

    def _add(self, s: str) -> None:
        self.chunks.append(s)

    def _bold_only(self, start: int) -> bool:
        """True when chunks[start:] hold visible text, all of it inside <b>/<strong>."""
        log = self.bold_log
        if len(log) == 1:
            return False
        chunks = self.chunks
        k = len(log) - 1
        while k > 0 and log[k][0] > start:
            k -= 1
        depth = log[k][1]
        k += 1
        bold = False
        for j in range(start, len(chunks)):
            while k < len(log) and log[k][0] <= j:
                depth = log[k][1]
                k += 1
            c = chunks[j]
            if c == BREAK or not c.strip():
                continue
            if not depth:
                return False
            bold = True
        return bold

    def newline(self) -> None:
        chunks = self.chunks
        start = self.line_start
        end = len(chunks)
        if end > start:
            self.lines.append(~start if self.cur_pre else start)
            self.cur_pre = False
            chunks.append(BREAK)
            self.line_start = end + 1

    def _shown(self, line: int | tuple[str, int]) -> str:
        """A line as shown ("" when blank); see finish(), which does the same for all at once."""
        if not isinstance(line, int):
            return line[0]
        pre = line < 0
        start = ~line if pre else line
        raw = "".join(self.chunks[start:self.chunks.index(BREAK, start)])
        shown = raw.rstrip(" \t\r\n\f") if pre else collapse(raw).strip(" ")
        return shown if shown.strip() else ""

    def _joined(self, start: int, end: int | None = None) -> str:
        return clean("".join(self.chunks[start:end]).replace(BREAK, " "))

    # -- structure ----------------------------------------------------------------------------
    def start(self, el: Element, tag: str) -> None:
        self.starts[tag](el)

    def end(self, tag: str) -> None:
        self.ends[tag]()

    def _start_a(self, el: Element) -> None:
        self.start_link(el.get("href"))

    def start_link(self, href: str | None) -> None:
        """An ``<a>`` starts (``href`` its attribute, or None: then it is no link)."""
        if href is not None:
            if self.link is not None:
                # libxml2 nests an unclosed <a> around what follows; browsers close it.
                self._end_a()
            url = resolve_link(href, self.base, self.origin)
            link = self.link = _new(_Link)
            link.url, link.start, link.end, link.text = url, len(self.chunks), -1, ""
            if self.paras:
                self.paras[-1].links.append(link)
            if self.entries:
                self.entries[-1].links.append(link)
            if url is not None and url not in self._seen_links:
                self._seen_links.add(url)
                self.links.append(url)

    def _end_a(self) -> None:
        link = self.link
        if link is not None:
            link.end = end = len(self.chunks)
            start = link.start
            if end - start == 1:  # one run of text, the common case: no join, no BREAK
                text = self.chunks[start]
                link.text = clean(text) if text != BREAK else ""
            else:
                link.text = self._joined(start, end)
            self.link_chars += len(link.text) - link.text.count(" ")
            self.link = None

    def _start_bold(self, el: Element) -> None:
        self.bold += 1
        self.bold_log.append((len(self.chunks), self.bold))

    def _end_bold(self) -> None:
        self.bold = max(0, self.bold - 1)
        self.bold_log.append((len(self.chunks), self.bold))

    def _start_li(self, el: Element) -> None:
        if self.pending is not None:
            self._flush_pending("")
        items = self.items
        items.append(None)
        entry = _new(_ListEntry)
        entry.start, entry.section, entry.slot = (len(self.chunks),
                                                  self.open[-1] if self.open else None,
                                                  len(items) - 1)
        entry.links, entry.holes = [], []
        self.entries.append(entry)

    def _end_li(self) -> None:
        entries = self.entries
        if entries:
            entry = entries.pop()
            self._entry_item(entry)
            if entries:
                entries[-1].holes.append((entry.start, len(self.chunks)))

    def _start_p(self, el: Element) -> None:
        para = _new(_Para)
        para.start, para.line, para.section, para.links = (len(self.chunks), len(self.lines),
                                                           self.open[-1] if self.open else None,
                                                           [])
        self.paras.append(para)

    def _end_p(self) -> None:
        if self.paras:
            self._end_para(self.paras.pop())

    def _start_heading(self, el: Element) -> None:
        self.start_heading(el.tag)

    def start_heading(self, tag: str) -> None:
        """An ``<h1>``..``<h6>`` (``tag``) starts."""
        self.heading_start.append((tag, len(self.lines)))

    def _end_heading(self) -> None:
        if self.heading_start:
            htag, start = self.heading_start.pop()
            heading = clean(" ".join(filter(None, map(self._shown, self.lines[start:]))))
            if heading:
                del self.lines[start:]
                self._open_section(heading, HEADING_LEVELS[htag], real=True)

    def _start_pre(self, el: Element) -> None:
        self.pre += 1

    def _end_pre(self) -> None:
        self.pre = max(0, self.pre - 1)

    def _open_section(self, heading: str, level: int, *, real: bool) -> None:
        self._flush_pending("")
        while self.open and self.sections[self.open[-1]].level >= level:
            self.open.pop()
        parent = self.open[-1] if self.open else None
        self.sections.append(new_section(heading, level, "", parent))
        index = len(self.sections) - 1
        self.open.append(index)
        if real:
            self.real.add(index)
        self.lines.append((heading, index))

    def _end_para(self, para: _Para) -> None:
        if self.entries:  # a paragraph inside a list entry belongs to that entry
            return
        text = self._joined(para.start)
        if not text:
            return
        links = [lk for lk in para.links if lk.end >= 0]
        if len(links) == 1 and links[0].text == text:
            # "<p><a>Title</a></p>": an item whose summary is the next paragraph, if any.
            self._flush_pending("")
            self.pending = (text, links[0].url, para.section)
        elif len(text) <= _MAX_PSEUDO_HEADING and (
            (not links and self._bold_only(para.start)) or _ROMAN_HEADING_RE.match(text)
        ):
            self._pseudo_heading(para, text)
        elif self.pending is not None:
            self._flush_pending(text)
        elif text.startswith(_BULLETS):
            self._bullet_item(para, text, links)

    def _pseudo_heading(self, para: _Para, heading: str) -> None:
        """A bold-only (or "IV. ...") paragraph: a heading one level below the real one above."""
        enclosing = next((i for i in reversed(self.open) if i in self.real), None)
        level = min(6, self.sections[enclosing].level + 1) if enclosing is not None else 2
        del self.lines[para.line:]
        self._open_section(heading, level, real=False)

    def _flush_pending(self, summary: str) -> None:
        if self.pending is None:
            return
        title, url, section = self.pending
        self.pending = None
        self.items.append(new_item(title, url, summary, section))

    def _bullet_item(self, para: _Para, text: str, links: list[_Link]) -> None:
        """A Word-pasted "·" paragraph: a list entry in all but markup."""
        body = text.lstrip("".join(_BULLETS)).strip()
        if not body:
            return
        titled = next((lk for lk in links if lk.text), None)
        if titled is not None and body.startswith(titled.text):
            summary = clean(body[len(titled.text):])
            self.items.append(new_item(titled.text, titled.url, summary, para.section))
        else:
            # A link inside the sentence is not its title: the bullet is, pointing at the link.
            url = titled.url if titled is not None else None
            self.items.append(new_item(body, url, "", para.section))

    def _entry_item(self, entry: _ListEntry) -> None:
        """An <li>: a link-led entry is titled by its link, the rest is its summary; any other
        entry is titled by its first line (pointing at its first link, if any)."""
        # The entry's own chunks (it ends at the current point), a copy: copying the whole
        # page's for each entry that holds a nested list grew with the square of them.
        first = entry.start
        chunks = self.chunks[first:]
        for start, end in entry.holes:  # leave nested entries out: they are items of their own
            chunks[start - first:end - first] = [""] * (end - start)
        titled = next((lk for lk in entry.links if lk.end >= 0 and lk.text), None)
        if titled is not None and not self._joined(entry.start, titled.start):
            rest = chunks[titled.end - first:]
            self.items[entry.slot] = new_item(titled.text, titled.url, _lines(rest),
                                              entry.section)
            return
        text = _lines(chunks)
        if text:
            title, _, summary = text.partition("\n")
            url = titled.url if titled is not None else None
            self.items[entry.slot] = new_item(title, url, summary, entry.section)

    def finish(self) -> Extracted:
        """Every line as shown, collapsed a batch of lines at a time (runs of white space
        never cross a BREAK), the walk's chunks and line records let go as their lines are
        made: the text is held about once, not in chunks and lines at once. The text itself
        is joined later (:class:`Extracted`)."""
        self.newline()
        self._flush_pending("")
        lines, chunks = self.lines, self.chunks
        own: dict[int, list[list[str]]] = {}
        shown: _Shown = []
        block: list[str] | None = None
        block_section = -1
        mass = 0
        cut = 0  # chunks before this index are let go (del chunks[:n] shifts the rest)
        section: int | None = None  # the section of the heading last shown
        for first in range(0, len(lines), _COLLAPSE_LINES):
            batch = lines[first:first + _COLLAPSE_LINES]
            raw: list[str] = []
            end = -1
            for rec in batch:
                if isinstance(rec, int):
                    start = (~rec if rec < 0 else rec) - cut
                    end = chunks.index(BREAK, start)
                    raw.append("".join(chunks[start:end]))
                else:
                    raw.append("")
            plain = [piece for piece, rec in zip(raw, batch, strict=True)
                     if isinstance(rec, int) and rec >= 0]
            if plain:
                folded = collapse(BREAK.join(plain))
                del plain
                # nonspace() adds up over a join; each BREAK counts as one character.
                mass += nonspace(folded) - folded.count(BREAK)
                collapsed = folded.split(BREAK)
                del folded
                collapsed.reverse()  # popped from the end: each goes as it is shown
            else:
                collapsed = []
            if end >= 0:  # the batch's chunks are read: let them go
                del chunks[:end]
                cut += end
            for rec, piece in zip(batch, raw, strict=True):
                if isinstance(rec, int):
                    pre = rec < 0
                    line = piece.rstrip(" \t\r\n\f") if pre else collapsed.pop().strip(" ")
                    if not line.strip():  # only no-break spaces: an empty paragraph
                        if not pre:
                            mass -= nonspace(line)
                        continue
                    if pre:
                        mass += nonspace(line)
                    if section is None:
                        shown.append(line)
                        block = None
                    elif block is not None and section == block_section:
                        block.append(line)
                    else:
                        block, block_section = [line], section
                        own.setdefault(section, []).append(block)
                        shown.append((section, block))
                else:
                    text, section = rec
                    mass += nonspace(text)
                    shown.append(text)
                    block = None
            del raw, collapsed, batch
        lines.clear()
        chunks.clear()
        items = [item for item in self.items if item is not None]
        return Extracted(shown, own, self.sections, items, self.links, pre=self.saw_pre,
                         link_chars=self.link_chars, mass=mass)


# Lines collapsed at a time: a 20 MB page's text is not collapsed whole (collapse holds its
# input, its output and a copy between).
_COLLAPSE_LINES = 4096


def _joined_blocks(blocks: list[list[str]] | None) -> str:
    """A section's text: its blocks of lines, one line each."""
    if not blocks:
        return ""
    if len(blocks) == 1:
        return "\n".join(blocks[0])
    return "\n".join(chain.from_iterable(blocks))  # in C, where a generator steps per line


def _lines(chunks: list[str]) -> str:
    """Collected chunks as shown: one cleaned line per block, empty lines dropped."""
    return "\n".join(line for line in map(clean, "".join(chunks).split(BREAK)) if line)


_WATCHED = frozenset({"a", "strong", "b", "li", "p", "pre", *HEADING_LEVELS})


_EXCLUDING_ATTRS = frozenset({"hidden", "aria-hidden", "role", "style", "class", "id"})
_NON_ELEMENTS = (etree.Comment, etree.ProcessingInstruction, etree.Entity)
# What the walk needs to know of a tag, in one dict lookup: bits of the flags below.
_BLOCK, _WATCH, _BR, _SKIP, _HEADER = 1, 2, 4, 8, 16
_FLAGS: dict[str, int] = {}
for _tag in BLOCK_TAGS:
    _FLAGS[_tag] = _FLAGS.get(_tag, 0) | _BLOCK
for _tag in _WATCHED:
    _FLAGS[_tag] = _FLAGS.get(_tag, 0) | _WATCH
for _tag in SKIP_TAGS:
    _FLAGS[_tag] = _FLAGS.get(_tag, 0) | _SKIP
_FLAGS["br"] = _FLAGS.get("br", 0) | _BR
_FLAGS["header"] |= _HEADER


def _pre_text(w: _Walker, s: str, line_start: int, cur_pre: bool) -> tuple[int, bool]:
    """``w.text(s)`` inside <pre> (rare), with the line state the walk keeps in locals."""
    w.line_start, w.cur_pre = line_start, cur_pre
    w.text(s)
    return w.line_start, w.cur_pre


def walk(main: Element, *, base_url: str, page_url: str,
         keep: Callable[[Element], bool] | None = None,
         drop: frozenset[Element] | set[Element] = frozenset()) -> Extracted:
    """Read the main content: visible text (one block per line), sections, items, links.

    Depth first over lxml's child iterators, with an explicit stack (never recursion, so a
    deep tree cannot overflow Python's stack). A leaf (most elements: a link, a cell, an
    emphasis) starts and ends in one step and is never pushed; excluded subtrees are simply
    not entered. The walker's line state lives in locals here: only ``w.newline`` (inside
    <pre>, and at the end) reads it from the walker, so it is handed over around those calls.

    ``keep`` says which elements are read even though they look like chrome (a form, a
    ``<header>``, a "header" class or id): :mod:`scraper.maincontent` found the page's text in
    them; it is asked only about such elements. Hidden elements and never-content tags are
    skipped all the same. ``drop`` holds elements skipped although nothing in their markup
    says chrome (menus found by link density). ``keep`` must not change the tree: the compiled
    walk holds libxml2's nodes while it asks.
    """
    if _cwalk is not None:  # it passes over any node but elements and text itself
        return _cwalk.walk(main, base_url, page_url, keep, drop)
    if next(main.iter(*_NON_ELEMENTS), None) is not None:
        # The parser drops comments and PIs, so this is a safety net: only elements are walked,
        # and a comment's tail is text. Keep the tails, drop the nodes.
        etree.strip_elements(main, *_NON_ELEMENTS, with_tail=False)
    w = _Walker(base_url, page_url)
    # w.line_start, w.cur_pre, kept by the loop (see the docstring).
    line_start, cur_pre = 0, False
    pre = False  # inside <pre>: text goes through w.text, which keeps its lines
    tag = main.tag
    if _FLAGS.get(tag, 0) & _WATCH:
        w.starts[tag](main)
        pre = bool(w.pre)
    line_start, cur_pre = _loop(w, main, keep, drop, line_start, cur_pre, pre)
    _end_main(w, main, line_start, cur_pre)
    found = w.finish()
    # The walker's dispatch tables hold its own bound methods, a reference cycle: break it, so
    # its text buffers (as large as the page) go now, not at the next cyclic collection.
    w.starts.clear()
    w.ends.clear()
    return found


def _loop(w: _Walker, main: Element, keep: Callable[[Element], bool] | None,
          drop: frozenset[Element] | set[Element], line_start: int, cur_pre: bool,
          pre: bool) -> tuple[int, bool]:
    """The walk's loop in Python (the reference for scraper/_cwalk.pyx): main's text, its
    children and their tails into ``w``; returns the line state (line_start, cur_pre)."""
    flags_of = _FLAGS.get
    excluding_attrs = _EXCLUDING_ATTRS
    starts, ends = w.starts, w.ends
    chunks = w.chunks
    add = chunks.append
    lines_append = w.lines.append
    s = main.text
    if s:
        if pre:
            line_start, cur_pre = _pre_text(w, s, line_start, cur_pre)
        else:
            add(s)
    # Open elements: (their children's iterator, the element, its tag and flags).
    stack: list[tuple[Any, Element, str, int]] = [(iter(main), main, main.tag, 0)]
    push, pop = stack.append, stack.pop
    while True:
        it, owner, otag, g = stack[-1]
        ended = None  # what ends next: a leaf, or the owner of a spent iterator
        for el in it:
            tag = el.tag
            f = flags_of(tag, 0)
            skip = ((f & _SKIP or (f & _HEADER and is_excluded(el))
                     or ((keys := el.keys()) and not excluding_attrs.isdisjoint(keys)
                         and is_excluded(el)))
                    and not (keep is not None and not is_hidden(el) and keep(el))
                    or (drop and el in drop))
            if f & _BLOCK or (f & _BR and not skip):  # a skipped block still ends the line
                end = len(chunks)
                if end > line_start:  # w.newline(), inline: the walk's most frequent call
                    lines_append(~line_start if cur_pre else line_start)
                    cur_pre = False
                    add(BREAK)
                    line_start = end + 1
            if skip:
                s = el.tail
                if s:
                    if pre:
                        line_start, cur_pre = _pre_text(w, s, line_start, cur_pre)
                    else:
                        add(s)
                continue
            if f & _WATCH:
                starts[tag](el)
                pre = bool(w.pre)
            s = el.text
            if s:
                if pre:
                    line_start, cur_pre = _pre_text(w, s, line_start, cur_pre)
                else:
                    add(s)
            if len(el):
                push((iter(el), el, tag, f))
                break  # go down; this loop resumes when el's children are done
            ended, otag, g = el, tag, f  # a leaf ends where it starts
            break
        else:
            # owner's children are done: it ends (main's own end is the caller's, below)
            if owner is main:
                break
            pop()
            ended = owner
        if ended is None:
            continue
        if g:
            if g & _BLOCK:
                end = len(chunks)
                if end > line_start:
                    lines_append(~line_start if cur_pre else line_start)
                    cur_pre = False
                    add(BREAK)
                    line_start = end + 1
            if g & _WATCH:
                ends[otag]()
                pre = bool(w.pre)
        s = ended.tail
        if s:
            if pre:
                line_start, cur_pre = _pre_text(w, s, line_start, cur_pre)
            else:
                add(s)
    return line_start, cur_pre


def _end_main(w: _Walker, main: Element, line_start: int, cur_pre: bool) -> None:
    """Main's own end, the line state handed back to the walker."""
    w.line_start, w.cur_pre = line_start, cur_pre
    tag = main.tag
    f = _FLAGS.get(tag, 0)
    if f & _BLOCK and len(w.chunks) > w.line_start:
        w.newline()
    if f & _WATCH:
        w.ends[tag]()


def _compiled() -> Any:
    """scraper/_cwalk (the walk in C), when it is built and was built against this lxml (it
    reads lxml's C structures), else None: the Python walk, which gives the same records."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # Cython's struct-size check warns if lxml's grew
            from scraper import _cwalk
        if _cwalk.BUILT_WITH_LXML != etree.__version__:
            return None
        _cwalk.check()  # it reads this module's constants: ImportError if they changed
    except Exception:  # not built (ImportError), or built against another lxml's C API: its
        return None    # import checks signatures (TypeError) and struct sizes (ValueError)
    return _cwalk


# Last: the compiled walk checks the constants above when it is loaded.
_cwalk = _compiled()
