"""The ``coop-archive`` command: a thin click layer over the library.

Each command resolves its options, calls the library, prints, and turns library errors into
one-line messages and exit codes. Exit codes (README, "Exit codes"):

====  =======================================================================
0     complete: everything fetched (a 404 is an observation, not a failure)
1     partial: some document failed or looked like an error page; the rest is kept
      (``diff --exit-code``: something changed)
2     usage or configuration error
3     failed: nothing could be archived (seed unreachable, archive unusable or too new,
      disk full); ``check`` found a problem; an internal error
4     ``crawl`` or ``notify``: a notification could not be delivered (commands_notify)
75    another crawl holds the archive (EX_TEMPFAIL: try again later)
130   interrupted by SIGINT; 143 by SIGTERM (what was captured is kept)
====  =======================================================================
"""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from types import FrameType
from typing import Any, NoReturn, TypeVar

import click

from archive.errors import (
    ArchiveError,
    ArchiveLockedError,
    CoopError,
    SchemaTooNewError,
    UsageError,
    is_busy,
    is_disk_full,
)
from archive.text import printable
from archive.vocab import RunStatus
from scraper import __version__
from scraper.settings import CrawlSettings, spec

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_USAGE = 2
EXIT_FAILED = 3
EXIT_LOCKED = 75
EXIT_SIGINT = 130
EXIT_SIGTERM = 143

DEFAULT_DB = "coop-archive.db"
DB_ENV = "COOP_ARCHIVE_DB"

F = TypeVar("F", bound=Callable[..., Any])


class Exit(click.ClickException):
    """A one-line error on stderr with a chosen exit code."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code  # type: ignore[misc]  # click reads it per instance

    def show(self, file: Any = None) -> None:
        click.echo(f"coop-archive: {self.format_message()}", err=True)


__all__ = ["printable"]  # re-exported for the commands: one rule, in archive.text

#: The exit code of a run that ended with each status (and no signal).
STATUS_EXIT = {RunStatus.COMPLETE: EXIT_OK, RunStatus.PARTIAL: EXIT_PARTIAL,
               RunStatus.INTERRUPTED: EXIT_PARTIAL, RunStatus.FAILED: EXIT_FAILED}


def exit_code(status: str, signals: list[int]) -> int:
    """The exit code of a job that ended with ``status`` after receiving ``signals``:
    130/143 for the first signal (SIGINT/SIGTERM), else the status's code."""
    if signals:
        return EXIT_SIGTERM if signals[0] == signal.SIGTERM else EXIT_SIGINT
    return STATUS_EXIT.get(RunStatus(status), EXIT_FAILED)


def conclude(status: str, signals: list[int], *, failure: str | None = None) -> NoReturn:
    """End a command that ran a job: exit with :func:`exit_code`; a ``failed`` job with a
    ``failure`` message says it on stderr (exit 3). Exceptions are :func:`handle_errors`'s."""
    if not signals and status == RunStatus.FAILED and failure:
        raise Exit(failure, EXIT_FAILED)
    sys.exit(exit_code(status, signals))


def end_overrun() -> NoReturn:
    """A run did not stop after its time budget ran out (``RunBudget``'s ``on_overrun``):
    stuck where a stop cannot reach. End the process, so the lock cannot outlive the budget.
    SQLite rolls back the unfinished transaction; the next crawl marks the run interrupted."""
    sys.stderr.write("coop-archive: the run did not stop after its time budget ran out; "
                     "ending the process\n")
    sys.stderr.flush()
    os._exit(EXIT_PARTIAL)


@contextmanager
def stop_on_signals() -> Iterator[tuple[threading.Event, list[int]]]:
    """SIGINT/SIGTERM set an event instead of killing a job mid-write; restored after."""
    stop = threading.Event()
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        stop.set()

    old = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop, received
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def settings_options(cls: type[CrawlSettings], *names: str) -> Callable[[F], F]:
    """Click options for these settings, their defaults, help and ranges read from ``cls``
    (``max_bytes`` is ``--max-bytes``; ``allow_hosts`` is ``--allow-host``, repeatable)."""

    def decorate(func: F) -> F:
        defaults = cls()
        for name in reversed(names):
            field = spec(name, cls)
            default, help_text = getattr(defaults, name), str(field.metadata["help"])
            lo, hi = field.metadata.get("min"), field.metadata.get("max")
            flag = "--" + name.replace("_", "-")
            option: Callable[[F], F]
            if name == "allow_hosts":
                option = click.option("--allow-host", name, multiple=True, metavar="HOST",
                                      help=help_text)
            elif isinstance(default, bool):
                option = click.option(flag, name, is_flag=True, help=help_text)
            elif default is None:
                option = click.option(flag, name, default=None,
                                      help=help_text.replace("VERSION", __version__))
            elif isinstance(default, int):
                option = click.option(flag, name, default=default, show_default=True,
                                      type=click.IntRange(lo, hi), help=help_text)
            else:
                option = click.option(flag, name, default=default, show_default=True,
                                      type=click.FloatRange(lo, hi), help=help_text)
            func = option(func)
        return func

    return decorate


def wait_option(func: F) -> F:
    """``--wait SECONDS`` for the archive's lock."""
    return click.option(
        "--wait", default=0.0, type=click.FloatRange(0, 86400), show_default=True,
        help="Seconds to wait for another writer to release the archive (else exit 75).",
    )(func)


