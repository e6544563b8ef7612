"""The archive's schema, as an append-only list of migrations.

``PRAGMA user_version`` is the schema version: the number of migrations applied. Opening an
archive applies the missing ones in one transaction, after a backup copy made with SQLite's
backup API (see :func:`archive.migrate.migrate`). An archive whose version is higher than
``len(MIGRATIONS)`` was written by a newer coop-archive and is refused, never touched.

Never edit a migration that has shipped: add a new one. docs/schema.md documents the result.
"""

from __future__ import annotations

from archive import vocab
from archive.vocab import Outcome, RunStatus, Source, sql_list

# The vocabularies' SQL lists, in the order the first migrations spelled them. A shipped
# migration never changes: tests/unit/test_vocab.py checks V1 and V2 against their shipped text.
_STATUSES = sql_list((RunStatus.RUNNING, RunStatus.COMPLETE, RunStatus.PARTIAL,
                      RunStatus.FAILED, RunStatus.INTERRUPTED))
_SOURCES = sql_list(Source)
_OUTCOMES = sql_list(Outcome)
_CONTENT = sql_list(vocab.CONTENT_OUTCOMES)
_GOOD = sql_list(vocab.GOOD_OUTCOMES)
_BODY = sql_list(vocab.BODY_OUTCOMES)

# Migration 1: the core tables (runs, pages, blobs, header_sets, versions, sections, items,
# snapshots).
V1 = f"""
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seed_url TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        {_STATUSES}),
    source TEXT NOT NULL DEFAULT '{Source.CRAWL}' CHECK (source IN {_SOURCES}),
    pid INTEGER,
    tool_version TEXT,
    options TEXT,
    pages_fetched INTEGER NOT NULL DEFAULT 0,
    new_versions INTEGER NOT NULL DEFAULT 0,
    failures INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    first_seen TEXT NOT NULL,
    last_seen TEXT NOT NULL
);

-- Keyed by the body's hex sha256 and nothing else: WITHOUT ROWID keeps the key once (a rowid
-- table would repeat it in the primary key's index). base_sha256 is the body a zstd-dict blob
-- is a delta against (archive/blobs.py): a chain ends at a zstd keyframe.
CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    codec TEXT NOT NULL,
    base_sha256 TEXT REFERENCES blobs(sha256),
    stored_size INTEGER NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;

-- Header lists, each stored once however many snapshots sent or received it, found by hash:
-- the first 8 bytes of the sha256 of headers (as a signed integer), whose index is one entry
-- per set; id is a small integer, so a snapshot row pays a byte or two per reference. headers
-- is a JSON array of [name, value] pairs in order, with the value of the first Date header of
-- a response (it changes on every response) replaced by null at position date_index: the
-- snapshot keeps that value in response_date, so a set repeats from run to run.
-- snapshot_headers (V2) puts it back. response_date has no declared type: it holds the Unix
-- time (an integer, a few bytes) when the value was an IMF-fixdate that formatting that time
-- gives back exactly, else the text as received.
CREATE TABLE header_sets (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    headers TEXT NOT NULL,
    date_index INTEGER
);
CREATE INDEX header_sets_hash ON header_sets(hash);

CREATE TABLE versions (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'html',
    title TEXT,
    updated_on TEXT,
    text TEXT NOT NULL DEFAULT '',
    first_seen TEXT NOT NULL,
    parser_version INTEGER NOT NULL,
    UNIQUE (page_id, content_hash)
);

CREATE TABLE sections (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id),
    parent_id INTEGER REFERENCES sections(id),
    position INTEGER NOT NULL,
    level INTEGER NOT NULL,
    heading TEXT,
    text TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sections_version ON sections(version_id, position);

CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    version_id INTEGER NOT NULL REFERENCES versions(id),
    section_id INTEGER REFERENCES sections(id),
    position INTEGER NOT NULL,
    title TEXT NOT NULL,
    url TEXT,
    summary TEXT NOT NULL DEFAULT ''
);
CREATE INDEX items_version ON items(version_id, position);
CREATE INDEX items_url ON items(url);

CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    page_id INTEGER NOT NULL REFERENCES pages(id),
    captured_at TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '{Source.CRAWL}' CHECK (source IN {_SOURCES}),
    outcome TEXT NOT NULL CHECK (outcome IN
        {_OUTCOMES}),
    http_status INTEGER,
    final_url TEXT,
    content_type TEXT,
    body_sha256 TEXT REFERENCES blobs(sha256),
    version_id INTEGER REFERENCES versions(id),
    changed INTEGER NOT NULL DEFAULT 0 CHECK (changed IN (0, 1)),
    suspect INTEGER NOT NULL DEFAULT 0 CHECK (suspect IN (0, 1)),
    error TEXT,
    etag TEXT,
    last_modified TEXT,
    http_version TEXT,
    reason TEXT,
    response_headers_id INTEGER REFERENCES header_sets(id),
    request_headers_id INTEGER REFERENCES header_sets(id),
    response_date,
    redirects TEXT,
    bytes_received INTEGER,
    origin_uri TEXT
);
-- Each index is there for queries that would otherwise scan every snapshot (docs/schema.md
-- lists them): a page's history, previous capture and as-of lookups; a run's counts; the
-- archive's time range and global history; a version's captures (check, import); and the
-- first capture that delivered a body (WARC export of revisits), partial because only those
-- outcomes are asked for and a 304 (not_modified) repeats a body already indexed.
CREATE INDEX snapshots_page_time ON snapshots(page_id, captured_at);
CREATE INDEX snapshots_run ON snapshots(run_id);
CREATE INDEX snapshots_time ON snapshots(captured_at);
CREATE INDEX snapshots_version ON snapshots(version_id);
CREATE INDEX snapshots_body ON snapshots(body_sha256)
  WHERE outcome IN {_BODY};
"""


