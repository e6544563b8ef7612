"""``python -m bench.hostile [SHAPE ...] [--sizes N ...] [--timeout S]``: parse time by page shape.

A scaling audit (issue 16: cron must never hang whatever a server or file does): pages of one
hostile shape each (many links, deep nesting, one huge text node ...) are built at doubling
sizes, and ``scraper.parse.parse`` plus ``Page.content_hash()`` is timed on each, in a child
process with a wall-clock limit, so a shape whose time grows much faster than its size shows as
a ratio well over 2 between one size and the next. ``--ingest`` also times ``record_snapshot``
into a fresh archive and ``archive.diff.diff_pages`` between the page and a variant of it.
Not a measure of ``python -m bench``: it is for finding superlinear paths, not for a report.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

_WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()


def _w(i: int) -> str:
    return f"{_WORDS[i % 10]} {_WORDS[(i * 7) % 10]} {i}"


def _page(body: str, head: str = "<title>Hostile</title>") -> bytes:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>".encode()


def _nested(depth: int, inner: str, tag: str = "div") -> str:
    return f"<{tag}>" * depth + inner + f"</{tag}>" * depth


SHAPES: dict[str, Callable[[int], bytes]] = {
    "links_flat": lambda n: _page("".join(f'<a href="/p{i}">{_w(i)}</a> ' for i in range(n))),
    "links_li": lambda n: _page(
        "<ul>" + "".join(f'<li><a href="/p{i}">{_w(i)}</a></li>' for i in range(n)) + "</ul>"),
    "links_p": lambda n: _page("".join(f'<p><a href="/p{i}">{_w(i)}</a></p>' for i in range(n))),
    "links_div": lambda n: _page(
        "".join(f'<div><a href="/p{i}">{_w(i)}</a></div>' for i in range(n))),
    "links_same_url": lambda n: _page(
        "".join(f'<p>see <a href="/same">{_w(i)}</a></p>' for i in range(n))),
    "list_items": lambda n: _page(
        "<ul>" + "".join(f"<li>{_w(i)}</li>" for i in range(n)) + "</ul>"),
    "nested_lists": lambda n: _page("".join(
        _nested(40, f"<li>{_w(i)}</li>", "ul") for i in range(n // 40))),
    "deep_250": lambda n: _page("".join(
        _nested(240, f"<p>{_w(i)}</p>") for i in range(n // 240))),
    "deep_past_256": lambda n: _page(
        "".join(f"<p>{_w(i)}</p>" for i in range(n)) + _nested(400, "<p>deep</p>")),
    "deep_one_text": lambda n: _page(_nested(240, "".join(
        f"<p>{_w(i)}</p>" for i in range(n)))),
    "headings": lambda n: _page("".join(f"<h2>{_w(i)}</h2><p>{_w(i + 1)}</p>" for i in range(n))),
    "sections": lambda n: _page("".join(
        f"<section><h3>{_w(i)}</h3><p>{_w(i + 1)}</p></section>" for i in range(n))),
    "table_rows": lambda n: _page("<table>" + "".join(
        "<tr>" + "".join(f"<td>{i}.{j}</td>" for j in range(10)) + "</tr>"
        for i in range(n // 10)) + "</table>"),
    "many_tables": lambda n: _page("".join(
        "<table><tr><th>a</th><th>b</th></tr>"
        + "".join(f"<tr><td>{i}</td><td>{j}</td></tr>" for j in range(4)) + "</table>"
        for i in range(n // 10))),
    "huge_line": lambda n: _page("<p>" + " ".join(_w(i) for i in range(n * 4)) + "</p>"),
    "one_text_node": lambda n: _page(" ".join(_w(i) for i in range(n * 4))),
    "many_br": lambda n: _page("<p>" + "".join(f"{_w(i)}<br>" for i in range(n)) + "</p>"),
    "bold_headings": lambda n: _page("".join(
        f"<p><b>{_w(i)}</b></p><p>{_w(i + 1)}</p>" for i in range(n))),
    "pre_lines": lambda n: _page("<pre>" + "\n".join(_w(i) for i in range(n)) + "</pre>"),
    "forms_hidden": lambda n: _page("".join(
        f'<form action="/f{i}"><input type="hidden" name="x" value="{i}"><label>{_w(i)}</label>'
        f'</form><div hidden>{_w(i)}</div><div style="display:none">{_w(i)}</div>'
        f"<p>{_w(i)}</p>" for i in range(n))),
    "chrome_classes": lambda n: _page("".join(
        f'<div class="nav menu sidebar footer-{i}" id="header-{i}"><p>{_w(i)}</p></div>'
        for i in range(n))),
    "long_attrs": lambda n: _page("".join(
        f'<div class="{"c" * 2000}" data-x="{"x" * 2000}"><p>{_w(i)}</p></div>'
        for i in range(n // 40))),
    "meta_base_title": lambda n: _page("<p>body</p>", "".join(
        f'<meta name="m{i}" content="{_w(i)}"><base href="/b{i}/"><title>{_w(i)}</title>'
        for i in range(n))),
    "updated_strings": lambda n: _page("".join(
        f"<p>Updated: May {i % 28 + 1}, 2016 {_w(i)}</p>" for i in range(n))),
    "updated_no_date": lambda n: _page("<p>" + " ".join(
        f"updated on modified revised {i}" for i in range(n)) + "</p>"),
    "spans_in_p": lambda n: _page("<p>" + "".join(
        f"<span>{_w(i)}</span> " for i in range(n)) + "</p>"),
    "inline_in_link": lambda n: _page('<a href="/x">' + "".join(
        f"<span>{_w(i)}</span> " for i in range(n)) + "</a>"),
    "li_with_sublist": lambda n: _page("<ul>" + "".join(
        f"<li>{_w(i)}<ul><li>{_w(i + 1)}</li></ul></li>" for i in range(n // 2)) + "</ul>"),
    "deep_fallback": lambda n: _page(_nested(240, "".join(
        f"<div>{_w(i)}</div>" for i in range(n)))),
    "deep_chrome": lambda n: _page(
        '<div class="sidebar">' * 240 + "".join(f"<p>{_w(i)} {_w(i + 1)} {_w(i + 2)}</p>"
                                                  for i in range(n)) + "</div>" * 240),
    "deep_links": lambda n: _page(_nested(240, "".join(
        f'<div><a href="/p{i}">{_w(i)}</a></div>' for i in range(n)))),
    "nested_td": lambda n: _page(
        "<table><tr><td>" * 80 + "".join(f"<p>{_w(i)} {_w(i + 1)} {_w(i + 2)}</p>"
                                          for i in range(n)) + "</td></tr></table>" * 80),
    "nested_blockquote": lambda n: _page(_nested(240, "".join(
        f"{_w(i)} {_w(i + 1)} {_w(i + 2)}<br>" for i in range(n)), "blockquote")),
    "head_custom": lambda n: (
        "<link rel=x><custom-el>x</custom-el>"
        + "".join(f"<p>{_w(i)}</p>" for i in range(n))).encode(),
    "many_h1": lambda n: _page("".join(f"<h1>{_w(i)}</h1><p>{_w(i + 1)}</p>" for i in range(n))),
    "nested_bq_links": lambda n: _page(_nested(240, "".join(
        f'{_w(i)} <a href="/p{i}">{_w(i + 1)}</a> {_w(i + 2)}<br>' for i in range(n)),
        "blockquote")),
    "head_unknown": lambda n: (
        "<html><head><title>T</title>" + "".join(f"<notice>{_w(i)}</notice>" for i in range(n))
        + "</head><body><p>body</p></body></html>").encode(),
}


def _variant(body: bytes) -> bytes:
    """The same page with every tenth digit changed: a diff with many small changes."""
    return body.replace(b"1</", b"7</")


def measure(shape: str, n: int, ingest: bool) -> dict[str, float]:
    """Time parse + content_hash (and optionally the store and the diff) on one page."""
    from archive.capture import Capture
    from archive.diff import diff_pages
    from archive.store import Archive
    from scraper.parse import parse

    body = SHAPES[shape](n)
    out: dict[str, float] = {"mb": len(body) / 1e6}
    t = time.process_time()
    page = parse(body, url="https://example.gov/x", content_type="text/html")
    out["parse"] = time.process_time() - t
    t = time.process_time()
    page.content_hash()
    out["hash"] = time.process_time() - t
    out["items"] = len(page.items)
    out["chars"] = len(page.text)
    out["sections"] = len(page.sections)
    if ingest:
        other = parse(_variant(body), url="https://example.gov/x", content_type="text/html")
        with tempfile.TemporaryDirectory() as d:
            archive = Archive.open(Path(d) / "a.db")
            run = archive.begin_run("https://example.gov/", source="crawl")
            t = time.process_time()
            for i, p in enumerate((page, other)):
                cap = Capture(url=p.url, final_url=p.url, status=200, body=body,
                              headers=[("Content-Type", "text/html")],
                              fetched_at=f"2026-01-0{i + 1}T00:00:00Z")
                archive.record_snapshot(run, p.url, captured_at=cap.fetched_at, result=cap,
                                        page=p)
            out["store2"] = time.process_time() - t
            archive.close()
        t = time.process_time()
        diff_pages(page, other)
        out["diff"] = time.process_time() - t
    return out


def main(argv: list[str] | None = None) -> int:
    """Run the chosen shapes at the chosen sizes, each in a child; print one line each."""
    ap = argparse.ArgumentParser(prog="python -m bench.hostile", description=__doc__)
    ap.add_argument("shapes", nargs="*", metavar="SHAPE", help=", ".join(SHAPES))
    ap.add_argument("--sizes", nargs="+", type=int, default=[25_000, 50_000, 100_000])
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument("--ingest", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("SHAPE", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.child[0], int(args.child[1]), args.ingest)))
        return 0
    for shape in args.shapes or list(SHAPES):
        prev = None
        for n in args.sizes:
            cmd = [sys.executable, "-m", "bench.hostile", "--child", shape, str(n)]
            cmd += ["--ingest"] if args.ingest else []
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout,
                                      check=False)
            except subprocess.TimeoutExpired:
                print(f"{shape:16} n={n:>7}: more than {args.timeout:.0f}s", flush=True)
                break
            if done.returncode:
                print(f"{shape:16} n={n:>7}: failed: {done.stderr.strip()[-300:]}", flush=True)
                break
            r = json.loads(done.stdout.strip().splitlines()[-1])
            total = r["parse"] + r["hash"]
            grow = f" x{total / prev:.1f}" if prev else ""
            extra = "".join(f" {k}={r[k]:.2f}s" for k in ("store2", "diff") if k in r)
            print(f"{shape:16} n={n:>7} {r['mb']:6.2f} MB parse={r['parse']:.2f}s "
                  f"hash={r['hash']:.2f}s chars={r['chars']:.0f} items={r['items']:.0f} "
                  f"sections={r['sections']:.0f}"
                  f"{grow}{extra}", flush=True)
            prev = total
    return 0


if __name__ == "__main__":
    sys.exit(main())
