"""The capture record: what was received for one URL, whatever the source.

The fetcher (:mod:`scraper.fetch`), the WARC reader and the Wayback client all produce a
:class:`Capture`; the ingest path turns it into a snapshot. It knows nothing of HTTP libraries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Media types of the documents we archive, each group named once. Parsing takes XML as HTML
# (an XHTML page served as XML); the WARC import keeps only what was served as a web page.
HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
XML_TYPES = frozenset({"application/xml", "text/xml"})
PDF_TYPES = frozenset({"application/pdf", "application/x-pdf"})


@dataclass
class Capture:
    """What was received for one URL: one HTTP exchange as it ended (after redirects).

    Every source produces these: the live fetcher, the WARC reader and the Wayback client.

    ``body`` is the payload after Content-Encoding was undone (empty for a 304 or a HEAD);
    ``headers`` are the final response's headers as received, in order; ``redirects`` is the
    chain of ``(status, url)`` hops that led to ``final_url``. ``fetched_at`` is ISO 8601 UTC.
    """

    url: str
    final_url: str
    status: int
    reason: str = ""
    http_version: str = "HTTP/1.1"
    headers: list[tuple[str, str]] = field(default_factory=list)
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    redirects: list[tuple[int, str]] = field(default_factory=list)
    fetched_at: str = ""
    bytes_received: int = 0

    def header(self, name: str) -> str | None:
        """The first value of a response header, case-insensitively, or None."""
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    @property
    def content_type(self) -> str | None:
        """The media type without parameters, lower-cased (``text/html``), or None."""
        ct = self.header("Content-Type")
        return ct.split(";", 1)[0].strip().lower() or None if ct else None

    @property
    def charset(self) -> str | None:
        """The charset parameter of Content-Type, lower-cased, or None."""
        ct = self.header("Content-Type") or ""
        for part in ct.split(";")[1:]:
            k, _, v = part.partition("=")
            if k.strip().lower() == "charset":
                return v.strip().strip("'\"").lower() or None
        return None

    @property
    def etag(self) -> str | None:
        return self.header("ETag")

    @property
    def last_modified(self) -> str | None:
        return self.header("Last-Modified")

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def gone(self) -> bool:
        """A 404 or 410: the document is gone (an observation, not a failure)."""
        return self.status in (404, 410)
