"""The archive's schema, as an append-only list of migrations.

``PRAGMA user_version`` is the schema version: the number of migrations applied. Opening an
archive applies the missing ones in one transaction, after a backup copy made with SQLite's
backup API (see :func:`archive.store.migrate`). An archive whose version is higher than
``len(MIGRATIONS)`` was written by a newer coop-archive and is refused, never touched.

Never edit a migration that has shipped: add a new one. docs/schema.md documents the result.
"""

from __future__ import annotations

# Migration 1: the core tables (runs, pages, blobs, versions, sections, items, snapshots).
V1 = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    seed_url TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN
        ('running', 'complete', 'partial', 'failed', 'interrupted')),
    source TEXT NOT NULL DEFAULT 'crawl' CHECK (source IN ('crawl', 'import', 'wayback', 'demo')),
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

CREATE TABLE blobs (
    sha256 TEXT PRIMARY KEY,
    content_type TEXT,
    size INTEGER NOT NULL,
    codec TEXT NOT NULL,
    base_sha256 TEXT REFERENCES blobs(sha256),
    stored_size INTEGER NOT NULL,
    data BLOB NOT NULL
);

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
    source TEXT NOT NULL DEFAULT 'crawl' CHECK (source IN ('crawl', 'import', 'wayback', 'demo')),
    outcome TEXT NOT NULL CHECK (outcome IN
        ('new', 'unchanged', 'not_modified', 'gone', 'failed', 'blocked')),
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
    response_headers TEXT,
    request_headers TEXT,
    redirects TEXT,
    bytes_received INTEGER,
    origin_uri TEXT
);
CREATE INDEX snapshots_page_time ON snapshots(page_id, captured_at);
CREATE INDEX snapshots_run ON snapshots(run_id);
CREATE INDEX snapshots_time ON snapshots(captured_at);
CREATE INDEX snapshots_version ON snapshots(version_id);
CREATE INDEX snapshots_body ON snapshots(body_sha256);
"""

MIGRATIONS: list[str] = [V1]

SCHEMA_VERSION = len(MIGRATIONS)
