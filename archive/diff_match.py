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
from collections import Counter, defaultdict, deque
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
# At most this many (old, new) pairs of such items are compared in one section (about 2 s).
SIMILAR_PAIRS = 20_000


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
    # deques: popping the first of many equal keys (50,000 identical entries) is O(1).
    waiting: dict[Hashable, deque[int]] = defaultdict(deque)
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
            pairs[waiting[k].popleft()] = j
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

    # Every old item is compared with every new one of its section: where a section has
    # more pairs than SIMILAR_PAIRS, its items stay removed and added (3,000 edited entries
    # of one list would take an hour, at 0.1 ms a pair).
    news_in: dict[int | None, list[int]] = defaultdict(list)
    for j in news:
        news_in[new[j].section].append(j)
    olds_in: Counter[int | None] = Counter(section_of(i) for i in olds)
    words_new = {j: _item_words(new[j]) for j in news}
    candidates: list[tuple[float, int, int]] = []
    for i in olds:
        sec = section_of(i)
        if olds_in[sec] * len(news_in.get(sec, ())) > SIMILAR_PAIRS:
            continue
        words = _item_words(old[i])
        matcher = difflib.SequenceMatcher(None, autojunk=False)
        matcher.set_seq2(words)  # set_seq2 caches its analysis: the old item is the fixed one
        for j in news_in.get(sec, ()):
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


#: difflib's matcher alone decides a diff of at most DIFF_TOKENS words (or headings) on the
#: two sides together, making at most DIFF_WORK comparisons in one pass (the sum, over the
#: words of one side, of how often each occurs on the other): the diff of a page of a couple
#: of thousand words is what it always was. Past either, the matcher goes over each of its
#: passes once per block it finds, and its time grew with the square of the size: 20,000
#: words of real text with an edit every 300 took 8 s, 3,000 words drawn from a few dozen
#: 27 s, 8,000 headings with one in ten edited 9 s; such a diff is cut at anchors first.
DIFF_TOKENS = 4_000
DIFF_WORK = 200_000

_Opcode = tuple[str, int, int, int, int]


def _cheap(a: Sequence[Hashable], b: Sequence[Hashable]) -> bool:
    """Whether difflib's matcher may diff ``a`` and ``b`` (DIFF_TOKENS, DIFF_WORK)."""
    if len(a) + len(b) > DIFF_TOKENS:
        return False
    counts = Counter(b)
    return sum(counts.get(w, 0) for w in a) <= DIFF_WORK


def opcodes_within_budget(a: Sequence[Hashable], b: Sequence[Hashable]) -> list[_Opcode]:
    """``SequenceMatcher(None, a, b, autojunk=False).get_opcodes()`` when that is cheap (see
    :data:`DIFF_TOKENS`); else the same kind of answer in about linear time: common ends
    kept, words found once on each side in the same order (patience diff's anchors) kept,
    the matcher on each stretch between them that is cheap, and a stretch without anchors
    that is not shown removed and added whole."""
    if _cheap(a, b):
        return list(difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes())
    blocks: list[tuple[int, int, int]] = []  # (i, j, n): a[i:i+n] == b[j:j+n]
    todo = [(0, len(a), 0, len(b))]
    while todo:  # an explicit stack: a long run of anchors cannot overflow Python's
        a1, a2, b1, b2 = todo.pop()
        while a1 < a2 and b1 < b2 and a[a1] == b[b1]:
            blocks.append((a1, b1, 1))
            a1, b1 = a1 + 1, b1 + 1
        while a1 < a2 and b1 < b2 and a[a2 - 1] == b[b2 - 1]:
            a2, b2 = a2 - 1, b2 - 1
            blocks.append((a2, b2, 1))
        if a1 == a2 or b1 == b2:
            continue
        sa, sb = a[a1:a2], b[b1:b2]
        if _cheap(sa, sb):
            matcher = difflib.SequenceMatcher(None, sa, sb, autojunk=False)
            blocks.extend((a1 + i, b1 + j, n) for i, j, n in matcher.get_matching_blocks() if n)
            continue
        count_a, count_b = Counter(sa), Counter(sb)
        at_b = {w: b1 + j for j, w in enumerate(sb) if count_b[w] == 1 and count_a[w] == 1}
        anchors = [(a1 + i, at_b[w]) for i, w in enumerate(sa) if w in at_b]
        kept = increasing_run([j for _, j in anchors])
        i0, j0 = a1, b1
        for n, (i, j) in enumerate(anchors):
            if n in kept:
                blocks.append((i, j, 1))
                todo.append((i0, i, j0, j))
                i0, j0 = i + 1, j + 1
        if i0 > a1:  # no anchor: the stretch stays unmatched (shown removed and added)
            todo.append((i0, a2, j0, b2))
    out: list[_Opcode] = []
    i = j = 0
    for bi, bj, n in sorted(blocks):
        if bi > i or bj > j:
            tag = "replace" if bi > i and bj > j else "delete" if bi > i else "insert"
            out.append((tag, i, bi, j, bj))
        out.append(("equal", bi, bi + n, bj, bj + n))
        i, j = bi + n, bj + n
    if i < len(a) or j < len(b):
        tag = "replace" if i < len(a) and j < len(b) else "delete" if i < len(a) else "insert"
        out.append((tag, i, len(a), j, len(b)))
    return out


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
    known: dict[tuple[bool, int], list[str]] = {}

    def content(page: Page, index: int) -> list[str]:  # asked once per pair: remembered
        key = (page is new, index)
        got = known.get(key)
        if got is None:
            got = known[key] = _section_content(page, index)
        return got

    for tag, i1, i2, j1, j2 in opcodes_within_budget(a, b):
        if tag == "equal":
            pairs.update({i1 + k: j1 + k for k in range(i2 - i1)})
            continue
        if tag != "replace":
            continue
        candidates = []
        # Every old section of the stretch is weighed against every new one: past
        # SIMILAR_PAIRS pairs (2,000 edited headings in a row), only the same heading pairs.
        by_content = (i2 - i1) * (j2 - j1) <= SIMILAR_PAIRS
        for i in range(i1, i2):
            for j in range(j1, j2):
                same_heading = a[i][0] == b[j][0]
                if a[i][1] != b[j][1] and not same_heading or not (same_heading or by_content):
                    continue
                score = 1.0 if same_heading else _similarity(content(old, i), content(new, j))
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
