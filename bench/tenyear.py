"""The synthetic ten-year archive: the hub and about ten documents captured daily.

Written through the store API with a fake clock, as the cron job would have written it: the
hub's body differs every day (form token, timestamp), so each capture stores a small delta;
half the documents answer 304 to our validators, the other half send the same bytes again; a
real change lands about twenty times a year (an item added, which retires the oldest so the
hub keeps about ten, a summary edited, a date bumped, a document rewritten); about one capture
in two hundred fails. About 40,000 snapshots for ten years.

Generating takes a minute or two, so the result is cached under bench/out/, keyed by this
generator's version, the schema version and the parser version: a rerun reuses it.
"""

from __future__ import annotations

import hashlib
import os
import random
from datetime import date, timedelta
from pathlib import Path

from archive.capture import Capture
from archive.model import PARSER_VERSION, Page
from archive.schema import SCHEMA_VERSION
from archive.store import Archive
from bench.cron_year import HOSTS, change_days, response_headers
from bench.site import Site, make_site, render_doc, render_hub
from bench.util import OUT
from scraper.parse import parse

GENERATOR_VERSION = 2  # 2: lean snapshot rows, predecessor deltas
START = date(2014, 1, 6)
DOCS = 10
FAIL_RATE = 0.005


def archive_path(years: int) -> Path:
    """Where the cached archive of ``years`` years lives."""
    return OUT / (f"tenyear-g{GENERATOR_VERSION}-s{SCHEMA_VERSION}-p{PARSER_VERSION}"
                  f"-{years}y.db")


def ensure(years: int) -> tuple[Path, bool]:
    """The archive of ``years`` years, generated unless cached; (path, was it generated)."""
    path = archive_path(years)
    if path.exists():
        return path, False
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.db")
    for suffix in ("", "-wal", "-shm"):
        Path(str(tmp) + suffix).unlink(missing_ok=True)
    with Archive.open(tmp) as archive:
        generate(archive, years)
        archive.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    os.replace(tmp, path)
    return path, True


def _rotate(site: Site) -> None:
    """Keep about DOCS items on the hub: retire the oldest when there are more."""
    while len(site.linked()) > DOCS:
        oldest = min(site.linked(), key=lambda k: int(k[1:]))
        for s in site.sections:
            s.items = [i for i in s.items if i.doc != oldest]


def generate(archive: Archive, years: int) -> None:
    """Write ``years`` years of daily captures into ``archive``."""
    days = years * 365
    site = make_site(HOSTS, docs=DOCS, seed=21, start=START)
    changes = change_days(days, 20 * years, seed=22)
    rng = random.Random(23)
    parsed: dict[str, Page] = {}  # parse is deterministic: reuse it for repeated bodies
    validators: dict[str, str] = {}  # url -> ETag of the body last sent
    for n in range(days):
        day = START + timedelta(days=n)
        if n in changes:
            site.evolve(day)
            _rotate(site)
        at = f"{day.isoformat()}T06:17:00.000000Z"
        run_id = archive.begin_run(site.hub_url, started_at=at, source="demo")
        pages = [(site.hub_url, None)] + [(site.doc_url(k), k) for k in site.linked()]
        for url, key in pages:
            if rng.random() < FAIL_RATE:
                archive.record_snapshot(run_id, url, captured_at=at, source="demo",
                                        error="connection failed: [Errno 110] timed out")
                continue
            body = render_hub(site, n) if key is None else render_doc(site, key, None)
            sha = hashlib.sha256(body).hexdigest()
            headers = response_headers(day, body)
            validating = key is not None and int(key[1:]) % 2 == 1
            if validating:
                headers.append(("ETag", f'"{sha[:16]}"'))
                if validators.get(url) == sha:
                    result = Capture(url=url, final_url=url, status=304,
                                         reason="Not Modified", headers=headers, fetched_at=at)
                    archive.record_snapshot(run_id, url, captured_at=at, result=result,
                                            source="demo")
                    continue
                validators[url] = sha
            if key is None:  # hub bodies never repeat: parse, do not cache
                page = parse(body, url=url, content_type="text/html", http_charset="utf-8")
            else:
                if sha not in parsed:
                    parsed[sha] = parse(body, url=url, content_type="text/html",
                                        http_charset="utf-8")
                page = parsed[sha]
            result = Capture(url=url, final_url=url, status=200, reason="OK",
                                 headers=headers, body=body, fetched_at=at,
                                 bytes_received=len(body))
            archive.record_snapshot(run_id, url, captured_at=at, result=result,
                                    page=page, source="demo")
        archive.finish_run(run_id, "complete", finished_at=at)
