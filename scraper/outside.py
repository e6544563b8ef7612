"""The text of a page outside its main content: menus, asides, footers, one line per block.

Kept with each snapshot (``Page.outside_text``), searchable, never hashed and never a reason
for a version (archive/outside.py stores it). :func:`outside_text` reads it once the main
content is chosen (:mod:`scraper.maincontent`), in C when the compiled walk is built
(scraper/_cwalk.pyx's ``outside_raw`` and ``fold_lines``, which leave the tree as it is),
else by marking the blocks' ends in the tree and serialising it.
"""

from __future__ import annotations

from lxml import etree

from archive.model import _ODD_SPACES, _ODD_SPACES_ASCII
from scraper import extract
from scraper.markup import BLOCK_TAGS, Element, first_child, set_tail, set_text, text_of

# Form widgets' option lists and drawings: never read as text.
_WIDGETS = ("select", "datalist", "textarea", "svg", "math")
_LINE_TAGS = frozenset(BLOCK_TAGS | {"br", "li", "td", "th"})
_LINE_TAG_NAMES = tuple(sorted(_LINE_TAGS))
# The two for scraper/_cwalk's outside_raw: 1 a line tag, 2 a widget.
_LINE_KINDS = {**dict.fromkeys(_LINE_TAGS, 1), **dict.fromkeys(_WIDGETS, 2)}


def outside_text(root: Element, main: Element, main_text: str = "",
                 skipped: tuple[Element, ...] = ()) -> str:
    """The text of the page outside ``main``, one line per block, white space folded.

    Takes ``main`` out of the tree and marks block ends with line breaks, so call it last: the
    tree is not usable afterwards. Scripts and styles are gone already (the parser strips
    them); hidden elements are read too (finding them all costs more than what they hold).
    When ``main`` is the whole body (what the fallback found on a page without structure),
    the lines not in ``main_text`` are what the walk skipped there: links, footer lines.
    """
    body = first_child(root, "body")
    if body is None:
        body = root
    parent = main.getparent()
    whole = main is body or main is root or parent is None
    compiled = extract._cwalk
    if compiled is not None:  # the same text, read in C, the tree left as it is
        raw = compiled.outside_raw(body, None if whole else main, tuple(skipped), _LINE_KINDS)
        if raw is not None:
            return _folded(raw, set(main_text.split("\n")) if whole else frozenset())
    if whole:
        return _lines(body, skip=set(main_text.split("\n")))
    hole = etree.Element("br")
    tail = main.tail
    parent.replace(main, hole)  # main takes its tail with it
    if tail:
        set_tail(hole, tail)
    for el in skipped:  # in main, not read by its walk: outside text
        hole.addprevious(el)
    return _lines(body)


def _lines(body: Element, skip: set[str] | frozenset[str] = frozenset()) -> str:
    etree.strip_elements(body, *_WIDGETS, with_tail=False)
    # Each block ends a line (its tail starts with one), and a block holding blocks starts
    # one (its text too). A text that starts with a line break already needs no other: the
    # fold makes every run of white space holding a line break one line break, so a second
    # one beside it changes nothing, and setting a text costs far more than reading it
    # (pretty-printed pages: most tails are a line break and an indent).
    for el in body.iter(*_LINE_TAG_NAMES):  # the blocks, found in C
        tail = el.tail
        if not tail:
            el.tail = "\n"
        elif tail[0] != "\n":
            try:  # not set_tail at once: a call per block costs, a try nothing
                el.tail = "\n" + tail
            except ValueError:  # a character the parser kept and lxml refuses: see set_tail
                set_tail(el, "\n" + tail)
        if len(el):  # its own text must not run into its first child block's
            text = el.text
            if not text:
                el.text = "\n"
            elif text[0] != "\n":
                try:
                    el.text = "\n" + text
                except ValueError:
                    set_text(el, "\n" + text)
    return _folded(text_of(body), skip)


def _folded(text: str, skip: set[str] | frozenset[str]) -> str:
    """``text`` folded into lines (:func:`_fold_lines`, in one C pass when the compiled walk
    is built), less the lines in ``skip``."""
    compiled = extract._cwalk
    folded = _fold_lines(text) if compiled is None else compiled.fold_lines(text)
    if skip:
        return "\n".join(line for line in folded.split("\n") if line not in skip)
    return folded


def _fold_lines(text: str) -> str:
    """Every line of ``text`` as ``" ".join(line.split())``, blank lines dropped: done on the
    whole text by a few C passes, not a split and a join per line.

    That is: a run of white space holding a line break becomes one line break, any other run
    one space, and the ends go.
    """
    for ch in _ODD_SPACES_ASCII if text.isascii() else _ODD_SPACES:  # all str.split() splits on
        if ch in text:
            text = text.replace(ch, " ")
    while "  " in text:
        text = text.replace("  ", " ")
    text = text.replace(" \n", "\n").replace("\n ", "\n")
    # Runs of line breaks (nested blocks end together) and the ends: one split, no pass per
    # halving of the longest run.
    return "\n".join(filter(None, text.split("\n"))).strip(" ")