def _fts(table: str, first: str, second: str) -> str:
    """An FTS5 index over two columns of ``table`` and the triggers that keep it in step, in
    the layout sqlite-utils' ``enable_fts(create_triggers=True)`` makes (migration 7 drops the
    insert trigger: the store indexes the rows it inserts)."""
    cols, new, old = (f"{first}, {second}", f"new.{first}, new.{second}",
                      f"old.{first}, old.{second}")
    return f"""CREATE VIRTUAL TABLE {table}_fts USING FTS5 (
    {cols},
    tokenize='porter unicode61 remove_diacritics 2',
    content="{table}"
);
CREATE TRIGGER {table}_ai AFTER INSERT ON {table} BEGIN
  INSERT INTO {table}_fts (rowid, {cols}) VALUES (new.rowid, {new});
END;
CREATE TRIGGER {table}_ad AFTER DELETE ON {table} BEGIN
  INSERT INTO {table}_fts ({table}_fts, rowid, {cols})
    VALUES ('delete', old.rowid, {old});
END;
CREATE TRIGGER {table}_au AFTER UPDATE ON {table} BEGIN
  INSERT INTO {table}_fts ({table}_fts, rowid, {cols})
    VALUES ('delete', old.rowid, {old});
  INSERT INTO {table}_fts (rowid, {cols}) VALUES (new.rowid, {new});
END;
"""


