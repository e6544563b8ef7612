"""A realistic multi-version archive of the hub and two fact sheets, built without a network.

Shared by the query, query CLI and Datasette tests. The story (all times 12:00 UTC):

==========  ==============================================================================
2016-06-20  hub v1 (5 items); Strategic Track fact sheet v1; Climate fact sheet v1
2016-07-15  hub unchanged; fact sheets unchanged
2016-08-10  hub v2 adds "2nd ... Cities Summit" and "Strategic Track Outcomes";
            Climate fact sheet v2 now mentions the Paris Agreement
2016-09-05  hub capture fails (timeout)
2016-10-21  hub v3 adds the CCWG section (2 items); Strategic Track fact sheet v2 (edited)
2016-11-15  hub 304 (not modified)
2017-01-25  hub v4 drops "Economic Track Resource"; Strategic Track fact sheet gone (404)
2017-03-01  hub answers 200 with an error page (kept, flagged suspect)
==========  ==============================================================================
"""

from __future__ import annotations

from archive.model import Item, Page, Section
from archive.store import Archive
from tests.builders import at, capture

HUB = "https://www.transportation.gov/r2ze/US-China-Cooperation"
STRATEGIC = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258178.htm"
CLIMATE = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258180.htm"
ECONOMIC = "https://www.treasury.gov/press-center/press-releases/Pages/jl0484.aspx"
SUMMIT = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258155.htm"
ECO = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258163.htm"
PARIS_NOTE = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258175.htm"
OUTCOMES_NOTE = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258146.htm"
TEN_YEAR = "https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258157.htm"
CCWG_REPORT = "https://2009-2017.state.gov/documents/organization/258171.pdf"

_FACT = [
    Item("Climate Change and Clean Energy", CLIMATE,
         "Climate change is a pillar of the U.S.-China bilateral relationship."),
    Item("Strategic Track Select Outcomes", STRATEGIC,
         "Secretaries Kerry and Lew convened a Joint Session on Climate Change to promote the "
         "full implementation of Paris Agreement."),
    Item("Economic Track Resource", ECONOMIC,
         "Concrete measures to support strong domestic and global growth."),
]
_SUMMIT = Item("2nd U.S.-China Climate-Smart/Low-Carbon Cities Summit", SUMMIT,
               "The summit advanced bilateral cooperation on climate change in cities.")
_NOTES = [
    Item("Building on Paris Agreement and Strengthening Climate Change Cooperation", PARIS_NOTE,
         "The Joint Session offered a chance to review climate progress."),
    Item("EcoPartnerships Program", ECO, "Six new EcoPartnerships were announced."),
]
_OUTCOMES = Item("Strategic Track Outcomes", OUTCOMES_NOTE,
                 "Of the 120 outcomes, over 50 were related to climate change.")
_CCWG = [
    Item("Ten-Year Framework for Energy and Environment Cooperation Meetings", TEN_YEAR,
         "CCWG participants assess progress on reducing emissions from heavy-duty vehicles."),
    Item("Annual Report: U.S.-China Climate Change Working Group (CCWG)", CCWG_REPORT,
         "An overview of the ongoing work of the CCWG."),
]


def hub(version: int) -> Page:
    """The hub as it read in version 1-4 of the story."""
    facts = list(_FACT) + ([_SUMMIT] if version >= 2 else [])
    if version >= 4:
        facts = [i for i in facts if i.url != ECONOMIC]
    notes = list(_NOTES) + ([_OUTCOMES] if version >= 2 else [])
    sections = [
        Section("U.S.-China Strategic and Economic Dialogue (S&ED)", 2,
                "The eighth session of the S&ED was held in Beijing, June 5-7, 2016."),
        Section("Fact Sheets", 3, "", 0),
        Section("Media Notes", 3, "", 0),
    ]
    items = [Item(i.title, i.url, i.summary, 1) for i in facts]
    items += [Item(i.title, i.url, i.summary, 2) for i in notes]
    if version >= 3:
        sections += [
            Section("U.S.-China Climate Change Working Group (CCWG)", 2,
                    "The CCWG was established pursuant to the Joint Statement on Climate Change "
                    "issued on April 13, 2013."),
            Section("Media Notes", 3, "", 3),
        ]
        items += [Item(i.title, i.url, i.summary, 4) for i in _CCWG]
    updated = {1: "2016-06-17", 2: "2016-08-09", 3: "2016-10-21", 4: "2017-01-20"}[version]
    text = "\n".join([s.heading + "\n" + s.text for s in sections]
                     + [i.title + "\n" + i.summary for i in items])
    return Page(url=HUB, title="U.S.-China Cooperation", updated_on=updated, text=text,
                sections=sections, items=items, links=[i.url for i in items if i.url])


def strategic(version: int) -> Page:
    """The Strategic Track fact sheet, versions 1-2 (v2 fixes a sentence)."""
    body = ("Building on over three years of focused climate change cooperation, the two sides "
            "committed to work together to promote the full implementation of the Paris "
            "Agreement.")
    if version == 2:
        body += " Both sides will join the Agreement as early as possible this year."
    return Page(url=STRATEGIC, title="U.S.-China Strategic and Economic Dialogue Outcomes of "
                "the Strategic Track", updated_on="2016-06-07", text=body,
                sections=[Section("Climate Change", 3, body)])


def climate(version: int) -> Page:
    """The Climate Change fact sheet; only v2 mentions the Paris Agreement."""
    body = "Climate change is a pillar of the bilateral relationship."
    if version == 2:
        body += " The historic Paris Agreement would not have been possible without both."
    return Page(url=CLIMATE, title="U.S.-China Climate Change Cooperation Outcomes",
                updated_on="2016-06-07", text=body)


def build(path: str) -> None:
    """Write the story's archive at ``path``."""
    with Archive.open(path) as a:
        def run(day: str, pages: list[tuple[str, Page | None, dict]]) -> None:
            rid = a.begin_run(HUB, started_at=at(day))
            for url, page, kw in pages:
                capture(a, url, at(day), page, run_id=rid, **kw)
            failed = any("error" in kw for _u, _p, kw in pages)
            a.finish_run(rid, "partial" if failed else "complete", finished_at=at(day, 13))

        run("2016-06-20", [(HUB, hub(1), {}), (STRATEGIC, strategic(1), {}),
                           (CLIMATE, climate(1), {})])
        run("2016-07-15", [(HUB, hub(1), {}), (STRATEGIC, strategic(1), {}),
                           (CLIMATE, climate(1), {})])
        run("2016-08-10", [(HUB, hub(2), {}), (STRATEGIC, strategic(1), {}),
                           (CLIMATE, climate(2), {})])
        run("2016-09-05", [(HUB, None, {"error": "timed out"})])
        run("2016-10-21", [(HUB, hub(3), {}), (STRATEGIC, strategic(2), {}),
                           (CLIMATE, climate(2), {})])
        run("2016-11-15", [(HUB, None, {"status": 304})])
        run("2017-01-25", [(HUB, hub(4), {}), (STRATEGIC, None, {"status": 404, "body": b"nf"}),
                           (CLIMATE, climate(2), {})])
        error_page = Page(url=HUB, title="Error", text="Service unavailable")
        run("2017-03-01", [(HUB, error_page, {"suspect": True})])
