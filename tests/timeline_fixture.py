"""An archive whose one page has every kind of timeline entry, and a scraped ``<script>``.

Shared by the timeline view, static site, Datasette and browser tests. The story of WATCHED
(all times 12:00 UTC, captured daily until a two-week pause):

==========  ==============================================================================
2016-01-01  v1: items A and B; the title and item A's title carry a ``<script>``
2016-01-02  v1 again
2016-01-03  v2: item C added, Updated date unchanged (a silent edit)
2016-01-04  capture fails (timed out)
2016-01-05  capture fails (timed out)
2016-01-06  v3: only the Updated date moves (a date-only bump)
(no capture for two weeks: a gap)
2016-01-20  404: gone
2016-01-21  v3 is back
2016-01-22  v4: item A removed, item B's summary edited
==========  ==============================================================================

OTHER is captured once on 2016-02-01 (so the archive spans two months).
"""

from __future__ import annotations

from archive.model import Item, Page, Section
from archive.store import Archive
from tests.builders import at, capture

WATCHED = "http://127.0.0.1:9/watched.html"
OTHER = "http://127.0.0.1:9/other.html"
SCRIPT = "<script>document.title='pwned';document.body.id='pwned'</script>"
TITLE = f"Watched page {SCRIPT}"
ITEM_A = Item(f"Item A {SCRIPT}", "http://127.0.0.1:9/a.html", "About A.", 0)
ITEM_B = Item("Item B", "http://127.0.0.1:9/b.html", "About B.", 0)
ITEM_C = Item("Item C", "http://127.0.0.1:9/c.html", "About C.", 0)
DAYS = ["2016-01-01", "2016-01-02", "2016-01-03", "2016-01-04", "2016-01-05", "2016-01-06",
        "2016-01-20", "2016-01-21", "2016-01-22"]


def watched(version: int) -> Page:
    """WATCHED as it read in version 1-4 of the story."""
    items = {1: [ITEM_A, ITEM_B], 2: [ITEM_A, ITEM_B, ITEM_C], 3: [ITEM_A, ITEM_B, ITEM_C],
             4: [Item("Item B", ITEM_B.url, "About B, revised.", 0), ITEM_C]}[version]
    updated = "2016-01-06" if version >= 3 else "2016-01-01"
    return Page(url=WATCHED, title=TITLE, updated_on=updated,
                text="\n".join(f"{i.title}\n{i.summary}" for i in items),
                sections=[Section("Links", 2, "")], items=items,
                links=[i.url for i in items if i.url])


def build(path: str) -> None:
    """Write the story's archive at ``path``."""
    with Archive.open(path) as a:
        plan: list[tuple[str, Page | None, dict]] = [
            (DAYS[0], watched(1), {}), (DAYS[1], watched(1), {}), (DAYS[2], watched(2), {}),
            (DAYS[3], None, {"error": "timed out"}), (DAYS[4], None, {"error": "timed out"}),
            (DAYS[5], watched(3), {}), (DAYS[6], None, {"status": 404, "body": b"not found"}),
            (DAYS[7], watched(3), {}), (DAYS[8], watched(4), {}),
        ]
        plan.append(("2016-02-01", Page(url=OTHER, title="Other page", updated_on=None,
                                        text="Just text."), {"url": OTHER}))
        for day, page, kw in plan:
            url = kw.pop("url", WATCHED)
            run = a.begin_run(url, started_at=at(day))
            capture(a, url, at(day), page, run_id=run, **kw)
            a.finish_run(run, "partial" if "error" in kw else "complete",
                         finished_at=at(day, 13))
