"""The diff's vocabularies, each defined once: page changes, item and section changes, flags.

docs/diff.md lists the same values (tests/unit/test_vocab_docs.py keeps them in step). Members are
``str`` enums (:class:`archive.vocab.Outcome` style): a member *is* its text, so it compares
equal to the JSON value and serialises as it.

>>> PageChangeKind.ADDED == "added"
True
>>> [str(c) for c in ItemChangeKind]
['added', 'removed', 'changed', 'moved']
"""

from __future__ import annotations

from archive.vocab import TextEnum


class PageChangeKind(TextEnum):
    """What happened to a page between two moments (``pages[].change``), in report order."""

    ADDED = "added"
    RELINKED = "relinked"
    REMOVED = "removed"
    GONE = "gone"
    FAILED = "failed"
    CHANGED = "changed"
    UNCHANGED = "unchanged"


class ItemChangeKind(TextEnum):
    """What happened to one item of a page (``pages[].items[].change``)."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    MOVED = "moved"


class SectionChangeKind(TextEnum):
    """What happened to one section of a page (``pages[].sections[].change``)."""

    ADDED = "added"
    REMOVED = "removed"
    RENAMED = "renamed"
    CHANGED = "changed"


class Flag(TextEnum):
    """A note on a page's change (``pages[].flags``)."""

    SILENT_EDIT = "silent_edit"  # content changed, the page's Updated date did not
    DATE_ONLY = "date_only"  # the Updated date changed, nothing else did
    FAILED = "failed"  # latest capture failed: compared with the last good version
    SUSPECT = "suspect"  # latest capture looked like an error page
    BLOCKED = "blocked"  # latest capture refused by robots.txt or the address policy
    TRIVIAL = "trivial"  # every text change is typographic only
    RETURNED = "returned"  # back after a 404/410


#: Page changes, in the order the reports list them (the JSON ``counts`` keys).
PAGE_CHANGES = tuple(PageChangeKind)
#: Flags that say the latest capture did not deliver trustworthy content.
FAILURE_FLAGS = (Flag.FAILED, Flag.SUSPECT)
