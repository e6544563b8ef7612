"""A Datasette plugin: the archive's timeline pages (:mod:`archive.site`) inside ``serve``.

``coop-archive serve`` calls :func:`install` before it starts Datasette. Routes (under
Datasette's ``base_url``):

- ``/-/timeline``: the index of pages, each with its chart;
- ``/-/timeline/page/<page id>``: a page's timeline;
- ``/-/timeline/diff?page=<page id>&from=<snapshot>&to=<snapshot>``: the HTML diff report
  between two versions (any two: the page's form picks them);
- ``/-/timeline/raw/<snapshot>``: the stored body as ``text/plain`` with a sandboxing
  Content-Security-Policy and ``nosniff``, so a captured page never runs on our origin.

Every page is rendered from the archive opened read-only, in a worker thread (SQLite and the
diff are blocking work).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

from archive.errors import CoopError, UsageError
from archive.site import CSP, RAW_CSP, diff_html, index_html, page_html, raw_capture
from archive.store import Archive

PREFIX = "/-/timeline"
_HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}


class DatasetteLinks:
    """Links between the plugin's routes, under Datasette's ``base_url``."""

    def __init__(self, datasette: Any) -> None:
        self.base = str(datasette.urls.path(PREFIX))

    def index(self) -> str:
        """The index route."""
        return self.base

    def page(self, page_id: int) -> str:
        """A page's timeline route."""
        return f"{self.base}/page/{page_id}"

    def diff(self, page_id: int, from_snapshot: int, to_snapshot: int) -> str:
        """The diff route of any two versions."""
        return f"{self.base}/diff?page={page_id}&from={from_snapshot}&to={to_snapshot}"

    def raw(self, snapshot_id: int) -> str:
        """The raw capture route."""
        return f"{self.base}/raw/{snapshot_id}"

    def compare_form(self, page_id: int) -> str:
        """The diff route answers the compare form."""
        return f"{self.base}/diff"


def _archive_path(datasette: Any) -> str:
    """The archive ``serve`` opened: the first database with a file."""
    for db in datasette.databases.values():
        if getattr(db, "path", None):
            return str(db.path)
    raise UsageError("Datasette serves no archive file")


async def _render(datasette: Any, work: Callable[[Archive, DatasetteLinks], Response]
                  ) -> Response:
    """Run ``work`` on the archive in a thread; a CoopError becomes a one-line answer."""
    links = DatasetteLinks(datasette)

    def run() -> Response:
        try:
            with Archive.open(_archive_path(datasette), readonly=True) as archive:
                return work(archive, links)
        except UsageError as e:
            return Response.text(f"coop-archive: {e}", status=404, headers=_HEADERS)
        except CoopError as e:
            return Response.text(f"coop-archive: {e}", status=500, headers=_HEADERS)

    return await asyncio.to_thread(run)


def _html(text: str) -> Response:
    return Response.html(text, headers=_HEADERS)


def _int(value: str | None, name: str) -> int:
    if value is None or not value.isdigit():
        raise UsageError(f"{name} must be a number")
    return int(value)


async def index_view(request: Any, datasette: Any) -> Response:
    """``/-/timeline``: the index of pages."""
    return await _render(datasette, lambda a, links: _html(index_html(a, links)))


async def page_view(request: Any, datasette: Any) -> Response:
    """``/-/timeline/page/<id>``: a page's timeline."""
    page_id = int(request.url_vars["page_id"])
    return await _render(datasette, lambda a, links: _html(page_html(a, page_id, links)))


async def diff_view(request: Any, datasette: Any) -> Response:
    """``/-/timeline/diff?page=&from=&to=``: the diff report of two versions."""
    args = request.args

    def work(a: Archive, links: DatasetteLinks) -> Response:
        try:
            page_id, start, end = (_int(args.get(k), k) for k in ("page", "from", "to"))
        except UsageError as e:
            return Response.text(f"coop-archive: {e}", status=400, headers=_HEADERS)
        return _html(diff_html(a, page_id, start, end, links))

    return await _render(datasette, work)


async def raw_view(request: Any, datasette: Any) -> Response:
    """``/-/timeline/raw/<snapshot>``: the stored body, as inert plain text."""
    snapshot_id = int(request.url_vars["snapshot_id"])

    def work(a: Archive, links: DatasetteLinks) -> Response:
        body, charset = raw_capture(a, snapshot_id)
        return Response(body, content_type=f"text/plain; charset={charset}",
                        headers={**_HEADERS, "Content-Security-Policy": RAW_CSP})

    return await _render(datasette, work)


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    """The timeline's routes."""
    return [
        (rf"^{PREFIX}$", index_view),
        (rf"^{PREFIX}/page/(?P<page_id>\d+)$", page_view),
        (rf"^{PREFIX}/diff$", diff_view),
        (rf"^{PREFIX}/raw/(?P<snapshot_id>\d+)$", raw_view),
    ]


@hookimpl
def menu_links(datasette: Any, actor: Any, request: Any) -> list[dict[str, str]]:
    """A "Timeline" entry in Datasette's menu."""
    return [{"href": str(datasette.urls.path(PREFIX)), "label": "Timeline of the pages"}]


def install() -> None:
    """Register this plugin with Datasette (once per process)."""
    import sys

    from datasette.plugins import pm

    module = sys.modules[__name__]
    if not pm.is_registered(module):
        pm.register(module, name="coop-archive-timeline")
