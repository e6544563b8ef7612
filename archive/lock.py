"""One crawl at a time: an advisory lock on a file beside the archive.

``flock`` is released by the kernel when the holder dies, even by kill -9, so a stale lock
cannot outlive its process. Readers never take it: WAL mode lets them read while a crawl writes.

The lock belongs to the archive file, not to the name it was given: the lock file sits beside
the archive's real path (symlinks resolved, ``..`` and relative spellings made absolute), so a
crawl through a symlink or another spelling of the path contends with one through the file's
own name. (Two hard links to one file in different directories would still get two lock
files; nothing creates those.) SQLite URIs are refused, as :meth:`Archive.open` refuses them.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from pathlib import Path
from types import TracebackType

from archive.errors import ArchiveError, ArchiveLockedError
from archive.store import check_archive_path


class ArchiveLock:
    """Exclusive lock on ``<archive>.lock``; ``wait`` seconds to get it, else ArchiveLockedError.

    ``existing=True`` (commands that must not create an archive: check, rebuild-fts) refuses a
    missing or empty archive with ArchiveError before a lock file is made beside it.

    The holder writes its pid into the lock file when it takes the lock (so the file's
    modification time says since when it holds it). ``stuck_after`` (a run's time budget, in
    seconds): a lock held longer than that is called stuck in the error, with its pid.
    """

    def __init__(self, db_path: str | os.PathLike[str], *, wait: float = 0.0,
                 poll: float = 0.2, existing: bool = False,
                 stuck_after: float | None = None) -> None:
        real = os.path.realpath(check_archive_path(db_path))
        self.path = Path(f"{real}.lock")
        self.existing = existing
        self.db_path = os.fspath(db_path)
        self.wait = wait
        self.poll = poll
        self.stuck_after = stuck_after
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock or raise ArchiveLockedError naming the holder's pid."""
        if self.existing and (not os.path.isfile(self.db_path)
                              or os.path.getsize(self.db_path) == 0):
            raise ArchiveError(f"no archive at {self.db_path}")
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise ArchiveError(f"cannot create the lock file {self.path}: {e.strerror}") from None
        deadline = time.monotonic() + self.wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    os.close(fd)
                    raise
                if time.monotonic() >= deadline:
                    message = self._locked_message(fd)
                    os.close(fd)
                    raise ArchiveLockedError(message) from None
                time.sleep(self.poll)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def _locked_message(self, fd: int) -> str:
        holder = self._holder(fd)
        who = f" (pid {holder})" if holder else ""
        try:
            held = time.time() - os.fstat(fd).st_mtime
        except OSError:
            held = 0.0
        if self.stuck_after is not None and held > self.stuck_after:
            # The one line cron mails, and a monitor of exit 75 must not take for "busy".
            return (f"warning: another crawl{who} has held the archive for "
                    f"{_duration(held)}, longer than a run's time budget "
                    f"({_duration(self.stuck_after)}): unless it is a long import or "
                    f"backfill, it is stuck; check that process and end it: {self.path}")
        return f"another crawl holds the archive{who}: {self.path}"

    @staticmethod
    def _holder(fd: int) -> str:
        try:
            return os.pread(fd, 32, 0).decode().strip()
        except OSError:
            return ""

    def release(self) -> None:
        """Release the lock (idempotent). The file stays: removing it would race a waiter."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ArchiveLock:
        self.acquire()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()


def _duration(seconds: float) -> str:
    """``seconds`` in the largest whole unit that fits: 45s, 12m, 5h, 3d."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds)}s"
