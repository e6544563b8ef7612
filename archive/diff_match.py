"""Which item and which section of one version is which of the other: the matching that
:func:`archive.diff.diff_pages` compares along.

Items pair by identity, most trusted first (the same entry, the same link, the same document
after a host move, the same words under another link), then, for items without a link, by
similar words; sections pair by their aligned headings, then by similar content (a rename).
Pure functions of records.

>>> typographic("U.S.\\u2013China")
'U.S.-China'
"""

from __future__ import annotations

import difflib
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Hashable, Sequence
from urllib.parse import urlsplit, urlunsplit

from archive.model import Item, Page, norm_text

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
# Two unmatched sections at the same place are one renamed section when their content (text
# words and item identities) is at least this similar.
RENAME_SIMILARITY = 0.5
# Two items without a link left unpaired in the same section are one edited item when their
# words (title and summary) are at least this similar (difflib ratio).
ITEM_SIMILARITY = 0.6


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


def increasing_run(seq: Sequence[int]) -> set[int]:
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
