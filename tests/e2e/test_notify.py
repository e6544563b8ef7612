"""Notifications (scraper/notify.py, archive/outbox.py, archive/changes.py), delivered for real
on loopback: a JSON webhook to a test HTTP server, mail to aiosmtpd."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from archive import outbox
from archive.changes import news, previous_run, run_diff
from archive.model import Item, Page
from archive.store import Archive
from scraper.notify import deliver, notify_run, probe_message, queue_run, send, target_key
from tests.builders import at, capture
from tests.cli import run_cli

URL = "https://www.state.gov/u-s-china-climate/"
OTHER = "https://www.state.gov/other-watch/"
OLD = "The two sides announced six new EcoPartnerships, bringing the total to 36."
NEW = "The two sides announced six new EcoPartnerships, bringing the total to 42."


def page(summary: str = OLD, *, updated: str = "2016-10-21", title: str = "EcoPartnerships",
         url: str = URL) -> Page:
    return Page(url=url, title="U.S.-China climate", updated_on=updated,
                text=f"{title}. {summary}",
                items=[Item(title, "https://www.state.gov/ecopartnerships/", summary),
                       Item("Clean energy", "https://www.state.gov/clean-energy/", "Unchanged.")])


@pytest.fixture
def archive(tmp_path: Path) -> Iterator[Archive]:
    with Archive.open(tmp_path / "a.db") as a:
        yield a


def crawl(archive: Archive, day: str, p: Page, hour: int = 12) -> int:
    """One run of the watch ``p.url``, capturing ``p``; its id."""
    run_id = archive.begin_run(p.url, started_at=at(day, hour))
    capture(archive, p.url, at(day, hour), p, run_id=run_id)
    archive.finish_run(run_id, "complete")
    return run_id


def test_no_message_for_a_first_capture_an_unchanged_run_or_a_date_only_bump(archive):
    first = crawl(archive, "2016-10-21", page())
    assert run_diff(archive, first) is None  # a first capture is not a change
    assert queue_run(archive, first, ["json://127.0.0.1:9/"], watch="w", db="a.db") is None
    same = crawl(archive, "2016-10-22", page())
    assert queue_run(archive, same, ["json://127.0.0.1:9/"], watch="w", db="a.db") is None
    bump = crawl(archive, "2016-10-23", page(updated="2016-10-23"))
    result = run_diff(archive, bump)
    assert result is not None and result.changed  # the diff sees it ...
    assert news(result) == []  # ... but it is noise unless asked for
    assert queue_run(archive, bump, ["json://127.0.0.1:9/"], watch="w", db="a.db") is None
    assert [p.flags for p in news(result, date_only=True)] == [["date_only"]]
    assert outbox.entries(archive) == []


def test_runs_of_another_watch_are_not_the_previous_run(archive):
    crawl(archive, "2016-10-21", page())
    other = crawl(archive, "2016-10-22", page(url=OTHER))
    assert previous_run(archive, other) is None  # its own first capture
    again = crawl(archive, "2016-10-23", page(NEW))
    assert previous_run(archive, again) == 1
    result = run_diff(archive, again)
    assert result is not None and [p.url for p in news(result)] == [URL]


def test_a_change_is_one_webhook_with_the_item_title_and_word_diff(archive, hook):
    crawl(archive, "2016-10-21", page())
    changed = crawl(archive, "2016-11-15", page(NEW))
    deliveries = notify_run(archive, changed, [hook.url], watch="climate", db="/x/a.db")
    assert [(d.ok, d.run_id) for d in deliveries] == [(True, changed)]
    assert len(hook.received) == 1
    path, body = hook.received[0]
    assert path == "/hook"
    assert body["title"] == "coop-archive: climate: 1 page changed"
    text = body["message"]
    assert "EcoPartnerships" in text and "[-36.-]{+42.+}" in text
    assert "coop-archive diff --db /x/a.db --from 2016-10-21T12:00:00.000000Z" in text
    # the same run again (a retried hook): queued once, delivered once
    assert notify_run(archive, changed, [hook.url], watch="climate", db="/x/a.db") == []
    assert len(hook.received) == 1
    (entry,) = outbox.entries(archive)
    assert entry.delivered_at and entry.attempts == 1 and entry.last_error is None


def test_mail_is_received_and_parsed(archive, mail):
    crawl(archive, "2016-10-21", page())
    changed = crawl(archive, "2016-11-15", page(NEW, title="EcoPartnerships <script>x</script>"))
    html, plain = mail.url(), mail.url("text@example.org") + "&format=text"
    deliveries = notify_run(archive, changed, [html, plain], watch="climate", db="a.db")
    assert all(d.ok for d in deliveries) and len(deliveries) == 2
    by_to = {m["To"]: m for m in mail.messages}
    assert set(by_to) == {"team@example.org", "text@example.org"}
    for m in by_to.values():
        assert m["Subject"] == "coop-archive: climate: 1 page changed"
    # by default: HTML with the word diff marked up, and a plain-text part
    both = by_to["team@example.org"]
    html_part = both.get_body(("html",)).get_content()
    assert "to <del>36. </del><ins>42.</ins>" in html_part
    assert "<script>" not in html_part and "EcoPartnerships &lt;script&gt;" in html_part
    assert "EcoPartnerships <script>x</script>" in both.get_body(("plain",)).get_content()
    # ?format=text: our plain text, with the word diff's marks
    text_mail = by_to["text@example.org"]
    assert text_mail.get_content_type() == "text/plain"
    body = text_mail.get_content()
    assert "EcoPartnerships <script>x</script>" in body and "[-36.-]{+42.+}" in body


def test_a_receiver_down_then_up_gets_the_message_exactly_once(archive, hook):
    url = hook.url
    hook.stop()
    crawl(archive, "2016-10-21", page())
    changed = crawl(archive, "2016-11-15", page(NEW))
    snapshots = archive.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0]
    (failed,) = notify_run(archive, changed, [url], watch="climate", db="a.db")
    assert not failed.ok and "127.0.0.1" in (failed.error or "")
    (entry,) = outbox.pending(archive)
    assert entry.attempts == 1 and entry.last_error and entry.delivered_at is None
    # the archive's write stands
    assert archive.conn.execute("SELECT count(*) FROM snapshots").fetchone()[0] == snapshots
    hook.start()  # the same port
    quiet = crawl(archive, "2016-11-16", page(NEW))  # the next run: no news of its own
    (done,) = notify_run(archive, quiet, [url], watch="climate", db="a.db")
    assert done.ok and done.run_id == changed
    assert len(hook.received) == 1 and "[-36.-]{+42.+}" in hook.received[0][1]["message"]
    assert deliver(archive, [url]) == [] and len(hook.received) == 1
    (entry,) = outbox.entries(archive)
    assert entry.attempts == 2 and entry.delivered_at


def test_pending_messages_of_unknown_targets_are_left_alone(archive, hook):
    crawl(archive, "2016-10-21", page())
    changed = crawl(archive, "2016-11-15", page(NEW))
    queue_run(archive, changed, ["json://127.0.0.1:9/gone"], watch="w", db="a.db")
    assert deliver(archive, [hook.url]) == []
    (entry,) = outbox.pending(archive)
    assert entry.target_key == target_key("json://127.0.0.1:9/gone") and entry.attempts == 0


def test_secrets_stay_out_of_the_archive(archive):
    crawl(archive, "2016-10-21", page())
    changed = crawl(archive, "2016-11-15", page(NEW))
    mail_url = "mailto://archive:hunter2@127.0.0.1:9?from=a@example.org&to=b@example.org"
    slack_url = "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ"
    queue_run(archive, changed, [slack_url], watch="w", db="a.db")  # queued, never sent
    failed = notify_run(archive, changed, [mail_url], watch="w", db="a.db")  # port 9: refused
    assert [d.ok for d in failed] == [False]
    slack, mail = outbox.entries(archive)
    assert mail.target == "mailto://archive:****@127.0.0.1:9/b%40example.org"
    assert slack.target.startswith("slack://T...2/")
    dump = "\n".join(archive.conn.iterdump())
    assert "hunter2" not in dump and "TIiajkdnlazkcOXrIdevi7FQ" not in dump
    assert "hunter2" not in " ".join(str(d.error) for d in failed)


def test_send_probe_message(hook):
    send(hook.url, probe_message())
    assert hook.received[0][1]["title"] == "coop-archive: test notification"


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("COOP_ARCHIVE")}
    return run_cli(*args, cwd=cwd, env=env)


def test_notify_cli_test_and_retry(tmp_path, hook):
    r = _cli("notify", "--test", "--notify", hook.url, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [b["title"] for _, b in hook.received] == ["coop-archive: test notification"]
    assert _cli("notify", "--test", cwd=tmp_path).returncode == 2  # no target at all
    r = _cli("notify", "--test", "--notify", "nosuch://x", cwd=tmp_path)
    assert r.returncode == 2 and "unknown notification scheme" in r.stderr

    # a message queued while the receiver was down ...
    url = hook.url
    hook.stop()
    with Archive.open(tmp_path / "a.db") as a:
        crawl(a, "2016-10-21", page())
        changed = crawl(a, "2016-11-15", page(NEW))
        notify_run(a, changed, [url], watch="climate", db="a.db")
        queue_run(a, changed, ["json://127.0.0.1:9/elsewhere"], watch="climate", db="a.db")
    (tmp_path / "coop-archive.toml").write_text(
        f'[archive]\ndb = "a.db"\n[notify]\nurls = ["{url}"]\n'
        f'[[watch]]\nname = "climate"\nurl = "{URL}"\n', encoding="utf-8")
    r = _cli("notify", "--retry", cwd=tmp_path)
    assert r.returncode == 4, r.stderr  # still down: exit 4, still pending
    assert "not delivered: run 2 (climate)" in r.stderr
    # ... is delivered by --retry once it is up, exactly once
    hook.start()
    r = _cli("notify", "--retry", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [(d["run_id"], d["ok"]) for d in json.loads(r.stdout)] == [(changed, True)]
    assert "left pending" in r.stderr and "127.0.0.1:9/elsewhere" in r.stderr
    r = _cli("notify", "--retry", cwd=tmp_path)
    assert r.returncode == 0 and "nothing to deliver" in r.stdout
    assert [b["title"] for _, b in hook.received][1:] == ["coop-archive: climate: 1 page changed"]


def test_after_crawl_tells_each_watch_once_and_rewrites_the_feed(tmp_path, archive, hook):
    import feedparser

    from scraper.config import parse
    from scraper.notify import after_crawl

    watchlist = parse(f'[archive]\nfeed = "pub/changes.atom"\n[notify]\nurls = ["{hook.url}"]\n'
                      f'[[watch]]\nname = "climate"\nurl = "{URL}"\n'
                      f'[[watch]]\nname = "other"\nurl = "{OTHER}"\n',
                      path=str(tmp_path / "coop-archive.toml"))
    climate, other = watchlist.watches
    crawl(archive, "2016-10-21", page())
    crawl(archive, "2016-10-21", page(url=OTHER), hour=13)
    runs = [(crawl(archive, "2016-11-15", page(NEW)), climate),
            (crawl(archive, "2016-11-15", page(NEW, url=OTHER), hour=13), other)]
    done = after_crawl(archive, runs, watchlist=watchlist, db="a.db")
    # no pub/ folder: the feed fails, the deliveries do not
    assert [d.watch for d in done.deliveries if d.ok] == ["climate", "other"]
    assert done.feed_error and "pub/changes.atom" in done.feed_error and not done.ok
    assert sorted(b["title"] for _, b in hook.received) == [
        "coop-archive: climate: 1 page changed", "coop-archive: other: 1 page changed"]
    (tmp_path / "pub").mkdir()
    again = after_crawl(archive, runs, watchlist=watchlist, db="a.db")
    assert again.ok and again.deliveries == [] and len(hook.received) == 2  # once each
    parsed = feedparser.parse((tmp_path / "pub" / "changes.atom").read_text(encoding="utf-8"))
    assert not parsed.bozo and sorted(e.link for e in parsed.entries) == sorted([URL, OTHER])


def test_a_backfill_in_between_is_not_the_previous_run(archive):
    crawl(archive, "2016-10-21", page())
    wayback = archive.begin_run(URL, source="wayback", started_at=at("2016-10-22"))
    capture(archive, URL, at("2010-01-01"), page("Something else entirely."), run_id=wayback)
    archive.finish_run(wayback, "complete")
    assert run_diff(archive, wayback) is None  # history is not news
    same = crawl(archive, "2016-10-23", page())
    assert previous_run(archive, same) == 1
    assert news(run_diff(archive, same)) == []