# Migration 2: what researchers query. Full-text search and views over the core tables.
#
# FTS: one FTS5 index per searchable table, in the layout sqlite-utils' enable_fts(...,
# create_triggers=True) makes (external content ``content="<table>"``, triggers named
# <table>_ai/_ad/_au), so sqlite-utils' search() and Datasette's search box find them on their
# own. External content keeps the text once; here the triggers keep the index in step whatever
# writes the rows (from migration 7 on, the store indexes its own inserts instead, and only the
# delete and update triggers stay). Porter stemming: "emission" finds
# "emissions". `coop-archive rebuild-fts` runs FTS5's 'rebuild' if an index is ever in doubt.
#
# "Trustworthy" below means what archive.timeline calls GOOD and not suspect: a snapshot that
# really showed the page (new, unchanged, not_modified) and did not look like an error page.
V2 = f"""
{_fts("versions", "title", "text")}
{_fts("sections", "heading", "text")}
{_fts("items", "title", "summary")}
-- An archive migrated from V1 already has rows: index them.
INSERT INTO versions_fts (versions_fts) VALUES ('rebuild');
INSERT INTO sections_fts (sections_fts) VALUES ('rebuild');
INSERT INTO items_fts (items_fts) VALUES ('rebuild');

-- Covers version_spans: its aggregate reads this index alone, never the wide snapshot rows
-- (tens of thousands of them, each with its headers).
CREATE INDEX snapshots_version_good ON snapshots(version_id, captured_at)
  WHERE suspect = 0 AND outcome IN {_CONTENT};

-- Each snapshot's full response and request headers, as JSON arrays of [name, value] pairs in
-- the order received (sent), rebuilt from header_sets and the snapshot's own Date value.
CREATE VIEW snapshot_headers AS
SELECT s.id AS snapshot_id,
       CASE WHEN rh.date_index IS NULL OR s.response_date IS NULL THEN rh.headers
            ELSE json_replace(rh.headers, '$[' || rh.date_index || '][1]',
              CASE WHEN typeof(s.response_date) = 'integer' THEN
                substr('ThuFriSatSunMonTueWed', (s.response_date / 86400) % 7 * 3 + 1, 3)
                || strftime(', %d ', s.response_date, 'unixepoch')
                || substr('JanFebMarAprMayJunJulAugSepOctNovDec',
                          strftime('%m', s.response_date, 'unixepoch') * 3 - 2, 3)
                || strftime(' %Y %H:%M:%S GMT', s.response_date, 'unixepoch')
              ELSE s.response_date END)
       END AS response_headers,
       qh.headers AS request_headers
  FROM snapshots s
  LEFT JOIN header_sets rh ON rh.id = s.response_headers_id
  LEFT JOIN header_sets qh ON qh.id = s.request_headers_id;

-- Each version and the trustworthy snapshots that showed it.
CREATE VIEW version_spans AS
WITH spans AS (
  SELECT version_id, min(captured_at) AS first_seen, max(captured_at) AS last_seen,
         count(*) AS snapshots
    FROM snapshots
   WHERE suspect = 0 AND outcome IN {_CONTENT}
   GROUP BY version_id
)
SELECT v.id AS version_id, v.page_id, p.url AS page_url, v.title, v.updated_on, v.kind,
       sp.first_seen, sp.last_seen, coalesce(sp.snapshots, 0) AS snapshots,
       (SELECT min(n.captured_at) FROM snapshots n
         WHERE n.page_id = v.page_id AND n.captured_at > sp.last_seen AND n.suspect = 0
           AND n.outcome IN {_GOOD}
           AND n.version_id IS NOT v.id) AS replaced_at
  FROM versions v
  JOIN pages p ON p.id = v.page_id
  LEFT JOIN spans sp ON sp.version_id = v.id;

-- The last version of each page a trustworthy snapshot showed, and whether the page has been
-- found gone since.
CREATE VIEW latest_versions AS
WITH last AS (
  SELECT p.id AS page_id,
         (SELECT s.id FROM snapshots s
           WHERE s.page_id = p.id AND s.suspect = 0
             AND s.outcome IN {_CONTENT}
           ORDER BY s.captured_at DESC, s.id DESC LIMIT 1) AS snapshot_id,
         (SELECT s.id FROM snapshots s
           WHERE s.page_id = p.id AND s.suspect = 0
             AND s.outcome IN {_GOOD}
           ORDER BY s.captured_at DESC, s.id DESC LIMIT 1) AS checked_id
    FROM pages p
)
SELECT p.id AS page_id, p.url, s.version_id, v.title, v.updated_on, v.kind,
       v.first_seen AS version_first_seen, s.captured_at AS last_seen,
       CASE WHEN c.outcome = '{Outcome.GONE}' THEN 'gone' ELSE 'current' END AS status,
       c.captured_at AS checked_at, s.id AS snapshot_id
  FROM last
  JOIN pages p ON p.id = last.page_id
  JOIN snapshots s ON s.id = last.snapshot_id
  JOIN snapshots c ON c.id = last.checked_id
  JOIN versions v ON v.id = s.version_id;

-- Every item of every version, with its page, section and the version's dates.
CREATE VIEW hub_items AS
SELECT i.id AS item_id, i.version_id, v.page_id, p.url AS page_url, i.position,
       sec.heading AS section, i.title, i.url, i.summary,
       vs.first_seen AS version_first_seen, vs.last_seen AS version_last_seen,
       vs.replaced_at AS version_replaced_at
  FROM items i
  JOIN versions v ON v.id = i.version_id
  JOIN pages p ON p.id = v.page_id
  LEFT JOIN sections sec ON sec.id = i.section_id
  LEFT JOIN version_spans vs ON vs.version_id = i.version_id;

-- Each linked item (by URL; an item without a link by its title) across the whole archive.
CREATE VIEW item_history AS
WITH seen AS (
  SELECT coalesce(i.url, 'title:' || i.title) AS item_key, i.url, i.title, i.version_id,
         vs.page_id, vs.page_url, vs.first_seen, vs.last_seen, vs.replaced_at
    FROM items i
    JOIN version_spans vs ON vs.version_id = i.version_id
   WHERE vs.first_seen IS NOT NULL
),
agg AS (
  SELECT item_key, max(url) AS url, min(first_seen) AS first_seen,
         max(last_seen) AS last_seen, count(DISTINCT version_id) AS versions,
         count(DISTINCT title) AS titles, count(DISTINCT page_id) AS pages,
         group_concat(DISTINCT page_url) AS linked_from
    FROM seen GROUP BY item_key
)
SELECT a.url,
       (SELECT s.title FROM seen s WHERE s.item_key = a.item_key
         ORDER BY s.last_seen DESC, s.version_id DESC LIMIT 1) AS title,
       a.first_seen, a.last_seen,
       (SELECT s.replaced_at FROM seen s WHERE s.item_key = a.item_key
         ORDER BY s.last_seen DESC, s.version_id DESC LIMIT 1) AS removed_at,
       a.versions, a.titles, a.pages, a.linked_from, tp.id AS target_page_id
  FROM agg a
  LEFT JOIN pages tp ON tp.url = a.url;
"""

