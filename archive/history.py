"""The ``history`` listing: every snapshot of a page (or of every page) as a text table or as
JSON lines, laid out straight from the cursor.

:meth:`archive.store.Archive.history` returns the rows as plain tuples (the library's API);
:func:`history_text` lays such rows out. The command does not go through them: on the 38,233
rows of the ten-year bench archive (docs/benchmarks.md, section 5) building the tuples, then
one dict and one encoder call per row for ``--json``, cost more than SQLite's own work.
:func:`history_listing` reads the cursor's rows (the page's id where the tuples have its URL;
the text listing does not fetch the columns it does not show) and makes each line from parts
that repeat (a page's URL, the middle of a line, a run id) made once. Its output is
:func:`history_text`'s byte for byte (tests/e2e/test_history_listing.py compares them).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from json.encoder import encode_basestring
from operator import itemgetter
from typing import TYPE_CHECKING, Any

from archive.text import json_safe, printable
from archive.vocab import HISTORY_COLUMNS

if TYPE_CHECKING:
    import sqlite3

    from archive.store import Archive

_HEADER = (f"{'id':>6} {'captured at (UTC)':<27} {'http':>4} {'version':<7}  {'outcome':<12} "
           "url  (* changed)")
#: Every column, in the order of HISTORY_COLUMNS (the page's id in the place of its URL).
_SQL_ALL = ("SELECT id, page_id, run_id, captured_at, source, outcome, http_status, final_url,"
            " version_id, changed, suspect, error, truncated FROM snapshots")
#: What the text listing shows, in the order :func:`_text` takes it: each column handed over
#: costs one more Python object per row, a NULL one too.
_SQL_TEXT = ("SELECT id, page_id, captured_at, outcome, http_status, version_id, changed,"
             " suspect, error, truncated FROM snapshots")
#: :data:`_SQL_TEXT`'s columns taken from a row of HISTORY_COLUMNS.
_TEXT_COLUMNS = itemgetter(0, 1, 3, 5, 6, 8, 9, 10, 11, 12)
_ORDER = " ORDER BY captured_at, id"


def snapshot_rows(conn: sqlite3.Connection, page_id: int | None = None, *,
                  every_column: bool = True) -> tuple[dict[int, str], Iterator[tuple[Any, ...]]]:
    """The snapshots (of page ``page_id``, or of every page), oldest first, as they are
    stored: ``(urls, rows)``, ``urls`` the page URLs by page id and ``rows`` the cursor's
    tuples in the order of :data:`archive.vocab.HISTORY_COLUMNS`, with the page's id where
    that has ``url``, and ``final_url`` None when it is the page's URL. Without
    ``every_column``, only the columns the text listing shows: ``id``, the page's id,
    ``captured_at``, ``outcome``, ``http_status``, ``version_id``, ``changed``, ``suspect``,
    ``error``, ``truncated``."""
    cur = conn.cursor()
    cur.row_factory = None
    sql = _SQL_ALL if every_column else _SQL_TEXT
    if page_id is None:
        urls = dict(cur.execute("SELECT id, url FROM pages").fetchall())
        return urls, cur.execute(sql + _ORDER)
    row = cur.execute("SELECT url FROM pages WHERE id = ?", (page_id,)).fetchone()
    if row is None:
        return {}, iter(())
    return {page_id: row[0]}, cur.execute(sql + " WHERE page_id = ?" + _ORDER, (page_id,))


def history_text(rows: Iterable[tuple[Any, ...]], *, as_json: bool = False) -> str:
    """The ``history`` listing of snapshot rows (:meth:`archive.store.Archive.history`, columns
    :data:`archive.vocab.HISTORY_COLUMNS`): a header, then one line per snapshot (time, status,
    version, changed mark, outcome, URL, flags, error), or one JSON object per line. "" for no
    rows."""
    rows = list(rows)
    if not rows:
        return ""
    if as_json:
        # one encoder for every row: json.dumps with an option builds a new one per call
        encode = json.JSONEncoder(ensure_ascii=False).encode
        # json escapes only C0: C1 (U+009B is CSI) and bidi controls would reach the terminal
        return json_safe("\n".join(encode(dict(zip(HISTORY_COLUMNS, r, strict=True)))
                                   for r in rows))
    return _text(map(_TEXT_COLUMNS, rows), {r[1]: r[1] for r in rows})


def history_listing(archive: Archive, url: str | None = None, *, as_json: bool = False) -> str:
    """:func:`history_text` of ``archive.history(url)`` (``url`` normalised; None for every
    page), made from the cursor's rows. "" when there are none."""
    page_id = None
    if url is not None:
        page_id = archive.page_id(url)
        if page_id is None:
            return ""
    urls, rows = snapshot_rows(archive.conn, page_id, every_column=as_json)
    return _json(rows, urls) if as_json else _text(rows, urls)


