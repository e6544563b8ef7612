"""Parse budgets: a PDF bomb ends quickly, in a child process under a memory ceiling, with the
budget it hit recorded; fixed budgets cut deterministically; HTML nested too deep says so
(issue 16 b, c)."""

from __future__ import annotations

import resource
import threading
import time
import zlib

from scraper.parse import parse
from scraper.pdf import PdfLimits, extract_pdf

URL = "https://example.gov/report.pdf"


def pdf_bomb(pages: int = 3, ops: int = 20_000, run: int = 1000) -> bytes:
    """A PDF of a few dozen KB whose pages all show one content stream that inflates to
    ``ops * run`` characters of text (zlib squeezes the repetition about 1000:1)."""
    content = (b"BT /F1 12 Tf 72 712 Td\n" + (b"(" + b"A" * run + b") Tj\n") * ops
               + b"ET\n")
    stream = zlib.compress(content, 9)
    kids = " ".join(f"{5 + i} 0 R" for i in range(pages))
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        f"<< /Length {len(stream)} /Filter /FlateDecode >>\nstream\n".encode() + stream
        + b"\nendstream",
        *(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792]"
          b" /Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>" for _ in range(pages)),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for n, obj in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + obj + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{off:010d} 00000 n \n".encode() for off in offsets)
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    return bytes(out)


def test_small_pdf_is_read_whole() -> None:
    got = extract_pdf(pdf_bomb(pages=2, ops=3, run=5))
    assert (got.failed, got.truncated, got.pages) == (None, None, 2)
    assert got.text == "AAAAAAAAAAAAAAA\nAAAAAAAAAAAAAAA"


def test_pdf_bomb_ends_quickly_under_a_memory_ceiling() -> None:
    bomb = pdf_bomb()
    assert len(bomb) < 64_000  # a few dozen KB that would expand to 60 MB of text
    ceiling = 400 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    page = parse(bomb, url=URL, content_type="application/pdf",
                 pdf_limits=PdfLimits(max_seconds=3, max_memory=ceiling))
    elapsed = time.monotonic() - started
    assert elapsed < 8, elapsed
    assert page.kind == "pdf" and page.text == ""  # no half document
    assert page.truncated is not None
    assert "longer than 3s" in page.truncated or "memory" in page.truncated \
        or "CPU" in page.truncated
    # The work happened in a child held under the ceiling, not in this process.
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
    assert children <= ceiling
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_memory_ceiling_is_a_failure_with_its_reason() -> None:
    # 60 MB in one content stream: inflating it alone overflows a 150 MiB address space.
    got = extract_pdf(pdf_bomb(pages=1, ops=60_000),
                      limits=PdfLimits(max_seconds=20, max_memory=150 << 20))
    assert got.text == "" and got.failed is not None
    assert got.failed == "PDF text extraction needed more than 150 MiB of memory"


def test_character_budget_truncates_the_same_way_every_time() -> None:
    pdf = pdf_bomb(pages=3, ops=30, run=100)  # 3000 characters a page
    limits = PdfLimits(max_chars=4500)
    first = parse(pdf, url=URL, content_type="application/pdf", pdf_limits=limits)
    again = parse(pdf, url=URL, content_type="application/pdf", pdf_limits=limits)
    assert first.truncated is not None and "more than 4500 characters" in first.truncated
    assert len(first.text.replace("\n", "")) <= 4500
    assert first.text == again.text and first.content_hash() == again.content_hash()


def test_page_budget_is_recorded() -> None:
    got = extract_pdf(pdf_bomb(pages=3, ops=2, run=5), limits=PdfLimits(max_pages=2))
    assert got.truncated == "PDF page budget: read 2 of 3 pages"
    assert got.pages == 2 and got.failed is None


def test_stop_kills_the_extraction_at_once() -> None:
    stop = threading.Event()
    threading.Timer(0.5, stop.set).start()
    started = time.monotonic()
    got = extract_pdf(pdf_bomb(), limits=PdfLimits(max_seconds=20), stop=stop)
    assert time.monotonic() - started < 2
    assert got.failed == "PDF text extraction stopped" and got.text == ""


def test_unreadable_pdf_is_still_an_empty_pdf_page() -> None:
    page = parse(b"%PDF-1.4\n garbage", url=URL, content_type="application/pdf")
    assert (page.kind, page.text, page.truncated) == ("pdf", "", None)


# -- HTML nesting depth ---------------------------------------------------------------------


def _nested(depth: int) -> bytes:
    return (b"<html><body><div class=field-name-body><h1>Hub</h1><p>before</p>"
            + b"<div>" * depth + b"<p>deep text</p>" + b"</div>" * depth
            + b"<p>after</p></div></body></html>")


def test_content_nested_too_deep_is_marked_not_dropped_silently() -> None:
    page = parse(_nested(300), url="https://example.gov/deep")
    assert "before" in page.text
    assert page.truncated is not None
    assert page.truncated.startswith("HTML nested deeper than 256 levels at line 1")
    assert "the rest of the document was not read" in page.truncated
    assert page.to_dict()["truncated"] == page.truncated


def test_normal_nesting_has_no_mark() -> None:
    page = parse(_nested(200), url="https://example.gov/deep")
    assert "deep text" in page.text and "after" in page.text
    assert page.truncated is None and "truncated" not in page.to_dict()
