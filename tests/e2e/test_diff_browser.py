"""The html diff report looked at in a real headless Chromium.

Asserts what a person sees: the scraped ``<script>`` shows as text and did not run, the
removed and added words are marked in place, the items are a table. Chromium comes from
Debian (``apt-get install -y chromium``; dev.sh / .ci/run install it). If it is missing the
test fails, unless COOP_SKIP_BROWSER=1 says to skip on purpose.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from archive.compare import diff_between
from archive.report import render_html
from archive.store import Archive
from tests.fixtures.diff import scenario as sc

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")


def chromium() -> str:
    for path in CHROMIUM_CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    found = shutil.which("chromium")
    if found:
        return found
    if os.environ.get("COOP_SKIP_BROWSER") == "1":
        pytest.skip("COOP_SKIP_BROWSER=1: browser test skipped on purpose")
    pytest.fail("Chromium not found (looked for /usr/bin/chromium): install it with "
                "`apt-get install -y chromium`, or set COOP_SKIP_BROWSER=1 to skip explicitly")


def headless(html_file: Path, tmp_path: Path, *mode: str) -> str:
    """Load the file in headless Chromium with ``mode`` (--dump-dom, --screenshot=...)."""
    cmd = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}",
           "--virtual-time-budget=2000", *mode, html_file.as_uri()]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, f"chromium failed ({p.returncode}): {p.stderr[-2000:]}"
    return p.stdout


def dump_dom(html_file: Path, tmp_path: Path) -> str:
    """The DOM after load (and after any script would have run)."""
    dom = headless(html_file, tmp_path, "--dump-dom")
    assert dom.strip(), "chromium dumped no DOM"
    return dom


class Visible(HTMLParser):
    """The text a person sees in a DOM dump (style content excluded), and what is marked."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.marked: dict[str, list[str]] = {"del": [], "ins": []}
        self.title = ""
        self.tags: list[str] = []
        self.ids: list[str] = []
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.ids += [v or "" for k, v in attrs if k == "id"]
        self._stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        while self._stack:
            if self._stack.pop() == tag:
                break

    def handle_data(self, data: str) -> None:
        if "style" in self._stack:
            return
        if "title" in self._stack:
            self.title += data
            return
        self.text.append(data)
        for tag in ("del", "ins"):
            if tag in self._stack:
                self.marked[tag].append(data)


@pytest.fixture(scope="module")
def report_file(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("browser")
    sc.build_archive(root / "archive.db")
    with Archive.open(root / "archive.db", readonly=True) as a:
        page = render_html(diff_between(a, "2016-10-21", "2016-11-15"))
    out = root / "diff.html"
    out.write_text(page, encoding="utf-8")
    return out


def test_report_in_headless_chromium(report_file, tmp_path):
    dom = dump_dom(report_file, tmp_path)
    seen = Visible()
    seen.feed(dom)
    text = re.sub(r"\s+", " ", "".join(seen.text))

    # The scraped script is visible as text ...
    assert "<script>document.title='pwned';" in text
    # ... and did not run: the title is ours and the element it would add is absent.
    assert seen.title.startswith("coop-archive diff")
    assert "pwned" not in seen.title
    assert "pwned" not in seen.ids
    assert "script" not in seen.tags

    # Removed and added words, marked in place.
    assert "central" in "".join(seen.marked["ins"])
    assert "2016-10-21" in "".join(seen.marked["del"])
    assert "2016-11-15" in "".join(seen.marked["ins"])
    # The items, as a table a person reads row by row.
    assert "table" in seen.tags
    assert re.search(r"Change\s*Section\s*Item\s*What changed", text)
    assert "Economic Track Resource" in text
    assert "Strategic Track Outcomes" in text  # the gone page, by title
    # and the page's verdicts
    for verdict in ("changed", "gone", "removed", "failed", "added"):
        assert verdict in text


def test_report_renders_to_a_screenshot(report_file, tmp_path):
    shot = tmp_path / "diff.png"
    headless(report_file, tmp_path, f"--screenshot={shot}", "--window-size=1200,1600")
    assert shot.exists() and shot.stat().st_size > 10_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_missing_chromium_fails_loudly_unless_skipped_on_purpose(monkeypatch):
    import tests.e2e.test_diff_browser as me

    monkeypatch.setattr(me, "CHROMIUM_CANDIDATES", ("/nonexistent/chromium",))
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("COOP_SKIP_BROWSER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="apt-get install -y chromium"):
        me.chromium()
    monkeypatch.setenv("COOP_SKIP_BROWSER", "1")
    with pytest.raises(pytest.skip.Exception):
        me.chromium()
