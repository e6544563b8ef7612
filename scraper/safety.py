"""Which URLs we are willing to fetch: a guard against being steered into private networks.

A page can link anywhere, and a redirect can point anywhere. Before every request (every
redirect hop included) the fetcher asks :meth:`AddressPolicy.check`, which refuses:

* any scheme but ``http`` and ``https``;
* link-local addresses (``169.254.0.0/16``, ``fe80::/10``), always: that is where cloud
  metadata services live (``169.254.169.254``), and no archive needs them;
* when the seed is on the public internet: loopback, private, shared (CGNAT), reserved,
  multicast and unspecified addresses, unless the host was named in ``allow_hosts``.

When the seed itself is not public (a test server on ``127.0.0.2``, an intranet mirror), the
operator is plainly crawling a local site, so loopback and private targets are allowed, and so
are public ones: links and redirects from such a seed may reach any address but link-local.
``same_network`` narrows that to the seed's own network class (:func:`network_class`: a
loopback seed reaches only loopback addresses, a private one only private addresses).

Every address a name resolves to is checked, so a name with one public and one private
address is refused. IPv6 forms that embed an IPv4 address (IPv4-mapped ``::ffff:a.b.c.d``,
6to4, NAT64) are judged by the IPv4 address they carry.

DNS rebinding: ``check`` resolves the name, then requests resolves it again to connect, so a
hostile name server can answer differently the second time. The fetcher narrows that window by
also calling :meth:`AddressPolicy.check_peer` with the address it actually connected to before
reading a body; the request line and headers have by then been sent to that peer, so a GET
still reaches it (the residual risk), but nothing it answers is read or archived.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

from archive.errors import BlockedURLError, TransientFetchError
from archive.urls import DEFAULT_PORTS

logger = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _effective(ip: IPAddress) -> IPAddress:
    """The address that decides reachability: the IPv4 one an IPv6 form embeds, if any."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return ip.ipv4_mapped
        if ip.sixtofour is not None:
            return ip.sixtofour
        if ip in _NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip


def is_link_local(ip: IPAddress) -> bool:
    """True for 169.254.0.0/16 and fe80::/10, after unwrapping embedded IPv4."""
    ip = _effective(ip)
    return any(ip in net for net in _LINK_LOCAL if net.version == ip.version)


def is_public(ip: IPAddress) -> bool:
    """True for a globally routable unicast address (after unwrapping embedded IPv4)."""
    ip = _effective(ip)
    return ip.is_global and not ip.is_multicast


def network_class(ip: IPAddress) -> str:
    """``public``, ``loopback`` or ``private`` (every other non-public address: RFC 1918,
    shared CGNAT space, unique-local IPv6, reserved), after unwrapping embedded IPv4.

    >>> [network_class(ipaddress.ip_address(a)) for a in ("8.8.8.8", "127.0.0.2", "10.1.2.3")]
    ['public', 'loopback', 'private']
    """
    ip = _effective(ip)
    if is_public(ip):
        return "public"
    return "loopback" if ip.is_loopback else "private"


def resolve(host: str, port: int, *, url: str) -> list[IPAddress]:
    """Every address ``host`` resolves to (an IP literal resolves to itself).

    A DNS failure raises :class:`TransientFetchError`: name servers do fail for a while, and a
    name that never resolves fails again on retry at little cost.
    """
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # the IDNA codec refuses the name
        raise BlockedURLError(f"invalid host name {host!r}", url=url) from exc
    except OSError as exc:  # socket.gaierror, or a resolver timeout
        raise TransientFetchError(f"cannot resolve host {host!r}: {exc}", url=url) from exc
    addresses: list[IPAddress] = []
    for *_, sockaddr in infos:
        # Drop an IPv6 scope id ("fe80::1%eth0") before parsing.
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in addresses:
            addresses.append(ip)
    if not addresses:
        raise TransientFetchError(f"host {host!r} resolved to no address", url=url)
    return addresses


