"""Notifications: a run's changes, sent through Apprise, never lost.

A run's message is built from its diff (:mod:`archive.changes`), put in the archive's outbox
(:mod:`archive.outbox`) once per target, then delivered. A delivery that fails stays in the
outbox with its error and is tried again at the next run or by ``coop-archive notify
--retry``; a failure never touches the archive's snapshots.

Targets are Apprise URLs (mailto://, slack://, matrix://, ntfy://, json:// and the rest). The
archive stores a target's key (a hash) and its URL without the password, never the URL
itself, so a secret in it does not end up in a file that ``serve`` publishes: a retry finds
the URL again in the config (or ``--notify``) by its key.
"""

from __future__ import annotations

import hashlib
import logging
import re
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

logger = logging.getLogger(__name__)


def _apprise() -> Any:
    """The apprise module, its plugins loaded.

    Loading them imports ``imghdr`` (through PGPy, for encrypted mail), deprecated since
    Python 3.11: that warning is theirs, not ours, and must not fail a run (or our tests,
    which turn warnings into errors).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise
        from apprise.manager_plugins import NotificationManager

        NotificationManager().schemas()  # the one place every plugin module gets imported
    return apprise


@contextmanager
def _apprise_logs() -> Iterator[Any]:
    """Apprise's log lines for the block, captured (and kept off our stderr)."""
    apprise = _apprise()
    log = logging.getLogger("apprise")
    propagate = log.propagate
    log.propagate = False
    try:
        with apprise.LogCapture(level=logging.WARNING, fmt="%(message)s") as captured:
            yield captured
    finally:
        log.propagate = propagate


def _schemes() -> set[str]:
    _apprise()
    from apprise.manager_plugins import NotificationManager

    return {s.lower() for s in NotificationManager().schemas()}


def target_problem(url: str) -> str | None:
    """Why Apprise cannot send to ``url`` (None when it can): an unknown scheme, or the
    plugin's own complaint."""
    apprise = _apprise()
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if not scheme or scheme not in _schemes():
        return f"unknown notification scheme {scheme + '://' if scheme else url!r}"
    with _apprise_logs() as captured:
        plugin = apprise.Apprise.instantiate(url)
    if plugin is None:
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        return lines[0] if lines else "not a usable notification URL"
    return None


def target_key(url: str) -> str:
    """The outbox's name for a target: a hash of its URL (the URL may hold a password)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:32]


def redact(url: str) -> str:
    """``url`` without its password, for the outbox, logs and messages."""
    return re.sub(r"(//[^:/@]*:)[^@/]*@", r"\1***@", url)


def targets_by_key(urls: Iterable[str]) -> dict[str, str]:
    """Each URL by its :func:`target_key`."""
    return {target_key(u): u for u in urls}
