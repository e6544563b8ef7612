"""The SQLite archive: storage (:mod:`archive.store`), diffs (:mod:`archive.diff`),
queries (:mod:`archive.query`) and web-archive interchange (:mod:`archive.warc_export`)."""

__version__ = "0.1.0"
