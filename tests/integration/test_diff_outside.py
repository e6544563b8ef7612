"""``diff --outside`` on real archives (SQLite files written through the store): which two
captures each page's text around its main content is compared between, across the gaps the
content diff also crosses (a 404, a failed capture), and the sides with none recorded."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.compare import diff_between
from archive.model import Page
from archive.report import render
from archive.store import Archive
from tests.builders import at, capture

URL = "http://127.0.0.1:8000/story"
PDF = "http://127.0.0.1:8000/report.pdf"


def _page(chrome: str, text: str = "The council approved the budget.", *,
          url: str = URL, kind: str = "html") -> Page:
    return Page(url=url, title="Story", text=text, kind=kind, outside_text=chrome)


def _outside(db: Path, frm: str, to: str, url: str = URL) -> list[dict[str, object]]:
    with Archive.open(db, readonly=True) as a:
        result = diff_between(a, frm, to, url=url, outside=True)
    assert result.outside is not None
    return [o.to_dict() for o in result.outside]


def test_back_after_a_404_is_compared_with_what_surrounded_it_before(tmp_path):
    db = tmp_path / "a.db"
    with Archive.open(db) as a:
        capture(a, URL, at("2026-11-01"), _page("Home\nPage generated 1"))
        capture(a, URL, at("2026-11-02"), status=404, body=b"not here")
        capture(a, URL, at("2026-11-03"), _page("Home\nPage generated 3"))
    (o,) = _outside(db, "2026-11-02", "2026-11-03")
    assert (o["removed"], o["added"]) == (["Page generated 1"], ["Page generated 3"])
    assert o["from"]["captured_at"] == at("2026-11-01")  # the capture before it went
    # Gone at --to: no two sides to compare.
    assert _outside(db, "2026-11-01", "2026-11-02") == []


def test_a_failed_capture_compares_the_last_good_ones(tmp_path):
    db = tmp_path / "a.db"
    with Archive.open(db) as a:
        capture(a, URL, at("2026-11-01"), _page("Home\nTrending: ferries"))
        capture(a, URL, at("2026-11-02"), _page("Home\nTrending: storms"))
        capture(a, URL, at("2026-11-03"), error="connection reset")
        capture(a, URL, at("2026-11-04"), _page("Trending: storms\nHome", "Other words."))
    (o,) = _outside(db, "2026-11-01", "2026-11-03")
    assert (o["removed"], o["added"]) == (["Trending: ferries"], ["Trending: storms"])
    assert o["to"]["captured_at"] == at("2026-11-02")
    # Only the order differs: nothing added or removed, said as such.
    (o,) = _outside(db, "2026-11-02", "2026-11-04")
    assert (o["added"], o["removed"], o["reordered"]) == ([], [], True)
    with Archive.open(db, readonly=True) as a:
        result = diff_between(a, "2026-11-02", "2026-11-04", url=URL, outside=True)
        text = render(result, "text")
    assert text.endswith("    the same lines, in another order\n")
    assert result.changed  # the content did change (its text): outside plays no part in it


def test_unchanged_chrome_and_same_snapshot_list_nothing(tmp_path):
    db = tmp_path / "a.db"
    with Archive.open(db) as a:
        capture(a, URL, at("2026-11-01"), _page("Home\nFooter"))
        capture(a, URL, at("2026-11-02"), _page("Home\nFooter", "New words."))
    assert _outside(db, "2026-11-01", "2026-11-02") == []
    assert _outside(db, "2026-11-02", "2026-11-02") == []
    with Archive.open(db, readonly=True) as a:
        text = render(diff_between(a, "2026-11-01", "2026-11-02", url=URL, outside=True), "text")
        html = render(diff_between(a, "2026-11-01", "2026-11-02", url=URL, outside=True), "html")
    assert text.endswith("Outside the main content (menus, asides, footers; shown on request, "
                         "never a change of the page):\n  no change\n")
    assert "<p>No change.</p>" in html


def test_sides_with_none_recorded(tmp_path):
    """A PDF has no text around its main content, nor does a page that is all main content;
    a capture made before the archive kept it (schema 5) has none either. One side without:
    one line, not every line of the other side added or removed. Both without: nothing."""
    db = tmp_path / "a.db"
    with Archive.open(db) as a:
        capture(a, URL, at("2026-11-01"), _page("Home\nFooter 1"))
        capture(a, URL, at("2026-11-02"), _page("", "All main content now."))
        capture(a, PDF, at("2026-11-01"), _page("", "Report text.", url=PDF, kind="pdf"))
        capture(a, PDF, at("2026-11-02"), _page("", "Report text, edited.", url=PDF, kind="pdf"))
    (o,) = _outside(db, "2026-11-01", "2026-11-02")
    assert (o["missing"], o["added"], o["removed"]) == ("to", [], [])
    assert o["from"]["recorded"] is True and o["to"]["recorded"] is False
    assert _outside(db, "2026-11-01", "2026-11-02", url=PDF) == []
    with Archive.open(db, readonly=True) as a:
        text = render(diff_between(a, "2026-11-01", "2026-11-02", url=URL, outside=True), "text")
    tail = text[text.index("Outside the main content"):].splitlines()
    assert len(tail) == 3 and tail[2].startswith("    not compared: the later capture #")
    assert "Footer 1" not in text

    # A capture older than the archive's record of it: the same, for the earlier side.
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE snapshots SET outside_text_id = NULL")
        conn.execute("UPDATE snapshots SET outside_text_id = (SELECT min(id) FROM"
                     " outside_texts) WHERE captured_at = ? AND page_id = 1", (at("2026-11-02"),))
    (o,) = _outside(db, "2026-11-01", "2026-11-02")
    assert o["missing"] == "from"
    with Archive.open(db, readonly=True) as a:
        text = render(diff_between(a, "2026-11-01", "2026-11-02", url=URL, outside=True), "text")
    assert "not compared: the earlier capture #" in text and "none recorded" in text
