"""``python -m bench.parse_equiv dump FILE`` / ``check FILE``: the parse's output, page by page.

A guard for work on the parse's speed, which must never change what it gives: every page of a
broad corpus is parsed and a digest of everything the parse produces is kept per page (the
records as ``Page.to_dict()``, the content hash, the text outside the main content, the title,
the date, the truncation note). ``dump`` writes the digests of the checkout at hand; ``check``
parses again and lists each page whose digest differs from the file's (exit 1 when any does).

The corpus: the HTML under tests/fixtures and scraper/sitedata (each also with a declared
charset that is wrong for it, and with a watch's ``main``/``ignore`` selectors), the real-page
corpus in the four states of measure 9, ``bench.pages.generate(300)``, small instances of every
shape in bench/hostile.py, and the held-out pages of measure 10 when bench/out/heldout holds them
(``python -m bench`` downloads them; they are not in git).
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterator
from typing import Any

from bench.hostile import SHAPES
from bench.pages import generate
from bench.parse_cost import fixture_pages
from bench.util import OUT
from scraper.parse import parse

URL = "https://example.gov/dir/page.html"


def _cases() -> Iterator[tuple[str, bytes, dict[str, Any]]]:
    """(name, body, parse keyword arguments) for every page of the corpus."""
    html = {"content_type": "text/html"}
    for name, body in fixture_pages():
        yield name, body, html
        yield name + "#latin1", body, {**html, "http_charset": "iso-8859-1"}
        yield name + "#utf16", body, {**html, "http_charset": "utf-16"}
        yield name + "#css", body, {**html, "main": "div, p", "ignore": ("a", "li > span")}
    from tests.realpages import load_manifest, render

    for page in load_manifest():
        for state, kw in (("noise", {"seed": 1}), ("chrome", {"seed": 2, "chrome": 1}),
                          ("edit", {"seed": 3, "chrome": 2, "edit": page.edits[0]})):
            yield f"realpages/{page.file}#{state}", render(page, **kw), {  # type: ignore[arg-type]
                "content_type": "text/html; charset=utf-8", "http_charset": "utf-8"}
    for name, body in generate(300):
        yield name, body, html
    for shape, build in SHAPES.items():
        for n in (1, 37, 600):
            yield f"hostile/{shape}-{n}", build(n), html
    heldout = OUT / "heldout"
    if heldout.is_dir():
        for p in sorted(heldout.rglob("*")):
            if (p.is_file() and p.suffix.lower() in (".html", ".htm")
                    and "oracle-venv" not in p.parts):
                yield str(p.relative_to(heldout)), p.read_bytes(), html


def _digest(body: bytes, kw: dict[str, Any]) -> dict[str, str | None]:
    page = parse(body, url=URL, **kw)
    records = json.dumps(page.to_dict(), sort_keys=True, ensure_ascii=False)
    return {
        "records": hashlib.sha256(records.encode("utf-8", "surrogatepass")).hexdigest()[:20],
        "content_hash": page.content_hash(),
        "outside": hashlib.sha256(
            page.outside_text.encode("utf-8", "surrogatepass")).hexdigest()[:20],
        "title": page.title,
        "updated_on": page.updated_on,
        "truncated": page.truncated,
    }


def digests() -> dict[str, dict[str, str | None]]:
    """Every page's digest, by name."""
    return {name: _digest(body, kw) for name, body, kw in _cases()}


def main(argv: list[str]) -> int:
    """Dump or check; the exit code is the number of differing pages, capped at 1."""
    if len(argv) != 2 or argv[0] not in ("dump", "check"):
        print(__doc__.split("\n", 1)[0], file=sys.stderr)
        return 2
    mode, path = argv
    got = digests()
    if mode == "dump":
        with open(path, "w", encoding="utf-8") as f:
            json.dump(got, f, indent=0, sort_keys=True, ensure_ascii=False)
        print(f"{len(got)} pages")
        return 0
    with open(path, encoding="utf-8") as f:
        want = json.load(f)
    bad = sorted(k for k in set(want) | set(got) if want.get(k) != got.get(k))
    for k in bad:
        w, g = want.get(k) or {}, got.get(k) or {}
        fields = [f for f in set(w) | set(g) if w.get(f) != g.get(f)]
        print(f"DIFF {k}: {', '.join(sorted(fields)) or 'missing'}")
    print(f"{len(got)} pages, {len(bad)} differences")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