class AddressPolicy:
    """Decides whether a URL may be fetched, given the seed the crawl started from.

    ``allow_hosts`` names hosts (case-insensitive, without port) that may be private or
    loopback even when the seed is public; link-local stays refused for them too. With
    ``same_network`` every other host must be in a network class of the seed's addresses
    (:func:`network_class`). The seed is resolved lazily, on the first check, so
    constructing a policy does no I/O. Thread-safe.
    """

    def __init__(self, seed_url: str, *, allow_hosts: Iterable[str] = (),
                 same_network: bool = False) -> None:
        self.seed_url = seed_url
        self.allow_hosts = frozenset(h.strip().lower().rstrip(".") for h in allow_hosts)
        self.same_network = same_network
        self._seed_public: bool | None = None
        self._seed_classes: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    @classmethod
    def baseline(cls) -> AddressPolicy:
        """The policy a Fetcher uses when given none: scheme and link-local checks only.

        It behaves as if the seed were local, so loopback, private and public addresses are
        all allowed; link-local, multicast and unspecified addresses are still refused.
        """
        return cls("http://127.0.0.1/")

    def seed_is_public(self) -> bool:
        """True if the seed host resolves to at least one public address (cached)."""
        with self._lock:
            if self._seed_public is None:
                parts = urlsplit(self.seed_url)
                host = (parts.hostname or "").lower()
                scheme = parts.scheme.lower()
                if not host:
                    raise BlockedURLError("seed URL has no host", url=self.seed_url)
                addrs = resolve(host, _port(parts, scheme), url=self.seed_url)
                # Any public address makes the seed public: the stricter reading.
                self._seed_public = any(is_public(ip) for ip in addrs)
                self._seed_classes = frozenset(network_class(ip) for ip in addrs)
            return self._seed_public

    def check(self, url: str) -> None:
        """Raise :class:`BlockedURLError` unless ``url`` may be fetched; resolves the host.

        Raises :class:`TransientFetchError` when the host cannot be resolved.
        """
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ALLOWED_SCHEMES:
            raise BlockedURLError(f"scheme {scheme or '(none)'!r} is not fetched", url=url)
        host = (parts.hostname or "").lower().rstrip(".")
        if not host:
            raise BlockedURLError("URL has no host", url=url)
        try:
            port = _port(parts, scheme)
        except ValueError as exc:
            raise BlockedURLError(f"bad port: {exc}", url=url) from exc
        for ip in resolve(host, port, url=url):
            self._check_address(url, host, ip)

    def check_peer(self, url: str, address: str) -> None:
        """Raise :class:`BlockedURLError` if the address we actually connected to is refused.

        Called after connecting and before reading a body, to catch a name that resolved to
        an allowed address for :meth:`check` and to a refused one for the connection.
        """
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        self._check_address(url, host, ip)

    def _check_address(self, url: str, host: str, ip: IPAddress) -> None:
        eff = _effective(ip)
        if is_link_local(eff):
            raise BlockedURLError(f"{host} resolves to link-local address {ip}", url=url)
        if host in self.allow_hosts:
            return
        if self.same_network and not self.seed_is_public():
            kind = network_class(eff)
            if kind not in self._seed_classes:
                raise BlockedURLError(
                    f"{host} resolves to {kind} address {ip}, outside the seed's network "
                    f"({', '.join(sorted(self._seed_classes))}; --same-network)", url=url)
        if is_public(eff):
            return
        if eff.is_multicast or eff.is_unspecified:
            raise BlockedURLError(f"{host} resolves to unusable address {ip}", url=url)
        if self.seed_is_public():
            raise BlockedURLError(
                f"{host} resolves to non-public address {ip} and the seed is public "
                "(name the host in allow_hosts to permit it)",
                url=url,
            )
        # The seed is local, so local targets (loopback, private, reserved) are expected.


def _port(parts: SplitResult, scheme: str) -> int:
    """The URL's port or the scheme's default; raises ValueError for a malformed port."""
    port = parts.port
    return port if port is not None else DEFAULT_PORTS.get(scheme, 80)
