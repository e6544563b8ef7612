"""Import WARCs written by a tool we did not write: GNU wget's ``--warc-file``.

A real ``http.server`` on loopback serves the pages in tests/fixtures/warc/; wget crawls it
twice (the site changes in between) and the two WARCs are imported. wget comes from Debian's
packages (dev.sh / CI install it); without it the test fails, unless COOP_SKIP_WGET=1.
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive.store import Archive
from scraper.sources.warc_import import import_warc
from tests.builders import history

FIXTURES = Path(__file__).parents[1] / "fixtures" / "warc"
WGET = shutil.which("wget") or "/usr/bin/wget"



@pytest.fixture(autouse=True)
def _wget_present() -> None:
    """wget is part of the test set-up (dev.sh installs it): its absence fails the test,
    unless COOP_SKIP_WGET=1 says to skip on purpose."""
    if os.path.exists(WGET):
        return
    if os.environ.get("COOP_SKIP_WGET") == "1":
        pytest.skip("COOP_SKIP_WGET=1: wget interop skipped on purpose")
    pytest.fail("wget is not installed: `apt-get install -y wget` (./dev.sh test does it as "
                "root), or set COOP_SKIP_WGET=1 to skip explicitly")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def end_headers(self) -> None:
        # http.server answers in HTTP/1.0 and closes, but without saying so: wget then took
        # the connection for a persistent one now and then, sent its next request on it as
        # the server closed it, and failed that page ("No data received", with --tries=1).
        self.send_header("Connection", "close")
        super().end_headers()


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A copy of the fixture site served by http.server on 127.0.0.6."""
    root = tmp_path / "site"
    shutil.copytree(FIXTURES, root)
    handler = functools.partial(_Quiet, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.6", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.6:{httpd.server_address[1]}/", root
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def wget_warc(url: str, workdir: Path, name: str) -> Path:
    """Crawl ``url`` one level deep with wget, writing ``name``.warc.gz; never the internet."""
    workdir.mkdir(parents=True, exist_ok=True)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(workdir)}  # no proxies, no ~/.wgetrc
    proc = subprocess.run(
        [WGET, "--no-config", "--no-proxy", "--recursive", "--level=1", "--no-parent",
         "--tries=1", "--timeout=30", "--no-verbose", f"--warc-file={name}",
         "--no-warc-keep-log", url],
        cwd=workdir, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    return workdir / f"{name}.warc.gz"


def test_import_wget_warcs(site: tuple[str, Path], tmp_path: Path) -> None:
    url, root = site
    first = wget_warc(url, tmp_path / "w1", "first")
    time.sleep(1.1)  # wget's WARC-Date has whole seconds: keep the two crawls apart
    hub = (root / "index.html").read_text()
    (root / "index.html").write_text(
        hub.replace("October 21, 2016", "November 15, 2016").replace(
            "</ul>", '<li><a href="fs/three.html">Fact Sheet: Ports</a></li>\n</ul>'))
    (root / "fs" / "three.html").write_text(
        "<html><body><main><h1>Fact Sheet: Ports</h1><p>Green ports.</p></main></body></html>")
    one = (root / "fs" / "one.html").read_text()
    (root / "fs" / "one.html").write_text(one.replace("agreed to", "have agreed to"))
    second = wget_warc(url, tmp_path / "w2", "second")

    with Archive.open(tmp_path / "a.db") as archive:
        report = import_warc(archive, [second, first])  # order of arguments does not matter
        assert report.status == "complete", report.problems
        pages = [r[0] for r in archive.conn.execute("SELECT url FROM pages ORDER BY url")]
        assert pages == [url, url + "fs/one.html", url + "fs/three.html", url + "fs/two.html"]
        hub_history = history(archive, url)
        assert [(h["outcome"], h["changed"]) for h in hub_history] == [("new", 1), ("new", 1)]
        v1 = archive.load_version(hub_history[0]["version_id"])
        v2 = archive.load_version(hub_history[1]["version_id"])
        assert v1.updated_on == "2016-10-21" and v2.updated_on == "2016-11-15"
        assert [i.url for i in v1.items] == [url + "fs/one.html", url + "fs/two.html"]
        assert [i.title for i in v2.items][-1] == "Fact Sheet: Ports"
        assert [h["outcome"] for h in history(archive, url + "fs/one.html")] == ["new", "new"]
        assert [h["outcome"] for h in history(archive, url + "fs/two.html")] == \
            ["new", "unchanged"]
        # one import run per wget invocation (per warcinfo), each naming its file
        runs = archive.conn.execute("SELECT source, seed_url, options FROM runs").fetchall()
        assert len(runs) == 2 and {r["source"] for r in runs} == {"import"}
        assert all("wget-arguments" in json.loads(r["options"]) for r in runs)
        # what wget sent and received is kept with the snapshot
        snap = archive.conn.execute(
            "SELECT h.request_headers, h.response_headers, s.http_status, s.origin_uri"
            " FROM snapshots s JOIN snapshot_headers h ON h.snapshot_id = s.id"
            " ORDER BY s.captured_at LIMIT 1").fetchone()
        assert ["User-Agent", "Wget/" + snap["request_headers"].split("Wget/")[1].split('"')[0]] \
            in json.loads(snap["request_headers"])
        assert any(k == "Server" for k, _ in json.loads(snap["response_headers"]))
        assert snap["http_status"] == 200 and snap["origin_uri"].startswith("<urn:uuid:")

        again = import_warc(archive, [first, second])
        assert again.imported == 0 and again.duplicates == report.imported
