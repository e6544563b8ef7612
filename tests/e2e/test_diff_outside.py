"""``coop-archive diff --outside`` run for real: a loopback site crawled by the real CLI, in
turns where only the chrome around the main content changes, then the content too.

The chrome changing is kept and shown on request, never a change: the content diff stays
empty, ``--exit-code`` says "no change", no version is made, and without ``--outside`` the
report is exactly what it was without the option.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.cli import db_rows as q
from tests.cli import run_cli
from tests.e2e.test_outside_text import _page as _story  # the article page, chrome on both sides
from tests.servers import LoopbackServer, Static

HOST = "127.0.0.8"


def _hub(trending: str, generated: str) -> bytes:
    return f"""<html><head><title>News | Site</title></head><body>
<div class="masthead"><a href="/">Home</a> <a href="/world">World</a></div>
<main><h1>News</h1><ul>
 <li><a href="/story">Budget approved</a> The council voted on the budget.</li>
</ul></main>
<aside><h3>Trending now</h3><p>{trending}</p></aside>
<footer>Page generated {generated}</footer>
</body></html>""".encode()


def _serve(srv: LoopbackServer, trending: str, generated: str, **story: str) -> None:
    """The hub (its chrome: ``trending`` and a ``generated`` time) and the story it links
    to (its rail and footer both say ``trending``)."""
    srv.route("/robots.txt", Static(body=b"User-agent: *\n", content_type="text/plain"))
    srv.route("/", Static(body=_hub(trending, generated)))
    srv.route("/story", Static(body=_story(trending, **story)))


def _crawl(db: Path, srv: LoopbackServer) -> None:
    r = run_cli("crawl", srv.url("/"), "--db", str(db), "--delay", "0", "--timeout", "5",
                "--retries", "0", timeout=120)
    assert r.returncode == 0, r.stderr


def _diff(db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COOP_ARCHIVE_DB", "NO_COLOR")}
    return run_cli("diff", "--db", str(db), *args, env=env, timeout=60)


def _digest(db: Path) -> str:
    return hashlib.sha256(db.read_bytes()).hexdigest()


@pytest.fixture
def site(http_server) -> LoopbackServer:
    return http_server(HOST)


def test_chrome_only_change_is_shown_on_request_and_is_no_change(tmp_path, site):
    db = tmp_path / "a.db"
    _serve(site, "Ferry strike enters third day", "10:00")
    _crawl(db, site)
    _serve(site, "Storm warning for the coast", "11:00")
    _crawl(db, site)
    assert q(db, "SELECT count(*) FROM versions") == [(2,)]  # the hub and the story, once each
    hub, story = site.url("/"), site.url("/story")

    plain = _diff(db, "--exit-code")
    assert plain.returncode == 0, plain.stderr  # nothing changed: the content is the same
    assert plain.stdout.rstrip().endswith("no changes")
    assert "Storm" not in plain.stdout and "Outside" not in plain.stdout

    before = _digest(db)
    out = _diff(db, "--exit-code", "--outside")
    assert out.returncode == 0, out.stderr  # the same exit code as without the option
    assert _digest(db) == before  # a reader: nothing written, no version, no outbox entry
    assert q(db, "SELECT count(*) FROM versions") == [(2,)]
    assert q(db, "SELECT count(*) FROM outbox") == [(0,)]
    # Without --outside the report is the same, byte for byte, as the part before it.
    assert out.stdout.startswith(plain.stdout)
    part = out.stdout[len(plain.stdout):].splitlines()
    assert part[0] == ""
    assert part[1].startswith("Outside the main content (")
    text = "\n".join(part)
    assert f"  {hub}  [hub]  #" in text and f"  {story}  #" in text
    for line in ("    - Ferry strike enters third day", "    + Storm warning for the coast",
                 "    - Page generated 10:00", "    + Page generated 11:00"):
        assert line in text, text
    assert "Home World" not in text and "Most read" not in text  # unchanged lines are not listed
    assert "budget" not in text.lower()  # the main content is not in this part

    data = json.loads(_diff(db, "--format", "json", "--outside").stdout)
    bare = json.loads(_diff(db, "--format", "json").stdout)
    assert "outside" not in bare
    assert {k: v for k, v in data.items() if k != "outside"} == bare
    assert data["changed"] is False and {p["change"] for p in data["pages"]} == {"unchanged"}
    by_url = {o["url"]: o for o in data["outside"]}
    assert list(by_url) == [hub, story]  # the hub first, then by URL
    assert by_url[story]["removed"] == ["Ferry strike enters third day",
                                        "Page generated Ferry strike enters third day"]
    assert by_url[story]["added"] == ["Storm warning for the coast",
                                      "Page generated Storm warning for the coast"]
    assert by_url[hub]["added"] == ["Storm warning for the coast", "Page generated 11:00"]
    assert by_url[story]["missing"] is None and by_url[story]["from"]["recorded"] is True
    snaps = q(db, "SELECT s.id FROM snapshots s JOIN pages p ON p.id = s.page_id"
                  " WHERE p.url = ? ORDER BY s.id", story)
    assert [by_url[story]["from"]["snapshot"], by_url[story]["to"]["snapshot"]] == [
        snaps[0][0], snaps[1][0]]

    page = _diff(db, "--format", "html", "--outside").stdout
    bare_html = _diff(db, "--format", "html").stdout
    start = page.index('<section class="page outside"')
    end = page.index("</section>", start) + len("</section>")
    assert page == bare_html.replace("\n</body></html>",
                                     "\n" + page[start:end] + "\n</body></html>")
    assert "<ins>+ Storm warning for the coast</ins>" in page

    # One page by URL: only its own chrome.
    one = json.loads(_diff(db, story, "--format", "json", "--outside").stdout)
    assert [o["url"] for o in one["outside"]] == [story]
    # The same page named by its watch (the config names the archive).
    config = tmp_path / "watches.toml"
    config.write_text(f'[archive]\ndb = "a.db"\n[[watch]]\nname = "story"\nurl = "{story}"\n',
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("COOP_ARCHIVE_DB", "NO_COLOR")}
    watched = run_cli("diff", "--config", str(config), "--watch", "story", "--outside",
                      "--format", "json", env=env, timeout=60)
    assert watched.returncode == 0, watched.stderr
    assert json.loads(watched.stdout)["outside"] == one["outside"]


def test_help_and_docs_name_the_option():
    out = run_cli("diff", "--help", timeout=60)
    assert "--outside" in out.stdout and "never a change" in " ".join(out.stdout.split())
    doc = (Path(__file__).resolve().parents[2] / "docs" / "diff.md").read_text(encoding="utf-8")
    assert "## `--outside`" in doc


def test_content_and_chrome_change_each_in_its_own_part(tmp_path, site):
    db = tmp_path / "a.db"
    _serve(site, "Ferry strike enters third day", "10:00")
    _crawl(db, site)
    _serve(site, "Storm warning for the coast", "11:00",
           lead="The council rejected the new budget on Tuesday")
    _crawl(db, site)
    story = site.url("/story")

    plain = _diff(db, "--exit-code")
    out = _diff(db, "--exit-code", "--outside")
    assert plain.returncode == out.returncode == 1  # changed: the story's own text
    assert out.stdout.startswith(plain.stdout)
    content, outside = out.stdout[:len(plain.stdout)], out.stdout[len(plain.stdout):]
    assert f"changed   {story}" in content and "[-approved-]{+rejected+}" in content
    assert "Storm" not in content  # the chrome is not part of the content diff
    assert "+ Storm warning for the coast" in outside and "rejected" not in outside

    data = json.loads(_diff(db, "--format", "json", "--outside").stdout)
    assert data["changed"] is True
    assert {p["url"]: p["change"] for p in data["pages"]}[story] == "changed"
    assert story in {o["url"] for o in data["outside"]}


def test_a_side_without_recorded_outside_text_is_one_line(tmp_path, site):
    """An archive made before the text around the main content was kept (schema 5): its
    captures have none. The diff says so in one line, not every line "added"."""
    db = tmp_path / "a.db"
    _serve(site, "Ferry strike enters third day", "10:00")
    _crawl(db, site)
    _serve(site, "Storm warning for the coast", "11:00")
    _crawl(db, site)
    story = site.url("/story")
    # What an older archive holds: the first crawl's captures without it.
    import sqlite3
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE snapshots SET outside_text_id = NULL WHERE run_id = 1")
    out = _diff(db, story, "--outside", "--exit-code")
    assert out.returncode == 0, out.stderr
    part = out.stdout[out.stdout.index("Outside the main content"):].splitlines()
    assert part[1].startswith(f"  {story}  #")
    assert part[2].startswith("    not compared: the earlier capture #")
    assert "none recorded" in part[2]
    assert len(part) == 3  # one line, no "+" lines
    data = json.loads(_diff(db, story, "--outside", "--format", "json").stdout)
    (o,) = data["outside"]
    assert (o["missing"], o["added"], o["removed"]) == ("from", [], [])
