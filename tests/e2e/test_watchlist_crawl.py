"""``coop-archive crawl`` over a watch list, end to end: the real CLI in a subprocess, real
loopback servers on 127.0.0.x hosts, real receivers for the notifications (a JSON webhook and
aiosmtpd), a real SQLite archive."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path

import pytest

from tests.builders import hub_html
from tests.cli import cli_command, run_cli
from tests.cli import db_rows as q
from tests.servers import Dynamic, LoopbackServer, RecordedRequest, Static

SHARED, OTHER, DOWN = "127.0.0.5", "127.0.0.6", "127.0.0.7"
CRAWL_DELAY = 1.0



def closed_port(host: str) -> int:
    """A port on ``host`` that nothing listens on (a seed that is down)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def write_config(tmp_path: Path, body: str, archive: str = "") -> Path:
    path = tmp_path / "watches.toml"
    path.write_text('[archive]\ndb = "archive.db"\ndelay = 0\nretries = 0\ntimeout = 5\n'
                    + archive + body, encoding="utf-8")
    return path


def watch(name: str, url: str, depth: int = 0, extra: str = "") -> str:
    return f'[[watch]]\nname = "{name}"\nurl = "{url}"\ndepth = {depth}\n{extra}\n'


@pytest.fixture
def three_sites(http_server: Callable[..., LoopbackServer]
                ) -> tuple[LoopbackServer, LoopbackServer]:
    """Two watches' pages on one host that asks for a Crawl-delay, one on another host."""
    shared, other = http_server(SHARED), http_server(OTHER)
    shared.route("/robots.txt", Static(body=f"User-agent: *\nCrawl-delay: {CRAWL_DELAY:g}\n"
                                       .encode(), content_type="text/plain"))
    shared.route("/a", Static(body=hub_html(("/a-doc", "A document", "about A."),
                                            title="Watch A")))
    shared.route("/a-doc", Static(body=b"<html><body><main><h1>A doc</h1><p>Text of A.</p>"
                                       b"</main></body></html>"))
    shared.route("/b", Static(body=hub_html(("/b-doc", "B document"), title="Watch B")))
    other.route("/c", Static(body=hub_html(("/c-doc", "C document"), title="Watch C")))
    return shared, other


def page_requests(srv: LoopbackServer) -> list[RecordedRequest]:
    return sorted((r for p in ("/robots.txt", "/a", "/a-doc", "/b")
                   for r in srv.requests_to(p)), key=lambda r: r.time)


