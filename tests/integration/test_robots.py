"""RobotsCache against robots.txt served by a real loopback server (RFC 9309 outcomes)."""

from __future__ import annotations

import threading

import pytest

from archive.urls import origin_key as origin_of
from scraper.fetch import DEFAULT_USER_AGENT
from scraper.robots import MAX_ROBOTS_BYTES, RobotsCache, product_token
from tests.servers import Hang, Redirect, Static


def robots_txt(text: str) -> Static:
    return Static(body=text.encode(), content_type="text/plain")


@pytest.fixture
def robots_for(make_fetcher):
    """Factory: a RobotsCache over a test Fetcher (keyword options go to the Fetcher)."""

    def make(*, ignore: bool = False, **fetcher_options) -> RobotsCache:
        fetcher = make_fetcher(**fetcher_options)
        return RobotsCache(fetcher, user_agent=DEFAULT_USER_AGENT, ignore=ignore)

    return make


def test_disallow_honoured_and_fetched_once(server, robots_for):
    server.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /private\n"))
    robots = robots_for()
    assert robots.allowed(server.url("/public/page"))
    assert not robots.allowed(server.url("/private/doc.pdf"))
    assert robots.allowed(server.url("/"))
    assert robots.crawl_delay(server.url("/")) is None
    assert len(server.requests_to("/robots.txt")) == 1
    assert server.requests_to("/robots.txt")[0].header("User-Agent") == DEFAULT_USER_AGENT


def test_our_group_is_matched_by_product_token(server, robots_for):
    server.route("/robots.txt", robots_txt(
        "User-agent: *\nAllow: /\n\n"
        "User-agent: coop-archive\nDisallow: /r2ze/\nCrawl-delay: 2.5\n"))
    robots = robots_for()
    assert not robots.allowed(server.url("/r2ze/US-China-Cooperation"))
    assert robots.allowed(server.url("/other"))
    assert robots.crawl_delay(server.url("/other")) == 2.5


def test_crawl_delay_for_everyone(server, robots_for):
    server.route("/robots.txt", robots_txt("User-agent: *\nCrawl-delay: 10\nDisallow:\n"))
    assert robots_for().crawl_delay(server.url("/x")) == 10.0


@pytest.mark.parametrize("status", [404, 410, 401, 403])
def test_unavailable_robots_allows_all(server, robots_for, sleeps, status):
    server.route("/robots.txt", Static(status))
    robots = robots_for()
    assert robots.allowed(server.url("/anything"))
    assert robots.crawl_delay(server.url("/anything")) is None
    assert len(server.requests_to("/robots.txt")) == 1 and sleeps == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_error_robots_disallows_all_after_retries(server, robots_for, sleeps, status):
    server.route("/robots.txt", Static(status))
    robots = robots_for(retries=2)
    assert not robots.allowed(server.url("/"))
    assert not robots.allowed(server.url("/other"))
    assert len(server.requests_to("/robots.txt")) == 3  # once, with its retries
    assert len(sleeps) == 2


def test_unreachable_robots_disallows_all(http_server, robots_for):
    srv = http_server("127.0.0.4")
    url = srv.url("/page")
    srv.stop()
    assert not robots_for(retries=0).allowed(url)


def test_hanging_robots_disallows_all(server, robots_for):
    server.route("/robots.txt", Hang(10))
    assert not robots_for(timeout=(1.0, 0.2), retries=0).allowed(server.url("/"))


def test_redirected_robots_followed(http_server, robots_for):
    a, b = http_server("127.0.0.2"), http_server("127.0.0.3")
    a.route("/robots.txt", Redirect(b.url("/robots.txt"), 301))
    b.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /no\n"))
    robots = robots_for()
    assert not robots.allowed(a.url("/no"))
    assert robots.allowed(a.url("/yes"))


def test_each_origin_has_its_own_rules(http_server, robots_for):
    a, b = http_server("127.0.0.2"), http_server("127.0.0.3")
    a.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /\n"))
    robots = robots_for()
    assert not robots.allowed(a.url("/page"))
    assert robots.allowed(b.url("/page"))  # b has no robots.txt: 404


def test_oversized_robots_parsed_up_to_cap(server, robots_for):
    head = "User-agent: *\nDisallow: /early\n"
    padding = "# " + "x" * 97 + "\n"
    filler = padding * (MAX_ROBOTS_BYTES // len(padding) + 10)
    server.route("/robots.txt", robots_txt(head + filler + "Disallow: /late\n"))
    robots = robots_for()
    assert not robots.allowed(server.url("/early"))
    assert robots.allowed(server.url("/late"))  # beyond the 500 KiB we read


def test_one_fetch_per_origin_under_concurrency(server, robots_for):
    server.route("/robots.txt", Static(body=b"User-agent: *\nDisallow: /x\n", delay=0.2))
    robots = robots_for()
    answers: list[bool] = []
    lock = threading.Lock()

    def ask() -> None:
        ok = robots.allowed(server.url("/x/1"))
        with lock:
            answers.append(ok)

    threads = [threading.Thread(target=ask) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [False] * 8
    assert len(server.requests_to("/robots.txt")) == 1


def test_ignore_fetches_nothing(server, robots_for):
    server.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /\nCrawl-delay: 30\n"))
    robots = robots_for(ignore=True)
    assert robots.allowed(server.url("/anything"))
    assert robots.crawl_delay(server.url("/anything")) is None
    assert server.requests == []


def test_non_http_urls_are_not_allowed(robots_for):
    assert not robots_for().allowed("ftp://127.0.0.2/file")


def test_helpers():
    assert product_token(DEFAULT_USER_AGENT) == "coop-archive"
    assert product_token("Googlebot") == "Googlebot"
    assert origin_of("HTTP://Example.gov/a?b") == "http://example.gov:80"
    assert origin_of("https://[::1]:8443/") == "https://[::1]:8443"
    assert origin_of("mailto:x@example.gov") is None