def exit_code_for(error: CoopError) -> int:
    """The exit code a library error maps to."""
    if isinstance(error, ArchiveLockedError):
        return EXIT_LOCKED
    if isinstance(error, UsageError):
        return EXIT_USAGE
    if isinstance(error, (SchemaTooNewError, ArchiveError)):
        return EXIT_FAILED
    return EXIT_FAILED


def handle_errors(func: F) -> F:
    """Turn CoopError (and a broken pipe) into one line on stderr and the mapped exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except CoopError as e:
            raise Exit(str(e), exit_code_for(e)) from None
        except BrokenPipeError:
            # `coop-archive history | head`: not an error worth a traceback.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit,
                KeyboardInterrupt):
            raise
        except (sqlite3.DatabaseError, OSError) as e:
            if is_disk_full(e):
                # SQLite rolled the transaction back: what was committed before is whole.
                raise Exit("disk full (or file size limit reached): the last change could not "
                           "be written and was rolled back; the archive is intact. Free some "
                           "space and run the command again", EXIT_FAILED) from None
            if is_busy(e):
                # Another process held the write lock past the busy timeout (one that does not
                # take the lock file): nothing of this change was written; a retry will do.
                raise Exit("the archive is busy: another process is migrating or writing it "
                           "and held it longer than this command waits; the change being "
                           "written was rolled back, what was committed before is kept. Run "
                           "the command again later", EXIT_LOCKED) from None
            if isinstance(e, sqlite3.DatabaseError):
                # A damaged file can surface anywhere a query runs; never worth a traceback.
                raise Exit(f"the archive is unusable: {e}", EXIT_FAILED) from None
            _internal_error(e)
        except Exception as e:
            _internal_error(e)

    return wrapper  # type: ignore[return-value]


def _internal_error(e: Exception) -> NoReturn:
    """A bug: one line for cron's mail, the traceback in the log file (--log-file), and on
    stderr too with COOP_ARCHIVE_DEBUG=1."""
    logging.getLogger("scraper.cli").debug("internal error", exc_info=True)
    if os.environ.get("COOP_ARCHIVE_DEBUG") == "1":
        raise e
    raise Exit(f"internal error: {type(e).__name__}: {e} (a bug: please report it; "
               "COOP_ARCHIVE_DEBUG=1 shows the traceback)", EXIT_FAILED) from None


#: How every WHEN may be written (``--as-of``, ``--from``, ``--to``).
WHEN_FORMS = ("an ISO date or datetime (UTC unless it says otherwise), or a snapshot id written "
              "#123 or id:123 (a bare number is refused: 2017 could be a year)")


def db_option(func: F) -> F:
    """``--db PATH``, else $COOP_ARCHIVE_DB, else ./coop-archive.db."""
    return click.option(
        "--db", "db", envvar=DB_ENV, default=DEFAULT_DB, show_default=True,
        type=click.Path(dir_okay=False), help=f"The archive (SQLite file); also ${DB_ENV}.",
    )(func)


def _ours_or_error(record: logging.LogRecord) -> bool:
    """Whether a log record belongs on stderr: ours, or a library's error. A library's
    warnings (warcio replacing a space in a URL, ...) are for the log file, not the person."""
    return record.name.split(".", 1)[0] in ("scraper", "archive") \
        or record.levelno >= logging.ERROR


def setup_logging(level: str, log_file: str | None, *, quiet: bool) -> None:
    """Configure logging for a command: stderr (warnings and up, or nothing but errors when
    quiet) and optionally a permanent log file at ``level``."""
    root = logging.getLogger()
    root.handlers.clear()
    numeric = getattr(logging, level.upper(), logging.INFO)
    root.setLevel(min(numeric, logging.WARNING))
    err = logging.StreamHandler(sys.stderr)
    err.setLevel(logging.ERROR if quiet else max(numeric, logging.WARNING))
    err.setFormatter(logging.Formatter("coop-archive: %(message)s"))
    err.addFilter(_ours_or_error)
    root.addHandler(err)
    # Python warnings of the libraries (DeprecationWarning and the like) become log records,
    # kept out of stderr by the filter above but written to the log file.
    logging.captureWarnings(True)
    if log_file:
        try:
            fh = logging.FileHandler(log_file, encoding="utf-8")
        except OSError as e:
            raise Exit(f"cannot write the log file {log_file}: {e.strerror}", EXIT_USAGE) from None
        fh.setLevel(numeric)
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(fh)
        root.setLevel(numeric)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="coop-archive")
def cli() -> None:
    """Keep a dated, structured, diffable SQLite archive of a web page and the documents it
    links to (by default the U.S. DOT U.S.-China Cooperation page)."""


def _register() -> None:
    # Imported here, not at module level, so that `import scraper.cli` stays cheap and each
    # command module imports its heavy dependencies only when its command runs.
    from scraper.cli import (
        commands_admin,
        commands_config,
        commands_crawl,
        commands_diff,
        commands_notify,
        commands_publish,
        commands_query,
        commands_reparse,
        commands_warc,
    )

    for module in (commands_crawl, commands_diff, commands_query, commands_warc, commands_admin,
                   commands_config, commands_notify, commands_publish, commands_reparse):
        module.register(cli)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``coop-archive`` console script and ``python -m scraper``."""
    _register()
    cli.main(args=argv, prog_name="coop-archive")
