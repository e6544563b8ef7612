"""Measure 7: ingest throughput of a many-page site against its floor and against wget.

Several hundred varied pages of realistic size (50-500 KB, the shapes of bench/pages.py, sizes
log-uniform, generated from a seed) are served by one loopback host under an index page that
links them all from its main content. Side by side, interleaved, each the median of a few runs:

- **our crawl**: ``coop-archive crawl INDEX --delay 0 --ignore-robots`` in a subprocess, into
  a fresh archive (its start-up included, ~0.1 s);
- **the floor**: the same pages fetched with one requests Session, parsed with
  ``lxml.html.fromstring``, compressed with zstandard level 3 and inserted into SQLite one row
  and one commit each (WAL, synchronous=NORMAL, as the archive), sequentially in this process;
- **wget**: ``wget -r -l 1 --warc-file`` of the same site;
- **our WARC import**: ``coop-archive import`` of wget's WARC into a fresh archive.

Where the time goes is measured apart, in this process, through the library one page after
another: the fetch (``Fetcher.fetch``), the parse (``scraper.parse.parse``), the hashes (the
body's sha256 and ``Page.content_hash``), the compression (``archive.blobs.encode``, timed where
the store calls it), the search index (the store's ``INSERT INTO <table>_fts`` statements) and
the rest of ``record_snapshot`` (SQL, the store), committed in batches as the crawl commits.
And as they run (:func:`as_run`): one crawl and one import in this process, the writing
thread's time split into recording, waiting for the parser process, reading and the rest, with
the CPU of this process and of the parser process, to show which one is the critical path.
"""

from __future__ import annotations

import hashlib
import math
import random
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import lxml.html
import requests
import zstandard

from archive import blobs
from archive.model import Page as ParsedPage
from archive.store import Archive
from bench.pages import SHAPES, page
from bench.server import CountingServer, Page
from bench.util import PYTHON, Result, bench_env, kb, median, ratio, table, verdict
from scraper.fetch import Fetcher
from scraper.parse import parse
from scraper.safety import AddressPolicy

GOAL = 2.0
SWITCH = 0.0005  # a GIL switch interval a tenth of CPython's default, for comparison
HOST = "127.0.0.2"
MIN_SIZE, MAX_SIZE = 50_000, 500_000
# bench/pages.py nests two elements per size unit (20 + size levels of div + span, inside the
# page's own few): libxml2 stops reading beyond 256 levels (and the page is then recorded as
# truncated), and real pages stay well under it.
_MAX_PARAM = {"nested": 90}


def corpus(n: int, *, seed: int = 12) -> list[tuple[str, bytes]]:
    """``n`` pages as (path, body): shapes in turn, sizes log-uniform in 50-500 KB."""
    rng = random.Random(seed)
    per_unit = {s: len(page(s, random.Random(0), 40)) / 40 for s in SHAPES}
    out = []
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        target = math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE)))
        param = max(1, min(_MAX_PARAM.get(shape, 10**6), round(target / per_unit[shape])))
        body = page(shape, rng, param)
        while len(body) > MAX_SIZE and param > 1:  # some shapes grow faster than linearly
            param = param * 3 // 4
            body = page(shape, rng, param)
        out.append((f"/{shape}/{i}.html", body))
    return out


def index_page(paths: list[str]) -> bytes:
    """The seed: every page linked from its main content."""
    items = "".join(f'<li><a href="{p}">Page {n}</a></li>' for n, p in enumerate(paths))
    return (f"<!DOCTYPE html><html><head><title>Index</title></head><body><main>"
            f"<h1>Reports</h1><ul>{items}</ul></main></body></html>").encode()


