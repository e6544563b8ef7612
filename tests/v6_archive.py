"""An archive as coop-archive wrote it before schema 8: a current archive put back, row for
row, into the tables of migrations 1-6 (body hashes as hex, blobs keyed by them)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive.schema import MIGRATIONS

V6 = 6


def put_back_to_v6(src: Path, dest: Path) -> None:
    """Write ``src`` (current schema) into a fresh archive built by migrations 1-6 alone."""
    conn = sqlite3.connect(dest)
    for script in MIGRATIONS[:V6]:
        conn.executescript(script)
    conn.execute(f"PRAGMA user_version = {V6}")
    conn.execute("ATTACH DATABASE ? AS src", (str(src),))
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM main.sqlite_master WHERE type = 'table' AND name NOT LIKE '%fts%'"
        " AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        cols = [r[1] for r in conn.execute(f"PRAGMA main.table_info({table})")]
        picked = []
        for c in cols:
            if (table, c) == ("snapshots", "body_sha256"):
                c = "(SELECT lower(hex(b.sha256)) FROM src.blobs b WHERE b.id = t.body_id)"
            elif (table, c) == ("blobs", "sha256"):
                c = "lower(hex(t.sha256))"
            elif (table, c) == ("blobs", "base_sha256"):
                c = "(SELECT lower(hex(k.sha256)) FROM src.blobs k WHERE k.id = t.base_id)"
            else:
                c = f"t.{c}"
            picked.append(c)
        # Rows go in in id order, as they were written; the FTS triggers index them.
        order = "" if table == "blobs" else " ORDER BY t.rowid"
        conn.execute(f"INSERT INTO main.{table} ({', '.join(cols)})"
                     f" SELECT {', '.join(picked)} FROM src.{table} t{order}")
    conn.commit()
    conn.execute("DETACH DATABASE src")
    conn.close()
