"""Writing an output file whole or not at all, without trusting the directory it goes to.

:func:`atomic_output` writes to a temporary file created exclusively (``O_EXCL``, a random
name: :func:`tempfile.mkstemp`) next to the final name, then renames it into place. So a
reader never sees half a file, a file or symlink someone planted at a predictable name
(``OUT.tmp``) is never followed, overwritten or deleted, and a failure removes only the
temporary file this call created.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import IO, Any


@contextlib.contextmanager
def atomic_output(path: str, mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file beside ``path`` (``mode``, ``kwargs`` as for :func:`open`); on
    leaving the block without an exception it replaces ``path``, else it is removed."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp",
                               dir=directory)
    try:
        # mkstemp makes the file private (0600); the output gets the usual permissions.
        mask = os.umask(0o022)
        os.umask(mask)
        os.fchmod(fd, 0o666 & ~mask)
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
        os.replace(tmp, path)  # replaces a symlink at ``path`` itself, never its target
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def created_directory(path: str) -> Iterator[None]:
    """Create the directory ``path`` (and missing parents); if the block fails, remove the
    directories this call created, when they are still empty."""
    missing = []
    current = os.path.abspath(path)
    while not os.path.exists(current):
        missing.append(current)
        parent = os.path.dirname(current)
        if parent == current:
            break
        current = parent
    os.makedirs(path, exist_ok=True)
    try:
        yield
    except BaseException:
        for directory in missing:  # deepest first
            with contextlib.suppress(OSError):
                os.rmdir(directory)  # only when empty: never a file we did not write
        raise
