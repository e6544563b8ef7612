"""Raw bodies, content-addressed and compressed against their predecessor.

Successive bodies of one page are near-identical (a form token, a timestamp, a rewritten
paragraph), so each body is compressed with zstandard using the page's *previous stored body*
as a raw-content dictionary: the delta codes only what changed since yesterday, tens of bytes
where the body costs tens of kilobytes, and a change is coded once, not again in every later
delta (as it would be against a fixed keyframe).

Chains are bounded: a body whose predecessor is already :data:`MAX_DEPTH` deltas away from a
standalone frame is coded against that chain's root instead (depth 1 again), and a body whose
delta is not small (more than :data:`KEYFRAME_RATIO` of its standalone frame) is stored alone
and becomes a new root. Decoding walks the chain iteratively from its root (never recursion),
so a body costs at most ``MAX_DEPTH + 1`` decompressions, each of a small delta but the first.

Codecs (``blobs.codec``):
- ``zstd``: ``data`` is a standard zstandard frame of the body alone (a *keyframe*, the root of
  a chain; ``zstd -d`` reads it).
- ``zstd-dict``: ``data`` is a zstandard frame made with the plain body of ``base_id`` as
  raw-content dictionary, written *magicless* and without content size or checksum (the
  blob's own sha256 and size check it) to save the fixed bytes of a tiny frame. By hand:
  ``(printf '\\x28\\xb5\\x2f\\xfd'; cat delta) | zstd -d -D base_body``.
- ``identity``: ``data`` is the body: a large body that does not compress (a PDF of scans,
  an archive file), kept as it is rather than held twice in memory for nothing.

Blobs are found by their sha256 (32 raw bytes, unique) and referred to by their integer id
(snapshots.body_id, blobs.base_id). A large encoded body is written into the row in parts
(:func:`insert`), so SQLite never holds a copy of it whole.
"""

from __future__ import annotations

import hashlib
import sqlite3
from dataclasses import dataclass

import zstandard

# A delta larger than this fraction of the standalone frame is not worth the dependency.
KEYFRAME_RATIO = 0.5
# At most this many deltas between a body and its chain's standalone root.
MAX_DEPTH = 32
# A body of at least _SAMPLE_FROM bytes whose middle _SAMPLE bytes do not shrink below
# _INCOMPRESSIBLE of their size is stored as it is (codec identity).
_SAMPLE_FROM = 4 << 20
_SAMPLE = 1 << 20
_INCOMPRESSIBLE = 0.97
# A delta at most 1/_OBVIOUS_DELTA of the plain body is kept without trying the keyframe.
_OBVIOUS_DELTA = 64
# zstd levels, chosen on the ingest benchmark's pages (docs/benchmarks.md, "Compression
# levels"). Keyframes: level 3, about 5% larger than level 9 in a quarter of its time; level 19
# (used before) is another tenth smaller than 9 for 25 times its time, and was nearly all of a
# first crawl's time. Keyframes are the first body of each page and the rare body unlike its
# predecessor: a small share of a long-lived archive, but all of a first crawl, of a WARC
# import or of a backfill's first captures. Deltas: level 9, whose window still reaches back
# through a predecessor of about 2 MB (at level 3 the delta of a one-paragraph edit to a 1.4 MB
# page is 93 KB instead of 194 B), at little more time than level 3 on ordinary pages.
# Decompression does not depend on the level: archives written at any level stay readable.
KEYFRAME_LEVEL = 3
DELTA_LEVEL = 9
# Encoded bodies of at least this many bytes are written with incremental blob I/O, in parts
# of _PART bytes: binding them whole, SQLite would copy the bytes, then build the row's record
# from the copy (two more copies of a 200 MB body in memory; docs/benchmarks.md, Memory).
STREAM_FROM = 1 << 20
_PART = 1 << 20


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``: how researchers and WARC records name a body."""
    return hashlib.sha256(data).hexdigest()


def sha256(data: bytes) -> bytes:
    """The sha256 of ``data`` (32 bytes): a blob's key (blobs.sha256)."""
    return hashlib.sha256(data).digest()


@dataclass(frozen=True)
class Encoded:
    """A body ready to store: its codec, its base's id (for ``zstd-dict``) and the bytes."""

    codec: str
    base: int | None
    data: bytes


