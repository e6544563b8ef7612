"""A total deadline per request, whatever the server does, and a stop that ends a fetch at once;
plus the fetcher's messages (issue 16 a, issue 14 messages)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from archive.errors import TransientFetchError, TruncatedBodyError, UsageError
from scraper.fetch import Fetcher, FetchStoppedError, TotalTimeoutError
from scraper.settings import CrawlSettings
from tests.cli import cli_command, run_cli
from tests.servers import Handler, Hang, RecordedRequest, Reply, Reset, Static


@dataclass
class TrickleHeaders:
    """Send the status line and headers one byte every ``interval`` seconds: each socket read
    gets a byte well within any read timeout, so only a total deadline can end the wait."""

    interval: float = 0.05
    head: bytes = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n"
                   + b"X-Padding: " + b"p" * 4000 + b"\r\nContent-Length: 2\r\n\r\nok")

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        for i in range(len(self.head)):
            if h.owner.stopping.wait(self.interval):
                break
            try:
                h.wfile.write(self.head[i : i + 1])
                h.wfile.flush()
            except OSError:
                break  # the client gave up: what we want
        h.close_connection = True


def wait_for_request(server, path: str, seconds: float = 60) -> None:
    """Return once the server has received a request for ``path`` (or after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not server.requests_to(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def when(ready: threading.Event, action) -> list[float]:
    """Run ``action`` in a thread as soon as ``ready`` is set; the returned list gets the
    ``time.monotonic()`` it ran at. A fixed timer may fire before the request is even sent on
    a loaded machine, and then proves nothing about a fetch waiting on the network."""
    done: list[float] = []

    def watch() -> None:
        ready.wait(60)
        done.append(time.monotonic())
        action()

    threading.Thread(target=watch, daemon=True).start()
    return done


@dataclass
class Served:
    """Answer with ``reply``, then set ``event`` (with ``first``, set it before answering: for
    a reply that holds the client, such as :class:`Hang`): the test knows where the client is."""

    reply: Reply
    event: threading.Event
    first: bool = False

    def serve(self, h: Handler, req: RecordedRequest) -> None:
        if self.first:
            self.event.set()
        self.reply.serve(h, req)
        self.event.set()


def test_headers_trickled_byte_by_byte_hit_the_total_deadline(server, make_fetcher):
    server.route("/slow-headers", TrickleHeaders(interval=0.05))
    fetcher = make_fetcher(timeout=(1.0, 1.0), total_timeout=0.8, retries=0)
    started = time.monotonic()
    with pytest.raises(TotalTimeoutError, match=r"gave up after 0.8s \(total timeout\)"):
        fetcher.fetch(server.url("/slow-headers"))
    assert time.monotonic() - started < 1.8


def test_total_deadline_covers_every_redirect_hop(server, make_fetcher):
    # Each hop answers in 0.3 s, well within the read timeout; the chain as a whole does not.
    server.route("/r0", Static(302, headers=[("Location", "/r1")], content_type=None, delay=0.3))
    server.route("/r1", Static(302, headers=[("Location", "/r2")], content_type=None, delay=0.3))
    server.route("/r2", Static(302, headers=[("Location", "/r3")], content_type=None, delay=0.3))
    server.route("/r3", Static(body=b"end", delay=0.3))
    started = time.monotonic()
    with pytest.raises(TotalTimeoutError):
        make_fetcher(timeout=(1.0, 1.0), total_timeout=0.7, retries=0).fetch(server.url("/r0"))
    assert time.monotonic() - started < 1.5


def test_total_deadline_retried_each_attempt_bounded(server, make_fetcher, sleeps):
    server.route("/slow-headers", TrickleHeaders(interval=0.05))
    started = time.monotonic()
    with pytest.raises(TotalTimeoutError):
        make_fetcher(timeout=(1.0, 1.0), total_timeout=0.4, retries=2).fetch(
            server.url("/slow-headers"))
    assert len(server.requests_to("/slow-headers")) == 3 and len(sleeps) == 2
    assert time.monotonic() - started < 3


def test_fast_page_after_a_cut_off_one_still_fetched(server, make_fetcher):
    # The pool must not hand the cut-off connection to the next request.
    server.route("/slow-headers", TrickleHeaders(interval=0.05))
    server.route("/ok", Static(body=b"<html>fine</html>"))
    fetcher = make_fetcher(timeout=(1.0, 1.0), total_timeout=0.5, retries=0)
    with pytest.raises(TotalTimeoutError):
        fetcher.fetch(server.url("/slow-headers"))
    assert fetcher.fetch(server.url("/ok")).body == b"<html>fine</html>"


def test_stop_ends_a_fetch_waiting_on_the_network(server):
    arrived = threading.Event()
    server.route("/hang", Served(Hang(30), arrived, first=True))
    stop = threading.Event()
    fetcher = Fetcher(timeout=(5.0, 20.0), retries=3, stop=stop)
    stopped_at = when(arrived, stop.set)
    try:
        with pytest.raises(FetchStoppedError, match="stopped while fetching"):
            fetcher.fetch(server.url("/hang"))
        # At once: well within the 20 s read timeout the fetch was waiting on.
        assert time.monotonic() - stopped_at[0] < 1.5
        # Once stopped, nothing more is requested, and no retry wait is slept.
        with pytest.raises(FetchStoppedError):
            fetcher.fetch(server.url("/hang"))
        assert len(server.requests_to("/hang")) == 1
    finally:
        fetcher.close()


@pytest.mark.parametrize("cut", ["stopped", "deadline"])
def test_a_response_cut_inside_its_headers_is_never_a_capture(server, make_fetcher, cut):
    # The status line is in by 0.85 s, the headers would take minutes: cut in between, the
    # closed socket reads as the end of the headers and of a body without a length, so a
    # 200 with an empty body comes back unless the fetcher asks why the socket closed.
    server.route("/slow-headers", TrickleHeaders(interval=0.05))
    stop = threading.Event()
    if cut == "stopped":
        fetcher = make_fetcher(timeout=(5.0, 5.0), retries=0, stop=stop)
        threading.Timer(1.5, stop.set).start()
        expected: type[Exception] = FetchStoppedError
    else:
        fetcher = make_fetcher(timeout=(5.0, 5.0), total_timeout=1.5, retries=0)
        expected = TotalTimeoutError
    with pytest.raises(expected):
        fetcher.fetch(server.url("/slow-headers"))


def test_abort_ends_a_retry_wait_at_once(server):
    answered = threading.Event()
    server.route("/down", Served(Static(503, headers=[("Retry-After", "60")]), answered))
    fetcher = Fetcher(timeout=(2.0, 2.0), retries=3, max_retry_after=60)
    # Aborted once the 503 is sent: the fetcher is then in (or about to start) its 60 s wait.
    aborted_at = when(answered, fetcher.abort)
    try:
        with pytest.raises((FetchStoppedError, TransientFetchError)):
            fetcher.fetch(server.url("/down"))
        assert time.monotonic() - aborted_at[0] < 1.5
    finally:
        fetcher.close()


# -- messages ---------------------------------------------------------------------------


def test_read_timeout_message_says_what_timed_out(server, make_fetcher):
    server.route("/hang", Hang(10))
    with pytest.raises(TransientFetchError) as info:
        make_fetcher(timeout=(1.0, 0.3), retries=0).fetch(server.url("/hang"))
    message = str(info.value)
    assert "timed out: timed out" not in message
    assert "nothing received for 0.3s" in message


def test_truncation_message_has_no_python_tuple(server, make_fetcher):
    server.route("/short", Static(body=b"only this", content_length=50_000))
    with pytest.raises(TruncatedBodyError) as info:
        make_fetcher(retries=0).fetch(server.url("/short"))
    message = str(info.value)
    assert "(" not in message.split(": ", 1)[1] and "IncompleteRead" not in message
    assert "body truncated after 9 bytes: the connection closed with 49991 more bytes" in message


def test_reset_message_is_words(server, make_fetcher):
    server.route("/reset", Reset(b"<html>" + b"x" * 5000, content_length=100_000))
    with pytest.raises(TruncatedBodyError) as info:
        make_fetcher(retries=0).fetch(server.url("/reset"))
    assert "Error(" not in str(info.value) and "', " not in str(info.value)


@pytest.mark.parametrize("agent, why", [
    ("bot\r\nX-Evil: 1", "control character"),
    ("bot\n", "white space"),
    ("робот/1.0", "not Latin-1"),
    ("bot\x00", "control character"),
])
def test_bad_user_agent_is_a_usage_error(agent, why):
    with pytest.raises(UsageError, match=why):
        CrawlSettings(user_agent=agent).checked()
    with pytest.raises(UsageError, match=why):
        Fetcher(user_agent=agent)


def test_latin1_user_agent_is_sent(server, make_fetcher):
    server.route("/", Static(body=b"<html>x</html>"))
    agent = "coop-archive/0.1 (+https://example.org/contact; café)"
    assert CrawlSettings(user_agent=agent).checked().user_agent == agent
    make_fetcher(user_agent=agent).fetch(server.url("/"))
    sent = server.requests_to("/")[0].header("User-Agent")
    assert sent is not None and sent.encode("latin-1") == agent.encode("latin-1") or \
        sent == agent.encode("latin-1").decode("latin-1")


@pytest.mark.parametrize("agent", ["bot\r\nX-Evil: 1", "робот/1.0"])
def test_bad_user_agent_on_the_command_line_is_one_line_exit_2(agent, tmp_path):
    r = run_cli("crawl", "http://127.0.0.1:9/", "--db", str(tmp_path / "a.db"),
                "--user-agent", agent, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith("coop-archive: user-agent: ")
    assert len(r.stderr.strip().splitlines()) == 1 and "robots" not in r.stderr


# -- the real CLI: a seed that trickles its headers ---------------------------------------------


def _crawl_cli(db, seed, *extra):
    import subprocess

    return subprocess.Popen(cli_command("crawl", seed, "--db", str(db), "--ignore-robots",
                                        "--delay", "0", *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_crawl_of_a_trickling_seed_ends_by_its_deadline_and_frees_the_lock(server, tmp_path):
    from archive.lock import ArchiveLock

    server.route("/hub", TrickleHeaders(interval=0.2))
    started = time.monotonic()
    proc = _crawl_cli(tmp_path / "a.db", server.url("/hub"), "--timeout", "1", "--retries", "0")
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    # total deadline = 4 x the read timeout; the headers alone would take 15 minutes.
    assert time.monotonic() - started < 15
    assert proc.returncode not in (0, 75), err
    assert "total timeout" in err
    with ArchiveLock(tmp_path / "a.db"):
        pass  # free


def test_sigterm_during_a_network_wait_ends_the_crawl_promptly(server, tmp_path):
    import signal
    import sqlite3

    server.route("/hub", TrickleHeaders(interval=0.2))
    proc = _crawl_cli(tmp_path / "a.db", server.url("/hub"), "--timeout", "30")
    try:
        # Signalled once the seed was requested: the CLI's signal handlers are in place and
        # the crawl is waiting on the headers (a fixed sleep may signal a CLI still starting).
        wait_for_request(server, "/hub")
        assert proc.poll() is None, proc.communicate()[1]  # still waiting on the headers
        sent = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert time.monotonic() - sent < 4, err
    assert proc.returncode == 143, err
    conn = sqlite3.connect(tmp_path / "a.db")
    assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    conn.close()
