"""Datasette's metadata for an archive: titles, descriptions, labels, FTS and the canned
queries of docs/schema.md (``coop-archive serve``)."""

from __future__ import annotations

import json
import os
from importlib import resources
from pathlib import Path
from typing import Any

METADATA_FILE = "datasette-metadata.json"
_METADATA_DB = "coop-archive"  # the database key in the JSON file: a file named coop-archive.db


def datasette_metadata(db_path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The Datasette metadata (titles, descriptions, labels, FTS, canned queries) for the
    archive at ``db_path``: archive/datasette-metadata.json with its database key renamed to
    the file's stem, which is the name Datasette gives the database."""
    text = resources.files("archive").joinpath(METADATA_FILE).read_text(encoding="utf-8")
    meta: dict[str, Any] = json.loads(text)
    if db_path is not None:
        name = Path(os.fspath(db_path)).stem
        meta["databases"] = {name: meta["databases"][_METADATA_DB]}
    return meta


def canned_queries() -> dict[str, dict[str, Any]]:
    """The example queries of docs/schema.md, as Datasette canned queries (name -> config)."""
    queries: dict[str, dict[str, Any]] = datasette_metadata()["databases"][_METADATA_DB][
        "queries"]
    return queries
