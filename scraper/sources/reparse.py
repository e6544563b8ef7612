"""``reparse``: the archive's own stored captures as a source, re-derived by the current parser.

Raw bodies and response headers are kept, and each version records the ``parser_version``
that made it. When the parser improves, an archive holds versions from older rules, and a
diff across the boundary can report changes that are only the parser's. Reparsing turns each
snapshot's stored body and headers back into a :class:`~archive.capture.Capture`, derives its
records through the ingest path's own :func:`scraper.ingest.parse_capture` and
:func:`scraper.ingest.is_suspect`, and hands them to :func:`archive.rederive.apply_reparse`,
which writes one page per transaction. Pages are chosen by their versions' older
``parser_version``, so a rerun after a kill finishes the job, and a second run finds nothing
to do. A dry run derives the same records and compares content hashes, writing nothing.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from archive import model
from archive.capture import Capture
from archive.compare import ArchiveDiff, PageChange
from archive.diff import diff_pages
from archive.diff_vocab import PageChangeKind
from archive.errors import ArchiveCorruptError, ArchiveError, UsageError
from archive.model import Page
from archive.rederive import (
    Derived,
    PageReparse,
    apply_reparse,
    older_parsers,
    pages_of_seed,
    pages_to_reparse,
    plan_reparse,
    snapshots_of,
)
from archive.report import render_text
from archive.store import Archive, PreviousCapture
from archive.urls import normalize_url
from archive.vocab import Outcome
from scraper.ingest import is_suspect, parse_capture

__all__ = ["ReparseReport", "derive_page", "reparse", "reparse_into"]

#: How many sample diffs a dry run shows.
SAMPLES = 1


@dataclass
class ReparseReport:
    """What a reparse did (or, ``dry_run``, would do)."""

    parser_version: int
    dry_run: bool
    older: dict[int, int]  # {older parser_version: versions} before the reparse
    pages: list[PageReparse] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    interrupted: bool = False

    @property
    def changed_pages(self) -> list[PageReparse]:
        """The pages where some snapshot shows (or would show) other records."""
        return [p for p in self.pages if p.changed]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form ``reparse --json`` prints."""
        return {"parser_version": self.parser_version, "dry_run": self.dry_run,
                "older_parsers": {str(k): v for k, v in self.older.items()},
                "pages_reparsed": len(self.pages),
                "pages_changed": len(self.changed_pages),
                "repointed": sum(p.repointed for p in self.pages),
                "new_versions": sum(p.new_versions for p in self.pages),
                "superseded": sum(p.superseded for p in self.pages),
                "interrupted": self.interrupted, "problems": self.problems,
                "pages": [p.to_dict() for p in self.changed_pages], "samples": self.samples}


def _capture_of(row: Any, url: str, body: bytes) -> Capture:
    """The stored snapshot as the capture it was: body, response headers, final URL, hops.
    A 304 stands for the body it confirmed, so it is derived as that body's 200."""
    headers = [(str(k), str(v)) for k, v in json.loads(row["response_headers"] or "[]")]
    status = row["http_status"] if row["outcome"] != Outcome.NOT_MODIFIED else 200
    redirects = [(int(s), str(u)) for s, u in json.loads(row["redirects"] or "[]")]
    return Capture(url=url, final_url=row["final_url"] or url, status=status or 200,
                   headers=headers, body=body, redirects=redirects,
                   fetched_at=row["captured_at"])


def selectors_of(run_options: str | None) -> tuple[str | None, tuple[str, ...]]:
    """The watch selectors (``main``, ``ignore``) a run was crawled with, from its recorded
    options: a page is re-derived the way it was derived.

    >>> selectors_of('{"watch": "w", "main": "#story", "ignore": [".ad"]}')
    ('#story', ('.ad',))
    >>> selectors_of(None)
    (None, ())
    """
    try:
        options = json.loads(run_options or "{}")
    except ValueError:
        return None, ()
    if not isinstance(options, dict):
        return None, ()
    main = options.get("main")
    ignore = options.get("ignore") or ()
    return (main if isinstance(main, str) else None,
            tuple(str(x) for x in ignore) if isinstance(ignore, list) else ())


