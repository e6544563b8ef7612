"""The parser process is bounded (scraper/parse_process.py: address space, CPU per page) and a
page over a bound is a failure with its reason, never a lost page: the pages behind it are
parsed all the same, in the child when it lived on, here when it died.

The bounds are the real ones, set by the child on itself (RLIMIT_AS, RLIMIT_CPU), made small
here so that a big page of many sections (3.6 MB, seconds of CPU, a few hundred MB) crosses
them. tests/e2e/test_parse_process.py kills the child from outside in the middle of a crawl.
"""

from __future__ import annotations

import signal

from archive.capture import Capture
from scraper.parse_process import MAX_CHILD_BODY, ParseProcess, for_child, parse_here
from tests.integration.test_ingest_throughput import doc

#: Many sections: about 4 s of CPU and 290 MB to parse, under MAX_CHILD_BODY.
HEAVY_BODY = b"<html><body><main>" + b"<h2>T</h2><p>x</p>" * 200_000 + b"</main></body></html>"


def _capture(path: str, body: bytes) -> Capture:
    url = f"http://x.example/{path}"
    return Capture(url=url, final_url=url, status=200,
                   headers=[("Content-Type", "text/html")], body=body)


def _parse_all(parser: ParseProcess, captures: list[Capture]) -> list[tuple[object, ...]]:
    futures = [(parser.submit(c), c) for c in captures]  # all sent before the first answer
    return [parser.parse(fut, c) for fut, c in futures]


def test_a_page_over_the_cpu_bound_fails_with_its_reason_and_the_rest_are_parsed() -> None:
    heavy = _capture("heavy", HEAVY_BODY)
    small = [_capture(f"d{n}", doc(n)) for n in range(3)]
    assert for_child(heavy) and len(HEAVY_BODY) < MAX_CHILD_BODY
    parser = ParseProcess(max_cpu_seconds=1)
    try:
        first = _parse_all(parser, [small[0]])
        child = parser._child
        assert child is not None
        results = _parse_all(parser, [heavy, small[1], small[2]])
    finally:
        parser.close()
    assert child.returncode == -signal.SIGXCPU  # the kernel ended it, at the bound
    page, content_hash = results[0]
    assert page is not None and page.text == "" and content_hash is None
    assert page.truncated == ("parsing used more than 1s of CPU (the parser process's limit "
                              "per page) while parsing this page")
    # the page before was parsed by the child, those behind it here: the same records
    assert [first[0], *results[1:]] == [parse_here(c) for c in small]


def test_a_page_over_the_memory_bound_fails_with_its_reason_and_the_child_goes_on() -> None:
    heavy = _capture("heavy", HEAVY_BODY)
    small = [_capture(f"d{n}", doc(n)) for n in range(2)]
    parser = ParseProcess(max_memory=160 << 20)
    try:
        results = _parse_all(parser, [heavy, *small])
        child = parser._child
        assert child is not None and child.poll() is None  # it lived on, and parsed the rest
    finally:
        parser.close()
    page, content_hash = results[0]
    assert page is not None and page.text == "" and content_hash is None
    assert page.truncated == ("parsing needed more than 160 MiB of memory (the parser "
                              "process's limit)")
    assert results[1:] == [parse_here(c) for c in small]
