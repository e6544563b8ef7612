"""A run's wall-clock budget: a cron job must end, and must not hold the archive's lock for ever.

When the budget runs out, :class:`RunBudget` sets the run's stop event, exactly as SIGTERM
would: the requests in flight end within 0.1 s (:mod:`scraper.deadline`), a PDF extraction is
killed (:mod:`scraper.pdf`), and the run closes ``interrupted`` with what it captured. If the
run is still going ``grace`` seconds later, it is stuck in code that does not look at the stop
event; ``on_overrun`` is then called, and the CLI ends the process, which frees the lock
(``flock`` dies with its holder; SQLite rolls back an unfinished transaction on the next open,
and the next crawl marks the run left ``running`` as interrupted).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from types import TracebackType

logger = logging.getLogger(__name__)

#: Seconds a run may take to stop after its budget ran out before it is called stuck.
GRACE = 30.0


class RunBudget:
    """Set ``stop`` after ``seconds``; call ``on_overrun`` if the block has not ended
    ``grace`` seconds after that. Use as a context manager around the run."""

    def __init__(self, seconds: float, stop: threading.Event, *, grace: float = GRACE,
                 on_overrun: Callable[[], None] | None = None) -> None:
        self.seconds, self.stop, self.grace = seconds, stop, grace
        self.on_overrun = on_overrun
        self.expired = False
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="run-budget", daemon=True)

    def _watch(self) -> None:
        if self._done.wait(self.seconds):
            return
        self.expired = True
        logger.warning("the run's time budget of %gs ran out; stopping it", self.seconds)
        self.stop.set()
        if self._done.wait(self.grace):
            return
        logger.error("the run did not stop within %gs of its budget", self.grace)
        if self.on_overrun is not None:
            self.on_overrun()

    def __enter__(self) -> RunBudget:
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._done.set()