def derive_page(archive: Archive, page_id: int, url: str) -> tuple[list[Derived], list[str]]:
    """The current parser's records (and suspect judgement) of each snapshot of a page that
    shows a version, oldest first; and the problems (a body missing from the archive).

    A body is parsed once per (body, final URL, headers); the suspect judgement walks the
    captures in order against the last trustworthy one, as the crawl judged them.
    """
    derived: list[Derived] = []
    problems: list[str] = []
    parsed: dict[tuple[str, str, str, str | None, tuple[str, ...]], Page | None] = {}
    by_body: dict[str, Page] = {}
    previous: PreviousCapture | None = None
    for row in snapshots_of(archive, page_id):
        try:
            body = archive.body(int(row["body_id"]))
        except ArchiveCorruptError as e:  # a finding for this snapshot, not the end of the job
            problems.append(f"{url}: snapshot {row['id']}: {e}")
            continue
        sha = str(row["body_sha256"])
        capture = _capture_of(row, url, body)
        page: Page | None
        if row["outcome"] == Outcome.NOT_MODIFIED and sha in by_body:
            page = by_body[sha]  # a 304 shows the body it confirmed, as derived before
        else:
            main, ignore = selectors_of(row["run_options"])
            key = (sha, capture.final_url, row["response_headers"] or "", main, ignore)
            if key not in parsed:
                parsed[key] = parse_capture(capture, main=main, ignore=ignore)
            page = parsed[key]
        if page is None:
            problems.append(f"{url}: snapshot {row['id']} (HTTP {row['http_status']}) "
                            "gave no records")
            continue
        by_body[sha] = page
        suspect = (row["outcome"] != Outcome.NOT_MODIFIED
                   and is_suspect(page, capture, previous))
        derived.append(Derived(int(row["id"]), page, suspect))
        if not suspect:
            previous = PreviousCapture(int(row["id"]), None, None, sha, None, len(page.text))
    return derived, problems


def _sample(url: str, old: Page, new: Page) -> str:
    """A text diff of one snapshot's stored records against its re-derived ones."""
    diff = diff_pages(old, new)
    change = PageChange(url, PageChangeKind.CHANGED if diff.changed
                        else PageChangeKind.UNCHANGED, new.title or old.title, False,
                        {"from": None, "to": None}, diff, list(diff.flags))
    return render_text(ArchiveDiff("stored", "reparsed", None, url, [change]))


def page_ids_for(archive: Archive, *, url: str | None = None,
                 seed: str | None = None) -> list[int] | None:
    """The pages a reparse is limited to: one URL, or every page a run from ``seed`` (a
    watch's URL) captured; None for the whole archive. UsageError for an unknown one."""
    if url is not None:
        pid = archive.page_id(normalize_url(url))
        if pid is None:
            raise UsageError(f"no page {url} in the archive")
        return [pid]
    if seed is not None:
        ids = pages_of_seed(archive, (seed, normalize_url(seed)))
        if not ids:
            raise UsageError(f"no capture of {seed} in the archive")
        return ids
    return None


def reparse(archive: Archive, *, page_ids: list[int] | None = None, every: bool = False,
            dry_run: bool = False, stop: threading.Event | None = None,
            on_page: Callable[[PageReparse], None] | None = None) -> ReparseReport:
    """Re-derive the pages holding versions of an older parser (every page with ``every``),
    among ``page_ids`` when given; one transaction per page (none with ``dry_run``).

    ``stop`` set ends the job between pages: what was written is whole and a rerun does the
    rest. ``on_page`` is called with each page's result once it is written.
    """
    version = model.PARSER_VERSION  # read now: the module attribute is the parser's truth
    report = ReparseReport(version, dry_run, older_parsers(archive.conn, version))
    for page_id, url in pages_to_reparse(archive, version, page_ids=page_ids,
                                         every=every):
        if stop is not None and stop.is_set():
            report.interrupted = True
            break
        derived, problems = derive_page(archive, page_id, url)
        report.problems.extend(problems)
        if dry_run:
            result, old_vid, new = plan_reparse(archive, page_id, url, derived)
            if old_vid is not None and new is not None and len(report.samples) < SAMPLES:
                report.samples.append(_sample(url, archive.load_version(old_vid), new))
        else:
            result = apply_reparse(archive, page_id, url, derived, parser_version=version)
            report.problems.extend(result.problems)
        report.pages.append(result)
        if on_page is not None:
            on_page(result)
    return report


def reparse_into(db: str, *, url: str | None = None, seed: str | None = None,
                 every: bool = False, dry_run: bool = False, wait: float = 0.0,
                 stop: threading.Event | None = None,
                 on_page: Callable[[PageReparse], None] | None = None) -> ReparseReport:
    """The ``reparse`` command's job: take the archive's writer lock (waiting up to ``wait``
    seconds) unless ``dry_run`` (which opens the archive read-only), then :func:`reparse`.
    A missing archive is an ArchiveError: there is nothing to re-derive, and none is made."""
    from archive.lock import ArchiveLock

    if not os.path.exists(db):
        raise ArchiveError(f"no archive at {db}")
    if dry_run:
        with Archive.open(db, readonly=True) as archive:
            ids = page_ids_for(archive, url=url, seed=seed)
            return reparse(archive, page_ids=ids, every=every, dry_run=True, stop=stop)
    with ArchiveLock(db, wait=wait), Archive.open(db) as archive:
        ids = page_ids_for(archive, url=url, seed=seed)
        return reparse(archive, page_ids=ids, every=every, stop=stop, on_page=on_page)
