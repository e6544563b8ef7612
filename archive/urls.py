"""URL normalisation: one spelling per document, so it is fetched once and matched across time.

>>> normalize_url("HTTP://Example.GOV:80/a/b?utm_source=x&id=3#top")
'http://example.gov/a/b?id=3'
>>> normalize_url("https://example.gov:443/?_=1477000000&itok=Ab12")
'https://example.gov/'
>>> normalize_url("http://x.gov/search?q=a/b&flag&utm_medium=mail&t=2")
'http://x.gov/search?q=a/b&flag&t=2'
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote_plus, urljoin, urlsplit, urlunsplit

# Query parameters that change per request or per visitor without changing the document:
# cache-busters, Drupal image tokens, analytics tags, session ids. Short generic names (t, ts,
# sid, id) are left alone: on some sites they name the document.
NOISE_PARAMS = frozenset(
    {
        "_", "cb", "cachebuster", "cache_buster", "nocache", "rand", "random", "timestamp",
        "itok", "phpsessid", "jsessionid", "sessionid", "fbclid", "gclid", "msclkid",
        "mc_cid", "mc_eid", "_ga", "_gl",
    }
)
_NOISE_PREFIXES = ("utm_",)
#: The port each fetchable scheme means when a URL names none.
DEFAULT_PORTS = {"http": 80, "https": 443}
_JSESSION_RE = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)


def is_noise_param(name: str) -> bool:
    """True for a query parameter that never identifies a document (see NOISE_PARAMS)."""
    n = name.lower()
    return n in NOISE_PARAMS or n.startswith(_NOISE_PREFIXES)


@functools.lru_cache(maxsize=8192)
def normalize_url(url: str, base: str | None = None) -> str:
    """Return the canonical spelling of ``url`` (resolved against ``base`` if given).

    Scheme and host lower-cased, default port and fragment dropped, an empty path made "/",
    cache-busting and tracking query parameters removed (the rest keep their order), and
    ``;jsessionid=`` path parameters dropped. Non-http(s) URLs are returned resolved but
    otherwise untouched, so the caller can refuse them by scheme.
    """
    url = url.strip()
    if base is not None:
        url = urljoin(base, url)
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        return url  # a bad port: left as written, for the fetcher to refuse with a clear error
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        # Credentials in a link are never sent; keep them out of the identity too.
        pass
    path = _JSESSION_RE.sub("", parts.path) or "/"
    # Drop noise parameters but keep the others byte for byte: re-encoding them ("a/b" to
    # "a%2Fb", "?flag" to "?flag=") would change the URL we fetch.
    kept = [p for p in parts.query.split("&")
            if p and not is_noise_param(unquote_plus(p.split("=", 1)[0]))]
    return urlunsplit((scheme, netloc, path, "&".join(kept), ""))


def host_key(url: str) -> str:
    """The politeness key of a URL: ``host:port`` (one request in flight per key). A URL too
    broken to have one (a port out of range, a bracket left open) raises ValueError."""
    parts = urlsplit(url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    return f"{(parts.hostname or '').lower()}:{port}"


def origin_key(url: str) -> str | None:
    """``scheme://host:port`` of an http(s) URL, the port always written (one robots.txt
    per key); None for anything else.

    >>> origin_key("HTTP://Example.gov/a?b"), origin_key("mailto:x@example.gov")
    ('http://example.gov:80', None)
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    try:
        port = parts.port or DEFAULT_PORTS[scheme]
    except ValueError:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched as written (None when it can): not http(s), no host, a
    port out of range, an unparseable authority."""
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or 0 < parts.port
    except ValueError as e:
        return f"invalid URL ({e})"
    if parts.scheme.lower() not in DEFAULT_PORTS:
        return "not an http(s) URL"
    if not parts.hostname:
        return "invalid URL (no host)"
    if not port_ok:
        return "invalid URL (port 0)"
    return None
