"""The whole job offline: serve the bundled site at two points in time and crawl it twice.

The captures are stamped at the site's own dates (2016-10-21 and 2016-11-15, plus the seconds
the crawl took) and marked ``source = 'demo'`` in the archive, so that ``show --as-of
2016-11-01`` and ``diff --from 2016-10-21 --to 2016-11-15`` read as they would on a real
archive, while nobody can mistake a demo capture for a real one.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from archive.errors import UsageError
from archive.lookup import run_sources_of
from archive.store import Archive
from archive.timeutil import to_iso
from archive.vocab import Source
from scraper.ingest import PageReport, RunReport
from scraper.network import open_network
from scraper.settings import CrawlSettings
from scraper.siteserver import SiteServer
from scraper.sources.crawl import crawl

# When, on each snapshot's day, the demo pretends to have crawled (UTC).
CRAWL_HOUR = 15
# Fixed ports, so that the demo archive's URLs are the same from one run to the next (its
# examples in docs/schema.md depend on it); a taken port falls back to a free one.
DEMO_PORTS = {"dot": 47801, "state": 47802, "treasury": 47803}
# Loopback and impatient: no delay, one quick retry; the snapshots are 25 days apart, so
# revalidate only after 60 days to show the 304s anyway.
DEMO_SETTINGS = CrawlSettings(depth=1, delay=0.0, timeout=10.0, retries=1, backoff=0.2,
                              revalidate_days=60.0)


@dataclass
class DemoResult:
    """The two runs, and the site's loopback seed URL they crawled."""

    seed: str
    runs: list[RunReport]


def _clock_from(day: str) -> Callable[[], str]:
    """A clock that reads ``day`` at CRAWL_HOUR plus the real time elapsed since it was made."""
    base = datetime.fromisoformat(day).replace(hour=CRAWL_HOUR, tzinfo=timezone.utc)
    start = time.monotonic()
    return lambda: to_iso(base + timedelta(seconds=time.monotonic() - start))


def prepare_db(path: str) -> None:
    """Refuse to overwrite anything but an earlier demo archive; remove that one."""
    if not os.path.exists(path):
        return
    if run_sources_of(path) - {Source.DEMO}:
        raise UsageError(f"{path} exists and is not a demo archive; choose another --db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def run_demo(db: str, *, on_page: Callable[[PageReport], None] | None = None,
             on_run: Callable[[str, RunReport], None] | None = None) -> DemoResult:
    """Serve the bundled site, crawl it at each of its snapshots into a fresh ``db``."""
    prepare_db(db)
    runs: list[RunReport] = []
    with SiteServer(snapshot="2016-10-21", ports=DEMO_PORTS) as site, Archive.open(db) as archive:
        for snapshot in site.snapshots():
            site.switch(snapshot)
            clock = _clock_from(snapshot)
            with open_network(DEMO_SETTINGS, site.seed, clock=clock) as network:
                summary = crawl(archive, site.seed, settings=DEMO_SETTINGS, network=network,
                                clock=clock, source=Source.DEMO, on_page=on_page,
                                options={"demo_snapshot": snapshot})
            runs.append(summary)
            if on_run is not None:
                on_run(snapshot, summary)
        return DemoResult(site.seed, runs)
