"""The timeline walked in a real headless Chromium, as a person would: the index, a page's
timeline, two versions picked, their diff, the raw capture. Twice: the static site from
``file://`` (``coop-archive publish``) and the pages ``coop-archive serve`` answers on
loopback. The fixture's title and items carry a ``<script>``: it must show as text and never
run (Chromium's DOM after load would have its title and the body's id changed).

Chromium comes from Debian, as for tests/test_diff_browser.py (its helpers are used here).
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlencode, urljoin

import pytest

from tests import timeline_fixture as tf
from tests.e2e.test_diff_browser import Visible, headless


class Dom(HTMLParser):
    """What a person can act on in a dumped DOM: links (href, class, text), the forms' fields
    and each select's selectable options."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str, str]] = []
        self.forms: list[dict[str, object]] = []
        self._a: list[str] | None = None
        self._select: str | None = None
        self._option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in a:
            self._a = [a["href"], a.get("class", ""), ""]
        elif tag == "form":
            self.forms.append({"action": a.get("action", ""), "hidden": {}, "selects": {}})
        elif tag == "input" and a.get("type") == "hidden" and self.forms:
            self.forms[-1]["hidden"][a["name"]] = a["value"]  # type: ignore[index]
        elif tag == "select" and self.forms:
            self._select = a["name"]
            self.forms[-1]["selects"][a["name"]] = []  # type: ignore[index]
        elif tag == "option" and self._select is not None:
            self._option = a["value"]
            self.forms[-1]["selects"][self._select].append([a["value"], ""])  # type: ignore[index]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._a is not None:
            self.links.append((self._a[0], self._a[1], re.sub(r"\s+", " ", self._a[2]).strip()))
            self._a = None
        elif tag == "select":
            self._select = None
        elif tag == "option":
            self._option = None

    def handle_data(self, data: str) -> None:
        if self._a is not None:
            self._a[2] += data
        if self._option is not None and self._select is not None:
            self.forms[-1]["selects"][self._select][-1][1] += data  # type: ignore[index]

    def link(self, *, text: str | None = None, cls: str | None = None) -> list[str]:
        """The hrefs of links whose text contains ``text`` and/or whose class is ``cls``."""
        return [h for h, c, t in self.links
                if (text is None or text in t) and (cls is None or cls in c.split())]


def _load(url: str, tmp_path: Path) -> tuple[Visible, Dom, str]:
    """Open ``url`` in headless Chromium; what is visible, what can be acted on, the text."""
    dom = headless_url(url, tmp_path)
    seen, act = Visible(), Dom()
    seen.feed(dom)
    act.feed(dom)
    return seen, act, re.sub(r"\s+", " ", "".join(seen.text))


def headless_url(url: str, tmp_path: Path) -> str:
    """The DOM of ``url`` after load (any script would have run by then)."""

    class Url:
        def __init__(self, u: str) -> None:
            self.u = u

        def as_uri(self) -> str:
            return self.u

    dom = headless(Url(url), tmp_path, "--no-proxy-server", "--dump-dom")  # type: ignore[arg-type]
    assert dom.strip(), f"chromium dumped no DOM for {url}"
    return dom


def _inert(seen: Visible, title: str = "coop-archive") -> None:
    """The fixture's script did not run: no script element, the title and ids are ours."""
    assert "script" not in seen.tags
    # The script would have set the document's title to 'pwned' (our titles may show the
    # script as text) and the body's id.
    assert seen.title.startswith(title) and "pwned" not in seen.ids


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = str(tmp_path_factory.mktemp("tlb") / "archive.db")
    tf.build(path)
    return path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "scraper", *args], capture_output=True,
                          text=True, timeout=120)


