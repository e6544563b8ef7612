"""The parser against the bundled sitedata (the hub as the seed text describes it) and variants."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from archive.model import norm_text
from scraper.parse import parse

SITEDATA = Path(__file__).resolve().parents[2] / "scraper" / "sitedata"
SEED = Path("/work/shared/seed/us-china-cooperation-2016-10-21.txt")
HUB_URL = "https://www.transportation.gov/r2ze/US-China-Cooperation"
STATE = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/"
TREASURY_PR = "https://www.treasury.gov/press-center/press-releases/Pages/jl0484.aspx"
REPORT = "https://www.treasury.gov/initiatives/Documents/US-China-CCWG-Report-2016.pdf"
NBSP = "\u00a0"

# (title, url, summary, section index): copied from the seed text, trailing nbsp dropped.
HUB_ITEMS = [
    ("Climate Change and Clean Energy", STATE + "258178.htm",
     "Climate change is a pillar of the U.S.-China bilateral relationship. Over the past few "
     "years, expanded dialogue and cooperation have heralded a new era of climate leadership by "
     "the world\u2019s two largest economies and greenhouse gas emitters.", 1),
    ("Strategic Track Select Outcomes", STATE + "258146.htm",
     "Building on over three years of focused climate change cooperation, Secretaries Kerry and "
     "Lew and their counterparts convened a Joint Session on Climate Change at which the two "
     "sides committed to work together and with others to promote the full implementation of "
     "Paris Agreement.", 1),
    ("Economic Track Resource", TREASURY_PR,
     "The U.S. and China announced concrete measures to support strong domestic and global "
     "growth, promote open trade and investment, and enhance and foster financial market "
     "stability and reform.", 1),
    ("2nd U.S.-China Climate-Smart/Low-Carbon Cities Summit", STATE + "258166.htm",
     "The summit advanced U.S.-China bilateral cooperation on climate change, highlighting and "
     "strengthening the critical role of cities, states, civil society, and the private sector "
     "in building a low-carbon, climate-resilient economy.", 1),
    ("Building on Paris Agreement and Strengthening Climate Change Cooperation",
     STATE + "258115.htm",
     "The Joint Session offered a chance to review climate progress and achievements over the "
     "past year. Chief among them was the historic Paris Agreement, which would not have been "
     "possible without the leadership of the United States and China. Both countries reaffirmed "
     "their plans to join the Agreement as early as possible this year, and agreed to work "
     "together to urge others to do so.", 2),
    ("EcoPartnerships Program", STATE + "258162.htm",
     "Six new EcoPartnerships were announced that bring together experts and innovators from "
     "U.S. and Chinese cities, companies, universities, and NGOs to work together, exchange best "
     "practices, and find solutions to challenges related to environmental protection, clean "
     "energy, and climate change.", 2),
    (f"Strategic Track{NBSP}Outcomes", STATE + "258148.htm",
     "Of the 120 outcomes, over 50 were related to climate change, energy issues, and the "
     "environment as the U.S. and China continue to expand their climate change cooperation.", 2),
    ("Ten-Year Framework for Energy and Environment Cooperation Meetings", STATE + "258124.htm",
     "CCWG participants to assess progress and discuss next steps on: reducing emissions from "
     "heavy-duty and other vehicles; increasing carbon capture, utilization, and storage (CCUS); "
     "increasing energy efficiency in buildings, industry, and transport; improving greenhouse "
     "gas data collection and management; and promoting smart grids.", 4),
    (f"Annual Report:{NBSP}U.S.-China Climate Change Working Group (CCWG)", REPORT,
     f"An overview of the ongoing work and concrete next steps of the multiple cooperative "
     f"elements of the CCWG.{NBSP} The report was presented to the four Special Representatives "
     "of the S&ED (Secretary Kerry, Secretary Lew, Vice Premier Wang, and State Councilor Yang) "
     "and approved at the Joint Session on Climate Change held immediately following the S&ED "
     "opening ceremony.", 4),
]
HUB_SECTIONS = [
    (f"U.S.-China Strategic and Economic{NBSP}Dialogue (S&ED)", 2, None),
    ("Fact Sheets", 3, 0),
    ("Media Notes", 3, 0),
    ("U.S.-China Climate Change Working Group (CCWG)", 2, None),
    ("Media Notes", 3, 3),
]


def body(snapshot: str, rel: str) -> bytes:
    return (SITEDATA / snapshot / rel).read_bytes()


def hub_bytes(snapshot: str = "2016-10-21") -> bytes:
    return body(snapshot, "dot/r2ze/US-China-Cooperation.html")


def parse_hub(data: bytes):
    return parse(data, url=HUB_URL, content_type="text/html; charset=utf-8", http_charset="utf-8")


@pytest.fixture(scope="module")
def hub():
    return parse_hub(hub_bytes())


# -- the hub, 2016-10-21 --------------------------------------------------------------------------
def test_hub_title_and_updated(hub):
    assert hub.kind == "html"
    assert hub.title == "U.S.-China Cooperation"  # the h1, not "<title> | US Department of ..."
    assert hub.updated_on == "2016-10-21"


def test_hub_items_exactly_as_the_seed(hub):
    got = [(i.title, i.url, i.summary, i.section) for i in hub.items]
    assert got == HUB_ITEMS


def test_hub_sections(hub):
    assert [(s.heading, s.level, s.parent) for s in hub.sections] == HUB_SECTIONS
    assert hub.sections[0].text.startswith("The eighth session of the U.S.-China Strategic")
    # A section's own text excludes its subsections: the S&ED intro has no list entries.
    assert "Climate Change and Clean Energy" not in hub.sections[0].text
    assert "Climate Change and Clean Energy" in hub.sections[1].text
    # The bold caption next to the image is text of the CCWG section, not a heading.
    assert hub.sections[3].text.startswith(
        "U.S.-China Climate Change Working Group (CCWG)\nThe CCWG")


def test_hub_text_is_the_seed_body(hub):
    """Everything the seed shows between the Updated line and the footer, nothing else.

    The seed includes the image's alt text, which is not visible text; we leave it out.
    """
    seed = SEED.read_text(encoding="utf-8").split("\n")
    body_lines = [
        line.strip(" ").removeprefix("\u2022 ")
        for line in seed[6:44]
        if line.strip()
    ]
    expected = "\n".join(body_lines).replace(
        "U.S. - china climate smart cities initiative image", ""
    )
    assert norm_text(hub.text) == norm_text(expected)
    # Stored as shown: curly apostrophe, nbsp and the double space after "2016." survive.
    assert "world\u2019s two largest" in hub.text
    assert f"June 5-7, 2016. {NBSP}The Dialogue" in hub.text


@pytest.mark.parametrize(
    "noise",
    ["You are here", "Submit Feedback", "Skip to main content", "Briefing Room", "Page generated",
     "jQuery", "form_build_id", "Search", "Home", "1200 New Jersey", "Research and Technology",
     "Updated:", "U.S.-China Cooperation"],
)
def test_hub_text_has_no_chrome(hub, noise):
    assert noise not in hub.text


def test_hub_links_are_the_items_only(hub):
    assert hub.links == [url for _, url, _, _ in HUB_ITEMS]
    joined = " ".join(hub.links)
    for chrome in ("/briefing-room", "/feedback", "/r2ze/about", "/privacy-policy", "/r2ze\""):
        assert chrome not in joined


def test_hub_parse_is_deterministic():
    data = hub_bytes()
    first = parse_hub(data)
    other = parse_hub(hub_bytes("2016-11-15"))  # parsed in between: no state may carry over
    again = parse_hub(data)
    assert other.content_hash() != first.content_hash()  # the hash tells hubs apart
    assert again.content_hash() == first.content_hash()
    assert again.to_dict() == first.to_dict()


# -- the hub, 2016-11-15: the designed differences ----------------------------------------------
def test_later_hub_differs_as_designed(hub):
    later = parse_hub(hub_bytes("2016-11-15"))
    assert later.updated_on == "2016-11-15"
    assert later.content_hash() != hub.content_hash()
    before = {i.title: i for i in hub.items}
    after = {i.title: i for i in later.items}
    assert set(before) - set(after) == {f"Strategic Track{NBSP}Outcomes"}
    assert set(after) - set(before) == {"Paris Agreement Entry into Force"}
    added = after["Paris Agreement Entry into Force"]
    assert added.url == "https://2009-2017.state.gov/r/pa/prs/ps/2016/11/264127.htm"
    assert added.summary.startswith("The United States and China welcomed the entry into force")
    assert added.section == 4
    old = before["Economic Track Resource"].summary
    assert after["Economic Track Resource"].summary == old.replace(
        "and enhance and foster financial", "and enhance financial")
    assert [i.title for i in later.items[:2]] == [
        "2nd U.S.-China Climate-Smart/Low-Carbon Cities Summit", "Climate Change and Clean Energy"]
    assert [s.heading for s in later.sections][3] == "Climate Change Working Group (CCWG)"
    assert len(later.sections) == len(hub.sections)


# -- noise never changes the hash ----------------------------------------------------------------
def _sub(data: bytes, pattern: str, repl: str) -> bytes:
    text = data.decode("utf-8")
    new, n = re.subn(pattern, repl, text)
    assert n, f"fixture no longer contains {pattern!r}"
    return new.encode("utf-8")


NOISE_VARIANTS = {
    "form token": (r'name="form_build_id" value="[^"]+"', 'name="form_build_id" value="form-XYZ"'),
    "hidden form_token input": (r"</form>",
                                '<input type="hidden" name="form_token" value="r4nd0m" /></form>'),
    "csrf meta": (r'name="csrf-token" content="[^"]+"', 'name="csrf-token" content="other"'),
    "generated at": (r"Page generated at [^<]+", "Page generated at 2016-10-21T23:59:59+00:00"),
    "cache-buster on item link": (r'258178\.htm"', '258178.htm?_=1477000000"'),
    "itok on image": (r"itok=[A-Za-z0-9]+", "itok=ZZZZ"),
    "rotated menu": (r'(<li class="leaf">.*?</li>)\n(<li class="leaf">.*?</li>)', r"\2\n\1"),
    "js timestamp": (r"new Date\(\)\.toISOString\(\)", "'2016-10-22T00:00:00Z'"),
    "js written into body": (r"<h2>U.S.-China Climate",
                             "<script>document.write(new Date())</script><h2>U.S.-China Climate"),
    "comment in body": (r"<p><strong>Fact Sheets",
                        "<!-- edited 2016-10-22 --><p><strong>Fact Sheets"),
    "white space": (r"The eighth session of", "The eighth\n   session  of"),
}


@pytest.mark.parametrize("name", sorted(NOISE_VARIANTS))
def test_noise_does_not_change_hash(hub, name):
    pattern, repl = NOISE_VARIANTS[name]
    variant = parse_hub(_sub(hub_bytes(), pattern, repl))
    assert variant.content_hash() == hub.content_hash()


def test_a_real_edit_changes_hash(hub):
    edited = parse_hub(_sub(hub_bytes(), r"six new|Six new", "Seven new"))
    assert edited.content_hash() != hub.content_hash()


# -- the linked documents -------------------------------------------------------------------------
def test_state_fact_sheet_sent_as_cp1252_declared_utf8():
    data = body("2016-10-21", "state/r/pa/prs/ps/2016/06/258178.htm")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # the fixture really lies about its charset
    page = parse(data, url=STATE + "258178.htm", content_type="text/html", http_charset="utf-8")
    assert page.title == "U.S.-China Climate Change Cooperation Outcomes"
    assert page.updated_on == "2016-06-07"  # the dateline
    assert "\u201cU.S.\u2013China Joint Presidential Statement on Climate Change\u201d" in page.text
    assert "\ufffd" not in page.text and "\u00e2\u20ac" not in page.text
    lines = page.text.split("\n")
    assert lines[:5] == ["U.S.-China Climate Change Cooperation Outcomes", "Fact Sheet",
                         "Office of the Spokesperson", "Washington, DC", "June 7, 2016"]
    # Found by text density: the left nav, top nav, breadcrumbs and footer stay out.
    for chrome in ("Press Releases", "Countries & Regions", "Under Secretary", "Privacy", "Print"):
        assert chrome not in page.text
    assert [i.url for i in page.items] == [None] * 4
    assert page.items[0].title.startswith("Both sides reaffirmed their commitment")


def test_state_fact_sheet_silent_edit():
    url = STATE + "258146.htm"
    a = parse(body("2016-10-21", "state/r/pa/prs/ps/2016/06/258146.htm"), url=url)
    b = parse(body("2016-11-15", "state/r/pa/prs/ps/2016/06/258146.htm"), url=url)
    assert a.updated_on == b.updated_on == "2016-06-07"
    assert a.content_hash() != b.content_hash()
    assert [s.heading for s in a.sections] == [a.title, "Climate Change", "Energy", "Oceans"]
    assert len(b.items) == len(a.items) + 1
    assert "bringing the total to 36" in b.text and "bringing the total to 42" in a.text


def test_treasury_press_release():
    data = body("2016-10-21", "treasury/press-center/press-releases/Pages/jl0484.aspx")
    page = parse(data, url=TREASURY_PR, content_type="text/html", http_charset="utf-8")
    assert page.title == (
        "U.S.-China Strategic and Economic Dialogue Economic Track Joint Fact Sheet")
    assert page.updated_on == "2016-06-07"  # "6/7/2016"
    assert page.text.startswith("(Archived Content)\n")
    headings = [(s.heading, s.level, s.parent) for s in page.sections[1:]]
    assert headings == [
        ("I. Promoting Strong Domestic and Global Growth", 2, 0),
        ("II. Promoting Open Trade and Investment", 2, 0),  # not bold: roman numeral is enough
        ("III. Enhancing Financial Market Stability and Reform", 2, 0),
    ]
    assert [i.section for i in page.items] == [1, 1, 2, 2, 3, 3]
    assert page.items[0].title.startswith("The United States and China commit to use all policy")
    assert not page.items[0].title.startswith("\u00b7")
    last = page.items[-1]
    assert last.title.startswith("The two sides will deepen cooperation on climate finance")
    assert last.url == REPORT
    for noise in ("__VIEWSTATE", "Inspector General", "Press Center", "_spPageContextInfo"):
        assert noise not in page.text
    assert page.links == [REPORT]


def test_pdf_report():
    data = body("2016-10-21", "treasury/initiatives/Documents/US-China-CCWG-Report-2016.pdf")
    assert len(data) < 20_000
    page = parse(data, url=REPORT, content_type="application/pdf")
    assert page.kind == "pdf"
    assert page.title.startswith("U.S.-China Climate Change Working Group Report")
    assert page.updated_on == "2016-06-07"
    assert "VI. Smart Grids" in page.text and "heavy-duty vehicles" in page.text
    # Sniffed by magic even when the server calls it octet-stream.
    assert parse(data, url=REPORT, content_type="application/octet-stream").text == page.text


@pytest.mark.parametrize(
    "junk", [b"%PDF-1.4\n garbage", b"%PDF-", b"%PDF-1.7\n" + bytes(range(256))])
def test_broken_pdf_is_an_empty_pdf_page(junk):
    page = parse(junk, url=REPORT, content_type="application/pdf")
    assert (page.kind, page.text, page.items) == ("pdf", "", [])


def test_other_types_are_kept_without_text():
    page = parse(b"\x89PNG\r\n\x1a\n....", url="https://x.gov/a.png", content_type="image/png")
    assert (page.kind, page.text) == ("other", "")


def test_manifest_matches_files():
    manifest = json.loads((SITEDATA / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["hosts"] == {"dot": "www.transportation.gov", "state": "2009-2017.state.gov",
                                 "treasury": "www.treasury.gov"}
    for snapshot, data in manifest["snapshots"].items():
        for res in data["resources"]:
            if res["status"] == 200:
                assert (SITEDATA / res["file"]).is_file(), res
                assert res["file"].startswith(f"{snapshot}/{res['host']}/")
            else:
                assert res["status"] == 404 and not (SITEDATA / snapshot / res["host"]
                                                     / res["path"].lstrip("/")).exists()
    gone = [r["path"] for r in manifest["snapshots"]["2016-11-15"]["resources"]
            if r["status"] == 404]
    assert gone == ["/r/pa/prs/ps/2016/06/258162.htm"]
    total = sum(p.stat().st_size for p in SITEDATA.rglob("*") if p.is_file())
    assert total < 300_000


# -- markup variants ----------------------------------------------------------------------------
def test_updated_at_the_bottom_of_the_body_2015_style():
    html = b"""<html><head><title>U.S.-China Cooperation | US Department of Transportation</title>
    </head><body><div id="header"><a href="/x">Menu</a> Updated: January 1, 2010</div>
    <div class="field field-name-body"><p>Intro text that is long enough to be content.</p>
    <ul><li><a href="/a">A</a> summary</li></ul>
    <p>Updated: Friday, March 13, 2015</p></div>
    <div id="footer">Last updated: December 31, 2015</div></body></html>"""
    page = parse(html, url=HUB_URL)
    assert page.updated_on == "2015-03-13"
    assert page.title == "U.S.-China Cooperation"  # no h1: <title> without the site suffix
    assert page.text.endswith("Updated: Friday, March 13, 2015")
    assert page.items[0].url == "https://www.transportation.gov/a"


def test_state_press_dateline_and_base_href():
    html = b"""<html><head><base href="https://2009-2017.state.gov/r/pa/prs/ps/2016/06/"></head>
    <body><article><h1>Fact sheet title</h1><p>Media Note</p><p>Office of the Spokesperson</p>
    <p>June 7, 2016</p><p>Text mentioning April 13, 2013 in a sentence.</p>
    <ul><li><a href="258178.htm#top">Relative</a></li>
    <li><a href="javascript:alert(1)">Script</a></li><li><a href="file:///etc/passwd">File</a></li>
    <li><a href="mailto:a@b.gov">Mail</a></li><li><a href="#x">Fragment</a></li></ul>
    </article></body></html>"""
    page = parse(html, url="https://2009-2017.state.gov/x.htm")
    assert page.updated_on == "2016-06-07"
    assert page.links == [STATE + "258178.htm"]
    assert [(i.title, i.url) for i in page.items] == [
        ("Relative", STATE + "258178.htm"), ("Script", None), ("File", None), ("Mail", None),
        ("Fragment", None)]


def test_link_then_paragraph_and_bold_headings():
    html = b"""<main><h2>Reports</h2><p><strong>Annual</strong></p>
    <p><a href="https://a.gov/r1">Report one</a></p><p>What report one says.</p>
    <p><strong><a href="https://a.gov/r2">Report two</a></strong></p>
    <h3>Other</h3><p>Plain text.</p></main>"""
    page = parse(html, url="https://a.gov/")
    assert [(s.heading, s.level, s.parent) for s in page.sections] == [
        ("Reports", 2, None), ("Annual", 3, 0), ("Other", 3, 0)]
    assert [(i.title, i.url, i.summary, i.section) for i in page.items] == [
        ("Report one", "https://a.gov/r1", "What report one says.", 1),
        ("Report two", "https://a.gov/r2", "", 1)]


def test_hidden_and_invisible_content_is_skipped():
    html = b"""<div role="main"><p>Visible paragraph.</p>
    <p style="display: none">Hidden by style</p><div hidden>Hidden attr</div>
    <span class="visually-hidden">Screen reader</span><template><p>Template</p></template>
    <noscript>Enable JS</noscript><form><input type="hidden" name="t" value="v">Form text</form>
    <nav><a href="/n">Nav</a></nav><aside>Aside</aside><p>Tail after<!-- c -->ward.</p></div>"""
    page = parse(html, url="https://a.gov/")
    assert page.text == "Visible paragraph.\nTail afterward."


def test_broken_markup_still_parses():
    html = (b"<html><body><div class=field-name-body><h2>Head<p>Unclosed <b>bold <i>mix</b> end"
            b"<ul><li><a href=/a>One<li><a href='/b'>Two</a> tail</ul></table></div></span>"
            b"<p>after")
    page = parse(html, url="https://a.gov/p")
    assert [(i.title, i.url) for i in page.items] == [
        ("One", "https://a.gov/a"), ("Two", "https://a.gov/b")]
    assert "Unclosed bold mix end" in page.text


@pytest.mark.parametrize("data", [b"", b"   ", b"\x00\x01\x02", bytes(range(256)) * 4,
                                  b"<", b"<!--", b"<?xml version='1.0' encoding='utf-8'?><p>x</p>",
                                  "\ufeff<p>bom</p>".encode("utf-16")])
def test_junk_never_raises(data):
    page = parse(data, url="https://a.gov/")
    assert page.kind == "html"
    assert page.content_hash() == parse(data, url="https://a.gov/").content_hash()


def test_xml_declaration_and_utf16_bom():
    assert parse(b"<?xml version='1.0' encoding='utf-8'?><main><p>x</p></main>",
                 url="https://a.gov/").text == "x"
    assert parse("\ufeff<main><p>caf\u00e9</p></main>".encode("utf-16"),
                 url="https://a.gov/").text == "caf\u00e9"


def test_entries_holding_nested_lists_are_items_without_their_nested_entries() -> None:
    """A list entry is titled and summarised from its own text: the entries of a list nested in
    it are items of their own, left out of its summary, whatever leads it (a link or text)."""
    from archive.model import Item

    page = parse(b"<main><h2>Docs</h2><ul>"
                 b"<li><a href='/a'>Annual report</a> the summary<ul><li><a href='/a1'>Part one"
                 b"</a> first</li><li>Plain entry<br>its second line</li></ul> after the list"
                 b"</li><li>Lead text <a href='/b'>linked</a><ol><li><a href='/b1'>Inner</a>"
                 b"</li></ol> tail</li></ul></main>", url="https://example.gov/x")
    assert page.items == [
        Item("Annual report", "https://example.gov/a", "the summary\nafter the list", 0),
        Item("Part one", "https://example.gov/a1", "first", 0),
        Item("Plain entry", None, "its second line", 0),
        Item("Lead text linked", "https://example.gov/b", "tail", 0),
        Item("Inner", "https://example.gov/b1", "", 0),
    ]
