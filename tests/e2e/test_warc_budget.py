"""WARC import budgets (issue 16): a payload is limited by the same --max-bytes as a crawl,
enforced while it streams. A 5 KB .warc.gz whose payload inflates to 2 GiB is imported quickly
under a fixed memory ceiling: that record is skipped with its reason, the rest is imported,
and nothing oversized is stored."""

from __future__ import annotations

import gzip
import resource
import sqlite3
import struct
import subprocess
import time
import zlib
from pathlib import Path

from tests.cli import cli_command

GIB = 1 << 30


def gzip_of_zeros(size: int) -> bytes:
    """A gzip stream of ``size`` zero bytes (a multiple of 1 MiB), built block by block: each
    fully flushed deflate block of 1 MiB of zeros is the same ~1 KB, so it costs a second."""
    chunk = bytes(1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    count = size >> 20
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + block * count + co.flush()
            + struct.pack("<II", crc, size & 0xFFFFFFFF))


def response_record(uri: str, date: str, body: bytes, *, encoding: str | None = None,
                    content_type: str = "text/html; charset=utf-8") -> bytes:
    """One WARC response record (its own gzip member, as in a .warc.gz)."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\n".encode()
    if encoding:
        head += f"Content-Encoding: {encoding}\r\n".encode()
    http = head + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    rid = f"<urn:uuid:00000000-0000-4000-8000-{abs(hash(uri + date)) % 10**12:012d}>"
    warc = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: {rid}\r\n"
            f"WARC-Date: {date}\r\nWARC-Target-URI: {uri}\r\n"
            "Content-Type: application/http; msgtype=response\r\n"
            f"Content-Length: {len(http)}\r\n\r\n").encode() + http + b"\r\n\r\n"
    return gzip.compress(warc, 9)


def _limit_memory() -> None:
    ceiling = 1 * GIB  # the 2 GiB payload could never be inflated whole under it
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))


def test_a_warc_bomb_is_skipped_while_streaming_under_a_memory_ceiling(tmp_path: Path) -> None:
    page = (b"<html><head><title>Fine</title></head><body><main><p>A page of text.</p>"
            b"</main></body></html>")
    bomb = (response_record("http://127.0.0.1:9/bomb", "2024-01-01T00:00:00Z",
                            gzip_of_zeros(2 * GIB), encoding="gzip")
            + response_record("http://127.0.0.1:9/fine", "2024-01-02T00:00:00Z", page))
    path = tmp_path / "bomb.warc.gz"
    path.write_bytes(bomb)
    assert path.stat().st_size < 20_000
    db = tmp_path / "a.db"
    started = time.monotonic()
    out = subprocess.run(cli_command("import", str(path), "--db", str(db)),
                         capture_output=True, text=True, timeout=120, check=False,
                         preexec_fn=_limit_memory)
    took = time.monotonic() - started
    assert out.returncode == 1, out.stderr  # partial: one record skipped, the rest imported
    assert "http://127.0.0.1:9/bomb: payload exceeds 20000000 bytes" in out.stderr
    assert "MemoryError" not in out.stderr
    assert took < 60
    conn = sqlite3.connect(db)
    urls = [r[0] for r in conn.execute(
        "SELECT p.url FROM snapshots s JOIN pages p ON p.id = s.page_id")]
    assert urls == ["http://127.0.0.1:9/fine"]
    assert conn.execute("SELECT max(length(text)) FROM versions").fetchone()[0] < 1000
    conn.close()


def test_import_max_bytes_is_the_crawls_option(tmp_path: Path) -> None:
    body = b"<html><body><main><p>" + b"x" * 5000 + b"</p></main></body></html>"
    path = tmp_path / "a.warc.gz"
    path.write_bytes(response_record("http://127.0.0.1:9/a", "2024-01-01T00:00:00Z", body))
    small = subprocess.run(cli_command("import", str(path), "--db", str(tmp_path / "s.db"),
                                       "--max-bytes", "1000"),
                           capture_output=True, text=True, timeout=60, check=False)
    assert small.returncode == 3, small.stderr  # the only capture was skipped
    assert "payload exceeds 1000 bytes" in small.stderr
    whole = subprocess.run(cli_command("import", str(path), "--db", str(tmp_path / "w.db")),
                           capture_output=True, text=True, timeout=60, check=False)
    assert whole.returncode == 0, whole.stderr


def gzip_record_of_zeros(uri: str, size: int) -> bytes:
    """A .warc.gz member whose record block is ``size`` zero bytes: ``size`` / 1000 on disk."""
    head = (f"WARC/1.0\r\nWARC-Type: resource\r\nWARC-Record-ID: <urn:uuid:{size:032x}>\r\n"
            f"WARC-Date: 2024-01-01T00:00:00Z\r\nWARC-Target-URI: {uri}\r\n"
            f"Content-Type: text/html\r\nContent-Length: {size}\r\n\r\n").encode()
    tail = b"\r\n\r\n"
    chunk = bytes(1 << 20)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = co.compress(head) + co.flush(zlib.Z_FULL_FLUSH)
    block = co.compress(chunk) + co.flush(zlib.Z_FULL_FLUSH)
    count = size >> 20
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(chunk, crc)
    crc = zlib.crc32(tail, crc)
    total = len(head) + size + len(tail)
    return (b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff" + first + block * (count - 1)
            + co.compress(chunk) + co.compress(tail) + co.flush()
            + struct.pack("<II", crc, total & 0xFFFFFFFF))


def test_a_record_that_inflates_to_gigabytes_is_stepped_over(tmp_path: Path) -> None:
    page = b"<html><head><title>Fine</title></head><body><p>Text.</p></body></html>"
    path = tmp_path / "block.warc.gz"
    path.write_bytes(gzip_record_of_zeros("http://127.0.0.1:9/zeros", 2 * GIB)
                     + response_record("http://127.0.0.1:9/fine", "2024-01-02T00:00:00Z",
                                       page))
    assert path.stat().st_size < 3_000_000  # 2 MB that inflate to 2 GiB
    started = time.monotonic()
    out = subprocess.run(cli_command("import", str(path), "--db", str(tmp_path / "a.db")),
                         capture_output=True, text=True, timeout=120, check=False,
                         preexec_fn=_limit_memory)
    assert out.returncode == 1, out.stderr
    assert "record larger than" in out.stderr and "MemoryError" not in out.stderr
    assert time.monotonic() - started < 15  # not inflated through: that alone takes longer
    conn = sqlite3.connect(tmp_path / "a.db")
    assert [r[0] for r in conn.execute("SELECT url FROM pages")] == ["http://127.0.0.1:9/fine"]
    conn.close()


def _peak_rss_of_import(tmp_path: Path, name: str, *bodies: bytes) -> int:
    """The peak RSS (bytes) of ``coop-archive import`` of one record per body (a day apart),
    measured by a fresh parent process so no other child of this test run counts."""
    import sys

    path = tmp_path / f"{name}.warc.gz"
    path.write_bytes(b"".join(
        response_record(f"http://127.0.0.1:9/{name}", f"2024-01-{day:02d}T00:00:00Z", body)
        for day, body in enumerate(bodies, start=1)))
    command = cli_command("import", str(path), "--db", str(tmp_path / f"{name}.db"),
                          "--max-bytes", "9000000")
    probe = ("import resource, subprocess, sys\n"
             f"done = subprocess.run({command!r}, capture_output=True)\n"
             "assert done.returncode == 0, done.stderr\n"
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         timeout=120, check=True)
    return int(out.stdout) * 1024  # ru_maxrss is in KiB on Linux


def test_import_holds_a_small_multiple_of_the_largest_body(tmp_path: Path) -> None:
    paragraph = b"<p>" + b"word " * 200_000 + b"</p>"  # 1 MB of text in one paragraph
    big = b"<html><head><title>Big</title></head><body><main>" + paragraph * 8 \
        + b"</main></body></html>"
    small = b"<html><head><title>Small</title></head><body><main><p>x</p></main></body></html>"
    base = _peak_rss_of_import(tmp_path, "small", small)
    peak = _peak_rss_of_import(tmp_path, "big", big)
    # Measured at about 7x: the record's block and its payload while reading; then the body,
    # lxml's tree and the walk's runs of text while parsing; the page's and the sections'
    # text (both stored) and SQLite's copies of the text while recording. More than 12x
    # means a stage keeps a copy it should have let go (or a body is held once per record
    # read, not once).
    assert peak - base < 12 * len(big), (peak - base) / len(big)


def test_import_holds_one_big_body_at_a_time_however_many_it_reads(tmp_path: Path) -> None:
    # The import reads every record before it writes (to sort them by date); their bodies
    # wait in a temporary file, and each page's parse lets go of its text when it is done: so
    # twelve big bodies cost what three do (the allocator settles after the first few).
    paragraph = b"<p>" + b"word " * 200_000 + b"</p>"
    bodies = [b"<html><head><title>Big %d</title></head><body><main>" % i + paragraph * 8
              + b"</main></body></html>" for i in range(12)]
    three = _peak_rss_of_import(tmp_path, "three", *bodies[:3])
    twelve = _peak_rss_of_import(tmp_path, "twelve", *bodies)
    assert twelve - three < 2 * len(bodies[0]), (twelve - three) / len(bodies[0])
