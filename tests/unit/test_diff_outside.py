"""The pure part of ``diff --outside``: lines added and removed, the sides compared, and how
the three reports show them (scraped chrome is as untrusted as the rest of a page)."""

from __future__ import annotations

import json

import pytest

from archive.compare import ArchiveDiff
from archive.diff_outside import (
    OutsideChange,
    OutsideSide,
    compare_sides,
    line_diff,
    not_recorded_reason,
)
from archive.report import render

OLD = OutsideSide(3, "2026-11-01T06:00:00.000000Z", 10)
NEW = OutsideSide(7, "2026-11-02T06:00:00.000000Z", 11)


@pytest.mark.parametrize(("old", "new", "added", "removed", "reordered"), [
    (["Home", "A"], ["Home", "B"], ["B"], ["A"], False),
    # White space and no-break spaces are never a change (norm_text), the new spelling shows.
    (["Home  page", "x"], ["Home\u00a0page", "x"], [], [], False),
    # A multiset: a line shown twice and then once lost one occurrence.
    (["Share", "Text", "Share"], ["Share", "Text"], [], ["Share"], False),
    (["Share"], ["Share", "Share"], ["Share"], [], False),
    # Blank lines are no lines.
    (["a", ""], ["a"], [], [], False),
    (["a", "b", "c"], ["c", "a", "b"], [], [], True),
    # Reordered and changed: the change is what is listed.
    (["a", "b", "c"], ["b", "a", "d"], ["d"], ["c"], True),
    ([], ["new"], ["new"], [], False),
])
def test_line_diff(old, new, added, removed, reordered):
    d = line_diff(old, new)
    assert (d.added, d.removed, d.reordered) == (added, removed, reordered)
    assert d.changed == bool(added or removed or reordered)


def test_compare_sides_reads_only_recorded_sides():
    loaded: list[int] = []

    def load(side: OutsideSide) -> list[str]:
        loaded.append(side.snapshot)
        return {3: ["Home", "Ferry strike"], 7: ["Home", "Storm warning"]}[side.snapshot]

    change = compare_sides("u", False, OLD, NEW, load)
    assert change is not None
    assert (change.added, change.removed, change.missing) == (["Storm warning"], ["Ferry strike"],
                                                             None)
    none_old = OutsideSide(3, OLD.captured_at, None)
    change = compare_sides("u", False, none_old, NEW, load)
    assert change is not None and change.missing == "from" and change.added == []
    assert loaded == [3, 7]  # the side with none recorded was never read
    assert compare_sides("u", False, none_old, OutsideSide(7, "", None), load) is None
    assert compare_sides("u", False, OLD, OLD, load) is None  # the same lines


def test_why_a_side_has_none():
    assert not_recorded_reason(OutsideSide(1, "t", None, "pdf")).startswith("a PDF")
    assert "before the archive kept it" in not_recorded_reason(OutsideSide(1, "t", None, "html"))


def _result(*changes: OutsideChange) -> ArchiveDiff:
    return ArchiveDiff("2026-11-01T23:59:59.999999Z", "2026-11-02T23:59:59.999999Z", None,
                       None, [], outside=list(changes))


HOSTILE = OutsideChange("http://h/p", False, OLD, NEW,
                        added=["<script>alert(1)</script> \x1b[2J\x07bell"],
                        removed=["Page generated 10:00"])


def test_text_report_keeps_scraped_control_characters_off_the_terminal():
    text = render(_result(HOSTILE), "text")
    assert "\x1b[2J" not in text and "\x07" not in text
    assert "    + <script>alert(1)</script> �[2J�bell\n" in text
    assert "    - Page generated 10:00\n" in text
    assert "  http://h/p  #3 → #7\n" in text
    coloured = render(_result(HOSTILE), "text", color=True)
    assert "\x1b[31m- Page generated 10:00\x1b[0m" in coloured
    assert "\x1b[2J" not in coloured


def test_html_report_escapes_the_chrome():
    page = render(_result(HOSTILE), "html")
    assert "<script>" not in page
    assert "<ins>+ &lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<del>- Page generated 10:00</del>" in page


def test_json_report_shape():
    data = json.loads(render(_result(HOSTILE), "json"))
    (o,) = data["outside"]
    assert o == {"url": "http://h/p", "hub": False, "missing": None, "reordered": False,
                 "added": ["<script>alert(1)</script> \x1b[2J\x07bell"],
                 "removed": ["Page generated 10:00"],
                 "from": {"snapshot": 3, "captured_at": OLD.captured_at, "recorded": True,
                          "kind": None},
                 "to": {"snapshot": 7, "captured_at": NEW.captured_at, "recorded": True,
                        "kind": None}}
    assert data["changed"] is False  # the outside part is never a change
    assert "outside" not in json.loads(render(ArchiveDiff(None, "t", None, None, []), "json"))
