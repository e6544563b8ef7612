"""The watch list (scraper/config.py) and ``coop-archive config check``."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from scraper import DEFAULT_SEED
from scraper.config import ConfigError, WatchList, load, locate, parse
from scraper.notify import target_problem
from scraper.settings import CrawlSettings
from tests.cli import run_cli

GOOD = """\
# a watch list
[archive]
db = "archive.db"
user-agent = "coop-archive/test (+mailto:test@example.org)"
delay = 2
max_bytes = 5000000
feed = "out/changes.atom"

[notify]
urls = ["json://127.0.0.1:9/hook"]
date-only = true

[[watch]]
name = "coop"
url = "https://www.transportation.gov/r2ze/US-China-Cooperation"
tags = ["dot", "china"]
main = "#main-content"
ignore = [".visit-counter", "aside.rotating"]

[[watch]]
name = "state-climate"
url = "https://2009-2017.state.gov/r/pa/prs/ps/2016/09/261754.htm"
depth = 0
max-bytes = 100
allow-host = ["127.0.0.1"]
tags = ["state"]
notify = []
"""


def _parse(text: str) -> WatchList:
    return parse(textwrap.dedent(text), path="w.toml", target_problem=target_problem)


def test_a_good_config_gives_every_watch_with_its_settings(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(GOOD, encoding="utf-8")
    wl = load(str(path), target_problem=target_problem)
    assert wl.db == str(tmp_path / "archive.db")  # relative to the config file's folder
    assert wl.feed == str(tmp_path / "out" / "changes.atom")
    assert wl.settings == CrawlSettings(delay=2.0, max_bytes=5_000_000,
                                        user_agent="coop-archive/test (+mailto:test@example.org)")
    coop, state = wl.watches
    assert (coop.name, coop.url, coop.tags) == ("coop", wl.watches[0].url, ("dot", "china"))
    assert coop.main == "#main-content" and coop.ignore == (".visit-counter", "aside.rotating")
    assert coop.settings == wl.settings  # inherits [archive]
    assert coop.line == 13
    # per-watch settings override [archive]'s, which fill the rest
    assert (state.settings.depth, state.settings.max_bytes, state.settings.delay) == (0, 100, 2.0)
    assert state.settings.allow_hosts == ("127.0.0.1",)
    assert wl.notify.urls == ("json://127.0.0.1:9/hook",) and wl.notify.date_only
    assert wl.targets(coop) == ("json://127.0.0.1:9/hook",)
    assert wl.targets(state) == ()  # its own (empty) list replaces [notify] urls
    assert [w.name for w in wl.select(tags=["state"])] == ["state-climate"]
    assert [w.name for w in wl.select(names=["coop"])] == ["coop"]
    with pytest.raises(ValueError, match="no watch 'nope'.*coop, state-climate"):
        wl.select(names=["nope"])


def test_without_watches_the_default_page_is_the_one_watch():
    wl = _parse("[archive]\ndepth = 2\n")
    (w,) = wl.watches
    assert (w.url, w.settings.depth) == (DEFAULT_SEED, 2)
    assert load(None).watches[0].url == DEFAULT_SEED
    assert load(None).watches[0].settings.depth == 1


# Each broken config: the text, the line that must be named, and words the message must have.
BROKEN = [
    ("unknown key", """
        [[watch]]
        name = "a"
        url = "https://example.org/"
        dpeth = 2
        """, 5, "unknown key 'dpeth'"),
    ("wrong type", """
        [archive]
        delay = "fast"
        """, 3, "delay must be a number, not a string"),
    ("bool is not an int", """
        [[watch]]
        name = "a"
        url = "https://example.org/"
        depth = true
        """, 5, "depth must be an integer, not a boolean"),
    ("out of range", """
        [archive]
        depth = 9
        """, 3, "depth = 9 is not in 0..5"),
    ("duplicate name", """
        [[watch]]
        name = "a"
        url = "https://example.org/1"

        [[watch]]
        name = "a"
        url = "https://example.org/2"
        """, 7, "duplicate watch name 'a' (first at line 3)"),
    ("bad URL", """
        [[watch]]
        name = "a"
        url = "ftp://example.org/"
        """, 4, "not an http(s) URL"),
    ("URL without host", """
        [[watch]]
        name = "a"
        url = "https:///nohost"
        """, 4, "no host"),
    ("bad main selector", """
        [[watch]]
        name = "a"
        url = "https://example.org/"
        main = "div[["
        """, 5, "main: bad CSS selector 'div[['"),
    ("bad ignore selector", """
        [[watch]]
        name = "a"
        url = "https://example.org/"
        ignore = ["p", "a:nosuchpseudo(1)"]
        """, 5, "ignore: bad CSS selector 'a:nosuchpseudo(1)'"),
    ("unknown notification scheme", """
        [notify]
        urls = ["carrierpigeon://loft/1"]
        """, 3, "unknown notification scheme 'carrierpigeon://'"),
    ("unusable notification URL", """
        [[watch]]
        name = "a"
        url = "https://example.org/"
        notify = ["mailto://user:secret@127.0.0.1?from=not-an-address"]
        """, 5, "notification URL 'mailto://user:***@127.0.0.1"),
    ("missing url", """
        [archive]
        depth = 1

        [[watch]]
        name = "a"
        """, 5, "watch 'a': no url"),
    ("watch not an array of tables", """
        [watch]
        name = "a"
        """, 2, "watch must be an array of tables"),
    ("unknown table", """
        [archvie]
        db = "x.db"
        """, 2, "unknown table or key 'archvie'"),
    ("given twice", """
        [archive]
        max-bytes = 10
        max_bytes = 20
        """, 4, "max-bytes given twice"),
    ("same page twice", """
        [[watch]]
        name = "a"
        url = "https://example.org/page"

        [[watch]]
        name = "b"
        url = "HTTPS://EXAMPLE.ORG:443/page#top"
        """, 8, "watch 'b': the same url as watch 'a' (line 2)"),
    ("not TOML", """
        [archive]
        db = "unterminated
        """, 3, "not valid TOML"),
    ("unknown notify key", """
        [notify]
        url = ["json://127.0.0.1:9/"]
        """, 3, "[notify]: unknown key 'url'"),
    ("tags not strings", """
        [[watch]]
        name = "a"
        url = "https://example.org/"
        tags = [1, 2]
        """, 5, "tags must be a list of strings"),
]


@pytest.mark.parametrize("text,line,words", [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_each_broken_config_names_its_line(text, line, words):
    with pytest.raises(ConfigError) as caught:
        _parse(text)
    (problem,) = caught.value.problems
    assert problem.line == line, problem
    assert words in problem.message
    assert "secret" not in problem.message  # a password never reaches a terminal


def test_every_problem_is_reported_not_only_the_first():
    text = "\n".join(b[1].replace('"a"', f'"w{i}"') for i, b in enumerate(BROKEN[:9])
                     if "[archive]" not in b[1])
    with pytest.raises(ConfigError) as caught:
        _parse(text)
    assert len(caught.value.problems) >= 4
    assert all(p.line for p in caught.value.problems)


def test_locate_prefers_the_explicit_path_then_the_local_file(tmp_path):
    assert locate(None, cwd=str(tmp_path)) is None
    (tmp_path / "coop-archive.toml").write_text("", encoding="utf-8")
    assert locate(None, cwd=str(tmp_path)) == str(tmp_path / "coop-archive.toml")
    with pytest.raises(ValueError, match="no config file"):
        locate(str(tmp_path / "missing.toml"))


def _cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if not k.startswith("COOP_ARCHIVE")}
    full.update(env or {})
    return run_cli(*args, cwd=cwd, env=full)


def test_config_check_cli(tmp_path):
    broken = tmp_path / "broken.toml"
    broken.write_text("".join(textwrap.dedent(b[1]).replace('"a"', f'"w{i}"')
                              for i, b in enumerate(BROKEN[:1] + BROKEN[5:9])),
                      encoding="utf-8")
    r = _cli("config", "check", "--config", str(broken), cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.splitlines()
    assert len(lines) == 5, r.stderr
    assert all(line.startswith(f"coop-archive: {broken}:") for line in lines)

    # $COOP_ARCHIVE_CONFIG, then ./coop-archive.toml, then the default
    good = tmp_path / "good.toml"
    good.write_text(GOOD, encoding="utf-8")
    r = _cli("config", "check", cwd=tmp_path, env={"COOP_ARCHIVE_CONFIG": str(good)})
    assert r.returncode == 0 and "2 watch(es): coop, state-climate" in r.stdout, r.stderr
    r = _cli("config", "check", "--json", cwd=tmp_path)
    assert r.returncode == 0 and json.loads(r.stdout)["watches"][0]["url"] == DEFAULT_SEED
    (tmp_path / "coop-archive.toml").write_text(GOOD, encoding="utf-8")
    r = _cli("config", "check", "--json", cwd=tmp_path)
    assert [w["name"] for w in json.loads(r.stdout)["watches"]] == ["coop", "state-climate"]
    r = _cli("config", "check", "--config", str(tmp_path / "nope.toml"), cwd=tmp_path)
    assert r.returncode == 2 and r.stderr.startswith("coop-archive: no config file")


def test_lines_are_found_past_multi_line_strings_quoted_keys_and_comments():
    text = textwrap.dedent('''\
        # depth = "not a key: a comment"
        [archive]
        user-agent = """coop-archive
        depth = 99
        """
        "delay" = -1

        [[ watch ]]
        name = 'a'
        url = "https://example.org/"
        tags = [
          "x",
        ]
        depth = 7
        ''')
    with pytest.raises(ConfigError) as caught:
        _parse(text)
    assert [(p.line, p.message.split(" =")[0]) for p in caught.value.problems] == [
        (6, "[archive]: delay"), (14, "watch 'a': depth")]