# Migration 3: the notification outbox (archive/outbox.py). One row per run and target: the
# message as sent (so a retry sends the same words), whether and when it was delivered, and
# the last error. The target is kept as a key (a hash of its URL) and the URL without its
# password: the archive may be published (`serve`), a notification URL's secret must not be.
V3 = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    watch TEXT,
    target_key TEXT NOT NULL,
    target TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_attempt_at TEXT,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (run_id, target_key)
);
CREATE INDEX outbox_pending ON outbox(id) WHERE delivered_at IS NULL;
"""

# Migration 4: what `reparse` replaced (scraper/sources/reparse.py, archive/rederive.py). When
# the current parser derives other records from a snapshot's stored body, the snapshot is
# repointed at the new derivation; a version no snapshot shows any more moves here whole (its
# sections and items as JSON), so the previous derivation stays queryable without appearing in
# search, the views or a diff. reparsed_snapshots says, per snapshot and reparse, which version
# it showed before (superseded_id when that version moved here, else old_version_id, still in
# versions) and which it shows now. Neither table is referenced by the core tables: deleting a
# version never has to look here.
V4 = """
CREATE TABLE superseded_versions (
    id INTEGER PRIMARY KEY,
    page_id INTEGER NOT NULL REFERENCES pages(id),
    version_id INTEGER NOT NULL,
    content_hash TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT,
    updated_on TEXT,
    text TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    parser_version INTEGER NOT NULL,
    sections TEXT NOT NULL,
    items TEXT NOT NULL,
    superseded_at TEXT NOT NULL,
    superseded_by_parser INTEGER NOT NULL
);
CREATE INDEX superseded_versions_page ON superseded_versions(page_id);

