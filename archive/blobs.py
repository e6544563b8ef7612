"""Raw bodies, content-addressed and compressed against their predecessor.

Successive bodies of one page are near-identical (a form token, a timestamp, a rewritten
paragraph), so each body is compressed with zstandard using a *keyframe* of the same page as a
raw-content dictionary: the delta costs tens of bytes where the body costs tens of kilobytes.
A keyframe is itself stored alone (codec ``zstd``), so decoding a body needs at most one other
body: chains never grow. When a page drifts so far from its keyframe that the delta is no
longer small, the body becomes the page's next keyframe.

Codecs (``blobs.codec``):
- ``zstd``: ``data`` is a zstandard frame of the body alone.
- ``zstd-dict``: ``data`` is a zstandard frame made with the body of ``base_sha256`` (always a
  ``zstd`` blob) as raw-content dictionary.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import zstandard

# A delta larger than this fraction of the standalone frame is not worth the dependency.
KEYFRAME_RATIO = 0.5
_LEVEL_SMALL = 19  # bodies are small and written once: spend the CPU on size
_LEVEL_LARGE = 9
_LARGE = 2_000_000


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of ``data``: a blob's address."""
    return hashlib.sha256(data).hexdigest()


def _level(n: int) -> int:
    return _LEVEL_SMALL if n < _LARGE else _LEVEL_LARGE


@dataclass(frozen=True)
class Encoded:
    """A body ready to store: its codec, its base (for ``zstd-dict``) and the bytes."""

    codec: str
    base_sha256: str | None
    data: bytes


def encode(body: bytes, base: tuple[str, bytes] | None = None) -> Encoded:
    """Compress ``body``, against ``base`` = (sha256, plain bytes of a keyframe) when given.

    Returns the standalone form when there is no base or the delta is not small enough.
    """
    level = _level(len(body))
    alone = zstandard.ZstdCompressor(level=level).compress(body)
    if base is None or not base[1]:
        return Encoded("zstd", None, alone)
    zdict = zstandard.ZstdCompressionDict(base[1], dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    delta = zstandard.ZstdCompressor(level=level, dict_data=zdict).compress(body)
    if len(delta) > KEYFRAME_RATIO * len(alone):
        return Encoded("zstd", None, alone)
    return Encoded("zstd-dict", base[0], delta)


def decode(codec: str, data: bytes, base_plain: bytes | None = None) -> bytes:
    """Undo :func:`encode`. ``base_plain`` is the keyframe's body for ``zstd-dict``."""
    if codec == "zstd":
        return zstandard.ZstdDecompressor().decompress(data)
    if codec == "zstd-dict":
        if base_plain is None:
            raise ValueError("zstd-dict blob needs its base body")
        zdict = zstandard.ZstdCompressionDict(base_plain, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
        return zstandard.ZstdDecompressor(dict_data=zdict).decompress(data)
    if codec == "identity":
        return data
    raise ValueError(f"unknown blob codec {codec!r}")