def test_one_command_crawls_every_watch_keeping_a_shared_hosts_crawl_delay(tmp_path,
                                                                           three_sites):
    shared, other = three_sites
    config = write_config(tmp_path, watch("a", shared.url("/a"), depth=1)
                          + watch("b", shared.url("/b")) + watch("c", other.url("/c")))
    r = run_cli("crawl", "--config", str(config), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [(w["watch"], w["status"]) for w in out["watches"]] == [
        ("a", "complete"), ("b", "complete"), ("c", "complete")]
    db = tmp_path / "archive.db"  # the config's [archive] db, beside the config file
    runs = q(db, "SELECT seed_url, status, options FROM runs ORDER BY id")
    assert [(seed, status, json.loads(opts)["watch"]) for seed, status, opts in runs] == [
        (shared.url("/a"), "complete", "a"), (shared.url("/b"), "complete", "b"),
        (other.url("/c"), "complete", "c")]
    assert {u for (u,) in q(db, "SELECT url FROM pages")} == {
        shared.url("/a"), shared.url("/a-doc"), shared.url("/b"), other.url("/c")}
    # The shared host: robots.txt, /a, /a-doc for watch a, then robots.txt and /b for watch b,
    # never two starts closer than its Crawl-delay, across the two watches as within one.
    reqs = page_requests(shared)
    assert [r.path for r in reqs][-2:] == ["/robots.txt", "/b"]
    gaps = [b.time - a.time for a, b in pairwise(reqs)]
    assert len(gaps) >= 4 and min(gaps) >= CRAWL_DELAY * 0.9, gaps
    # The other host is not held up by the shared one's delay: one worker per host, and it
    # runs after its turn, without its own Crawl-delay.
    assert len(other.requests_to("/c")) == 1


def test_a_watch_whose_seed_is_down_leaves_the_others_archived_and_the_job_partial(
        tmp_path, three_sites):
    shared, _other = three_sites
    down = f"http://{DOWN}:{closed_port(DOWN)}/gone"
    config = write_config(tmp_path, watch("a", shared.url("/a")) + watch("down", down)
                          + watch("b", shared.url("/b")))
    r = run_cli("crawl", "--config", str(config), cwd=tmp_path)
    assert r.returncode == 1, (r.stdout, r.stderr)  # partial: the worst, but not "failed"
    assert "watch down: crawl failed" in r.stderr
    db = tmp_path / "archive.db"
    assert q(db, "SELECT seed_url, status FROM runs ORDER BY id") == [
        (shared.url("/a"), "complete"), (down, "failed"), (shared.url("/b"), "complete")]
    fetched = {u for (u,) in q(db, "SELECT p.url FROM snapshots s JOIN pages p ON p.id = "
                                   "s.page_id WHERE s.outcome = 'new'")}
    assert fetched == {shared.url("/a"), shared.url("/b")}


def test_every_watch_failing_is_failed_and_watch_and_tag_choose(tmp_path, three_sites):
    shared, other = three_sites
    down = f"http://{DOWN}:{closed_port(DOWN)}/gone"
    config = write_config(tmp_path, watch("down", down, extra='tags = ["x"]')
                          + watch("b", shared.url("/b"), extra='tags = ["x"]')
                          + watch("c", other.url("/c")))
    r = run_cli("crawl", "--config", str(config), "--watch", "down", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    r = run_cli("crawl", "--config", str(config), "--tag", "x", "--watch", "c", "--json",
                cwd=tmp_path)
    assert [w["watch"] for w in json.loads(r.stdout)["watches"]] == ["down", "b", "c"]
    r = run_cli("crawl", "--config", str(config), "--watch", "nope", cwd=tmp_path)
    assert r.returncode == 2 and "no watch 'nope'" in r.stderr


def test_a_broken_config_is_every_problem_and_exit_2_before_the_archive_is_touched(tmp_path):
    config = tmp_path / "bad.toml"
    config.write_text('[archive]\ndb = "archive.db"\ndepht = 2\n[[watch]]\nname = "x"\n'
                      'url = "ftp://example.org/"\nmain = "div[["\n', encoding="utf-8")
    r = run_cli("crawl", "--config", str(config), cwd=tmp_path)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3 and all(line.startswith(f"coop-archive: {config}:") for line in lines)
    assert ":3: " in lines[0] and "depht" in lines[0]
    assert not (tmp_path / "archive.db").exists()


def test_command_line_options_override_the_config(tmp_path, three_sites):
    shared, _other = three_sites
    config = write_config(tmp_path, watch("a", shared.url("/a"), depth=1))
    r = run_cli("crawl", "--config", str(config), "--depth", "0", "--db",
                str(tmp_path / "other.db"), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert q(tmp_path / "other.db", "SELECT url FROM pages") == [(shared.url("/a"),)]
    assert json.loads(q(tmp_path / "other.db", "SELECT options FROM runs")[0][0])["depth"] == 0


# -- notifications -------------------------------------------------------------------------


class Climate:
    """A page whose text the test changes between crawls."""

    def __init__(self) -> None:
        self.total, self.updated, self.visits = "36", "October 21, 2016", 1

    def body(self) -> bytes:
        self.visits += 1  # a visit counter: noise on every request
        page = hub_html(("/eco", "EcoPartnerships",
                         f"bringing the total to {self.total}."),
                        ("/energy", "Clean energy", "unchanged."),
                        title="U.S.-China climate", updated=self.updated)
        return page.replace(b"</main>", f'<p class="visit-counter">Visits: {self.visits}</p>'
                                        f"</main>".encode())


def test_a_change_sends_one_webhook_and_one_mail_noise_sends_nothing_none_is_lost(
        tmp_path, http_server, hook, mail):
    srv = http_server(OTHER)
    site = Climate()
    srv.route("/climate", Dynamic(lambda req: Static(body=site.body())))
    config = write_config(tmp_path, f'[notify]\nurls = ["{hook.url}", "{mail.url()}"]\n'
                          + watch("climate", srv.url("/climate"),
                                  extra='ignore = [".visit-counter"]'),
                          archive='feed = "pub/changes.atom"\n')
    (tmp_path / "pub").mkdir()
    db = tmp_path / "archive.db"

    errors: list[str] = []

    def crawl() -> tuple[int, dict]:
        r = run_cli("crawl", "--config", str(config), "--json", cwd=tmp_path)
        errors.append(r.stderr)
        return r.returncode, json.loads(r.stdout)

    assert crawl()[0] == 0  # the first capture is not a change
    assert crawl()[0] == 0  # unchanged (the visit counter is ignored: no new version)
    site.updated = "October 22, 2016"
    assert crawl()[0] == 0  # a date-only bump: a new version, but noise
    assert q(db, "SELECT COUNT(DISTINCT version_id) FROM snapshots")[0][0] == 2
    assert hook.received == [] and mail.messages == []

    site.total = "42"
    code, out = crawl()
    assert code == 0 and [d["ok"] for d in out["notifications"]] == [True, True]
    assert len(hook.received) == 1 and len(mail.messages) == 1
    text = hook.received[0][1]["message"]
    assert "EcoPartnerships" in text and "[-36.-]{+42.+}" in text
    assert "Visits" not in text
    feed = (tmp_path / "pub" / "changes.atom").read_text(encoding="utf-8")
    assert out["feed"] == str(tmp_path / "pub" / "changes.atom")
    assert feed.count("<entry>") == 1 and "EcoPartnerships" in feed
    body = mail.messages[0].get_body(("html", "plain"))
    assert body is not None
    content = body.get_content()
    assert "EcoPartnerships" in content and "36." in content and "42." in content

    # The webhook is down: the run archives all the same (exit 4 says a delivery failed) ...
    url = hook.url
    hook.stop()
    site.total = "43"
    code, out = crawl()
    assert code == 4
    assert "coop-archive: notification to json://127.0.0.1" in errors[-1]
    assert "not delivered" in errors[-1]
    assert [(d["target"].startswith("json://"), d["ok"]) for d in out["notifications"]] \
        == [(True, False), (False, True)]
    assert out["watches"][0]["status"] == "complete"
    assert q(db, "SELECT COUNT(DISTINCT version_id) FROM snapshots")[0][0] == 4
    assert len(mail.messages) == 2
    # ... and the next run, with nothing new, delivers the pending message once.
    hook.start()
    assert hook.url == url
    code, out = crawl()
    assert code == 0 and [d["ok"] for d in out["notifications"]] == [True]
    assert len(hook.received) == 2 and "[-42.-]{+43.+}" in hook.received[1][1]["message"]
    assert crawl()[0] == 0
    assert len(hook.received) == 2 and len(mail.messages) == 2


def test_history_diff_show_search_export_take_a_watch(tmp_path, http_server):
    srv = http_server(OTHER)
    srv.route("/one", Static(body=hub_html(("/one-doc", "Solar panels", "first watch."),
                                           title="Watch one")))
    srv.route("/one-doc", Static(body=b"<html><body><main><h1>Solar panels</h1>"
                                      b"<p>Tariffs on solar panels.</p></main></body></html>"))
    srv.route("/two", Static(body=hub_html(("/two-doc", "Wind farms", "solar too."),
                                           title="Watch two")))
    config = write_config(tmp_path, watch("one", srv.url("/one"), depth=1)
                          + watch("two", srv.url("/two")))
    assert run_cli("crawl", "--config", str(config), cwd=tmp_path).returncode == 0
    cfg = ("--config", str(config))  # the archive is the config's: no --db

    r = run_cli("history", "--watch", "two", *cfg, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert {json.loads(line)["url"] for line in r.stdout.splitlines()} == {srv.url("/two")}
    r = run_cli("show", "--watch", "one", *cfg, "--json", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["page"]["title"] == "Watch one", r.stderr
    r = run_cli("diff", "--watch", "one", *cfg, "--format", "json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    r = run_cli("search", "--watch", "two", *cfg, "--json", "solar", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert {h["page_url"] for h in json.loads(r.stdout)} == {srv.url("/two")}
    r = run_cli("search", "--watch", "one", *cfg, "--json", "solar", cwd=tmp_path)
    assert {h["page_url"] for h in json.loads(r.stdout)} == {srv.url("/one"),
                                                             srv.url("/one-doc")}
    r = run_cli("export", "--watch", "one", *cfg, "--format", "jsonl", "--table", "pages",
                "-", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(json.loads(line)["url"] for line in r.stdout.splitlines()) == [
        srv.url("/one"), srv.url("/one-doc")]

    r = run_cli("history", "--watch", "three", *cfg, cwd=tmp_path)
    assert r.returncode == 2 and "no watch 'three'" in r.stderr
    r = run_cli("show", srv.url("/one"), "--watch", "one", *cfg, cwd=tmp_path)
    assert r.returncode == 2 and "not both" in r.stderr


def test_the_readme_watch_list_is_a_valid_config(tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("```toml\n# /etc/coop-archive.toml\n", 1)[1].split("```", 1)[0]
    config = tmp_path / "coop-archive.toml"
    config.write_text(block, encoding="utf-8")
    r = run_cli("config", "check", "--config", str(config), "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [w["name"] for w in out["watches"]] == ["coop", "state-china", "state-relations"]
    assert sum("state.gov" in w["url"] for w in out["watches"]) == 2
    targets = [line for line in block.splitlines()
               if "://" in line and not line.startswith(("#", "url = ", "user-agent"))]
    assert len(targets) == 1 and targets[0].startswith("urls = [") \
        and targets[0].count("://") == 1  # one notification target


def test_sigterm_ends_the_watch_being_crawled_and_runs_no_more(tmp_path, three_sites):
    shared, other = three_sites
    other.route("/slow", Static(body=hub_html(("/x", "X"), title="Slow"), delay=1.5))
    config = write_config(tmp_path, watch("c", other.url("/c")) + watch("slow", other.url("/slow"))
                          + watch("b", shared.url("/b")))
    proc = subprocess.Popen(cli_command("crawl", "--config", str(config)), cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not other.requests_to("/slow") and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGTERM)
    finally:
        _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "interrupted by signal" in err
    assert q(tmp_path / "archive.db", "SELECT seed_url, status FROM runs ORDER BY id") == [
        (other.url("/c"), "complete"), (other.url("/slow"), "interrupted")]
    assert shared.requests_to("/b") == []


def test_each_watchs_summary_tells_its_own_changes_only(tmp_path, http_server):
    srv = http_server(OTHER)

    def hub(name: str, word: str) -> None:
        srv.route(f"/{name}", Static(body=hub_html((f"/{name}-doc", f"Doc {name}", word),
                                                   title=f"Watch {name}")))

    hub("a", "one."), hub("b", "one.")
    config = write_config(tmp_path, watch("a", srv.url("/a")) + watch("b", srv.url("/b")))
    first = run_cli("crawl", "--config", str(config), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    # Each watch's first run: its own hub added, not the other watch's hub "removed".
    assert "removed" not in first.stdout and first.stdout.count("hub: added") == 2
    hub("b", "two.")
    r = run_cli("crawl", "--config", str(config), "--quiet", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [f"== b ({srv.url('/b')})",
                                     "hub: 1 item edited; 1 section edited"]


def test_reparse_derives_a_watchs_pages_with_its_selectors(tmp_path, http_server):
    # The visit counter the watch ignores changes on every request; a reparse that forgot the
    # watch's selectors would count it again and split the page's one version in two.
    srv = http_server(OTHER)
    site = Climate()
    srv.route("/climate", Dynamic(lambda req: Static(body=site.body())))
    config = write_config(tmp_path, watch("climate", srv.url("/climate"),
                                          extra='ignore = [".visit-counter"]'))
    db = tmp_path / "archive.db"
    for _ in range(2):
        r = run_cli("crawl", "--config", str(config), cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    assert q(db, "SELECT COUNT(DISTINCT version_id) FROM snapshots")[0][0] == 1
    r = run_cli("reparse", "--all", "--json", "--db", str(db), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["pages_reparsed"] == 1 and out["pages_changed"] == 0 and out["new_versions"] == 0
    assert q(db, "SELECT COUNT(DISTINCT version_id) FROM snapshots")[0][0] == 1