def _walk_to_page(index_url: str, tmp_path: Path) -> tuple[str, Visible, Dom, str]:
    """Open the index, check it, follow the watched page's link; the page's URL and DOM."""
    seen, act, text = _load(index_url, tmp_path)
    _inert(seen)
    assert seen.title.startswith("coop-archive: timeline")  # then the charts' tooltips
    assert "svg" in seen.tags and "Other page" in text
    assert f"Watched page {tf.SCRIPT}" in text  # shown as text
    (href,) = act.link(text="Watched page")
    page_url = urljoin(index_url, href)
    seen, act, text = _load(page_url, tmp_path)
    _inert(seen)
    for line in ("first capture", "1 item added; silent edit", "date-only bump",
                 "capture failed: timed out (2 captures)", "gap in the captures",
                 "page gone: HTTP 404", "back after being gone; unchanged",
                 "1 item removed, 1 edited"):
        assert line in text, line
    return page_url, seen, act, text


def _check_diff(diff_url: str, tmp_path: Path, page_url: str) -> None:
    seen, act, text = _load(diff_url, tmp_path)
    _inert(seen)
    assert seen.title.startswith("coop-archive diff 2016-01-01")
    assert f"Item A {tf.SCRIPT}" in text  # the removed item, as text
    assert "removed" in text and "revised" in "".join(seen.marked["ins"])
    (back,) = act.link(text="timeline of")
    assert urljoin(diff_url, back) == page_url


def _check_raw(raw_url: str, tmp_path: Path) -> None:
    seen, _act, text = _load(raw_url, tmp_path)
    _inert(seen, title="")
    assert seen.title == ""  # a text document has none, unless a script gave it one
    assert "pre" in seen.tags and tf.SCRIPT in text  # plain text, never live HTML


def test_static_site_index_page_two_versions_diff_raw(db: str, tmp_path: Path) -> None:
    out = tmp_path / "site"
    p = _cli("publish", "--db", db, str(out))
    assert p.returncode == 0, p.stderr
    page_url, _seen, act, _text = _walk_to_page((out / "index.html").as_uri(), tmp_path)
    # Pick two versions in the grid: from v1 (its row) to v4 (its column, the last).
    pairs = act.link(cls="pair-link")
    assert len(pairs) == 10  # every pair of the 5 stretches
    first_to_last = [h for h in pairs if re.fullmatch(r"diff-\d+-1-9\.html", h)]
    assert len(first_to_last) == 1
    _check_diff(urljoin(page_url, first_to_last[0]), tmp_path, page_url)
    raws = act.link(cls="raw-link")
    assert raws and all(h.endswith(".txt") for h in raws)
    _check_raw(urljoin(page_url, raws[-1]), tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def served(db: str) -> Iterator[str]:
    """``coop-archive serve`` on loopback (the real CLI); its base URL."""
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "scraper", "serve", "--db", db,
                             "--port", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr:
            proc.stderr.close()


def test_served_index_page_form_diff_raw(served: str, tmp_path: Path) -> None:
    page_url, _seen, act, _text = _walk_to_page(f"{served}/-/timeline", tmp_path)
    # Pick two versions in the form, as a person would: v1 on the left, v4 on the right.
    (form,) = act.forms
    selects = form["selects"]
    assert isinstance(selects, dict) and set(selects) == {"from", "to"}
    choices = {label: value for value, label in selects["from"]}
    assert list(choices) == ["v1, 2016-01-01", "v2, 2016-01-03", "v3, 2016-01-06",
                             "v3, 2016-01-21", "v4, 2016-01-22"]
    query = {**form["hidden"], "from": choices["v1, 2016-01-01"],  # type: ignore[dict-item]
             "to": choices["v4, 2016-01-22"]}
    diff_url = urljoin(page_url, f"{form['action']}?{urlencode(query)}")
    _check_diff(diff_url, tmp_path, page_url)
    (raw,) = [h for h in act.link(cls="raw-link") if h.endswith("/raw/1")]
    raw_url = urljoin(page_url, raw)
    _check_raw(raw_url, tmp_path)
    with urllib.request.urlopen(raw_url, timeout=10) as r:
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert "sandbox" in r.headers["Content-Security-Policy"]
