"""Politeness per request: every hop of a redirect chain takes its own host's turn."""

from __future__ import annotations

from archive.store import Archive
from scraper.settings import CrawlSettings
from scraper.sources.crawl import crawl
from tests.builders import doc_html, hub_html
from tests.servers import Redirect, Static

DELAY = 0.6  # the target host's Crawl-delay, in seconds


def test_redirect_hops_wait_the_target_hosts_crawl_delay(tmp_path, http_server):
    seed, old, new = (http_server(f"127.0.0.{n}") for n in (2, 3, 4))
    new.route("/robots.txt", Static(body=f"User-agent: *\nCrawl-delay: {DELAY}\n"
                                         "Disallow: /private\n".encode(),
                                    content_type="text/plain"))
    links = [(new.url("/d1"), "D1"), (old.url("/d2"), "D2"), (new.url("/d3"), "D3"),
             (old.url("/d4"), "D4"), (old.url("/secret"), "Secret")]
    seed.route("/hub", Static(body=hub_html(*links, title="Hub", section=None)))
    for name in ("d2", "d4"):
        old.route(f"/{name}", Redirect(new.url(f"/{name}"), 301))
    old.route("/secret", Redirect(new.url("/private/x"), 301))
    for name in ("d1", "d2", "d3", "d4"):
        new.route(f"/{name}", Static(body=doc_html(name, "text"), delay=0.05))
    settings = CrawlSettings(delay=0.0, retries=0)
    with Archive.open(str(tmp_path / "a.db")) as archive:
        report = crawl(archive, seed.url("/hub"), settings=settings)
        rows = dict(archive.conn.execute(
            "SELECT p.url, s.outcome || ' ' || COALESCE(s.error, '') FROM snapshots s"
            " JOIN pages p ON p.id = s.page_id").fetchall())
    assert not report.failed, rows
    starts = sorted(r.time for r in new.requests)
    # robots.txt and all four documents, two of them reached through old's redirects
    assert sorted(r.path for r in new.requests) == ["/d1", "/d2", "/d3", "/d4", "/robots.txt"]
    gaps = [b - a for a, b in zip(starts, starts[1:], strict=False)]
    assert min(gaps) >= DELAY - 0.02, gaps
    # robots.txt is obeyed on the hop too: the redirect to a disallowed path is not followed
    assert not new.requests_to("/private/x")
    assert rows[old.url("/secret")] == (
        f"blocked redirect to {new.url('/private/x')}: disallowed by robots.txt")
