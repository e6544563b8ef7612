"""--same-network: a crawl from a loopback or private seed stays in that network class.
(IP literals only: nothing here resolves a name or leaves loopback.)"""

from __future__ import annotations

import pytest

from archive.errors import BlockedURLError
from archive.store import Archive
from scraper.safety import AddressPolicy
from scraper.settings import CrawlSettings
from scraper.sources.crawl import crawl
from tests.builders import doc_html, hub_html
from tests.servers import Static


@pytest.mark.parametrize(("seed", "target", "allowed"), [
    ("http://127.0.0.2/", "http://127.0.0.3/x", True),
    ("http://127.0.0.2/", "http://10.1.2.3/x", False),
    ("http://127.0.0.2/", "http://8.8.8.8/x", False),
    ("http://10.0.0.5/", "http://192.168.1.9/x", True),
    ("http://10.0.0.5/", "http://127.0.0.1/x", False),
    ("http://10.0.0.5/", "http://[fd00::1]/x", True),
])
def test_policy_keeps_to_the_seeds_network_class(seed: str, target: str,
                                                 allowed: bool) -> None:
    AddressPolicy(seed).check(target)  # without the flag: a local seed may reach anything
    policy = AddressPolicy(seed, same_network=True)
    policy.check(seed)
    if allowed:
        policy.check(target)
    else:
        with pytest.raises(BlockedURLError, match="outside the seed's network"):
            policy.check(target)


def test_allow_host_still_wins() -> None:
    AddressPolicy("http://127.0.0.2/", same_network=True,
                  allow_hosts=["10.1.2.3"]).check("http://10.1.2.3/x")


def test_crawl_with_same_network_records_other_networks_as_blocked(tmp_path, server) -> None:
    server.route("/hub", Static(body=hub_html((server.url("/doc"), "Doc"),
                                              ("http://10.255.255.1/far", "Far"),
                                              title="Hub", section=None)))
    server.route("/doc", Static(body=doc_html("Doc", "Near.")))
    settings = CrawlSettings(delay=0.0, retries=0, same_network=True)
    with Archive.open(str(tmp_path / "a.db")) as archive:
        crawl(archive, server.url("/hub"), settings=settings)
        rows = dict(archive.conn.execute(
            "SELECT p.url, s.outcome FROM snapshots s JOIN pages p ON p.id = s.page_id"))
        options = archive.conn.execute("SELECT options FROM runs").fetchone()[0]
    assert rows == {server.url("/hub"): "new", server.url("/doc"): "new",
                    "http://10.255.255.1/far": "blocked"}
    assert '"same_network": true' in options