def floor_run(base: str, paths: list[str], db: Path) -> float:
    """requests + lxml.html.fromstring + zstd level 3 + one SQLite insert and commit per page."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE bodies (url TEXT PRIMARY KEY, sha256 TEXT, data BLOB)")
    cctx = zstandard.ZstdCompressor(level=3)
    t = time.perf_counter()
    with requests.Session() as s:
        for url in [base + "/", *(base + p for p in paths)]:
            body = s.get(url, timeout=30).content
            lxml.html.fromstring(body)
            data = cctx.compress(body)
            conn.execute("INSERT INTO bodies VALUES (?, ?, ?)",
                         (url, hashlib.sha256(body).hexdigest(), data))
    wall = time.perf_counter() - t
    conn.close()
    return wall


def _timed_cmd(args: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, capture_output=True, text=True, env=bench_env())
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return wall


def crawl_run(seed: str, db: Path, *, switch: float | None = None) -> float:
    """Our crawl as a user runs it (the CLI, a fresh archive); with ``switch``, the same
    command in an interpreter whose GIL switch interval is ``switch`` seconds (default 0.005)."""
    head = [PYTHON, "-m", "scraper"] if switch is None else [
        PYTHON, "-c", f"import sys; sys.setswitchinterval({switch}); sys.argv[0] = "
        "'coop-archive'; from scraper.cli import main; main()"]
    return _timed_cmd([*head, "crawl", seed, "--db", str(db), "--delay", "0",
                       "--ignore-robots", "--quiet"], db.parent)


def wget_run(seed: str, out: Path) -> tuple[float, Path]:
    """``wget -r -l 1 --warc-file`` of the site; returns (seconds, the WARC's path)."""
    out.mkdir(parents=True, exist_ok=True)
    wall = _timed_cmd(["wget", "-r", "-l", "1", "-q", "-e", "robots=off", "--no-proxy",
                       "--warc-file=site", "-P", str(out / "files"), seed], out)
    return wall, out / "site.warc.gz"


def import_run(warc: Path, db: Path) -> float:
    """``coop-archive import`` of a WARC into a fresh archive."""
    return _timed_cmd([PYTHON, "-m", "scraper", "import", str(warc), "--db", str(db),
                       "--quiet"], db.parent)


@contextmanager
def _timing(owner: Any, name: str, acc: dict[str, float], key: str) -> Iterator[None]:
    """Time every call of ``owner.name`` into ``acc[key]`` while inside the block."""
    original: Callable[..., Any] = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            acc[key] += time.perf_counter() - t

    setattr(owner, name, wrapper)
    try:
        yield
    finally:
        setattr(owner, name, original)


class _TimedConnection:
    """Stands in for an Archive's connection, timing each statement by its first words."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self.spent: dict[str, list[float]] = {}  # what -> [seconds, statements, rows]

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def _add(self, sql: str, t: float, rows: int) -> None:
        key = " ".join(sql.split()[:3]).rstrip("(")
        entry = self.spent.setdefault(key, [0.0, 0, 0])
        entry[0] += time.perf_counter() - t
        entry[1] += 1
        entry[2] += rows

    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        t = time.perf_counter()
        try:
            return self._conn.execute(sql, *args)
        finally:
            self._add(sql, t, 1)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        rows = list(rows)
        t = time.perf_counter()
        try:
            return self._conn.executemany(sql, rows)
        finally:
            self._add(sql, t, len(rows))


def stages(base: str, paths: list[str], db: Path) -> tuple[dict[str, float],
                                                           dict[str, list[float]]]:
    """Seconds per stage of the library's ingest, one page after another; and the store's
    statements: what -> [seconds, statements, rows] (triggers run inside their statement)."""
    acc = dict.fromkeys(("fetch", "parse", "hash", "compress", "store"), 0.0)
    inner = dict.fromkeys(("compress", "sha", "content"), 0.0)
    with Archive.open(db) as archive, \
            Fetcher(timeout=(5.0, 30.0), retries=0, policy=AddressPolicy(base + "/")) as fetcher, \
            _timing(blobs, "encode", inner, "compress"), \
            _timing(blobs, "sha256_hex", inner, "sha"), \
            _timing(ParsedPage, "content_hash", inner, "content"):
        timed = _TimedConnection(archive.conn)
        archive.conn = timed  # type: ignore[assignment]  # a measuring stand-in
        run_id = archive.begin_run(base + "/", source="crawl")
        archive.begin_batch()  # as the crawl and the import write (scraper.ingest.RunContext)
        for url in [base + "/", *(base + p for p in paths)]:
            t = time.perf_counter()
            result = fetcher.fetch(url)
            acc["fetch"] += time.perf_counter() - t
            t = time.perf_counter()
            parsed = parse(result.body, url=result.final_url, content_type=result.content_type,
                           http_charset=result.charset)
            acc["parse"] += time.perf_counter() - t
            before = dict(inner)
            t = time.perf_counter()
            archive.record_snapshot(run_id, url, captured_at=result.fetched_at or "",
                                    result=result, page=parsed)
            spent = time.perf_counter() - t
            used = {k: inner[k] - before[k] for k in inner}
            acc["compress"] += used["compress"]
            acc["hash"] += used["sha"] + used["content"]
            acc["store"] += spent - sum(used.values())
        t = time.perf_counter()
        archive.end_batch()
        acc["store"] += time.perf_counter() - t
        archive.finish_run(run_id, "complete")
        # The store fills the search index with one statement per version and table (schema
        # V7): their time is the index's share, the rest of the store's is the store's.
        acc["search index"] = sum(v[0] for k, v in timed.spent.items() if "_fts" in k)
        acc["store"] = max(0.0, acc["store"] - acc["search index"])
        archive.conn = timed._conn
    return acc, timed.spent


def as_run(seed: str, warc: Path | None, db_dir: Path) -> dict[str, dict[str, float]]:
    """Where the crawl's and the import's wall time goes as they run, in this process: the
    writing thread's time recording pages, waiting for the parser process, and the rest
    (waiting for pages fetched or read, committing when idle); the CPU of this process and of
    the parser process (its children's rusage). Seconds, per command."""
    import dataclasses
    import resource

    from scraper.ingest import RunContext
    from scraper.parse_process import ParseProcess
    from scraper.settings import DEFAULTS
    from scraper.sources import crawl as crawl_mod
    from scraper.sources import warc_import

    out: dict[str, dict[str, float]] = {}
    # (name, the job, what the writer waits on the parser in: the crawl's wait wraps parse())
    jobs: list[tuple[str, Callable[[], object], Any, str]] = [(
        "crawl", lambda: crawl_mod.crawl_into(
            str(db_dir / "as_run_crawl.db"), seed,
            dataclasses.replace(DEFAULTS, delay=0.0, ignore_robots=True)),
        crawl_mod._Crawl, "parsed")]
    if warc is not None:
        jobs.append(("import", lambda: warc_import.import_into(
            str(db_dir / "as_run_import.db"), [str(warc)]), ParseProcess, "parse"))
    for name, job, waits_in, wait_name in jobs:
        acc = dict.fromkeys(("record", "parse wait", "read"), 0.0)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = time.process_time()
        with _timing(RunContext, "ingest", acc, "record"), \
                _timing(waits_in, wait_name, acc, "parse wait"), \
                _timing(warc_import, "read_warcs", acc, "read"):
            t = time.perf_counter()
            job()
            wall = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        out[name] = {
            "wall": wall, **acc,
            "rest": max(0.0, wall - sum(acc.values())),
            "our cpu": time.process_time() - cpu,
            "parser cpu": (after.ru_utime + after.ru_stime
                           - children.ru_utime - children.ru_stime),
        }
    return out


def _delta(old: bytes, new: bytes, level: int) -> int:
    """Bytes of ``new`` coded against ``old`` as the store codes a delta (archive.blobs)."""
    params = zstandard.ZstdCompressionParameters.from_level(
        level, source_size=len(new), dict_size=len(old), format=zstandard.FORMAT_ZSTD1_MAGICLESS,
        write_content_size=0, write_checksum=0, write_dict_id=0)
    dictionary = zstandard.ZstdCompressionDict(old, dict_type=zstandard.DICT_TYPE_RAWCONTENT)
    return len(zstandard.ZstdCompressor(dict_data=dictionary, compression_params=params)
               .compress(new))


def _edit(body: bytes, rng: random.Random) -> bytes:
    cut = rng.randrange(len(body) // 4, 3 * len(body) // 4)
    return body[:cut] + b"<p>A rewritten paragraph, with a new date.</p>" + body[cut + 40:]


def levels(bodies: list[bytes]) -> list[list[str]]:
    """Keyframe size and time of the bodies at zstd levels 3, 6, 9, 19; deltas (each body
    against itself with a paragraph rewritten) at the same levels; and the delta of one edit
    to a 1.4 MB page, where the level's window decides whether the delta finds its base."""
    rng = random.Random(4)
    edited = [_edit(b, rng) for b in bodies]
    big = page("links", random.Random(3), 200)
    big_edited = _edit(big, rng)
    rows = []
    for level in sorted({3, 6, 9, 19, blobs.KEYFRAME_LEVEL, blobs.DELTA_LEVEL}):
        cctx = zstandard.ZstdCompressor(level=level)
        t = time.perf_counter()
        size = sum(len(cctx.compress(b)) for b in bodies)
        alone = time.perf_counter() - t
        t = time.perf_counter()
        dsize = sum(_delta(old, new, level) for old, new in zip(bodies, edited, strict=True))
        delta = time.perf_counter() - t
        mark = ", ".join(what for what, chosen in (("keyframes", blobs.KEYFRAME_LEVEL),
                                                   ("deltas", blobs.DELTA_LEVEL))
                         if chosen == level)
        rows.append([f"{level} (chosen for {mark})" if mark else str(level), kb(size),
                     f"{alone:.2f}", f"{dsize / len(bodies):.0f} B", f"{delta:.2f}",
                     kb(_delta(big, big_edited, level))])
    return rows


def run(*, quick: bool) -> Result:
    """Serve the corpus, run the four ingests ``reps`` times interleaved, then the stages."""
    n, reps = (40, 1) if quick else (400, 3)
    pages = corpus(n)
    paths = [p for p, _ in pages]
    bodies = [b for _, b in pages]
    total = sum(len(b) for b in bodies)
    sample = bodies[:10] if quick else bodies[::4]  # level 19 is slow: a quarter is enough
    srv = CountingServer(HOST).start()
    wget = shutil.which("wget")
    walls: dict[str, list[float]] = {"floor": [], "crawl": [], "switch": [], "wget": [],
                                     "import": []}
    try:
        srv.route("/", Page(index_page(paths)))
        for path, body in pages:
            srv.route(path, Page(body))
        base = srv.base_url
        seed = base + "/"
        for _ in range(reps):
            with tempfile.TemporaryDirectory() as tmp:
                d = Path(tmp)
                walls["floor"].append(floor_run(base, paths, d / "floor.db"))
                walls["crawl"].append(crawl_run(seed, d / "crawl.db"))
                walls["switch"].append(crawl_run(seed, d / "switch.db", switch=SWITCH))
                if wget:
                    wall, warc = wget_run(seed, d / "wget")
                    walls["wget"].append(wall)
                    walls["import"].append(import_run(warc, d / "import.db"))
        with tempfile.TemporaryDirectory() as tmp:
            spent, statements = stages(base, paths, Path(tmp) / "stages.db")
            warc_path = wget_run(seed, Path(tmp) / "wget")[1] if wget else None
            running = as_run(seed, warc_path, Path(tmp))
    finally:
        srv.stop()
    m = {k: median(v) for k, v in walls.items()}
    floor = m["floor"]
    count = n + 1  # the index page too
    rows = [["floor: requests + lxml + zstd 3 + SQLite row", f"{m['floor']:.2f}",
             f"{count / floor:.0f}", "1.00x", ""]]
    rows.append(["**our crawl** (`coop-archive crawl --delay 0`)", f"{m['crawl']:.2f}",
                 f"{count / m['crawl']:.0f}", ratio(m["crawl"] / floor),
                 ratio(m["crawl"] / m["wget"]) if wget else ""])
    rows.append([f"our crawl, GIL switch interval {SWITCH * 1000:g} ms (default 5 ms)",
                 f"{m['switch']:.2f}", f"{count / m['switch']:.0f}", ratio(m["switch"] / floor),
                 ratio(m["switch"] / m["wget"]) if wget else ""])
    if wget:
        rows.append(["`wget -r -l 1 --warc-file`", f"{m['wget']:.2f}",
                     f"{count / m['wget']:.0f}", ratio(m["wget"] / floor), "1.00x"])
        rows.append(["**our WARC import** of wget's WARC", f"{m['import']:.2f}",
                     f"{count / m['import']:.0f}", ratio(m["import"] / floor),
                     ratio(m["import"] / m["wget"])])
    all_stages = sum(spent.values())
    stage_rows = [[k, f"{v:.2f}", f"{100 * v / all_stages:.0f}%"] for k, v in spent.items()]
    stage_rows.append(["total (sequential)", f"{all_stages:.2f}", "100%"])
    body = "\n\n".join([
        f"{n} pages ({kb(total)}, {kb(total / n)} on average, {kb(min(map(len, bodies)))} "
        f"to {kb(max(map(len, bodies)))}; shapes: {', '.join(SHAPES)}) and an index page "
        "linking them, "
        f"served by one loopback host ({HOST}). Median of {reps} interleaved run(s), each into "
        "a fresh archive; commands timed whole, start-up included.",
        table(["", "seconds", "pages/s", "/ floor", "/ wget"], rows),
        "Where the time goes, through the library, one page after another, in one thread "
        "(compression timed where the store calls `archive.blobs.encode`; search index = the "
        "store's statements that fill the four FTS5 indexes, written once per batch just "
        "before its commit (archive/fts_rows.py); "
        "store = the rest of `record_snapshot`, SQL rows and the commits, in batches as the "
        "crawl writes):",
        table(["stage", "seconds", "share"], stage_rows),
        "Where the wall time goes as they run (one crawl and one import of wget's WARC, in "
        "this process, once): the writing thread records pages (`RunContext.ingest`), waits "
        "for the parser process, reads the WARC first (import), or waits for pages and "
        "commits while idle (the rest); beside it, the CPU used by this process (fetching, "
        "reading, writing) and by the parser process. Whichever of the writer's recording "
        "and the parser's CPU is larger is the critical path:",
        table(["", "wall", "writer records", "writer waits for the parser", "reading",
               "rest", "our process CPU", "parser process CPU"],
              [[k, *(f"{v[c]:.2f}" for c in ("wall", "record", "parse wait", "read", "rest",
                                               "our cpu", "parser cpu"))]
               for k, v in running.items()]),
        "The store's statements that took longest (a commit also writes what the search "
        "index kept pending): "
        + "; ".join(f"`{k}` {v[0]:.2f} s ({v[1]:.0f} statements"
                    + (f", {v[2]:.0f} rows)" if v[2] != v[1] else ")")
                    for k, v in sorted(statements.items(), key=lambda kv: -kv[1][0])[:4])
        + ".",
        f"Compression levels on {len(sample)} of the same bodies "
        f"({kb(sum(map(len, sample)))}; keyframes: each body alone; deltas: each "
        "body against itself with one paragraph rewritten, as the store codes a re-crawl). "
        "Decompression does not depend on the level, so archives written at any level stay "
        "readable:",
        table(["zstd level", "keyframes, total", "seconds", "delta per body", "seconds",
               f"delta, {kb(len(page('links', random.Random(3), 200)))} page"],
              levels(sample)),
    ])
    res = Result("ingest", "7. Ingest throughput", body)
    r_crawl = m["crawl"] / floor
    res.rows.append(("ingest: crawl wall / floor", f"<= {GOAL}x", ratio(r_crawl),
                     verdict(r_crawl <= GOAL)))
    if wget:
        r_wget = m["crawl"] / m["wget"]
        res.rows.append(("ingest: crawl wall / wget --warc-file", f"<= {GOAL}x", ratio(r_wget),
                         verdict(r_wget <= GOAL)))
        r_imp = m["import"] / floor
        res.rows.append(("ingest: WARC import wall / floor", f"<= {GOAL}x", ratio(r_imp),
                         verdict(r_imp <= GOAL)))
    else:
        res.shortfalls.append("wget is not installed: the wget and WARC import rows are missing "
                              "(apt-get install wget).")
    # The crawl runs three things side by side: the host's worker thread fetches, a child
    # process parses and hashes the content (scraper/parse_process.py), the calling thread
    # writes. On two cores the wall time is at least the larger of the child's and the
    # writer's work.
    child = spent["parse"] + spent["hash"]
    writer = spent["store"] + spent["search index"] + spent["compress"]
    shares = ", ".join(f"{k} {100 * v / all_stages:.0f}%"
                       for k, v in sorted(spent.items(), key=lambda kv: -kv[1]))
    common = ("The floor builds no records and no search index, and its parse is lxml's tree "
              "alone (our parse costs several times that, section 4): our parse alone takes "
              f"{ratio(spent['parse'] / floor)} the floor's whole run, and filling the search "
              f"index {ratio(spent['search index'] / floor)}.")
    if r_crawl > GOAL:
        res.shortfalls.append(
            f"Ingest (crawl) takes {r_crawl:.2f}x its floor (goal {GOAL}x). Sequential shares: "
            f"{shares}. The crawl parses in a child process (parse and content hash, "
            f"{child:.2f} s in one thread) while its own process fetches ({spent['fetch']:.2f}"
            f" s) and writes ({writer:.2f} s: rows, compression, the search index), so on two "
            "cores the wall time is at least the larger of the two. Here it is "
            f"{ratio(m['crawl'] / all_stages)} the sequential sum of the stages "
            + ("(the processes overlap). " if m["crawl"] < all_stages else
               "(on this shared machine the processes did not overlap: other work held the "
               "cores). ")
            + f"With a 0.5 ms GIL switch interval the same crawl took "
            f"{ratio(m['switch'] / m['crawl'])} the time. {common}")
    if wget and m["import"] / floor > GOAL:
        res.shortfalls.append(
            f"WARC import takes {m['import'] / floor:.2f}x the floor (goal {GOAL}x): it reads "
            "and inflates the WARC and writes in its own process while a child process parses "
            f"a few records ahead (parse and content hash {child:.2f} s, writing {writer:.2f} "
            f"s of the stages above), so the wall time is at least the larger of the two. "
            f"{common}")
    return res
