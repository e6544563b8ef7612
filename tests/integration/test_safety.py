"""AddressPolicy: schemes, link-local, public vs local seeds, allow_hosts, DNS, rebinding.

Nothing here connects outside loopback: public addresses are only classified, and name
resolution is replaced by a stub wherever a real lookup could reach a DNS server.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import pytest

import scraper.safety
from archive.errors import BlockedURLError, TransientFetchError
from scraper.safety import AddressPolicy
from tests.servers import Static

PUBLIC_SEED = "http://93.184.216.34/"  # an IP literal: classified, never contacted
LOCAL_SEED = "http://127.0.0.2:8000/"

LINK_LOCAL = [
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.0.1/",
    "http://[fe80::1]/",
    "http://[::ffff:169.254.169.254]/",  # IPv4-mapped
    "http://[64:ff9b::a9fe:a9fe]/",  # NAT64 of 169.254.169.254
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
]
NON_PUBLIC = [
    "http://127.0.0.1/", "http://127.0.0.3:8080/x", "http://10.1.2.3/", "http://172.16.0.1/",
    "http://192.168.1.1/", "http://100.64.0.1/", "http://[::1]/", "http://[fc00::1]/",
    "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/", "http://224.0.0.1/", "http://240.0.0.1/",
]


class FakeDNS:
    """Stands in for getaddrinfo: ``dns.names["host"] = ["1.2.3.4", ...]``; others fail."""

    def __init__(self) -> None:
        self.names: dict[str, list[str]] = {}
        self.calls: list[str] = []

    def getaddrinfo(self, host, port, *args, **kwargs):
        self.calls.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (a, port)) for a in self.names[host]]


@pytest.fixture
def fake_dns(monkeypatch) -> FakeDNS:
    dns = FakeDNS()
    monkeypatch.setattr(scraper.safety.socket, "getaddrinfo", dns.getaddrinfo)
    return dns


@pytest.mark.parametrize("url", ["ftp://127.0.0.2/f", "file:///etc/passwd", "javascript:alert(1)",
                                 "data:text/html,hi", "//127.0.0.2/", "http:///nohost"])
def test_only_http_with_a_host(url):
    with pytest.raises(BlockedURLError) as info:
        AddressPolicy(LOCAL_SEED).check(url)
    assert isinstance(info.value, ValueError) and info.value.url == url


@pytest.mark.parametrize("url", LINK_LOCAL)
@pytest.mark.parametrize("seed", [PUBLIC_SEED, LOCAL_SEED])
def test_link_local_never_even_when_allowed(url, seed):
    policy = AddressPolicy(seed, allow_hosts=[urlsplit(url).hostname or ""])
    with pytest.raises(BlockedURLError, match="link-local"):
        policy.check(url)


@pytest.mark.parametrize("url", NON_PUBLIC)
def test_public_seed_refuses_non_public(url):
    with pytest.raises(BlockedURLError):
        AddressPolicy(PUBLIC_SEED).check(url)


@pytest.mark.parametrize("url", ["http://8.8.8.8/", "https://[2606:4700:4700::1111]/doc.pdf",
                                 "http://93.184.216.34:8080/a"])
def test_public_targets_allowed(url):
    for seed in (PUBLIC_SEED, LOCAL_SEED):
        policy = AddressPolicy(seed)
        policy.check(url)  # allowed: raises nothing
        with pytest.raises(BlockedURLError):  # while the same policy still refuses
            policy.check("http://169.254.169.254/")


def test_allow_hosts_opens_named_hosts_only():
    policy = AddressPolicy(PUBLIC_SEED, allow_hosts=["127.0.0.2", "Intranet.Example."])
    policy.check("http://127.0.0.2:5000/")
    with pytest.raises(BlockedURLError, match="allow_hosts"):
        policy.check("http://127.0.0.3:5000/")


def test_allow_hosts_matches_names(fake_dns):
    fake_dns.names["intranet.example"] = ["10.0.0.5"]
    AddressPolicy(PUBLIC_SEED, allow_hosts=["Intranet.Example."]).check("http://intranet.example/")
    with pytest.raises(BlockedURLError):  # the name in allow_hosts is what let it through
        AddressPolicy(PUBLIC_SEED).check("http://intranet.example/")


def test_local_seed_allows_loopback_and_private():
    policy = AddressPolicy(LOCAL_SEED)
    for url in ["http://127.0.0.3/", "http://10.0.0.1/", "http://192.168.0.2/", "http://[::1]/"]:
        policy.check(url)
    for url in ["http://224.0.0.1/", "http://0.0.0.0/"]:  # multicast, unspecified: never useful
        with pytest.raises(BlockedURLError):
            policy.check(url)


def test_every_resolved_address_is_checked(fake_dns):
    fake_dns.names["mixed.example"] = ["93.184.216.34", "10.0.0.7"]
    fake_dns.names["public.example"] = ["93.184.216.34", "2606:4700::6810:84e5"]
    policy = AddressPolicy(PUBLIC_SEED)
    policy.check("http://public.example/")
    with pytest.raises(BlockedURLError, match="10.0.0.7"):
        policy.check("http://mixed.example/")


def test_seed_name_resolved_lazily_and_once(fake_dns):
    fake_dns.names["www.example.gov"] = ["93.184.216.34"]
    policy = AddressPolicy("https://www.example.gov/r2ze/")
    assert fake_dns.calls == []  # construction does no I/O
    with pytest.raises(BlockedURLError):
        policy.check("http://127.0.0.9/")
    with pytest.raises(BlockedURLError):
        policy.check("http://127.0.0.8/")
    assert fake_dns.calls == ["www.example.gov"]
    assert policy.seed_is_public()


def test_dns_failure_is_transient(fake_dns):
    with pytest.raises(TransientFetchError, match="cannot resolve") as info:
        AddressPolicy(PUBLIC_SEED).check("http://no-such-host.example/")
    assert not isinstance(info.value, BlockedURLError)


def test_baseline_policy():
    policy = AddressPolicy.baseline()
    policy.check("http://127.0.0.1/")
    policy.check("http://8.8.8.8/")
    with pytest.raises(BlockedURLError):
        policy.check("http://169.254.169.254/")


def test_check_peer():
    policy = AddressPolicy(PUBLIC_SEED)
    policy.check_peer("http://www.example.gov/", "93.184.216.34")
    with pytest.raises(BlockedURLError):
        policy.check_peer("http://www.example.gov/", "127.0.0.1")
    with pytest.raises(BlockedURLError, match="link-local"):
        AddressPolicy(LOCAL_SEED).check_peer("http://x.example/", "fe80::1%2")


def test_rebinding_caught_at_connection(server, make_fetcher, monkeypatch):
    # Simulate a name that resolved to a public address for the check but connects to
    # loopback: the fetcher vets the connected peer and refuses to read the answer.
    server.route("/", Static(body=b"internal secret"))
    monkeypatch.setattr(scraper.safety, "resolve",
                        lambda host, port, *, url: [ipaddress.ip_address("8.8.8.8")])
    fetcher = make_fetcher(policy=AddressPolicy(PUBLIC_SEED), retries=0)
    with pytest.raises(BlockedURLError, match="127.0.0.2"):
        fetcher.fetch(server.url("/"))
    assert len(server.requests) == 1  # the residual risk: the request itself was sent