CREATE TABLE reparsed_snapshots (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id),
    reparsed_at TEXT NOT NULL,
    old_version_id INTEGER,
    old_parser_version INTEGER,
    superseded_id INTEGER REFERENCES superseded_versions(id),
    new_version_id INTEGER NOT NULL,
    new_parser_version INTEGER NOT NULL
);
CREATE INDEX reparsed_snapshots_snapshot ON reparsed_snapshots(snapshot_id);
"""


# Migration 5: the visible text outside each snapshot's main content (issue 15). The main content
# alone decides versions; the rest of what a reader sees (menus, asides, footers, "Trending
# now") is kept per snapshot, searchable, without making versions. Stored by line, each
# distinct line once (text_lines), a snapshot's text as the list of its lines' ids
# (outside_texts, each distinct list once): a footer's rotating counter costs one new line
# and one new list, not a copy of the page's chrome. hash columns are the first 8 bytes of the
# sha256 of the text (a line's; for outside_texts the whole text's, lines joined by "\n"), as a
# signed integer: a lookup key, not unique.
V5 = """
CREATE TABLE text_lines (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX text_lines_hash ON text_lines(hash);

CREATE TABLE outside_texts (
    id INTEGER PRIMARY KEY,
    hash INTEGER NOT NULL,
    lines TEXT NOT NULL
);
CREATE INDEX outside_texts_hash ON outside_texts(hash);

ALTER TABLE snapshots ADD COLUMN outside_text_id INTEGER REFERENCES outside_texts(id);

CREATE VIRTUAL TABLE text_lines_fts USING FTS5 (
    text,
    tokenize='porter unicode61 remove_diacritics 2',
    content="text_lines"
);
CREATE TRIGGER text_lines_ai AFTER INSERT ON text_lines BEGIN
  INSERT INTO text_lines_fts (rowid, text) VALUES (new.rowid, new.text);
END;
CREATE TRIGGER text_lines_ad AFTER DELETE ON text_lines BEGIN
  INSERT INTO text_lines_fts (text_lines_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
END;
CREATE TRIGGER text_lines_au AFTER UPDATE ON text_lines BEGIN
  INSERT INTO text_lines_fts (text_lines_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
  INSERT INTO text_lines_fts (rowid, text) VALUES (new.rowid, new.text);
END;

-- Each snapshot's text outside the main content, lines in order.
CREATE VIEW snapshot_outside_text AS
SELECT s.id AS snapshot_id, s.page_id, s.captured_at,
       (SELECT group_concat(t, char(10)) FROM
          (SELECT l.text AS t FROM json_each(o.lines) j JOIN text_lines l ON l.id = j.value
            ORDER BY j.key)) AS text
  FROM snapshots s JOIN outside_texts o ON o.id = s.outside_text_id;
"""

# Migration 6: a parse budget that cut a document short is recorded on its snapshot (issue 16):
# the text kept is what the budget let through, and the snapshot says so and why (NULL: whole).
V6 = """
ALTER TABLE snapshots ADD COLUMN truncated TEXT;
"""

# Migration 7: the store fills the full-text indexes itself (issue 12). A trigger per inserted row
# cost about three times what one ``INSERT INTO <table>_fts ... SELECT`` per version costs for
# the same text (archive/store.py ``_index_new_rows``), and ingest spent most of its store time
# there. The delete and update triggers stay, so a reparse, a deletion or an edit by another
# tool keeps the indexes in step; a row inserted by another tool is indexed by
# ``coop-archive rebuild-fts`` (``coop-archive check`` finds it missing).
V7 = """
DROP TRIGGER versions_ai;
DROP TRIGGER sections_ai;
DROP TRIGGER items_ai;
DROP TRIGGER text_lines_ai;
"""


def _snapshots_v8() -> str:
    """The snapshots table of schema 8 as ``snapshots_v8``: V1's definition with the body
    referred to by blob id, and the columns V5 and V6 added, in the same order."""
    start = V1.index("CREATE TABLE snapshots (")
    v1 = V1[start:V1.index("\n);", start)]
    old = "body_sha256 TEXT REFERENCES blobs(sha256),"
    assert old in v1
    return (v1.replace("CREATE TABLE snapshots (", "CREATE TABLE snapshots_v8 (")
            .replace(old, "body_id INTEGER REFERENCES blobs(id),")
            + ",\n    outside_text_id INTEGER REFERENCES outside_texts(id),"
              "\n    truncated TEXT\n);")


_SNAPSHOTS_V8 = _snapshots_v8()

# Migration 8 (it does not depend on 7): compact storage (issue 12). Blobs become a rowid
# table: an integer id (what a snapshot and a delta's base refer to, a byte or three instead
# of 64 hex characters), the sha256 as its 32 raw bytes (unique, the lookup key), and rowids
# make SQLite's incremental blob I/O possible, so a large body is written in parts into a
# zeroblob rather than bound whole (SQLite would copy it, then build the row's record from the
# copy). snapshots.body_sha256 becomes snapshots.body_id; the views blobs_hex and snapshot_bodies
# give back the hex spellings. Both tables are rebuilt the way SQLite's documentation
# describes (new table, copy, drop, rename) with foreign keys off (archive/migrate.py) and
# legacy_alter_table on, so the views that name snapshots are left as they are and find the
# new table under the old name. Ids of snapshots are kept; blob ids are given in the order of
# the first snapshot that received each body. unhex() is SQLite's (3.41+) or, on an older
# SQLite, the same function supplied by archive/migrate.py for the migration.
V8 = f"""
PRAGMA legacy_alter_table = ON;

CREATE TEMP TABLE blob_ids (id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE);
INSERT INTO blob_ids (sha256)
SELECT b.sha256 FROM blobs b
  LEFT JOIN (SELECT body_sha256 AS sha, min(id) AS first FROM snapshots
              WHERE body_sha256 IS NOT NULL GROUP BY body_sha256) f ON f.sha = b.sha256
 ORDER BY f.first IS NULL, f.first, b.sha256;

CREATE TABLE blobs_v8 (
    id INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    codec TEXT NOT NULL,
    base_id INTEGER REFERENCES blobs(id),
    stored_size INTEGER NOT NULL,
    data BLOB NOT NULL
);
INSERT INTO blobs_v8 (id, sha256, size, codec, base_id, stored_size, data)
SELECT i.id, unhex(b.sha256), b.size, b.codec, k.id, b.stored_size, b.data
  FROM blobs b JOIN blob_ids i ON i.sha256 = b.sha256
  LEFT JOIN blob_ids k ON k.sha256 = b.base_sha256
 ORDER BY i.id;

{_SNAPSHOTS_V8}
INSERT INTO snapshots_v8 (id, run_id, page_id, captured_at, source, outcome, http_status,
    final_url, content_type, body_id, version_id, changed, suspect, error, etag,
    last_modified, http_version, reason, response_headers_id, request_headers_id,
    response_date, redirects, bytes_received, origin_uri, outside_text_id, truncated)
SELECT s.id, s.run_id, s.page_id, s.captured_at, s.source, s.outcome, s.http_status,
       s.final_url, s.content_type, i.id, s.version_id, s.changed, s.suspect, s.error, s.etag,
       s.last_modified, s.http_version, s.reason, s.response_headers_id, s.request_headers_id,
       s.response_date, s.redirects, s.bytes_received, s.origin_uri, s.outside_text_id,
       s.truncated
  FROM snapshots s LEFT JOIN blob_ids i ON i.sha256 = s.body_sha256
 ORDER BY s.id;

-- A reference schema 7 (or earlier) held to a body whose blob was already missing (no blob
-- id can stand for it): its hex hash is kept here, so that nothing of the old rows is lost,
-- the views give it back and check reports the snapshot's (or delta's) body as missing.
-- Exactly one of snapshot_id (a snapshot's body) and blob_id (a delta blob's base) is set.
CREATE TABLE missing_blobs (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER REFERENCES snapshots(id),
    blob_id INTEGER REFERENCES blobs(id),
    sha256 TEXT NOT NULL,
    CHECK ((snapshot_id IS NULL) != (blob_id IS NULL))
);
INSERT INTO missing_blobs (snapshot_id, sha256)
SELECT s.id, s.body_sha256 FROM snapshots s
 WHERE s.body_sha256 IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.sha256 = s.body_sha256)
 ORDER BY s.id;
INSERT INTO missing_blobs (blob_id, sha256)
SELECT i.id, b.base_sha256 FROM blobs b JOIN blob_ids i ON i.sha256 = b.sha256
 WHERE b.base_sha256 IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM blobs k WHERE k.sha256 = b.base_sha256)
 ORDER BY i.id;

