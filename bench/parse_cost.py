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
    from scraper import extract

    sample = (fixtures + generated)[::3]
    shares = stage_shares(sample, reps=reps)
    walk_note = ("compiled (scraper/_cwalk.pyx)" if extract._cwalk is not None
                 else "**the Python walk: scraper/_cwalk is not built**")
    python_walk = reference_walk(sample, reps=reps) if extract._cwalk is not None else med
    body += "\n\n" + "\n\n".join([
        f"Where the time goes, stage by stage, on every third page ({len(sample)}), the walk "
        f"{walk_note}: each stage's per-page ratio to the floor, the median over the pages "
        "(medians of parts do not add up to the median of the whole); timed in a pass of "
        "their own through wrappers around the functions `parse()` calls.",
        table(["stage", "/ floor (median)"],
              [[stage, ratio(x)] for stage, x in shares.items()]
              + [["the whole, with the Python walk instead (the reference the compiled walk "
                  "is a port of), same pages", ratio(python_walk)]]),
    ])
    hot = ("", _shortfall_sentence(shares))
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


class _Timed:
    """Stands for a module in another module's namespace: the functions named are timed (their
    seconds added up in ``spent[name]``), everything else passes through."""

    def __init__(self, module: object, names: tuple[str, ...], spent: dict[str, float]) -> None:
        self._module = module
        for name in names:
            setattr(self, name, _timed(getattr(module, name), name, spent))

    def __getattr__(self, name: str) -> object:
        return getattr(self._module, name)


def _timed(fn: Callable[..., object], name: str,
           spent: dict[str, float]) -> Callable[..., object]:
    def run(*args: object, **kwargs: object) -> object:
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - t
    return run


STAGES = ("tree", "decoding", "main-content choice (less the walk)", "walk", "outside text",
          "title and dates", "the rest of parse()", "content_hash()")
# What scraper/parse.py calls, by stage: (module, name); a name it no longer has is left out.
_CALLS = {
    "decoding": [("parse", "decode_html_exact")],
    "choice": [("parse", "choose_main")],
    "outside": [("parse", "outside_text")],
    "walk": [("maincontent", "walk"), ("parse", "walk")],
    "dates": [("parse", "_title_h1"), ("parse", "_title_from_head"),
              ("parse", "_near_title_text"), ("parse", "_find_updated")],
}


def stage_shares(pages: list[tuple[str, bytes]], *, reps: int) -> dict[str, float]:
    """Each stage of parse() + content_hash() against the floor, the median over ``pages`` of
    its per-page ratio (so the stages do not add up to the median of the whole). Timed in a
    pass of their own, through wrappers around the functions scraper/parse.py calls (a few
    microseconds each); the floor is timed with nothing wrapped."""
    import scraper.maincontent as maincontent_module
    import scraper.parse as parse_module

    modules = {"parse": parse_module, "maincontent": maincontent_module}
    originals = [(modules[m], name, getattr(modules[m], name), stage)
                 for stage, calls in _CALLS.items() for m, name in calls
                 if hasattr(modules[m], name)]
    tree = parse_module.etree
    per: dict[str, list[float]] = {stage: [] for stage in STAGES}
    spent: dict[str, float] = {}
    for _, body in pages:
        floor = median([_best_of(lambda b=body: lxml.html.fromstring(b), 1)
                        for _ in range(reps)])
        runs: list[dict[str, float]] = []
        parse_module.etree = _Timed(tree, ("fromstring",), spent)  # type: ignore[assignment]
        for module, name, fn, stage in originals:
            setattr(module, name, _timed(fn, stage, spent))
        try:
            for _ in range(reps):
                spent.clear()
                t = time.perf_counter()
                page = _parse(body)
                t1 = time.perf_counter()
                page.content_hash()
                t2 = time.perf_counter()
                runs.append({**spent, "parse": t1 - t, "hash": t2 - t1})
        finally:
            parse_module.etree = tree
            for module, name, fn, _stage in originals:
                setattr(module, name, fn)
        got = {key: median([r.get(key, 0.0) for r in runs])
               for key in ("fromstring", "decoding", "choice", "walk", "outside", "dates",
                           "parse", "hash")}
        walk_alone = got["walk"] if not got["choice"] else 0.0  # a watch's main selector
        named = {
            "tree": got["fromstring"],
            "decoding": got["decoding"],
            "main-content choice (less the walk)": max(0.0, got["choice"] - got["walk"]),
            "walk": got["walk"],
            "outside text": got["outside"],
            "title and dates": got["dates"],
            "the rest of parse()": max(0.0, got["parse"] - got["fromstring"] - got["decoding"]
                                       - got["choice"] - walk_alone - got["outside"]
                                       - got["dates"]),
            "content_hash()": got["hash"],
        }
        for stage in STAGES:
            per[stage].append(named[stage] / floor)
    return {stage: median(xs) for stage, xs in per.items()}


def reference_walk(pages: list[tuple[str, bytes]], *, reps: int) -> float:
    """The median per-page ratio of parse() + content_hash() with the Python walk (the
    reference scraper/_cwalk.pyx is a port of), for the compiled walk's gain."""
    from scraper import extract

    compiled, ratios = extract._cwalk, []
    extract._cwalk = None
    try:
        for _, body in pages:
            floor, ours = [], []
            for _ in range(reps):
                floor.append(_best_of(lambda b=body: lxml.html.fromstring(b), 1))
                t = time.perf_counter()
                _parse(body).content_hash()
                ours.append(time.perf_counter() - t)
            ratios.append(median(ours) / median(floor))
    finally:
        extract._cwalk = compiled
    return median(ratios)


def _shortfall_sentence(shares: dict[str, float]) -> str:
    """What the stage table says about the goal, in a sentence."""
    big = sorted(shares.items(), key=lambda kv: -kv[1])
    return ("By stage (medians over pages): " + ", ".join(f"{k} {ratio(v)}" for k, v in big)
            + ". The tree is libxml2's and the walk is compiled; what remains above the goal is "
            "Python work per page and per block: the main-content choice, the title and "
            "dates, the content hash, and the steps between them.")
