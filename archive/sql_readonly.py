"""Read-only SQL on the archive: ``coop-archive sql``.

Three guards against writing: the connection is ``mode=ro``; a statement starting with a
writing keyword is refused unread; and an authorizer denies anything but reading. The rows
are rendered for a terminal by :func:`archive.report_query.render_table`. A query is bounded
in time and size, and stops on Ctrl-C (:mod:`archive.reader_limits`).
"""

from __future__ import annotations

import re
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from archive.errors import UsageError
from archive.reader_limits import (
    DEFAULT_READER_LIMITS,
    ReaderLimits,
    fetch_bounded,
    limited,
    stop_reason,
)
from archive.store import Archive

# Statements that write or manage transactions. The authorizer below is the real guard; this
# catches one it never sees as a write (VACUUM INTO writes a new file) and gives the clearest
# message for the rest. Anything else goes to SQLite, which reports its own syntax errors.
_WRITE_KEYWORDS = {
    "INSERT", "UPDATE", "DELETE", "REPLACE", "UPSERT", "CREATE", "DROP", "ALTER", "ATTACH",
    "DETACH", "REINDEX", "ANALYZE", "VACUUM", "BEGIN", "COMMIT", "END", "ROLLBACK",
    "SAVEPOINT", "RELEASE",
}
_COMMENT_RE = re.compile(r"\s+|--[^\n]*(\n|$)|/\*.*?(\*/|$)", re.S)

# PRAGMAs that only report. A pragma with an argument is refused unless listed in the second
# set (their argument names what to report on, it does not set anything).
_PRAGMA_READ = {
    "user_version", "schema_version", "application_id", "page_count", "page_size",
    "freelist_count", "encoding", "journal_mode", "data_version", "compile_options",
    "database_list", "collation_list", "function_list", "module_list", "pragma_list",
    "table_list", "foreign_keys", "integrity_check", "quick_check", "foreign_key_check",
}
_PRAGMA_ARG = {
    "table_info", "table_xinfo", "table_list", "index_list", "index_info", "index_xinfo",
    "foreign_key_list", "integrity_check", "quick_check", "foreign_key_check",
}

_ACTION_NAMES = {
    sqlite3.SQLITE_INSERT: "INSERT", sqlite3.SQLITE_UPDATE: "UPDATE",
    sqlite3.SQLITE_DELETE: "DELETE", sqlite3.SQLITE_ATTACH: "ATTACH",
    sqlite3.SQLITE_DETACH: "DETACH", sqlite3.SQLITE_TRANSACTION: "a transaction",
    sqlite3.SQLITE_ALTER_TABLE: "ALTER TABLE", sqlite3.SQLITE_REINDEX: "REINDEX",
    sqlite3.SQLITE_ANALYZE: "ANALYZE", sqlite3.SQLITE_SAVEPOINT: "SAVEPOINT",
}


class _ReadOnlyAuthorizer:
    """A ``set_authorizer`` callback that allows reading and nothing else.

    ``mode=ro`` already stops writes to the archive, but not ATTACH of a new file, CREATE TEMP
    TABLE or VACUUM INTO, which write elsewhere; this denies those too and remembers what it
    denied so the message can say.
    """

    def __init__(self) -> None:
        self.denied: str | None = None

    def __call__(self, action: int, arg1: str | None, arg2: str | None, db: str | None,
                 trigger: str | None) -> int:
        if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_FUNCTION:
            if (arg2 or "").lower() == "load_extension":
                return self._deny("load_extension()")
            return sqlite3.SQLITE_OK
        if action == sqlite3.SQLITE_PRAGMA:
            name = (arg1 or "").lower()
            if (arg2 is None and name in _PRAGMA_READ) or (arg2 is not None
                                                           and name in _PRAGMA_ARG):
                return sqlite3.SQLITE_OK
            return self._deny(f"PRAGMA {name}" + (f" = {arg2}" if arg2 is not None else ""))
        if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_temp_master"):
            # SQLite asks this while it loads the schema; mode=ro makes any real write fail.
            return sqlite3.SQLITE_OK
        what = _ACTION_NAMES.get(action, "CREATE/DROP" if action <= 17 else f"action {action}")
        return self._deny(what + (f" on {arg1}" if arg1 and action != sqlite3.SQLITE_ATTACH
                                  else ""))

    def _deny(self, what: str) -> int:
        self.denied = self.denied or what
        return sqlite3.SQLITE_DENY


@dataclass
class QueryResult:
    """Columns and rows of a read-only query."""

    columns: list[str]
    rows: list[tuple[Any, ...]]

    def dicts(self) -> list[dict[str, Any]]:
        """Rows as dicts keyed by column name (a repeated name keeps its last value)."""
        return [dict(zip(self.columns, r, strict=True)) for r in self.rows]


def _first_keyword(sql: str) -> str:
    pos = 0
    while True:
        m = _COMMENT_RE.match(sql, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
    word = re.match(r"[A-Za-z]+", sql[pos:])
    return word.group(0).upper() if word else ""


def run_sql(archive: Archive, sql: str, params: Sequence[Any] | dict[str, Any] = (), *,
            limits: ReaderLimits = DEFAULT_READER_LIMITS,
            stop: threading.Event | None = None) -> QueryResult:
    """Run one read-only SQL statement on an archive opened with ``readonly=True``.

    Three guards: the connection is ``mode=ro``; a statement starting with a writing keyword
    (INSERT, DELETE, VACUUM, ATTACH, BEGIN...) is refused unread; and an authorizer denies
    anything but reading (ATTACH, temp tables, PRAGMA setters, load_extension). A refusal or an
    SQL error raises UsageError with one line.

    ``limits`` bound the query's time, its rows and its size (QueryLimitError); ``stop``, when
    set (SIGINT, SIGTERM), ends it at once (QueryStopped). See :mod:`archive.reader_limits`.
    """
    if not archive.readonly:
        raise UsageError("run_sql needs an archive opened with readonly=True")
    if not _first_keyword(sql):
        raise UsageError("empty SQL query")
    keyword = _first_keyword(sql)
    if keyword in _WRITE_KEYWORDS:
        raise UsageError(f"refused: {keyword} (coop-archive sql only reads; "
                         "the archive is opened read-only)")
    guard = _ReadOnlyAuthorizer()
    conn = archive.conn
    conn.set_authorizer(guard)
    watch = None
    try:
        with limited(conn, limits, stop) as watch:
            cur = conn.execute(sql, params)
            columns = [d[0] for d in cur.description or ()]
            rows = fetch_bounded(cur, limits)
    except sqlite3.Warning as e:  # e.g. "You can only execute one statement at a time."
        raise UsageError(f"SQL: {e}") from None
    except sqlite3.Error as e:
        limit = stop_reason(watch, e, limits) if watch is not None else None
        if limit is not None:
            raise limit from None
        if guard.denied:
            raise UsageError(f"refused: {guard.denied} (coop-archive sql only reads; "
                             "the archive is opened read-only)") from None
        if "readonly" in str(e) or "read-only" in str(e):
            raise UsageError(f"refused: {e} (coop-archive sql only reads)") from None
        raise UsageError(f"SQL error: {e}") from None
    finally:
        conn.set_authorizer(None)
    return QueryResult(columns, rows)

