"""The diff: pages compared item by item, section by section, word by word; the archive
compared between two moments; the text / json / html reports and the cron summary.

Fixture versions are hand-made Pages (tests/fixtures/diff/scenario.py) written through
tests/builders.capture, and two real HTML versions of the hub parsed by scraper.parse.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from archive.compare import ArchiveDiff, default_from, diff_archive, diff_between, resolve_range
from archive.diff import diff_pages, word_diff
from archive.diff_match import canonical_url, match_items
from archive.errors import UsageError
from archive.model import Item, Page, Section
from archive.report import clip_segments, render, render_html, render_json, render_text
from archive.report_cron import summarize_run
from archive.store import Archive
from tests.builders import at, capture, history
from tests.fixtures.diff import scenario as sc
from tests.fixtures.diff.scenario import D1, D2, D3, D4, D5, HUB


def items_json(old: Page, new: Page) -> list[dict]:
    return [i.to_dict() for i in diff_pages(old, new).items]


def item(title: str, url: str | None, summary: str, section: str | None, position: int) -> dict:
    return {"title": title, "url": url, "summary": summary, "section": section,
            "position": position}


V1 = sc.hub()
I = sc.hub_items()  # noqa: E741 - the items of version 1, by position


# -- words --------------------------------------------------------------------------------------


def test_word_diff_marks_only_the_changed_words_and_keeps_the_original_spelling():
    assert word_diff("The Dialogue focused on the challenges", "The Dialogue  focused on  new "
                     "challenges") == [("=", "The Dialogue  focused on  "), ("-", "the "),
                                       ("+", "new "), ("=", "challenges")]
    assert word_diff("a b", "a b") == [("=", "a b")]
    assert word_diff("", "new words") == [("+", "new words")]
    assert word_diff("old words", "") == [("-", "old words")]
    # a word dropped at the very end still reads as separate words
    assert word_diff("brown fox", "brown") == [("=", "brown "), ("-", "fox")]


def test_word_diff_ignores_white_space_and_invisible_characters():
    assert word_diff("U.S.\u00a0 China\u200b cooperation", "U.S. China cooperation") == [
        ("=", "U.S. China cooperation")]


def test_clip_segments_keeps_context_around_each_change():
    words = " ".join(f"w{n}" for n in range(30))
    segs = word_diff(words, words.replace("w3 ", "x3 ").replace("w25", "x25"))
    hunks = clip_segments(segs, 2)
    assert hunks == [
        [("=", "… w1 w2 "), ("-", "w3"), ("+", "x3"), ("=", " w4 w5 …")],
        [("=", "… w23 w24 "), ("-", "w25"), ("+", "x25"), ("=", " w26 w27 …")],
    ]


# -- items --------------------------------------------------------------------------------------


def test_summary_edited_is_one_changed_item_with_old_and_new():
    new = sc.hub(sc.hub_items(sc.D1_SUMMARY_2))
    assert items_json(V1, new) == [{
        "change": "changed", "section": "Fact Sheets", "title": I[0].title, "url": D1,
        "old": item(I[0].title, D1, sc.D1_SUMMARY, "Fact Sheets", 0),
        "new": item(I[0].title, D1, sc.D1_SUMMARY_2, "Fact Sheets", 0),
        "fields": ["summary"], "moved": False, "trivial": False,
    }]
    d = diff_pages(V1, new)
    assert d.flags == ["silent_edit"]  # same Updated date, content changed
    assert d.fields == {}
    assert d.sections == []  # the section's own prose did not change, only its item


def test_item_added_does_not_make_the_following_items_moved():
    extra = Item("New Fact Sheet", "https://2009-2017.state.gov/n.htm", "Fresh.", 1)
    new = sc.hub([I[0], extra, *I[1:]])
    assert items_json(V1, new) == [{
        "change": "added", "section": "Fact Sheets", "title": "New Fact Sheet",
        "url": "https://2009-2017.state.gov/n.htm", "old": None,
        "new": item("New Fact Sheet", "https://2009-2017.state.gov/n.htm", "Fresh.",
                    "Fact Sheets", 1),
        "fields": [], "moved": False, "trivial": False,
    }]


def test_item_removed():
    new = sc.hub([I[0], I[1], *I[3:]])
    assert items_json(V1, new) == [{
        "change": "removed", "section": "Fact Sheets", "title": I[2].title, "url": D3,
        "old": item(I[2].title, D3, I[2].summary, "Fact Sheets", 2), "new": None,
        "fields": [], "moved": False, "trivial": False,
    }]


def test_item_moved_within_a_section_is_the_one_item_that_moved():
    new = sc.hub([I[2], I[0], I[1], *I[3:]])  # the third fact sheet is now the first
    assert items_json(V1, new) == [{
        "change": "moved", "section": "Fact Sheets", "title": I[2].title, "url": D3,
        "old": item(I[2].title, D3, I[2].summary, "Fact Sheets", 2),
        "new": item(I[2].title, D3, I[2].summary, "Fact Sheets", 0),
        "fields": ["position"], "moved": True, "trivial": False,
    }]


def test_item_moved_to_another_section():
    # The last fact sheet now stands under "Media Notes": same order, another section.
    new = sc.hub([I[0], I[1], replace(I[2], section=2), *I[3:]])
    assert items_json(V1, new) == [{
        "change": "moved", "section": "Media Notes", "title": I[2].title, "url": D3,
        "old": item(I[2].title, D3, I[2].summary, "Fact Sheets", 2),
        "new": item(I[2].title, D3, I[2].summary, "Media Notes", 2),
        "fields": ["section"], "moved": True, "trivial": False,
    }]


def test_moved_and_edited_item_is_changed_and_says_it_moved():
    new = sc.hub([replace(I[2], summary="Revised."), I[0], I[1], *I[3:]])
    (only,) = diff_pages(V1, new).items
    assert (only.change, only.fields, only.moved) == ("changed", ["position", "summary"], True)


def test_link_renamed_with_same_title_and_summary_is_the_same_item():
    new = sc.hub([replace(I[0], url=f"{sc.STATE}999999.htm"), *I[1:]])
    (only,) = diff_pages(V1, new).items
    assert (only.change, only.fields, only.old["url"], only.new["url"]) == (
        "changed", ["url"], D1, f"{sc.STATE}999999.htm")


def test_state_gov_host_move_is_a_url_change_even_with_an_edited_summary():
    old_url = "http://www.state.gov/r/pa/prs/ps/2016/06/258178.htm"
    old = sc.hub([replace(I[0], url=old_url), *I[1:]])
    new = sc.hub([replace(I[0], summary=sc.D1_SUMMARY_2), *I[1:]])
    (only,) = diff_pages(old, new).items
    assert (only.change, only.fields, only.new["url"]) == ("changed", ["summary", "url"], D1)
    assert canonical_url(old_url) == canonical_url(D1)


def test_a_different_document_under_a_new_title_is_removed_and_added():
    new = sc.hub([Item("Something else", f"{sc.STATE}1.htm", "Other.", 1), *I[1:]])
    assert [i.change for i in diff_pages(V1, new).items] == ["removed", "added"]


def test_items_without_links_match_by_title():
    new = sc.hub([*I[:4], replace(I[4], summary="Of the 120 outcomes, over 60."), I[5]])
    (only,) = diff_pages(V1, new).items
    assert (only.change, only.new["url"], only.fields) == ("changed", None, ["summary"])


def test_duplicate_items_pair_in_document_order():
    a = [Item("Media Note", None, "x", None), Item("Media Note", None, "y", None)]
    assert match_items(a, list(reversed(a))) == {0: 1, 1: 0}
    assert match_items(a, a) == {0: 0, 1: 1}


def test_dash_only_change_is_a_change_marked_trivial():
    new = sc.hub([replace(I[0], title="Climate Change \u2013 Clean Energy"), *I[1:]])
    old = sc.hub([replace(I[0], title="Climate Change - Clean Energy"), *I[1:]])
    d = diff_pages(old, new)
    assert [(i.change, i.fields, i.trivial) for i in d.items] == [("changed", ["title"], True)]
    assert d.flags == ["silent_edit", "trivial"]


# -- sections, fields, flags --------------------------------------------------------------------


def test_section_renamed_keeps_its_items_in_place():
    sections = list(sc.SECTIONS)
    sections[2] = replace(sections[2], heading="Press Notes")
    d = diff_pages(V1, sc.hub(sections=sections))
    assert [s.to_dict() for s in d.sections] == [{
        "change": "renamed", "heading": "Press Notes",
        "old": {"heading": "Media Notes", "level": 3, "text": ""},
        "new": {"heading": "Press Notes", "level": 3, "text": ""},
        "fields": ["heading"], "trivial": False, "text_diff": [],
    }]
    assert d.items == []  # the items under it are the same items in the same section


def test_section_added_removed_and_text_changed():
    sections = [replace(sc.SECTIONS[0], text=sc.SED.replace("Beijing", "Beijing and Washington")),
                *sc.SECTIONS[1:3]]
    d = diff_pages(V1, sc.hub(I[:5], sections=sections))
    assert [(s.change, s.heading, s.fields) for s in d.sections] == [
        ("changed", sc.SECTIONS[0].heading, ["text"]),
        ("removed", sc.SECTIONS[3].heading, []),
        ("removed", "Media Notes", []),
    ]
    assert d.sections[0].text_diff[1:3] == [("-", "Beijing, "), ("+", "Beijing and Washington, ")]


def test_updated_date_bumped_with_content_change_has_no_flag():
    new = sc.hub(sc.hub_items(sc.D1_SUMMARY_2), updated="2016-11-15")
    d = diff_pages(V1, new)
    assert d.fields == {"updated": ("2016-10-21", "2016-11-15")}
    assert d.flags == []


def test_date_only_bump():
    d = diff_pages(V1, sc.hub(updated="2016-11-15"))
    assert d.fields == {"updated": ("2016-10-21", "2016-11-15")}
    assert d.items == [] and d.sections == []
    assert d.flags == ["date_only"]
    # the "Updated:" line is text too, and the text diff shows it
    assert d.text_diff[:3] == [("=", "Updated: "), ("-", "2016-10-21\n"), ("+", "2016-11-15\n")]


def test_title_change():
    d = diff_pages(V1, sc.hub(title="U.S.\u2013China Cooperation"))
    assert d.fields == {"title": ("U.S.-China Cooperation", "U.S.\u2013China Cooperation")}
    assert d.flags == ["silent_edit", "trivial"]


def test_noise_only_version_is_no_change():
    noisy = sc.hub([replace(i, title=i.title.replace(" ", "\u00a0", 1) + "  ",
                            summary=" " + i.summary.replace(" ", "  ")) for i in I])
    noisy.text = noisy.text.replace(" ", "\u00a0 ") + "\u200b"
    d = diff_pages(V1, noisy)
    assert not d.changed
    assert (d.fields, d.items, d.sections, d.text_diff, d.flags) == ({}, [], [], [], [])
    assert noisy.content_hash() == V1.content_hash()


def test_page_without_updated_date_is_never_a_silent_edit():
    old = Page(url="u", text="one")
    assert diff_pages(old, Page(url="u", text="two")).flags == []


# -- real HTML through the parser ---------------------------------------------------------------


def test_parsed_html_versions_diff_per_item():
    from scraper.parse import parse

    def load(name: str) -> Page:
        return parse((sc.HERE / name).read_bytes(), url=HUB, content_type="text/html")

    old, new = load("hub-2016-10-21.html"), load("hub-2016-11-15.html")
    d = diff_pages(old, new)
    assert d.fields == {"updated": ("2016-10-21", "2016-11-15")}
    assert [(i.change, i.side["title"], i.fields) for i in d.items] == [
        ("changed", "Climate Change and Clean Energy", ["summary", "url"]),
        ("removed", "Economic Track Resource", []),
        ("added", "2nd U.S.-China Climate-Smart/Low-Carbon Cities Summit", []),
        ("moved", "Strategic Track Outcomes", ["position"]),
    ]
    changed = d.items[0]
    assert changed.old["url"] == "http://www.state.gov/r/pa/prs/ps/2016/06/258178.htm"
    assert changed.new["url"] == "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258178.htm"
    assert [(s.change, s.heading) for s in d.sections] == [("renamed", "Press Releases")]
    assert d.flags == []
    # markup-only differences (attributes, white space, nbsp) are not changes
    assert not diff_pages(old, load("hub-2016-10-21-noise.html")).changed


def test_demo_fact_sheet_edited_bullet_is_one_changed_item():
    """The demo site's 258146.htm: one bullet's number changed (42 -> 36), one bullet added,
    same Updated date. The bullets have no links: matched by their words."""
    from pathlib import Path

    from scraper.parse import parse

    url = f"{sc.STATE}258146.htm"
    site = Path(__file__).resolve().parents[2] / "scraper" / "sitedata"
    old, new = (parse((site / day / "state/r/pa/prs/ps/2016/06/258146.htm").read_bytes(),
                      url=url) for day in ("2016-10-21", "2016-11-15"))
    eco = "The two sides announced six new EcoPartnerships, bringing the total to {}."
    grid = "Both sides will exchange information on grid modernization and energy storage."
    d = diff_pages(old, new)
    assert [i.to_dict() for i in d.items] == [
        {"change": "changed", "section": "Climate Change", "title": eco.format(36), "url": None,
         "old": item(eco.format(42), None, "", "Climate Change", 2),
         "new": item(eco.format(36), None, "", "Climate Change", 2),
         "fields": ["title"], "moved": False, "trivial": False},
        {"change": "added", "section": "Energy", "title": grid, "url": None, "old": None,
         "new": item(grid, None, "", "Energy", 5), "fields": [], "moved": False,
         "trivial": False},
    ]
    assert d.flags == ["silent_edit"] and d.fields == {}


# -- the archive at two moments -----------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("diff") / "archive.db"
    runs = sc.build_archive(path)
    archive = Archive.open(path, readonly=True)
    yield archive, runs
    archive.close()


@pytest.fixture
def archive(built) -> Archive:
    return built[0]


def by_url(result: ArchiveDiff) -> dict[str, str]:
    return {p.url: p.change for p in result.pages}


def page_json(result: ArchiveDiff, url: str) -> dict:
    (p,) = [p for p in result.to_dict()["pages"] if p["url"] == url]
    return p


def test_archive_diff_classifies_every_page(archive):
    r = diff_between(archive, "2016-10-21", "2016-11-15")
    assert (r.from_at, r.to_at, r.hub) == ("2016-10-21T23:59:59.999999Z",
                                           "2016-11-15T23:59:59.999999Z", HUB)
    assert by_url(r) == {HUB: "changed", D1: "unchanged", D2: "gone", D3: "removed",
                         D4: "added", D5: "failed"}
    assert [p.url for p in r.pages] == [HUB, D1, D2, D3, D5, D4]  # hub first, then by URL
    assert r.changed
    assert r.counts() == {"added": 1, "relinked": 0, "removed": 1, "gone": 1, "failed": 1,
                          "changed": 1, "unchanged": 1}


def test_archive_diff_hub_page_exact_json(archive):
    hub = page_json(diff_between(archive, "2016-10-21", "2016-11-15"), HUB)
    d4_title = "U.S.-China Climate-Smart/Low-Carbon Cities Summit"
    d4_summary = sc.hub_v2()[2].summary
    assert hub["fields"] == {"updated": ["2016-10-21", "2016-11-15"]}
    assert hub["flags"] == []
    assert hub["items"] == [
        {"change": "changed", "section": "Fact Sheets", "title": I[0].title, "url": D1,
         "old": item(I[0].title, D1, sc.D1_SUMMARY, "Fact Sheets", 0),
         "new": item(I[0].title, D1, sc.D1_SUMMARY_2, "Fact Sheets", 0),
         "fields": ["summary"], "moved": False, "trivial": False},
        {"change": "removed", "section": "Fact Sheets", "title": I[2].title, "url": D3,
         "old": item(I[2].title, D3, I[2].summary, "Fact Sheets", 2), "new": None,
         "fields": [], "moved": False, "trivial": False},
        {"change": "added", "section": "Fact Sheets", "title": d4_title, "url": D4,
         "old": None, "new": item(d4_title, D4, d4_summary, "Fact Sheets", 2),
         "fields": [], "moved": False, "trivial": False},
    ]
    assert hub["sections"] == []
    assert hub["counts"] == {"items": {"added": 1, "changed": 1, "removed": 1},
                             "sections": {}}
    assert hub["captures"]["from"]["version"] != hub["captures"]["to"]["version"]
    assert hub["linked_by"] is None and hub["hub"] is True
    assert ["+", "central "] in hub["text_diff"]


def test_archive_diff_linked_by_first_and_last_hub_versions(archive):
    r = diff_between(archive, "2016-10-21", "2016-11-15").to_dict()
    hub = page_json(diff_between(archive, "2016-10-21", "2016-11-15"), HUB)
    v1, v2 = hub["captures"]["from"]["version"], hub["captures"]["to"]["version"]
    links = {p["url"]: p["linked_by"] for p in r["pages"]}
    assert links[D3] == {"first": {"version": v1, "seen": at("2016-10-21")},
                         "last": {"version": v1, "seen": at("2016-10-21")}}
    assert links[D4] == {"first": {"version": v2, "seen": at("2016-11-15")},
                         "last": {"version": v2, "seen": at("2016-11-15")}}
    assert links[D1] == {"first": {"version": v1, "seen": at("2016-10-21")},
                         "last": {"version": v2, "seen": at("2016-11-15")}}


def test_gone_page(archive):
    d2 = page_json(diff_between(archive, "2016-10-21", "2016-11-15"), D2)
    assert d2["change"] == "gone"
    assert d2["captures"]["to"]["http_status"] == 404
    assert d2["items"] == [] and d2["text_diff"] == []
    # still 404 a run later: nothing new to say
    assert by_url(diff_between(archive, "2016-11-15", "2016-12-01"))[D2] == "unchanged"


def test_failed_page_is_compared_with_its_last_good_version(archive):
    d5 = page_json(diff_between(archive, "2016-10-21", "2016-11-15"), D5)
    assert d5["change"] == "failed"
    assert d5["flags"] == ["failed"]
    to = d5["captures"]["to"]
    assert (to["outcome"], to["error"], to["good_captured_at"]) == (
        "failed", "connection refused", at("2016-10-21", 13))
    assert d5["items"] == [] and d5["text_diff"] == []  # not reported as emptied
    assert d5["title"] == "EcoPartnerships"
    # back a run later with the same content: unchanged
    assert by_url(diff_between(archive, "2016-10-21", "2016-12-01"))[D5] == "unchanged"


def test_suspect_hub_capture_is_flagged_and_compared_with_the_last_good(archive):
    r = diff_between(archive, "2016-12-01", "2016-12-15")
    hub = page_json(r, HUB)
    assert hub["change"] == "failed"
    assert hub["flags"] == ["suspect"]
    assert hub["captures"]["to"]["suspect"] is True
    assert hub["captures"]["to"]["good_captured_at"] == at("2016-12-01")
    assert hub["items"] == [] and hub["fields"] == {}
    # the error page's missing links do not make every document "removed"
    assert set(by_url(r).values()) == {"failed", "unchanged"}


def test_silent_edit_and_date_only_bump_across_runs(archive):
    r = diff_between(archive, "2016-11-15", "2016-12-01")
    assert by_url(r) == {HUB: "unchanged", D1: "changed", D2: "unchanged", D4: "changed",
                         D5: "unchanged"}
    d1, d4 = page_json(r, D1), page_json(r, D4)
    assert (d1["flags"], d1["fields"]) == (["silent_edit"], {})
    assert d1["text_diff"][-2:] == [["+", "first "], ["=", "Climate Change session."]]
    assert (d4["flags"], d4["fields"]) == (["date_only"], {"updated": ["2016-06-08",
                                                                       "2016-06-09"]})


def test_noise_only_recapture_is_unchanged(archive):
    r = diff_between(archive, "2016-10-21", "2016-11-15", url=D1)
    assert [(p.url, p.change, p.flags) for p in r.pages] == [(D1, "unchanged", [])]
    assert not r.changed


def test_first_run_against_nothing_is_all_added(archive, built):
    runs = built[1]
    first_end = at("2016-10-21", 13)
    r = diff_archive(archive, None, first_end)
    assert set(by_url(r).values()) == {"added"}
    assert summarize_run(archive, runs["2016-10-21"]).splitlines()[0] == "hub: added"


# -- choosing the moments -----------------------------------------------------------------------


def test_default_is_previous_run_against_latest(archive):
    from_at, to_at, page_id = resolve_range(archive, None, None)
    assert (from_at, to_at, page_id) == (at("2016-12-01", 13), at("2016-12-15", 13), None)
    assert default_from(archive, at("2016-11-15", 13)) == at("2016-10-21", 13)
    assert default_from(archive, at("2016-10-21", 13)) is None


def test_default_for_one_page_is_its_previous_capture(archive):
    from_at, to_at, _pid = resolve_range(archive, None, None, url=D2)
    assert (from_at, to_at) == (at("2016-11-15", 13), at("2016-12-15", 13))
    from_at, _to, _pid = resolve_range(archive, None, "2016-11-15", url=D2)
    assert from_at == at("2016-10-21", 13)


def test_when_exactly_at_a_capture_includes_it(archive):
    # 12:00 is the hub's capture in the 2016-11-15 run; its documents come at 13:00.
    r = diff_between(archive, "2016-10-21", "2016-11-15T12:00:00Z", url=HUB)
    assert by_url(r)[HUB] == "changed"
    r = diff_between(archive, "2016-10-21", "2016-11-15T12:00:00Z", url=D2)
    assert by_url(r)[D2] == "unchanged"  # its 404 comes an hour later
    r = diff_between(archive, "2016-10-21", "2016-11-15T11:59:59Z")
    assert by_url(r)[HUB] == "unchanged"


def test_instant_inside_a_run_means_the_end_of_that_run_for_the_whole_archive(archive):
    # 12:00 is inside the 2016-11-15 run (hub at 12:00, documents at 13:00): the whole
    # archive is compared as that run left it, not as a new hub over the old documents.
    r = diff_between(archive, "2016-10-21", "2016-11-15T12:00:00Z")
    assert r.to_at == at("2016-11-15", 13)
    assert by_url(r) == by_url(diff_between(archive, "2016-10-21", "2016-11-15"))
    # --from too
    r = diff_between(archive, "2016-11-15T12:30:00Z", "2016-12-01")
    assert r.from_at == at("2016-11-15", 13)


def test_when_between_captures_means_the_latest_before_it(archive):
    a = diff_between(archive, "2016-10-25", "2016-11-20").to_dict()
    b = diff_between(archive, "2016-10-21", "2016-11-15").to_dict()
    for d in (a, b):
        d.pop("from")
        d.pop("to")
    assert a == b


def test_when_before_the_first_snapshot_or_malformed_is_a_usage_error(archive):
    with pytest.raises(UsageError, match="before the first snapshot"):
        diff_between(archive, "2016-10-20", None)
    with pytest.raises(UsageError, match="not a date or time"):
        diff_between(archive, "yesterday", None)
    with pytest.raises(UsageError, match="no snapshot with id 999999"):
        diff_between(archive, None, "#999999")
    with pytest.raises(UsageError, match="is not a date: write #999999"):
        diff_between(archive, None, "999999")
    with pytest.raises(UsageError, match="no page"):
        diff_between(archive, url="https://nowhere.example/")


def test_when_as_a_snapshot_id(archive):
    first_hub = history(archive, HUB)[0]["id"]
    second_hub = history(archive, HUB)[1]["id"]
    for a, b in ((f"#{first_hub}", f"#{second_hub}"), (f"id:{first_hub}", f" ID:{second_hub}")):
        r = diff_between(archive, a, b, url=HUB)  # one URL: that snapshot
        assert (r.from_at, r.to_at) == (at("2016-10-21"), at("2016-11-15"))
        assert [p.change for p in r.pages] == ["changed"]
    # a bare number is not taken for an id (the docs name only #N and id:N)
    with pytest.raises(UsageError, match=f"write #{second_hub} \\(or id:{second_hub}\\)"):
        diff_between(archive, f"#{first_hub}", str(second_hub), url=HUB)


def test_snapshot_id_for_the_whole_archive_means_the_end_of_its_run(archive):
    first_hub = history(archive, HUB)[0]["id"]
    second_hub = history(archive, HUB)[1]["id"]
    r = diff_between(archive, f"#{first_hub}", f"#{second_hub}")
    # the hub snapshots are the first of their runs; the documents come an hour later
    assert (r.from_at, r.to_at) == (at("2016-10-21", 13), at("2016-11-15", 13))
    assert r.counts()["added"] == 1  # D4, the one document new in run 2; not D1, D2, D5
    assert by_url(r) == by_url(diff_between(archive, "2016-10-21", "2016-11-15"))


@pytest.mark.parametrize("when", ["2017", "2016", "0042"])
def test_four_digit_when_is_ambiguous(archive, when):
    with pytest.raises(UsageError, match=f"ambiguous: write {when}-12-31 for a date, or "
                                         f"#{when} for snapshot {when}"):
        diff_between(archive, when, None)
    with pytest.raises(UsageError, match=f"no snapshot with id {int(when)}"):
        diff_between(archive, f"#{when}", None)


def test_malformed_snapshot_id(archive):
    with pytest.raises(UsageError, match="not a snapshot id: '#x1'"):
        diff_between(archive, "#x1", None)


def test_from_later_than_to_is_a_usage_error(archive):
    with pytest.raises(UsageError, match="is later than --to"):
        diff_between(archive, "2016-12-01", "2016-11-15")
    with pytest.raises(UsageError, match="is later than --to"):
        diff_between(archive, "2016-12-01", "2016-11-15", url=D1)
    second_hub = history(archive, HUB)[1]["id"]
    with pytest.raises(UsageError, match="is later than --to"):
        diff_between(archive, "2016-12-01", f"#{second_hub}")


def test_same_moment_is_no_change(archive):
    r = diff_between(archive, "2016-11-15", "2016-11-15")
    assert not r.changed and set(by_url(r).values()) == {"unchanged"}


def test_one_page_no_longer_linked_is_removed(archive):
    r = diff_between(archive, "2016-10-21", "2016-11-15", url=D3)
    assert [p.change for p in r.pages] == ["removed"]


# -- reports ------------------------------------------------------------------------------------


def test_json_report_is_sorted_and_round_trips(archive):
    r = diff_between(archive, "2016-10-21", "2016-11-15")
    text = render_json(r)
    data = json.loads(text)
    assert data == json.loads(json.dumps(r.to_dict()))
    assert list(data) == sorted(data)
    assert set(data) == {"from", "to", "hub", "url", "changed", "counts", "parsers", "pages"}
    assert set(data["pages"][0]) == {"url", "change", "title", "hub", "captures", "fields",
                                     "flags", "items", "sections", "text_diff", "counts",
                                     "linked_by", "parsers"}
    assert render(r, "json") == text


def test_text_report_exact(archive):
    r = diff_between(archive, "2016-11-15", "2016-12-01")
    assert render_text(r) == f"""\
