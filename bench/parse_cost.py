"""Measure 4: what our whole parse costs against building lxml's tree alone.

For each page, side by side and interleaved: ``scraper.parse.parse`` (decoding, one lxml
tree, the walk into records) plus ``Page.content_hash()``, against ``lxml.html.fromstring``
on the same bytes (the floor), and BeautifulSoup with the lxml builder for scale. Pages: the
bundled site copy (scraper/sitedata), the test fixtures' HTML, and generated varied pages
(bench/pages.py). Each time is the median of a few calls; the ratio reported is the median of
the per-page ratios.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable

import lxml.html

from archive.model import Page
from bench.pages import generate
from bench.util import ROOT, Result, median, ms, ratio, table, verdict
from scraper.parse import parse

GOAL = 3.0
HTML_SUFFIXES = (".html", ".htm", ".aspx")


def fixture_pages() -> list[tuple[str, bytes]]:
    """The HTML files under scraper/sitedata and tests/fixtures (whatever exists now)."""
    out = []
    for base in (ROOT / "scraper" / "sitedata", ROOT / "tests" / "fixtures"):
        if base.is_dir():
            for p in sorted(base.rglob("*")):
                if p.is_file() and p.suffix.lower() in HTML_SUFFIXES:
                    out.append((str(p.relative_to(ROOT)), p.read_bytes()))
    return out


def _best_of(fn: Callable[[], object], reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return median(times)


def _parse(body: bytes) -> Page:
    return parse(body, url="https://example.gov/page", content_type="text/html")


def _bs4(body: bytes) -> Callable[[], object]:
    from bs4 import BeautifulSoup

    def build() -> object:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return BeautifulSoup(body, "lxml")
    return build


def measure(pages: list[tuple[str, bytes]], *, reps: int,
            bs_every: int) -> list[dict[str, float | str]]:
    """Per page: lxml floor, ours, and (every ``bs_every``-th page) BeautifulSoup, seconds."""
    rows: list[dict[str, float | str]] = []
    for n, (name, body) in enumerate(pages):
        floor_fn = lambda b=body: lxml.html.fromstring(b)  # noqa: E731
        _parse(body).content_hash()  # warm caches (regexes, imports) before timing
        floor, parsed, hashed = [], [], []
        for _ in range(reps):  # interleaved, so noise hits both alike
            floor.append(_best_of(floor_fn, 1))
            t = time.perf_counter()
            page = _parse(body)
            t1 = time.perf_counter()
            page.content_hash()
            hashed.append(time.perf_counter() - t1)
            parsed.append(t1 - t)
        row: dict[str, float | str] = {
            "name": name, "size": len(body), "floor": median(floor),
            "parse": median(parsed), "hash": median(hashed),
            "ours": median([a + b for a, b in zip(parsed, hashed, strict=False)])}
        if bs_every and n % bs_every == 0:
            row["bs4"] = _best_of(_bs4(body), max(1, reps // 2))
        rows.append(row)
    return rows


def run(*, quick: bool) -> Result:
    """Fixture pages plus generated ones; median ratio against the lxml floor."""
    generated = generate(40 if quick else 300)
    fixtures = fixture_pages()
    reps = 3 if quick else 7
    rows = measure(fixtures + generated, reps=reps, bs_every=2 if quick else 3)
    ratios = [float(r["ours"]) / float(r["floor"]) for r in rows]
    fx = [x for x, r in zip(ratios, rows, strict=False) if "/" in str(r["name"])]
    bs = [float(r["bs4"]) / float(r["floor"]) for r in rows if "bs4" in r]
    worst = sorted(zip(ratios, rows, strict=False), key=lambda t: t[0])[-3:]
    by_shape: dict[str, list[float]] = {}
    for x, r in zip(ratios, rows, strict=False):
        shape = str(r["name"]).split("-")[0] if "/" not in str(r["name"]) else "fixtures"
        by_shape.setdefault(shape, []).append(x)
    med = median(ratios)
    parse_only = median([float(r["parse"]) / float(r["floor"]) for r in rows])
    hash_only = median([float(r["hash"]) / float(r["floor"]) for r in rows])
    body = "\n\n".join([
        f"{len(fixtures)} fixture pages and {len(generated)} generated pages "
        f"({min(int(r['size']) for r in rows) // 1024}-"
        f"{max(int(r['size']) for r in rows) // 1024} KiB); each time the median of {reps} "
        "interleaved calls. Ours = `parse()` + `content_hash()`; floor = "
        "`lxml.html.fromstring` on the same bytes.",
        table(["", "median per page", "/ floor (median of per-page ratios)"], [
            ["lxml.html.fromstring (floor)", ms(median([float(r["floor"]) for r in rows])),
             "1.00x"],
            ["our parse + content hash", ms(median([float(r["ours"]) for r in rows])),
             ratio(med)],
            ["  of which parse()", ms(median([float(r["parse"]) for r in rows])),
             ratio(parse_only)],
            ["  of which content_hash()", ms(median([float(r["hash"]) for r in rows])),
             ratio(hash_only)],
            ["our parse + hash, fixture pages only", "", ratio(median(fx)) if fx else "n/a"],
            ["BeautifulSoup(body, 'lxml') tree, for scale",
             ms(median([float(r["bs4"]) for r in rows if "bs4" in r])), ratio(median(bs))],
        ]),
        "Per page shape (median ratio): " + ", ".join(
            f"{k} {ratio(median(v))}" for k, v in sorted(by_shape.items())) + ".",
        "Slowest against the floor: " + ", ".join(
            f"{r['name']} ({int(r['size']) // 1024} KiB) {ratio(x)}" for x, r in worst) + ".",
    ])
    hot = hotspots(max(generated, key=lambda p: len(p[1]) if p[0].startswith("drupal") else 0))
    body += "\n\n" + hot[0]
    res = Result("parse", "4. Parse cost", body)
    res.rows.append(("parse / lxml.html.fromstring (median)", f"<= {GOAL}x", ratio(med),
                     verdict(med <= GOAL)))
    if med > GOAL:
        res.shortfalls.append(
            f"The whole parse costs {med:.2f}x building the lxml tree (goal {GOAL}x): "
            f"parse() alone {parse_only:.2f}x, content_hash() alone {hash_only:.2f}x. "
            + hot[1])
    if worst and worst[-1][0] > GOAL:
        x, r = worst[-1]
        res.shortfalls.append(
            f"The worst page against its floor is {r['name']} ({int(r['size']) // 1024} KiB) "
            f"at {x:.2f}x: long main texts and many links cost in Python per character and "
            "per link, where lxml's tree costs in C.")
    return res


def hotspots(named: tuple[str, bytes]) -> tuple[str, str]:
    """Timed evidence of where a large Drupal-like page's time goes: (markdown, sentence).

    Splits our parse into the lxml tree it builds (the same libxml2 parse as the floor, with
    the parser options scraper/parse.py uses) and the rest (main-content choice, the walk into
    records, the text outside the main content, dates), and times content_hash() apart.
    """
    from lxml import etree

    from scraper.parse import _PARSER_KW

    name, body = named
    reps = 5
    floor = median([_best_of(lambda: lxml.html.fromstring(body), 1) for _ in range(reps)])
    tree = median([_best_of(lambda: etree.fromstring(
        body, etree.HTMLParser(encoding="utf-8", **_PARSER_KW)), 1) for _ in range(reps)])
    whole = median([_best_of(lambda: _parse(body), 1) for _ in range(reps)])
    page = _parse(body)
    hashing = median([_best_of(page.content_hash, 1) for _ in range(reps)])
    rest = max(0.0, whole - tree)
    md = (f"Where the time goes on {name} ({len(body) // 1024} KiB, lxml.html tree "
          f"{ms(floor)}): our own lxml tree {ms(tree)} ({ratio(tree / floor)}), the rest of "
          f"`parse()` {ms(rest)} ({ratio(rest / floor)}: the main-content choice, the walk "
          f"into records, the text outside the main content, dates), `content_hash()` "
          f"{ms(hashing)} ({ratio(hashing / floor)}; sha256 of the canonical JSON, which holds "
          "the text twice, as the whole text and as the sections' texts).")
    sentence = (f"On a {len(body) // 1024} KiB page, building our tree costs "
                f"{ratio(tree / floor)} the floor, the rest of parse() {ratio(rest / floor)} "
                f"and content_hash() {ratio(hashing / floor)}. The rest is Python work per "
                "element and per line of the main content (an lxml proxy, its text and tail "
                "as Python strings, the walk's bookkeeping for blocks, links, list entries "
                "and paragraphs, dataclass records), spread thin over many small steps. "
                "Reaching 3x needs the walk itself out of the Python interpreter.")
    return md, sentence
