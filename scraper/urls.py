"""URL normalisation: one spelling per document, so it is fetched once and matched across time.

>>> normalize_url("HTTP://Example.GOV:80/a/b?utm_source=x&id=3#top")
'http://example.gov/a/b?id=3'
>>> normalize_url("https://example.gov:443/?_=1477000000&itok=Ab12")
'https://example.gov/'
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that change per request or per visitor without changing the document:
# cache-busters, Drupal image tokens, analytics tags, session ids.
NOISE_PARAMS = frozenset(
    {
        "_", "cb", "cachebuster", "cache_buster", "nocache", "rand", "random", "ts", "timestamp",
        "t", "itok", "sid", "phpsessid", "jsessionid", "sessionid", "fbclid", "gclid", "msclkid",
        "mc_cid", "mc_eid", "_ga", "_gl",
    }
)
_NOISE_PREFIXES = ("utm_",)
_DEFAULT_PORTS = {"http": 80, "https": 443}
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
    if scheme not in _DEFAULT_PORTS:
        return url
    host = (parts.hostname or "").lower().rstrip(".")
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username:
        # Credentials in a link are never sent; keep them out of the identity too.
        pass
    path = _JSESSION_RE.sub("", parts.path) or "/"
    query_pairs = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)
                   if not is_noise_param(k)]
    query = urlencode(query_pairs, doseq=True) if query_pairs else ""
    return urlunsplit((scheme, netloc, path, query, ""))


def host_key(url: str) -> str:
    """The politeness key of a URL: ``host:port`` (one request in flight per key)."""
    parts = urlsplit(url)
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    return f"{(parts.hostname or '').lower()}:{port}"