def _raw_dict(plain: bytes) -> zstandard.ZstdCompressionDict:
    return zstandard.ZstdCompressionDict(plain, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def encode_alone(body: bytes) -> Encoded:
    """``body`` as a keyframe: a standard zstd frame of it alone, or, for a large body that
    does not compress (a PDF's images, an archive file), the body itself (``identity``)."""
    cctx = zstandard.ZstdCompressor(level=KEYFRAME_LEVEL)
    if len(body) >= _SAMPLE_FROM:
        # Sampled first, so that a 200 MB binary is not compressed to no avail: the frame
        # would be one more copy of it in memory while SQLite copies the row (docs/benchmarks.md,
        # Memory).
        mid = len(body) // 2
        sample = body[mid - _SAMPLE // 2: mid + _SAMPLE // 2]
        if len(cctx.compress(sample)) > _INCOMPRESSIBLE * len(sample):
            return Encoded("identity", None, body)
        data = cctx.compress(body)
        if len(data) > _INCOMPRESSIBLE * len(body):
            return Encoded("identity", None, body)
        return Encoded("zstd", None, data)
    return Encoded("zstd", None, cctx.compress(body))


def encode_delta(body: bytes, base_plain: bytes) -> bytes:
    """``body`` as a magicless zstd frame against ``base_plain`` (raw-content dictionary)."""
    params = zstandard.ZstdCompressionParameters.from_level(
        DELTA_LEVEL, source_size=len(body), dict_size=len(base_plain),
        format=zstandard.FORMAT_ZSTD1_MAGICLESS, write_content_size=0, write_checksum=0,
        write_dict_id=0)
    return zstandard.ZstdCompressor(dict_data=_raw_dict(base_plain),
                                    compression_params=params).compress(body)


def encode(body: bytes, base: tuple[int, bytes] | None = None,
           alone: Encoded | None = None) -> Encoded:
    """Compress ``body``, against ``base`` = (blob id, plain bytes of an earlier body) when
    given.

    Returns the standalone form when there is no base or the delta is not small enough.
    ``alone`` is the standalone form if the caller already made it.
    """
    if base is None or not base[1] or not body:
        return alone or encode_alone(body)
    delta = encode_delta(body, base[1])
    # A delta under 1/64 of the plain body is smaller than half of any standalone frame of a
    # real page (zstd does not shrink markup 32-fold), so the second compression is skipped:
    # a re-crawl of a changed page, a backfill, an import pay for one compression, not two.
    if alone is None and len(delta) * _OBVIOUS_DELTA <= len(body):
        return Encoded("zstd-dict", base[0], delta)
    alone = alone or encode_alone(body)
    if len(delta) > KEYFRAME_RATIO * len(alone.data):
        return alone
    return Encoded("zstd-dict", base[0], delta)


def decode(codec: str, data: bytes, base_plain: bytes | None = None) -> bytes:
    """Undo :func:`encode`. ``base_plain`` is the base's plain body for ``zstd-dict``."""
    if codec == "zstd":
        return zstandard.ZstdDecompressor().decompressobj().decompress(data)
    if codec == "zstd-dict":
        if base_plain is None:
            raise ValueError("zstd-dict blob needs its base body")
        d = zstandard.ZstdDecompressor(dict_data=_raw_dict(base_plain),
                                       format=zstandard.FORMAT_ZSTD1_MAGICLESS)
        obj = d.decompressobj()
        out = obj.decompress(data)
        if not obj.eof:
            raise ValueError("truncated zstd-dict frame")
        return out
    if codec == "identity":
        return data
    raise ValueError(f"unknown blob codec {codec!r}")


def decode_chain(chain: list[tuple[str, bytes]], base_plain: bytes | None = None) -> bytes:
    """Decode ``chain`` = [(codec, data), ...] from its root to the wanted body, iteratively.

    ``base_plain`` is the plain body the first element is a delta against (None when the first
    element is a keyframe).
    """
    plain = base_plain
    for codec, data in chain:
        plain = decode(codec, data, plain)
    if plain is None:
        raise ValueError("empty blob chain")
    return plain


def insert(conn: sqlite3.Connection, sha: bytes, size: int, enc: Encoded) -> int:
    """Store an encoded body as a new row of blobs and return its id.

    ``sha`` is the plain body's :func:`sha256`, ``size`` its length. A large ``enc.data`` is
    written into a zeroblob of its length with incremental blob I/O (Python 3.11+), part by
    part from a view of the caller's bytes: SQLite holds a page at a time, not the body.
    """
    n = len(enc.data)
    stream = n >= STREAM_FROM and hasattr(conn, "blobopen")
    cur = conn.execute(
        "INSERT INTO blobs (sha256, size, codec, base_id, stored_size, data)"
        f" VALUES (?, ?, ?, ?, ?, {'zeroblob(?)' if stream else '?'})",
        (sha, size, enc.codec, enc.base, n, n if stream else enc.data),
    )
    blob_id = int(cur.lastrowid or 0)
    if stream:
        view = memoryview(enc.data)
        with conn.blobopen("blobs", "data", blob_id) as out:
            for start in range(0, n, _PART):
                out.write(view[start:start + _PART])
    return blob_id


# A text of at least this many characters is written like a large body: SQLite keeps a
# statement's bound values until it runs again (and the sqlite3 module keeps its statements),
# so a 20 MB text bound once would stay copied in SQLite while the row is indexed.
TEXT_STREAM_FROM = 1 << 20


def text_value(conn: sqlite3.Connection, text: str) -> tuple[str, str | int]:
    """(SQL expression, its parameter) that stands for ``text`` in an INSERT: ``?`` and the
    text, or, for a long text, a TEXT of its UTF-8 length that :func:`fill_text` fills in
    place once the row is written."""
    if len(text) < TEXT_STREAM_FROM or not hasattr(conn, "blobopen"):
        return "?", text
    size = len(text) if text.isascii() else sum(
        len(text[i:i + _PART].encode("utf-8")) for i in range(0, len(text), _PART))
    return "CAST(zeroblob(?) AS TEXT)", size


def fill_text(conn: sqlite3.Connection, table: str, column: str, rowid: int, text: str,
              expression: str) -> None:
    """Write ``text`` (UTF-8, the database's encoding) into ``column`` of row ``rowid``, in
    parts, when :func:`text_value` gave ``expression`` for it: stored, it is the TEXT that
    binding it gives."""
    if expression == "?":
        return
    with conn.blobopen(table, column, rowid) as out:
        for start in range(0, len(text), _PART):
            out.write(text[start:start + _PART].encode("utf-8"))