coop-archive diff 2016-11-15T23:59:59.999999Z → 2016-12-01T23:59:59.999999Z
hub: {HUB}
5 pages: 2 changed, 3 unchanged

changed   {D1}
  U.S.-China Climate Change Cooperation Outcomes
  ! silent edit (content changed, Updated date did not)
  Text:
    … United States and China held the {{+first+}} Climate Change session.

changed   {D4}
  Climate-Smart Cities Summit
  Updated: 2016-06-08 → 2016-06-09
  ! date-only bump (Updated date changed, content did not)
  Text:
    Media Note June [-8,-]{{+9,+}} 2016 The summit.
"""


def test_text_report_items_gone_failed_and_colour(archive):
    r = diff_between(archive, "2016-10-21", "2016-11-15")
    plain = render_text(r)
    assert "\x1b[" not in plain
    assert "    ~ changed  Fact Sheets › Climate Change and Clean Energy\n" \
           "               summary: Climate change is a {+central+} pillar of the" in plain
    assert f"    - removed  Fact Sheets › Economic Track Resource\n               {D3}\n" in plain
    assert f"gone      {D2}\n  Strategic Track Outcomes\n  HTTP 404 at " in plain
    assert ("  latest capture 2016-11-15T13:00:00.000000Z: connection refused\n"
            "  compared with the last good capture, 2016-10-21T13:00:00.000000Z") in plain
    assert f"removed   {D3}\n  Economic Track\n  linked from the hub: first" in plain
    coloured = render_text(r, color=True)
    assert "\x1b[32mcentral\x1b[0m" in coloured and "{+" not in coloured


def test_text_report_no_changes(archive):
    r = diff_between(archive, "2016-11-15", "2016-11-15")
    assert render_text(r).endswith("5 pages: 5 unchanged\n\nno changes\n")


def test_html_report_escapes_and_marks_words(archive):
    page = render_html(diff_between(archive, "2016-10-21", "2016-11-15"))
    assert "<script" not in page.replace("&lt;script", "")
    assert "&lt;script&gt;document.title=&#x27;pwned&#x27;" in page
    assert "<ins>central </ins>" in page
    assert "<del>2016-10-21</del> → <ins>2016-11-15</ins>" in page
    assert '<th>Change</th><th>Section</th><th>Item</th><th>What changed</th>' in page
    assert f'<a href="{D1}">Climate Change and Clean Energy</a>' in page
    assert "http://" not in page.replace("https://", "")  # no external asset of any kind
    assert "<link" not in page and "src=" not in page


def test_html_report_links_only_http_urls():
    old = Page(url="u", items=[Item("x", "javascript:alert(1)", "s")])
    new = Page(url="u", items=[Item("x", "javascript:alert(1)", "t")])
    pc_diff = diff_pages(old, new)
    from archive.compare import PageChange

    r = ArchiveDiff(None, "t", None, None, [PageChange("u", "changed", "T", False,
                                                       {"from": None, "to": None}, pc_diff)])
    page = render_html(r)
    assert "javascript" not in page
    assert "<td>x</td>" in page  # the title, shown as text


def test_render_rejects_unknown_format(archive):
    with pytest.raises(ValueError, match="unknown format"):
        render(diff_between(archive), "xml")


# -- the crawl's cron summary -------------------------------------------------------------------


def test_summarize_run(archive, built):
    runs = built[1]
    assert summarize_run(archive, runs["2016-11-15"]) == "\n".join([
        "hub: 1 item added, 1 removed, 1 edited; Updated 2016-10-21 → 2016-11-15",
        f"{D2}: gone (HTTP 404)",
        f"{D3}: removed (no longer linked from the hub)",
        f"{D5}: could not be fetched (connection refused); compared with the last good "
        "capture of 2016-10-21",
        f"{D4}: added (first linked from the hub)",
    ])
    assert summarize_run(archive, runs["2016-12-01"]) == "\n".join([
        f"{D1}: text edited (silent edit: Updated date not changed)",
        f"{D4}: Updated 2016-06-08 → 2016-06-09 (date-only bump)",
    ])
    assert summarize_run(archive, runs["2016-12-15"]) == (
        "hub: looked like an error page (kept, flagged suspect); compared with the last good "
        "capture of 2016-12-01")
    assert summarize_run(archive, 999) == ""


def test_summarize_run_is_empty_when_nothing_changed(tmp_path):
    with Archive.open(tmp_path / "a.db") as a:
        for day in ("2016-10-21", "2016-10-22"):
            r = sc.run(a, day)
            capture(a, HUB, at(day), sc.hub(), run_id=r)
        assert summarize_run(a, r) == ""
        assert summarize_run(a, r - 1) == "hub: added"


def test_page_returning_after_gone(tmp_path):
    with Archive.open(tmp_path / "a.db") as a:
        capture(a, D1, at("2016-10-21"), sc.D1_V1)
        capture(a, D1, at("2016-10-22"), status=410, body=b"Gone")
        capture(a, D1, at("2016-10-23"), sc.D1_V1)
        r = diff_between(a, "2016-10-22", "2016-10-23", url=D1)
        (p,) = r.pages
        assert (p.change, p.flags) == ("changed", ["returned"])
        assert diff_between(a, "2016-10-21", "2016-10-22", url=D1).pages[0].change == "gone"


def test_section_with_duplicate_heading_removed_pairs_the_right_one():
    sections = [*sc.SECTIONS[:2], *sc.SECTIONS[3:]]
    # drop the first "Media Notes" (index 2) and its items; the second keeps its place
    items = [replace(i, section=i.section - (i.section > 2)) for i in I if i.section != 2]
    d = diff_pages(V1, sc.hub(items, sections=sections))
    assert [(s.change, s.heading, s.old["level"]) for s in d.sections] == [
        ("removed", "Media Notes", 3)]
    assert [(i.change, i.side["title"]) for i in d.items] == [
        ("removed", I[3].title), ("removed", I[4].title)]


def test_pages_built_from_sections_of_the_store_round_trip(tmp_path):
    """load_version rebuilds sections and items: a diff of stored versions equals the diff
    of the pages that were stored."""
    new = sc.hub(sc.hub_v2(), updated="2016-11-15")
    with Archive.open(tmp_path / "a.db") as a:
        v1 = capture(a, HUB, at("2016-10-21"), V1).version_id
        v2 = capture(a, HUB, at("2016-10-22"), new).version_id
        stored = diff_pages(a.load_version(v1), a.load_version(v2))
    assert [i.to_dict() for i in stored.items] == items_json(V1, new)
    assert stored.fields == diff_pages(V1, new).fields


def test_section_rename_requires_similar_content():
    sections = [Section("A", 2, "one two three four"), Section("B", 2, "five six")]
    renamed = [Section("A", 2, "one two three four"), Section("C", 2, "five six")]
    replaced = [Section("A", 2, "one two three four"), Section("C", 2, "entirely other words")]
    assert [s.change for s in diff_pages(Page("u", sections=sections),
                                         Page("u", sections=renamed)).sections] == ["renamed"]
    assert [s.change for s in diff_pages(Page("u", sections=sections),
                                         Page("u", sections=replaced)).sections] == [
        "removed", "added"]


def test_doctests_of_the_diff_modules():
    import doctest

    import archive.diff
    import archive.diff_match
    import archive.diff_vocab
    import archive.report
    import archive.text

    for module in (archive.diff, archive.diff_match, archive.diff_vocab, archive.report,
                   archive.text):
        failed, attempted = doctest.testmod(module)
        assert attempted > 0 and failed == 0, module.__name__


# -- blocked and persistently failing links -----------------------------------------------------


ROBOTS = "disallowed by robots.txt"


def blocked(a: Archive, url: str, when: str, run_id: int) -> None:
    a.record_snapshot(run_id, url, captured_at=when, error=ROBOTS, blocked=True)


def build_blocked(path, days=("2016-10-21", "2016-10-22", "2016-10-23"), *,
                  fetch_d2_on: str | None = None) -> dict[str, int]:
    """The hub (v1) and its documents every day; D2 is disallowed by robots.txt (never
    fetched, unless on ``fetch_d2_on``), D3 was fetched once and is blocked from the second
    day, D5 fails from the second day on."""
    runs = {}
    with Archive.open(path) as a:
        for n, day in enumerate(days):
            r = runs[day] = sc.run(a, day)
            capture(a, HUB, at(day), sc.hub(), run_id=r)
            capture(a, D1, at(day, 13), sc.D1_V1, run_id=r)
            if day == fetch_d2_on:
                capture(a, D2, at(day, 13), sc.D2_V1, run_id=r)
            else:
                blocked(a, D2, at(day, 13), r)
            if n == 0:
                capture(a, D3, at(day, 13), sc.D3_V1, run_id=r)
                capture(a, D5, at(day, 13), sc.D5_V1, run_id=r)
            else:
                blocked(a, D3, at(day, 13), r)
                capture(a, D5, at(day, 13), error="connection refused", run_id=r)
            a.finish_run(r, "partial", finished_at=at(day, 14))
    return runs


def test_blocked_link_is_no_change_run_after_run(tmp_path):
    runs = build_blocked(tmp_path / "a.db")
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        r = diff_between(a, "2016-10-22", "2016-10-23")  # also the default
        assert by_url(r) == by_url(diff_between(a))
        assert by_url(r) == {HUB: "unchanged", D1: "unchanged", D2: "unchanged",
                             D3: "unchanged", D5: "unchanged"}
        assert not r.changed
        assert page_json(r, D2)["flags"] == ["blocked"]
        assert page_json(r, D5)["flags"] == ["failed"]  # still failing: not news
        # D3 was fetched once, then blocked: a rule, not a change; its content stays
        r = diff_between(a, "2016-10-21", "2016-10-23")
        assert (by_url(r)[D2], by_url(r)[D3]) == ("unchanged", "unchanged")
        assert page_json(r, D3)["captures"]["to"]["good_captured_at"] == at("2016-10-21", 13)
        # a failure newly observed in the range is news; blocking never is
        assert by_url(r)[D5] == "failed"
        assert summarize_run(a, runs["2016-10-22"]) == (
            f"{D5}: could not be fetched (connection refused); compared with the last good "
            "capture of 2016-10-21")
        assert summarize_run(a, runs["2016-10-23"]) == ""


def test_never_fetched_blocked_page_on_the_first_run_is_not_added_content(tmp_path):
    runs = build_blocked(tmp_path / "a.db")
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        lines = summarize_run(a, runs["2016-10-21"]).splitlines()
        assert f"{D2}: first linked from the hub; not fetched: blocked ({ROBOTS})" in lines
        assert f"{D1}: added (first linked from the hub)" in lines
        r = diff_archive(a, None, at("2016-10-21", 13))
        d2 = page_json(r, D2)
        assert (d2["change"], d2["flags"], d2["title"]) == ("added", ["blocked"], "")
        assert d2["captures"]["to"]["version"] is None
        text = render_text(r)
        block = text[text.index(f"added     {D2}"):].split("\n\n")[0]
        assert block.splitlines()[-1] == f"  not fetched: blocked ({ROBOTS})"
        assert "not fetched: blocked" in render_html(r)


def test_blocked_page_fetched_at_last_is_added(tmp_path):
    days = ("2016-10-21", "2016-10-22")
    runs = build_blocked(tmp_path / "a.db", days, fetch_d2_on="2016-10-22")
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        r = diff_between(a, *days)
        assert by_url(r)[D2] == "added"
        assert page_json(r, D2)["title"] == sc.D2_V1.title
        assert f"{D2}: added (first fetched)" in summarize_run(a, runs[days[1]]).splitlines()


# -- control characters in scraped text ---------------------------------------------------------

NASTY = "Title \x1b]0;pwned\x07 \x1b[2J\x1b[31mred\r\u009b1;1H\x7f\x00 end"
CONTROL = {*range(0x00, 0x09), *range(0x0B, 0x20), 0x7F, *range(0x80, 0xA0)}


def nasty_diff() -> ArchiveDiff:
    from archive.compare import PageChange

    old = Page(url="u", title="Title", text="plain words here",
               sections=[Section("Head", 2, "")],
               items=[Item("Item", "https://e/1", "old summary", 0),
                      Item("Bullet", None, "gone", 0)])
    new = Page(url="u", title=NASTY, text=f"plain {NASTY} words here",
               sections=[Section(f"Head {NASTY}", 2, f"prose {NASTY}")],
               items=[Item(f"Item {NASTY}", "https://e/1", f"new summary {NASTY}", 0),
                      Item(NASTY, f"https://e/{NASTY}", NASTY, 0)])
    to = {"snapshot": 2, "captured_at": "t", "outcome": "failed", "http_status": None,
          "suspect": False, "error": f"bad \x1b[31m{NASTY}", "version": 1,
          "good_snapshot": 1, "good_captured_at": "s"}
    pages = [PageChange(f"https://e/{NASTY}", "failed", NASTY, False, {"from": None, "to": to},
                        diff_pages(old, new), ["failed"]),
             PageChange("https://e/2", "changed", NASTY, False, {"from": None, "to": None},
                        diff_pages(old, new), [])]
    return ArchiveDiff(None, "t", f"https://e/{NASTY}", None, pages)


def test_text_report_shows_no_raw_control_characters():
    r = nasty_diff()
    plain = render_text(r)
    assert not {ord(c) for c in plain} & CONTROL, [c for c in plain if ord(c) in CONTROL]
    assert "\ufffd]0;pwned\ufffd" in plain and "\ufffd[31mred" in plain
    coloured = render_text(r, color=True)
    # the report's own colour codes, and nothing else that a terminal would act on
    ours = ("\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[1m", "\x1b[0m")
    bare = coloured
    for code in ours:
        bare = bare.replace(code, "")
    assert not {ord(c) for c in bare} & CONTROL
    assert "\x1b[32m" in coloured


def test_json_and_html_reports_escape_control_characters():
    r = nasty_diff()
    text = render_json(r)
    assert not {ord(c) for c in text} & (CONTROL - {0x0A})
    assert json.loads(text)["pages"][0]["title"] == NASTY  # the same data
    page = render_html(r)
    assert not {ord(c) for c in page} & (CONTROL - {0x0A})
    assert "&lt;" not in NASTY and "\ufffd]0;pwned\ufffd" in page


# -- items without links: an edited bullet is one changed item ----------------------------------


FACTS = [Section("Climate Change", 2, ""), Section("Energy", 2, "")]
ECO = "The two sides announced six new EcoPartnerships, bringing the total to {}."
GRID = "Both sides will exchange information on grid modernization and energy storage."
CCWG_B = "The two sides held the CCWG session on the implementation of their commitments."


def fact_sheet(*bullets: tuple[str, int]) -> Page:
    return Page(url="u", title="Outcomes", updated_on="2016-06-07", sections=list(FACTS),
                items=[Item(t, None, "", sec) for t, sec in bullets])


def test_edited_bullet_without_a_link_is_one_changed_item():
    old = fact_sheet((CCWG_B, 0), (ECO.format(42), 0))
    new = fact_sheet((CCWG_B, 0), (ECO.format(36), 0), (GRID, 1))
    d = diff_pages(old, new)
    assert [(i.change, i.side["section"], i.side["title"], i.fields) for i in d.items] == [
        ("changed", "Climate Change", ECO.format(36), ["title"]),
        ("added", "Energy", GRID, []),
    ]
    assert d.items[0].old["title"] == ECO.format(42)
    from archive.compare import PageChange

    text = render_text(ArchiveDiff(None, "t", None, None, [
        PageChange("u", "changed", "Outcomes", False, {"from": None, "to": None}, d)]))
    assert text.endswith(
        "  Items:\n"
        f"    ~ changed  Climate Change › {ECO.format(36)}\n"
        "               title: … new EcoPartnerships, bringing the total to [-42.-]{+36.+}\n"
        f"    + added    Energy › {GRID}\n")


def test_similar_bullets_pair_only_within_a_section_and_best_first():
    # the same edit, but the bullet moved to another section: not paired (removed + added)
    old = fact_sheet((ECO.format(42), 0))
    new = fact_sheet((ECO.format(36), 1))
    assert [i.change for i in diff_pages(old, new).items] == ["removed", "added"]
    # two candidates: each old bullet pairs with its closest new one, whatever the order
    a, b = ECO.format(42), "The two sides announced new grid cooperation, bringing hope."
    old = fact_sheet((a, 0), (b, 0))
    new = fact_sheet(("The two sides announced new grid cooperation, bringing much hope.", 0),
                     (ECO.format(43), 0))
    assert match_items(old.items, new.items) == {0: 1, 1: 0}
    # unrelated bullets stay removed and added
    old = fact_sheet((CCWG_B, 0))
    new = fact_sheet((GRID, 0))
    assert [i.change for i in diff_pages(old, new).items] == ["removed", "added"]


def test_linked_items_keep_their_identity_rules():
    # similar words under different links are different documents
    old = Page(url="u", items=[Item(ECO.format(42), "https://e/1", "", None)])
    new = Page(url="u", items=[Item(ECO.format(36), "https://e/2", "", None)])
    assert [i.change for i in diff_pages(old, new).items] == ["removed", "added"]


# -- gaps: unlinked for a while, gone for a while ----------------------------------------------


def build_gaps(path, *, d1_back=sc.D1_V1) -> dict[str, int]:
    """Day 1: hub v1 and D1. Day 2: the hub without D1's item (D1 not captured). Day 3: hub
    v1 again and D1 (``d1_back``). Day 4: the hub answers 404. Day 5: the hub is back as v1,
    D1 unchanged. Day 6: D1 answers 404. Day 7: D1 answers 304 (back, as it was)."""
    without_d1 = [i for i in sc.hub_items() if i.url != D1]
    runs = {}
    with Archive.open(path) as a:
        def crawl(day, hub, d1=None, **d1_kw):
            r = runs[day] = sc.run(a, day)
            if hub is None:
                capture(a, HUB, at(day), status=404, body=b"Not Found", run_id=r)
            else:
                capture(a, HUB, at(day), hub, run_id=r)
            if d1 is not None or d1_kw:
                capture(a, D1, at(day, 13), d1, run_id=r, **d1_kw)
            a.finish_run(r, "complete", finished_at=at(day, 14))

        crawl("2016-10-21", sc.hub(), sc.D1_V1)
        crawl("2016-10-22", sc.hub(without_d1))
        crawl("2016-10-23", sc.hub(), d1_back)
        crawl("2016-10-24", None)
        crawl("2016-10-25", sc.hub(), sc.D1_V1)
        crawl("2016-10-26", sc.hub(), status=404, body=b"Not Found")
        crawl("2016-10-27", sc.hub(), status=304)
    return runs


def test_document_linked_again_is_not_added_as_new(tmp_path):
    runs = build_gaps(tmp_path / "a.db")
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        assert summarize_run(a, runs["2016-10-22"]).splitlines()[1] == (
            f"{D1}: removed (no longer linked from the hub)")
        assert summarize_run(a, runs["2016-10-23"]) == "\n".join([
            "hub: 1 item added (silent edit: Updated date not changed)",
            f"{D1}: linked again (first linked 2016-10-21)"])
        r = diff_between(a, "2016-10-22", "2016-10-23")
        d1 = page_json(r, D1)
        assert (d1["change"], d1["flags"], d1["items"], d1["text_diff"]) == (
            "relinked", [], [], [])
        assert d1["captures"]["from"] is None  # not in the picture at --from
        assert d1["linked_by"]["first"]["seen"] == at("2016-10-21")
        assert r.counts()["relinked"] == 1 and r.counts()["added"] == 0
        assert f"relinked  {D1}" in render_text(r)
        assert "linked from the hub: first 2016-10-21" in render_text(r)
        # across the gap, the document never left
        assert by_url(diff_between(a, "2016-10-21", "2016-10-23"))[D1] == "unchanged"


def test_document_linked_again_with_new_content_says_both(tmp_path):
    runs = build_gaps(tmp_path / "a.db", d1_back=sc.D1_SILENT)
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        assert summarize_run(a, runs["2016-10-23"]).splitlines()[1] == (
            f"{D1}: linked again (first linked 2016-10-21); text edited "
            "(silent edit: Updated date not changed)")
        d1 = page_json(diff_between(a, "2016-10-22", "2016-10-23"), D1)
        assert d1["change"] == "relinked" and d1["flags"] == ["silent_edit"]
        assert ["+", "first "] in d1["text_diff"]


def test_hub_back_after_a_404_is_compared_with_its_last_version_before(tmp_path):
    runs = build_gaps(tmp_path / "a.db")
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        assert summarize_run(a, runs["2016-10-24"]) == "hub: gone (HTTP 404)"
        # no "9 items added; 5 sections added; title '' → ...", no documents re-added
        assert summarize_run(a, runs["2016-10-25"]) == "hub: back, unchanged"
        r = diff_between(a, "2016-10-24", "2016-10-25")
        hub = page_json(r, HUB)
        assert (hub["change"], hub["flags"], hub["fields"], hub["items"], hub["sections"],
                hub["text_diff"]) == ("changed", ["returned"], {}, [], [], [])
        assert by_url(r)[D1] == "unchanged"
        assert "back after being gone" in render_text(r)


def test_document_back_after_a_404_through_a_304_is_back_unchanged(tmp_path):
    runs = build_gaps(tmp_path / "a.db")
    with Archive.open(tmp_path / "a.db", readonly=True) as a:
        assert summarize_run(a, runs["2016-10-26"]) == f"{D1}: gone (HTTP 404)"
        assert summarize_run(a, runs["2016-10-27"]) == f"{D1}: back, unchanged"
        d1 = page_json(diff_between(a, "2016-10-26", "2016-10-27"), D1)
        assert (d1["change"], d1["flags"], d1["fields"], d1["text_diff"]) == (
            "changed", ["returned"], {}, [])


def test_page_back_after_a_404_with_new_content_shows_what_changed_since(tmp_path):
    with Archive.open(tmp_path / "a.db") as a:
        capture(a, D1, at("2016-10-21"), sc.D1_V1)
        capture(a, D1, at("2016-10-22"), status=404, body=b"Not Found")
        capture(a, D1, at("2016-10-23"), sc.D1_SILENT)
        (p,) = diff_between(a, "2016-10-22", "2016-10-23", url=D1).pages
        assert (p.change, p.flags) == ("changed", ["returned", "silent_edit"])
        assert "title" not in p.diff.fields  # not compared with an empty page
        assert ("+", "first ") in p.diff.text_diff
        from archive.report_cron import describe
        assert describe(p) == "back; text edited (silent edit: Updated date not changed)"