DROP TABLE snapshots;
DROP TABLE blobs;
DROP TABLE blob_ids;
ALTER TABLE blobs_v8 RENAME TO blobs;
ALTER TABLE snapshots_v8 RENAME TO snapshots;
PRAGMA legacy_alter_table = OFF;

-- The indexes of V1 and V2 again, on the new table (see docs/schema.md for what each serves).
CREATE INDEX snapshots_page_time ON snapshots(page_id, captured_at);
CREATE INDEX snapshots_run ON snapshots(run_id);
CREATE INDEX snapshots_time ON snapshots(captured_at);
CREATE INDEX snapshots_version ON snapshots(version_id);
CREATE INDEX snapshots_body ON snapshots(body_id)
  WHERE outcome IN {_BODY};
CREATE INDEX snapshots_version_good ON snapshots(version_id, captured_at)
  WHERE suspect = 0 AND outcome IN {_CONTENT};

-- The blobs table as it was before schema 8: hashes as lowercase hex (a delta's base that was
-- already missing before schema 8 by the hash missing_blobs kept).
CREATE VIEW blobs_hex AS
SELECT b.id, lower(hex(b.sha256)) AS sha256, b.size, b.codec,
       CASE WHEN k.id IS NOT NULL THEN lower(hex(k.sha256))
            ELSE (SELECT m.sha256 FROM missing_blobs m WHERE m.blob_id = b.id) END
         AS base_sha256,
       b.stored_size, b.data
  FROM blobs b LEFT JOIN blobs k ON k.id = b.base_id;

-- The body of each snapshot that has one, by its hex sha256 (snapshots.body_sha256 before
-- schema 8); a body already missing before schema 8 by the hash missing_blobs kept, with
-- body_id and size NULL.
CREATE VIEW snapshot_bodies AS
SELECT s.id AS snapshot_id, s.body_id, lower(hex(b.sha256)) AS body_sha256, b.size
  FROM snapshots s JOIN blobs b ON b.id = s.body_id
UNION ALL
SELECT m.snapshot_id, NULL, m.sha256, NULL
  FROM missing_blobs m WHERE m.snapshot_id IS NOT NULL;
"""

MIGRATIONS: list[str] = [V1, V2, V3, V4, V5, V6, V7, V8]

SCHEMA_VERSION = len(MIGRATIONS)
