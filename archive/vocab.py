"""The archive's vocabularies, each defined once.

Every list of snapshot outcomes, run statuses and run sources in SQL, in Python and in the docs
comes from here. ``StrEnum``-like classes (``str`` mixins, so a member *is* its text and can be
bound as an SQL parameter or compared with a row's value), and the groups the readers use.

>>> Outcome.NEW == "new"
True
>>> sql_list(CONTENT_OUTCOMES)
"('new', 'unchanged', 'not_modified')"
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum


class TextEnum(str, Enum):
    """A ``str`` enum whose ``str()`` is its value (``enum.StrEnum`` from 3.11 on)."""

    def __str__(self) -> str:
        return str(self.value)


class Outcome(TextEnum):
    """What one snapshot observed (``snapshots.outcome``)."""

    NEW = "new"  # a 200 whose records made a version not seen before on this page
    UNCHANGED = "unchanged"  # a 200 whose records match a version already stored
    NOT_MODIFIED = "not_modified"  # a 304: the server confirmed the last body
    GONE = "gone"  # a 404 or 410: an observation, not a failure
    FAILED = "failed"  # nothing usable was received (after retries)
    BLOCKED = "blocked"  # refused by robots.txt or the address policy; never requested


class RunStatus(TextEnum):
    """How a run ended (``runs.status``), best to worst after ``running``."""

    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    INTERRUPTED = "interrupted"
    FAILED = "failed"


class Source(TextEnum):
    """Where a run's captures came from (``runs.source``, ``snapshots.source``)."""

    CRAWL = "crawl"
    IMPORT = "import"
    WAYBACK = "wayback"
    DEMO = "demo"


#: Outcomes that carry the page's content (a version): shown by ``show``, diffed by ``diff``.
#: A 404 is not content (the page is gone) but it is a good observation: GOOD_OUTCOMES.
CONTENT_OUTCOMES = (Outcome.NEW, Outcome.UNCHANGED, Outcome.NOT_MODIFIED)
#: Outcomes that say what the page *was* at that moment, a 404 included: "good" observations.
GOOD_OUTCOMES = (*CONTENT_OUTCOMES, Outcome.GONE)
#: Outcomes that observed nothing about the page.
BAD_OUTCOMES = (Outcome.FAILED, Outcome.BLOCKED)
#: Outcomes whose capture delivered a body of its own (a 304 repeats one already stored):
#: the first capture of a body is among these (WARC export of revisits, the body index).
BODY_OUTCOMES = (Outcome.NEW, Outcome.UNCHANGED, Outcome.GONE)
#: Outcomes of a full 200 body that made or matched a version (not a 304): revalidation age.
FULL_OUTCOMES = (Outcome.NEW, Outcome.UNCHANGED)
#: Run statuses of a finished run, from best to worst.
FINISHED_STATUSES = (RunStatus.COMPLETE, RunStatus.PARTIAL, RunStatus.INTERRUPTED,
                     RunStatus.FAILED)

#: The columns of a snapshot row as :meth:`archive.store.Archive.history` gives it, in order.
HISTORY_COLUMNS = ("id", "url", "run_id", "captured_at", "source", "outcome", "http_status",
                   "final_url", "version_id", "changed", "suspect", "error", "truncated")


def worst_status(statuses: Iterable[RunStatus | str]) -> RunStatus:
    """The worst of finished run statuses (``complete`` when there are none).

    >>> worst_status(["complete", "partial"])
    <RunStatus.PARTIAL: 'partial'>
    """
    rank = {s: i for i, s in enumerate(FINISHED_STATUSES)}
    return max((RunStatus(s) for s in statuses), key=rank.__getitem__,
               default=RunStatus.COMPLETE)


def state_key(outcome: str, version_id: int | None) -> object:
    """What a trustworthy observation says the page showed: ``gone``, or its version. Two
    consecutive observations with different keys are a change (the store's and reconcile's
    rule alike).

    >>> state_key("gone", None), state_key("not_modified", 7)
    (<Outcome.GONE: 'gone'>, 7)
    """
    return Outcome.GONE if outcome == Outcome.GONE else version_id


def sql_list(values: Iterable[str]) -> str:
    """An SQL list literal of vocabulary values: ``('a', 'b')``. Only for our own constants."""
    items = [str(v) for v in values]
    assert all("'" not in v for v in items), items
    return "(" + ", ".join(f"'{v}'" for v in items) + ")"
