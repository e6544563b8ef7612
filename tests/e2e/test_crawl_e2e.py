"""End to end: the real CLI crawls the bundled site served on three loopback hosts.

The hub's expected items come from the page's real text (tests/fixtures/seed, a copy of the
project's seed), not from our own output.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from archive.model import norm_text
from scraper.siteserver import SiteServer, sitedata_root
from tests.builders import doc_html, hub_html
from tests.cli import db_rows as q
from tests.cli import run_cli
from tests.servers import LoopbackServer, Redirect, Static

SEED_TEXT = (Path(__file__).parents[1] / "fixtures" / "seed"
             / "us-china-cooperation-2016-10-21.txt")
BIND = {"dot": "127.0.0.2", "state": "127.0.0.3", "treasury": "127.0.0.4"}
HUB_PATH = "/r2ze/US-China-Cooperation"


def seed_items() -> list[tuple[str, str]]:
    """(title, summary) of every bullet of the real page, in order."""
    lines = SEED_TEXT.read_text(encoding="utf-8").splitlines()
    items = []
    for n, line in enumerate(lines):
        if line.startswith("  • "):
            items.append((line[4:], lines[n + 1].strip()))
    return items



def hub_version(db: Path, site: SiteServer) -> int:
    return q(db, "SELECT s.version_id FROM snapshots s JOIN pages p ON p.id = s.page_id"
                 " WHERE p.url = ? ORDER BY s.id DESC LIMIT 1", site.seed)[0][0]


@pytest.fixture(scope="module")
def _site_server():
    with SiteServer("2016-10-21", bind=BIND) as s:
        yield s


@pytest.fixture
def site(_site_server):
    """The bundled site at 2016-10-21, one server for the module: each test starts it afresh
    (first snapshot, no requests recorded), as its own server would."""
    _site_server.switch("2016-10-21")
    _site_server.requests.clear()  # no crawl runs between tests, so nothing is appending
    return _site_server


@pytest.fixture
def site_copy(tmp_path):
    """A private copy of the bundled site, to edit (noise, hostile links, robots rules)."""
    root = tmp_path / "sitedata"
    shutil.copytree(sitedata_root(), root)
    return root


def crawl(db: Path, seed: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_cli("crawl", seed, "--db", str(db), "--delay", "0", "--timeout", "5", *extra)


def test_every_item_of_the_real_hub_is_archived_exactly(tmp_path, site):
    db = tmp_path / "a.db"
    r = crawl(db, site.seed)
    assert r.returncode == 0, r.stderr
    vid = hub_version(db, site)
    (title, updated), = q(db, "SELECT title, updated_on FROM versions WHERE id = ?", vid)
    assert (title, updated) == ("U.S.-China Cooperation", "2016-10-21")
    got = q(db, "SELECT i.title, i.summary, i.url, s.heading FROM items i"
                " LEFT JOIN sections s ON s.id = i.section_id WHERE i.version_id = ?"
                " ORDER BY i.position", vid)
    expected = seed_items()
    assert len(got) == len(expected) == 9
    for (g_title, g_summary, _, _), (e_title, e_summary) in zip(got, expected, strict=True):
        assert norm_text(g_title) == norm_text(e_title)
        assert norm_text(g_summary) == norm_text(e_summary)
    # shown text is kept as on the page: the curly apostrophe and the double space survive
    assert "world’s two largest economies" in got[0][1]
    assert "of the CCWG.\u00a0 The report" in got[8][1]  # a no-break space, as served
    assert [g[3] for g in got] == ["Fact Sheets"] * 4 + ["Media Notes"] * 5
    urls = [g[2] for g in got]
    assert urls[0] == site.url("https://2009-2017.state.gov/r/pa/prs/ps/2016/06/258178.htm")
    assert urls[2] == site.url("https://www.treasury.gov/press-center/press-releases/Pages/jl0484.aspx")
    assert urls[8].endswith("/initiatives/Documents/US-China-CCWG-Report-2016.pdf")
    # every item's document was fetched and archived
    for url in urls:
        assert q(db, "SELECT count(*) FROM snapshots s JOIN pages p ON p.id = s.page_id"
                     " WHERE p.url = ? AND s.outcome = 'new'", url) == [(1,)], url


def test_nav_and_footer_are_not_followed_and_hosts_are_polite(tmp_path, site):
    db = tmp_path / "a.db"
    assert crawl(db, site.seed).returncode == 0
    dot = sorted(r.path for r in site.requests if r.host == "dot")
    assert dot == ["/r2ze/US-China-Cooperation", "/robots.txt"]
    pages = {u for (u,) in q(db, "SELECT url FROM pages")}
    assert len(pages) == 10
    assert not any(re.search(r"/(briefing-room|feedback|about-dot|node/)", u) for u in pages)
    # at most one request in flight per host
    for host in BIND:
        reqs = sorted((r.started, r.finished) for r in site.requests if r.host == host)
        assert all(a[1] <= b[0] for a, b in zip(reqs, reqs[1:], strict=False)), host


def test_robots_crawl_delay_is_obeyed(tmp_path, site):
    db = tmp_path / "a.db"
    assert crawl(db, site.seed).returncode == 0
    dot = sorted(r.started for r in site.requests if r.host == "dot")
    assert dot[1] - dot[0] >= 0.95  # dot's robots.txt says Crawl-delay: 1


def test_robots_disallow_is_obeyed_unless_ignored(tmp_path, site_copy):
    robots = site_copy / "2016-10-21" / "state" / "robots.txt"
    robots.write_text("User-agent: *\nDisallow: /r/pa/prs/ps/2016/06/258146.htm\n")
    db = tmp_path / "a.db"
    with SiteServer("2016-10-21", root=site_copy, bind=BIND) as s:
        r = crawl(db, s.seed)
        assert r.returncode == 0, r.stderr  # a rule is not a failure
        assert not [x for x in s.requests if x.path.endswith("258146.htm")]
        assert q(db, "SELECT s.outcome, s.error FROM snapshots s JOIN pages p"
                     " ON p.id = s.page_id WHERE p.url LIKE '%258146.htm'") == [
            ("blocked", "disallowed by robots.txt")]
        r = crawl(db, s.seed, "--ignore-robots")
        assert r.returncode == 0
        assert [x for x in s.requests if x.path.endswith("258146.htm")]


def test_hosts_are_fetched_in_parallel(tmp_path):
    db = tmp_path / "a.db"
    with SiteServer("2016-10-21", bind=BIND, delay=0.25) as s:
        assert crawl(db, s.seed, "--ignore-robots").returncode == 0
        per_host = {h: sum(r.finished - r.started for r in s.requests if r.host == h)
                    for h in BIND}
        # Timed by the server, from the first request to the last answer: the interpreter's
        # start-up (seconds on a loaded machine) is no part of how the crawl fetches.
        wall = max(r.finished for r in s.requests) - min(r.started for r in s.requests)
        state = [(r.started, r.finished) for r in s.requests if r.host == "state"]
        treasury = [(r.started, r.finished) for r in s.requests if r.host == "treasury"]
    # state.gov has 7 documents; treasury 2 run beside them, not after them
    assert any(a0 < b1 and b0 < a1 for a0, a1 in treasury for b0, b1 in state)
    assert wall < per_host["dot"] + per_host["state"] + 0.5 * per_host["treasury"] + 1.0


def test_windows_1252_declared_utf8_and_pdf_text(tmp_path, site):
    db = tmp_path / "a.db"
    assert crawl(db, site.seed).returncode == 0
    (text,), = q(db, "SELECT v.text FROM versions v JOIN pages p ON p.id = v.page_id"
                     " WHERE p.url LIKE '%258178.htm'")
    assert "’" in text or "“" in text
    assert "â€" not in text and "\ufffd" not in text
    (kind, pdf_text), = q(db, "SELECT v.kind, v.text FROM versions v JOIN pages p"
                              " ON p.id = v.page_id WHERE p.url LIKE '%.pdf'")
    assert kind == "pdf" and "Climate Change Working Group" in pdf_text


def test_recrawl_of_an_unchanged_site_is_conditional_and_adds_no_version(tmp_path, site):
    db = tmp_path / "a.db"
    assert crawl(db, site.seed).returncode == 0
    versions = q(db, "SELECT count(*) FROM versions")
    n = len(site.requests)
    r = crawl(db, site.seed, "--quiet")
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")
    assert q(db, "SELECT count(*) FROM versions") == versions
    second = [x for x in site.requests[n:] if x.path != "/robots.txt"]
    assert len(second) == 10
    assert all("If-None-Match" in x.headers for x in second)
    assert {o for (o,) in q(db, "SELECT outcome FROM snapshots WHERE run_id = 2")} == {
        "not_modified"}


def test_the_later_site_is_archived_with_404_recorded(tmp_path, site):
    db = tmp_path / "a.db"
    assert crawl(db, site.seed).returncode == 0
    site.switch("2016-11-15")
    r = crawl(db, site.seed)
    assert r.returncode == 0, r.stderr  # a 404 is an observation, not a failure
    assert "gone" in r.stdout
    assert q(db, "SELECT s.outcome, s.http_status FROM snapshots s JOIN pages p"
                 " ON p.id = s.page_id WHERE p.url LIKE '%258162.htm' ORDER BY s.id") == [
        ("new", 200), ("gone", 404)]
    assert q(db, "SELECT updated_on FROM versions WHERE id = ?", hub_version(db, site)) == [
        ("2016-11-15",)]


def _add_noise(path: Path, n: int) -> None:
    html = path.read_text(encoding="utf-8")
    html = re.sub(r'(name="form_build_id" value=")[^"]*', rf"\g<1>form-noise-{n}", html)
    html = re.sub(r'(name="csrf-token" content=")[^"]*', rf"\g<1>tok{n}", html)
    html = re.sub(r'("theme_token":")[^"]*', rf"\g<1>theme{n}", html)
    html = re.sub(r"\?itok=[\w-]+", f"?itok=x{n}", html)
    html = re.sub(r"Page generated at [^<]*", f"Page generated at 2016-10-2{n}T00:00:0{n}+00:00",
                  html)
    path.write_text(html, encoding="utf-8")


def test_noise_only_differences_make_no_new_version(tmp_path, site_copy):
    hub = site_copy / "2016-10-21" / "dot" / "r2ze" / "US-China-Cooperation.html"
    db = tmp_path / "a.db"
    with SiteServer("2016-10-21", root=site_copy, bind=BIND) as s:
        assert crawl(db, s.seed).returncode == 0
        for n in (1, 2):
            _add_noise(hub, n)
            s.switch("2016-10-21")  # reload the edited file
            r = crawl(db, s.seed, "--quiet")
            assert (r.returncode, r.stdout) == (0, ""), r.stderr
    hub_rows = q(db, "SELECT s.outcome, s.version_id, s.body_id FROM snapshots s"
                     " JOIN pages p ON p.id = s.page_id WHERE p.url LIKE '%Cooperation'"
                     " ORDER BY s.id")
    assert [r[0] for r in hub_rows] == ["new", "unchanged", "unchanged"]
    assert len({r[1] for r in hub_rows}) == 1  # one version
    assert len({r[2] for r in hub_rows}) == 3  # three different bodies, all kept


def test_hostile_links_are_never_fetched(tmp_path, site_copy):
    hub = site_copy / "2016-10-21" / "dot" / "r2ze" / "US-China-Cooperation.html"
    html = hub.read_text(encoding="utf-8")
    hostile = ('<li><a href="http://169.254.169.254/latest/meta-data/">Metadata</a> x</li>'
               '<li><a href="file:///etc/passwd">Passwords</a> y</li>'
               '<li><a href="http://[fe80::1]/x">Link-local v6</a> z</li>')
    html = html.replace("<li>", hostile + "<li>", 1)
    hub.write_text(html, encoding="utf-8")
    db = tmp_path / "a.db"
    with SiteServer("2016-10-21", root=site_copy, bind=BIND) as s:
        r = crawl(db, s.seed)
    assert r.returncode == 0, r.stderr
    rows = dict(q(db, "SELECT p.url, s.outcome FROM snapshots s JOIN pages p"
                      " ON p.id = s.page_id"))
    assert rows.get("http://169.254.169.254/latest/meta-data/") == "blocked"
    assert not any(u.startswith("file:") for u in rows)
    assert not any("fe80" in u and o != "blocked" for u, o in rows.items())


def test_redirect_is_followed_and_recorded(tmp_path, http_server):
    old: LoopbackServer = http_server("127.0.0.2")
    new: LoopbackServer = http_server("127.0.0.3")
    old.route("/hub", Static(body=hub_html((old.url("/r/pa/doc.htm"), "Doc", "s"), title="Hub",
                                           section=None)))
    old.route("/r/pa/doc.htm", Redirect(new.url("/r/pa/doc.htm"), 301))
    new.route("/r/pa/doc.htm", Static(body=doc_html("Doc", "Moved here.")))
    db = tmp_path / "a.db"
    r = crawl(db, old.url("/hub"), "--ignore-robots")
    assert r.returncode == 0, r.stderr
    (url, final, redirects), = q(db, "SELECT p.url, s.final_url, s.redirects FROM snapshots s"
                                     " JOIN pages p ON p.id = s.page_id"
                                     " WHERE p.url LIKE '%doc.htm'")
    assert url == old.url("/r/pa/doc.htm") and final == new.url("/r/pa/doc.htm")
    assert '301' in redirects


def test_history_lists_every_snapshot(tmp_path, site):
    db = tmp_path / "a.db"
    assert crawl(db, site.seed).returncode == 0
    r = run_cli("history", site.seed, "--db", str(db), "--json")
    assert r.returncode == 0
    assert r.stdout.count("\n") == 1 and '"outcome": "new"' in r.stdout
    r = run_cli("history", "http://127.0.0.2/nope", "--db", str(db))
    assert r.returncode == 2 and "no page" in r.stderr
