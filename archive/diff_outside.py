"""``diff --outside``: the lines of text around each page's main content added and removed.

The main content alone decides versions, ``changed`` and notifications; the text around it
(menus, asides, footers, "Trending now", "Page generated <time>") is kept per snapshot, by
line (:mod:`archive.outside`). On request the diff lists how it moved between the two
moments, per page, as a part of its own that never counts as a change of the page
(:attr:`archive.compare.ArchiveDiff.changed` and ``--exit-code`` ignore it).

Lines are compared as a multiset, on their normalised form (:func:`archive.model.norm_text`):
the text is stored as deduplicated lines, and chrome that only reorders its lines (a
"Most read" box reshuffled) has nothing added or removed, only ``reordered``.

>>> d = line_diff(["Home", "Most read", "Page generated 10:00"],
...               ["Home", "Most read", "Page generated 11:00"])
>>> d.added, d.removed, d.reordered
(['Page generated 11:00'], ['Page generated 10:00'], False)
>>> line_diff(["a", "b"], ["b", "a\\u00a0"]).reordered
True
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from archive import outside
from archive.diff_vocab import PageChangeKind
from archive.model import norm_text
from archive.store import Archive
from archive.vocab import Outcome

if TYPE_CHECKING:  # compare imports this module: the type only, no import cycle
    from archive.compare import ArchiveDiff

# Pages whose two moments do not both show the page: nothing to compare around it.
_NOT_COMPARED = (PageChangeKind.ADDED, PageChangeKind.REMOVED, PageChangeKind.GONE)


@dataclass(frozen=True)
class LineDiff:
    """Lines only in the new text (``added``, in its order), only in the old (``removed``,
    in its order), and whether the lines they share stand in another order (``reordered``)."""

    added: list[str]
    removed: list[str]
    reordered: bool

    @property
    def changed(self) -> bool:
        """True when anything differs, an order included."""
        return bool(self.added or self.removed or self.reordered)


def _only_in(lines: Sequence[str], extra: Counter[str]) -> list[str]:
    """The lines of ``lines`` counted in ``extra`` (their first occurrences), in order."""
    left = Counter(extra)
    out = []
    for line in lines:
        key = norm_text(line)
        if left[key] > 0:
            out.append(line)
            left[key] -= 1
    return out


def line_diff(old: Sequence[str], new: Sequence[str]) -> LineDiff:
    """Lines added and removed between two texts given as lines (a multiset difference on
    the normalised lines; blank lines ignored). Pure."""
    old_keys = [k for k in map(norm_text, old) if k]
    new_keys = [k for k in map(norm_text, new) if k]
    count_old, count_new = Counter(old_keys), Counter(new_keys)
    added = _only_in(new, count_new - count_old)
    removed = _only_in(old, count_old - count_new)
    common = count_old & count_new
    return LineDiff(added, removed, _only_in(old_keys, common) != _only_in(new_keys, common))


@dataclass
class OutsideSide:
    """The capture whose text around the main content one side of the diff shows.

    ``text_id`` (``snapshots.outside_text_id``) is None when the capture has none stored
    (:attr:`recorded` False): a PDF (its text is all main content), a capture made before the
    archive kept this text (schema 5), or an HTML page whose visible text was all main
    content. ``kind`` is its version's (``html``, ``pdf``).
    """

    snapshot: int
    captured_at: str
    text_id: int | None
    kind: str | None = None

    @property
    def recorded(self) -> bool:
        """True when the capture has text around its main content stored."""
        return self.text_id is not None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/diff.md, "outside")."""
        return {"snapshot": self.snapshot, "captured_at": self.captured_at,
                "recorded": self.recorded, "kind": self.kind}


@dataclass
class OutsideChange:
    """One page whose text around the main content differs between the two moments.

    When one side has none recorded (``missing`` is ``"from"`` or ``"to"``) the lines are not
    compared: listing the other side's lines as added or removed would only say that the
    archive did not keep them then.
    """

    url: str
    hub: bool
    old: OutsideSide
    new: OutsideSide
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    reordered: bool = False

    @property
    def missing(self) -> str | None:
        """``"from"`` or ``"to"``: the side with no text recorded around its main content."""
        if not self.old.recorded:
            return "from"
        if not self.new.recorded:
            return "to"
        return None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (docs/diff.md, "outside")."""
        return {"url": self.url, "hub": self.hub, "from": self.old.to_dict(),
                "to": self.new.to_dict(), "missing": self.missing, "added": self.added,
                "removed": self.removed, "reordered": self.reordered}


def not_recorded_reason(side: OutsideSide) -> str:
    """Why a side has no text around its main content, as far as the archive can tell."""
    if side.kind == "pdf":
        return "a PDF: its text is all main content"
    return ("none recorded: a capture from before the archive kept it, or a page whose "
            "visible text is all main content")


def compare_sides(url: str, hub: bool, old: OutsideSide, new: OutsideSide,
                  load: Callable[[OutsideSide], list[str]]) -> OutsideChange | None:
    """The change around the main content between two captures of a page, or None when
    there is none to show (the same text, or none recorded on either side). ``load`` reads a
    recorded side's lines. Pure but for ``load``."""
    if not old.recorded and not new.recorded:
        return None
    change = OutsideChange(url, hub, old, new)
    if not old.recorded or not new.recorded:
        return change
    diff = line_diff(load(old), load(new))
    if not diff.changed:
        return None
    change.added, change.removed, change.reordered = diff.added, diff.removed, diff.reordered
    return change


def _side(row: sqlite3.Row) -> OutsideSide:
    tid = row["outside_text_id"]
    return OutsideSide(int(row["id"]), str(row["captured_at"]),
                       int(tid) if tid is not None else None, row["kind"])


def outside_changes(archive: Archive, result: ArchiveDiff) -> list[OutsideChange]:
    """Per page of ``result`` shown on both sides, how the text around its main content
    changed, in the order of ``result.pages`` (hub first, then by URL).

    Each side is the page's last trustworthy capture by that moment, as for the content
    diff; the earlier side is the last one that showed the page, so a page back after a
    404 is compared with what surrounded it before it went. Pages added, removed or gone
    have no two sides and are left out, as are pages whose text did not change.
    """
    if result.from_at is None:
        return []
    conn = archive.conn
    texts: dict[int, list[str]] = {}

    def load(side: OutsideSide) -> list[str]:
        tid = side.text_id
        assert tid is not None  # compare_sides loads recorded sides only
        if tid not in texts:
            texts[tid] = outside.lines(conn, tid)
        return texts[tid]

    out = []
    for page in result.pages:
        if page.change in _NOT_COMPARED:
            continue
        pid = archive.page_id(page.url)
        if pid is None:
            continue
        new = outside.capture_at(conn, pid, result.to_at, content=False)
        old = outside.capture_at(conn, pid, result.from_at, content=True)
        if new is None or old is None or new["outcome"] == Outcome.GONE:
            continue
        if new["outside_text_id"] == old["outside_text_id"]:
            continue  # the same text (or none on both sides): one lookup, no lines read
        change = compare_sides(page.url, page.hub, _side(old), _side(new), load)
        if change is not None:
            out.append(change)
    return out
