"""What a run did, whatever its source: one report type, and its renderings.

:class:`RunReport` is filled by the ingest path (``scraper.ingest``) for a crawl, a WARC
import, a Wayback backfill or the demo; ``to_dict`` keeps the JSON shape each command's
``--json`` has always printed, and :func:`cron_summary` is the crawl's human summary.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from archive.text import printable
from archive.vocab import BAD_OUTCOMES, Outcome, RunStatus, Source


@dataclass
class PageReport:
    """What happened to one URL (one snapshot written) in a run."""

    url: str
    depth: int
    outcome: str  # an archive.vocab.Outcome
    http_status: int | None = None
    final_url: str | None = None
    changed: bool = False
    new_version: bool = False
    suspect: bool = False
    first: bool = False
    version_id: int | None = None
    snapshot_id: int | None = None
    title: str = ""
    error: str | None = None


# The keys each source's ``--json`` has always printed (the demo prints a crawl's).
_SHAPES: dict[str, tuple[str, ...]] = {
    Source.CRAWL: ("run_id", "seed", "status", "started_at", "finished_at", "counts", "pages"),
    Source.IMPORT: ("files", "run_ids", "status", "records", "captures", "imported",
                    "new_versions", "duplicates", "skipped", "reconciled", "problems"),
    Source.WAYBACK: ("url", "run_id", "status", "listed", "stored", "new_versions", "already",
                     "documents", "failures", "stopped", "reconciled"),
}


@dataclass
class RunReport:
    """What one job did, whatever its source: the snapshots it wrote (``pages``) and counts.

    ``status`` is ``running`` until the run context closes, then complete, partial, failed
    or interrupted. ``problems`` names every failure the source met outside the pages (a
    damaged WARC record, a Wayback capture that could not be fetched), one line each;
    ``already`` counts captures found in the archive already and skipped.
    """

    source: str
    seed: str
    status: str = RunStatus.RUNNING
    started_at: str = ""
    finished_at: str = ""
    run_ids: list[int] = field(default_factory=list)
    pages: list[PageReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stopped: str | None = None  # why the source stopped early
    reconciled: int = 0
    # Source-specific tallies (zero where they do not apply).
    files: list[str] = field(default_factory=list)
    records: int = 0
    captures: int = 0
    skipped: int = 0
    listed: int = 0
    already: int = 0
    documents: int = 0

    @property
    def run_id(self) -> int:
        """The run (the first, when a source opened several); 0 before one was begun."""
        return self.run_ids[0] if self.run_ids else 0

    @property
    def url(self) -> str:
        """The seed (a backfill's page)."""
        return self.seed

    @property
    def failures(self) -> list[str]:
        """The problems (a backfill's name for them)."""
        return self.problems

    @property
    def duplicates(self) -> int:
        """Captures already in the archive (an import's name for them)."""
        return self.already

    @property
    def imported(self) -> int:
        """Snapshots written."""
        return len(self.pages)

    stored = imported

    @property
    def interrupted(self) -> bool:
        """True when the run was stopped before its end."""
        return self.status == RunStatus.INTERRUPTED

    @property
    def new_versions(self) -> int:
        """Snapshots that stored a version not seen before."""
        return sum(p.new_version for p in self.pages)

    @property
    def changed(self) -> list[PageReport]:
        """Pages that show something else than at their last observation."""
        return [p for p in self.pages if p.changed]

    @property
    def failed(self) -> list[PageReport]:
        """Pages whose capture failed."""
        return [p for p in self.pages if p.outcome == Outcome.FAILED]

    @property
    def suspect(self) -> list[PageReport]:
        """Pages that looked like an error page."""
        return [p for p in self.pages if p.suspect]

    def counts(self) -> dict[str, int]:
        """How many pages ended each way, plus fetched / new_versions / changed totals."""
        out: dict[str, int] = {}
        for p in self.pages:
            out[p.outcome] = out.get(p.outcome, 0) + 1
        out["fetched"] = sum(p.outcome not in BAD_OUTCOMES for p in self.pages)
        out["new_versions"] = self.new_versions
        out["changed"] = len(self.changed)
        out["suspect"] = len(self.suspect)
        return out

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form (the CLI's ``--json``), in the shape of its source."""
        out: dict[str, Any] = {}
        for key in _SHAPES.get(self.source, _SHAPES[Source.CRAWL]):
            if key == "counts":
                out[key] = self.counts()
            elif key == "pages":
                out[key] = [asdict(p) for p in self.pages]
            else:
                value = getattr(self, key)
                out[key] = str(value) if isinstance(value, RunStatus) else value
        return out


@dataclass
class RunText:
    """A crawl's summary as text: ``problems`` for stderr (one line each), ``out`` for
    stdout ("" when there is nothing to print)."""

    problems: list[str]
    out: str


def cron_summary(report: RunReport, changes: str, *, quiet: bool) -> RunText:
    """The human summary of a crawl: each failed or suspect page (except a failed seed,
    which the exit message names), then the counts (unless ``quiet``), then the per-page
    ``changes``. Silent on stdout when quiet and nothing changed."""
    c = report.counts()
    problems = [p for p in report.pages if p.outcome == Outcome.FAILED or p.suspect]
    if report.status == RunStatus.FAILED:
        problems = problems[1:] if problems and problems[0] is report.pages[0] else problems
    lines = []
    for p in problems:
        error = p.error or ""
        error = error[len(p.url) + 2:] if error.startswith(p.url + ": ") else error
        what = "looks like an error page (kept, flagged suspect)" if p.suspect else error
        lines.append(printable(f"coop-archive: {p.url}: {what}"))
    out: list[str] = []
    if quiet and not report.changed:
        return RunText(lines, "")
    if not quiet:
        out.append(
            f"run {report.run_id} {report.status}: {c['fetched']} fetched, "
            f"{c['new_versions']} new version(s), {c['changed']} changed, "
            f"{c.get('gone', 0)} gone, {c.get('failed', 0)} failed, "
            f"{c.get('blocked', 0)} blocked")
    if changes:
        out.append(printable(changes))
    return RunText(lines, "\n".join(out))