def _text(rows: Iterable[tuple[Any, ...]], urls: Mapping[Any, str]) -> str:
    """The text listing of rows of :data:`_SQL_TEXT`'s columns whose second is a key of
    ``urls``."""
    # The rest of a line after the time (status, version, mark, outcome, URL) takes few
    # values: made once each.
    rests: dict[tuple[Any, ...], str] = {}
    out = [_HEADER]
    append = out.append
    for (id_, page, captured_at, outcome, status, version, changed, suspect, error,
         truncated) in rows:
        key = (status, version, changed, outcome, page)
        rest = rests.get(key)
        if rest is None:
            rest = rests[key] = (f" {'-' if status is None else status:>4} "
                                 f"v{'-' if version is None else version:<6}"
                                 f"{'*' if changed else ' '} {outcome:<12} {urls[page]}")
        line = f"{id_:>6} {captured_at}{rest}"
        if suspect or truncated or error:
            if suspect:
                line += " suspect"
            if truncated:
                line += " truncated (" + truncated.replace("\n", " ") + ")"
            if error:  # a new line inside it would break the one-line-per-snapshot layout
                line += "  " + error.replace("\n", " ")
        append(line)
    return printable("\n".join(out)) if len(out) > 1 else ""


def _json(rows: Iterable[tuple[Any, ...]], urls: Mapping[int, str]) -> str:
    """The JSON lines of the cursor's rows (:func:`snapshot_rows`), each what
    ``json.dumps(dict(zip(HISTORY_COLUMNS, row)), ensure_ascii=False)`` writes.

    Each value's JSON is made by the same encoder; the parts that repeat (the page's URL, a
    run id, the middle of the line) are encoded once and looked up by value. That is exact
    for values read from SQLite: the only Python values of different JSON that compare equal
    are an int and a float, and SQLite hands back a float from an INTEGER column only when it
    is not a whole number (a TEXT column turns numbers into text).
    """
    encode = json.JSONEncoder(ensure_ascii=False).encode
    name = [encode(c) + ": " for c in HISTORY_COLUMNS]
    url_part = {page: ", " + name[1] + encode(url) for page, url in urls.items()}
    runs: dict[Any, str] = {}
    middles: dict[tuple[Any, ...], str] = {}
    no_error = ", " + name[11] + "null, " + name[12] + "null}"
    head = "{" + name[0]
    out = []
    for (id_, page, run_id, captured_at, source, outcome, status, final_url, version, changed,
         suspect, error, truncated) in rows:
        run = runs.get(run_id)
        if run is None:
            run = runs[run_id] = ", " + name[2] + encode(run_id) + ", " + name[3]
        key = (page, source, outcome, status, final_url, version, changed, suspect)
        middle = middles.get(key)
        if middle is None:
            final = None if status is None else urls[page] if final_url is None else final_url
            middle = middles[key] = "".join(
                ", " + name[i] + encode(v) for i, v in
                ((4, source), (5, outcome), (6, status), (7, final), (8, version),
                 (9, changed), (10, suspect)))
        tail = no_error if error is None and truncated is None else (
            ", " + name[11] + encode(error) + ", " + name[12] + encode(truncated) + "}")
        at = encode_basestring(captured_at) if captured_at.__class__ is str \
            else encode(captured_at)
        # id is the rowid, always an int: its JSON is its decimal spelling
        out.append(f"{head}{id_}{url_part[page]}{run}{at}{middle}{tail}")
    # json escapes only C0: C1 (U+009B is CSI) and bidi controls would reach the terminal
    return json_safe("\n".join(out))
