"""Write the bundled CCWG report PDF (run by hand; the output is committed).

A hand-written PDF 1.4 with two pages of Helvetica text and an /Info title: small (a few KB),
no dependencies, and its text is extractable by pypdf. Usage::

    python scraper/sitedata/make_pdf.py

writes ``<snapshot>/treasury/initiatives/Documents/US-China-CCWG-Report-2016.pdf`` for both
snapshots (the report did not change between them).
"""

from __future__ import annotations

from pathlib import Path

TITLE = "U.S.-China Climate Change Working Group Report to the Strategic and Economic Dialogue"
PAGES = [
    [
        "U.S.-China Climate Change Working Group",
        "Report to the Strategic and Economic Dialogue",
        "June 7, 2016",
        "",
        "I. Introduction",
        "The Climate Change Working Group (CCWG) was launched in April 2013 to spur",
        "large-scale, cooperative action on climate change. This report reviews the",
        "progress of its initiatives over the past year and sets out next steps.",
        "",
        "II. Heavy-Duty and Other Vehicles",
        "The two sides exchanged information on fuel-efficiency standards for",
        "heavy-duty vehicles and on clean fuels and vehicle emission control.",
    ],
    [
        "III. Carbon Capture, Utilization and Storage",
        "Two large-scale CCUS demonstration projects advanced to the design stage.",
        "",
        "IV. Energy Efficiency in Buildings and Industry",
        "The initiative expanded to industrial boilers and district heating.",
        "",
        "V. Greenhouse Gas Data Collection and Management",
        "Both sides shared methods for facility-level emissions reporting.",
        "",
        "VI. Smart Grids",
        "Partner utilities completed joint studies on demand response.",
    ],
]


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _content(lines: list[str]) -> bytes:
    ops = ["BT", "/F1 11 Tf", "14 TL", "72 740 Td"]
    for line in lines:
        ops.append(f"({_escape(line)}) Tj T*")
    ops.append("ET")
    return "\n".join(ops).encode("latin-1")


def build() -> bytes:
    """The PDF file's bytes."""
    n_pages = len(PAGES)
    # Object numbers: 1 catalog, 2 pages, 3 font, 4 info, then (page, content) pairs.
    page_ids = [5 + 2 * i for i in range(n_pages)]
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        2: ("<< /Type /Pages /Kids [" + " ".join(f"{p} 0 R" for p in page_ids)
            + f"] /Count {n_pages} >>").encode(),
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        4: (f"<< /Title ({_escape(TITLE)}) /Producer (coop-archive make_pdf.py)"
            " /CreationDate (D:20160607120000Z) >>").encode("latin-1"),
    }
    for pid, lines in zip(page_ids, PAGES, strict=True):
        stream = _content(lines)
        objects[pid] = (f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
                        f"<< /Font << /F1 3 0 R >> >> /Contents {pid + 1} 0 R >>").encode()
        objects[pid + 1] = (f"<< /Length {len(stream)} >>\nstream\n".encode() + stream
                            + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for num in sorted(objects):
        offsets[num] = len(out)
        out += f"{num} 0 obj\n".encode() + objects[num] + b"\nendobj\n"
    xref_at = len(out)
    size = max(objects) + 1
    out += f"xref\n0 {size}\n0000000000 65535 f \n".encode()
    for num in range(1, size):
        out += f"{offsets[num]:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {size} /Root 1 0 R /Info 4 0 R >>\nstartxref\n{xref_at}\n%%EOF\n"
            ).encode()
    return bytes(out)


def main() -> None:
    here = Path(__file__).resolve().parent
    data = build()
    for snapshot in ("2016-10-21", "2016-11-15"):
        path = here / snapshot / "treasury/initiatives/Documents/US-China-CCWG-Report-2016.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


if __name__ == "__main__":
    main()
