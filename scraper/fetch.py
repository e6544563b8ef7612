"""HTTP fetching: one requests.Session, bounded in time, size and redirects, retried by tenacity.

:class:`Fetcher` turns a URL into a :class:`Capture` or raises one of the
:class:`~archive.errors.FetchError` subclasses. What it guarantees:

* **Every hop is vetted.** Redirects are followed by hand (``allow_redirects=False``) so the
  :class:`~scraper.safety.AddressPolicy` sees each URL before it is requested, and sees the
  address actually connected to before a body is read (see :mod:`scraper.safety` on DNS
  rebinding). At most ``max_redirects`` hops; a URL seen twice in one chain is a loop.
* **Bounded size.** Bodies are streamed and counted *after* Content-Encoding is undone,
  ``max_bytes`` at most; urllib3 (>= 2.x) inflates no more than it is asked for per read, so a
  gzip bomb is stopped after about ``max_bytes`` of output, not after inflating it all.
* **Bounded time.** ``timeout = (connect, read)`` bounds each socket wait; ``total_timeout``
  bounds one attempt: connect, headers, every redirect hop and the whole body. A watchdog
  thread (:mod:`scraper.deadline`) closes the attempt's socket when it runs out, so a server
  that trickles its headers or body a byte at a time cannot hold us for ever. Setting the
  ``stop`` event (or calling :meth:`Fetcher.abort`) ends every request in flight within a
  fraction of a second and every retry wait at once: SIGTERM is never stuck behind a socket.
* **Honest bodies.** Fewer bytes than Content-Length, or a connection dropped mid-body, is a
  :class:`~archive.errors.TruncatedBodyError`, never a short page stored as if complete.
  (Without Content-Length, and with chunked encoding, a clean close is the only end marker we
  have; a dropped chunked stream is detected, a dropped close-delimited one cannot be.)
* **Polite per hop.** ``fetch(..., hop=...)`` enters ``hop(url)`` around each request of the
  chain, so a politeness gate (:mod:`scraper.politeness`) can make every hop wait its own
  host's turn and obey its robots.txt; the time waited there does not count against
  ``total_timeout``.
* **Polite retries.** Connection trouble, timeouts, truncation, 5xx and 429 are retried
  ``retries`` times with exponential backoff and jitter, or after the server's Retry-After
  (capped at ``max_retry_after``) when it sent one. Waiting goes through the injected
  ``sleep`` so tests can record it.

Threads: the crawler calls :meth:`Fetcher.fetch` from one thread per host. A
``requests.Session`` is not documented as thread-safe (its cookie jar and adapter pools are
shared mutable state), so each thread gets its own Session from a ``threading.local``: one
Session, with its connection pool, per thread. :meth:`Fetcher.close` closes them all.

The Sessions ignore the environment (``trust_env = False``): no proxy variables, no .netrc,
in keeping with the rule that library code does not read the environment.
"""

from __future__ import annotations

import email.utils
import io
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from datetime import timezone
from types import TracebackType
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import tenacity
import urllib3.exceptions
from tenacity.wait import wait_base, wait_exponential_jitter

import scraper
from archive.capture import Capture
from archive.errors import (
    FetchError,
    PermanentFetchError,
    TooLargeError,
    TooManyRedirectsError,
    TransientFetchError,
    TruncatedBodyError,
)
from archive.timeutil import utcnow_iso
from scraper.deadline import POOL_CLASSES, Attempt, Watchdog
from scraper.safety import AddressPolicy
from scraper.settings import check_user_agent

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = f"coop-archive/{scraper.__version__} (+{scraper.PROJECT_URL})"
# Only what urllib3 can undo without optional packages; "br" would need brotli.
ACCEPT_ENCODING = "gzip, deflate"
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Statuses that are observations, returned as results rather than raised.
RESULT_STATUSES = frozenset({304, 404, 410})
CHUNK_SIZE = 64 * 1024
MAX_BACKOFF = 60.0  # seconds; the exponential backoff never waits longer than this
#: A per-hop hook: entered around each request with that request's URL (see Fetcher.fetch).
Hop = Callable[[str], AbstractContextManager[None]]
_HTTP_VERSIONS = {9: "HTTP/0.9", 10: "HTTP/1.0", 11: "HTTP/1.1", 20: "HTTP/2", 30: "HTTP/3"}


class TotalTimeoutError(TransientFetchError):
    """An attempt outlived ``total_timeout`` (connect, headers, redirects and body together)."""


class FetchStoppedError(PermanentFetchError):
    """The fetcher's stop event was set (the run is ending): not retried."""


def parse_retry_after(value: str | None, *, date: str | None = None,
                      now: float | None = None) -> float | None:
    """Seconds to wait according to a Retry-After value, or None if there is none or it is bad.

    ``value`` is delay-seconds (``"120"``) or an HTTP-date. A date is measured against the
    response's own ``Date`` header when given (so our clock's skew does not matter), else
    against ``now`` (epoch seconds, default the current time). A date in the past means 0.

    >>> parse_retry_after("7")
    7.0
    >>> parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", date="Wed, 21 Oct 2015 07:28:00 GMT")
    10.0
    """
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if seconds >= 0 and seconds == seconds else None  # NaN != NaN
    when = _parse_http_date(value)
    if when is None:
        return None
    base = _parse_http_date(date) if date else None
    if base is None:
        base = time.time() if now is None else now
    return max(0.0, when - base)


def _parse_http_date(value: str | None) -> float | None:
    """An HTTP-date as epoch seconds, or None."""
    if not value:
        return None
    try:
        dt = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if dt.tzinfo is None:  # "-0000" or a missing zone: HTTP dates are GMT
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.timestamp()


class _RetryAfterOrBackoff(wait_base):
    """Wait what the server asked for (Retry-After, capped), else exponential backoff + jitter."""

    def __init__(self, *, backoff: float, max_retry_after: float) -> None:
        self._max_retry_after = max_retry_after
        # initial * 2**(n-1) plus up to `backoff` of random jitter, so that several crawler
        # threads hit by the same outage do not come back in lockstep.
        self._backoff = wait_exponential_jitter(initial=backoff, max=MAX_BACKOFF, jitter=backoff)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return min(max(retry_after, 0.0), self._max_retry_after)
        return self._backoff(retry_state)


class Fetcher:
    """Fetches URLs over HTTP(S) within limits; see the module docstring for the guarantees.

    ``timeout`` is ``(connect, read)`` seconds per socket wait; ``total_timeout`` bounds one
    attempt end to end (default ``4 * read``). ``retries`` is the number of retries after the
    first attempt. ``policy`` vets every URL and connected address (default:
    :meth:`AddressPolicy.baseline`, which refuses non-http(s) schemes and link-local
    addresses). ``clock`` stamps ``fetched_at``; ``sleep`` is used for retry waits (default:
    waiting on ``stop``, so a stop ends the wait). ``stop``, once set, ends requests in flight
    and refuses new ones with :class:`FetchStoppedError`.

    Use as a context manager, or call :meth:`close`, to release pooled connections.
    """

    def __init__(
        self,
        *,
        user_agent: str | None = None,
        timeout: tuple[float, float] = (10, 30),
        max_bytes: int = 20_000_000,
        max_redirects: int = 10,
        retries: int = 3,
        backoff: float = 1.0,
        max_retry_after: float = 120.0,
        total_timeout: float | None = None,
        policy: AddressPolicy | None = None,
        clock: Callable[[], str] = utcnow_iso,
        sleep: Callable[[float], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        if retries < 0 or max_redirects < 0:
            raise ValueError("retries and max_redirects must not be negative")
        if user_agent is not None:
            check_user_agent(user_agent)
        self.user_agent = user_agent or DEFAULT_USER_AGENT
        self.timeout = (float(timeout[0]), float(timeout[1]))
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects
        self.retries = retries
        self.backoff = backoff
        self.max_retry_after = max_retry_after
        self.total_timeout = total_timeout if total_timeout is not None else 4 * self.timeout[1]
        self.policy = policy if policy is not None else AddressPolicy.baseline()
        self._clock = clock
        self._watchdog = Watchdog(stop)
        self.stop = self._watchdog.stop
        self._sleep = sleep if sleep is not None else self._wait_or_stop
        self._wait = _RetryAfterOrBackoff(backoff=backoff, max_retry_after=max_retry_after)
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._sessions_lock = threading.Lock()

    # -- lifecycle -------------------------------------------------------------------------

    def _wait_or_stop(self, seconds: float) -> None:
        """The default retry wait: ``seconds``, or less when the stop event is set."""
        self.stop.wait(seconds)

    def abort(self) -> None:
        """End every request in flight now, and refuse new ones (sets the ``stop`` event)."""
        self.stop.set()

    def close(self) -> None:
        """Close every thread's Session and its pooled connections, and the watchdog."""
        self._watchdog.close()
        self._watchdog = Watchdog(self.stop)  # a fetch after close() gets a fresh one
        with self._sessions_lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        # Threads that fetch again after close() get a fresh Session.
        self._local = threading.local()

    def __enter__(self) -> Fetcher:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _session(self) -> requests.Session:
        """This thread's Session, created on first use."""
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False
            session.headers.update({"User-Agent": self.user_agent,
                                    "Accept-Encoding": ACCEPT_ENCODING,
                                    "Accept": "*/*"})
            for adapter in session.adapters.values():
                # Connections that join the watchdog's attempt (scraper.deadline).
                adapter.poolmanager.pool_classes_by_scheme = POOL_CLASSES  # type: ignore[attr-defined]
            self._local.session = session
            with self._sessions_lock:
                self._sessions.append(session)
        return session

    # -- fetching --------------------------------------------------------------------------

    def fetch(self, url: str, *, etag: str | None = None, last_modified: str | None = None,
              max_bytes: int | None = None, truncate: bool = False,
              hop: Hop | None = None) -> Capture:
        """GET ``url`` (following redirects) and return the final response as a Capture.

        ``etag`` / ``last_modified`` (from a previous capture) make the request conditional;
        an unchanged document comes back as status 304 with an empty body. 2xx, 304, 404 and
        410 are returned; 5xx and 429 are retried, then raised as TransientFetchError; other
        statuses raise PermanentFetchError. ``max_bytes`` overrides the fetcher's limit for
        this call; with ``truncate=True`` a longer body is cut at the limit instead of raising
        TooLargeError (robots.txt is read that way). ``hop(url)``, when given, is entered
        around each request of the redirect chain (and of each retry) with that hop's URL: a
        politeness gate (:class:`scraper.politeness.HostGate`) waits there for the hop's host
        and may refuse it by raising a FetchError. Time spent entering it is not counted
        against ``total_timeout``.
        """
        limit = self.max_bytes if max_bytes is None else max_bytes
        extra: dict[str, str] = {}
        if etag:
            extra["If-None-Match"] = etag
        if last_modified:
            extra["If-Modified-Since"] = last_modified
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(TransientFetchError),
            stop=tenacity.stop_after_attempt(self.retries + 1),
            wait=self._wait,
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,  # callers see our TransientFetchError, not tenacity.RetryError
        )
        return retrying(self._attempt, url, extra, limit, truncate, hop)

    def _attempt(self, url: str, extra: dict[str, str], limit: int,
                 truncate: bool, hop: Hop | None) -> Capture:
        """One attempt under the watchdog: a cut-off becomes a total timeout or a stop."""
        if self.stop.is_set():
            raise FetchStoppedError("not fetched: stopping", url=url)
        attempt = self._watchdog.begin(self.total_timeout)
        try:
            result = self._hops(url, extra, limit, truncate, attempt, hop)
            if attempt.cut is not None:
                # A socket closed inside the headers reads as their end, and as the end of a
                # body without a length: a made-up response, never a capture.
                raise FetchError("the connection was cut", url=url)
            return result
        except FetchStoppedError:
            raise  # already says so (a hop refused while waiting for its turn)
        except (FetchError, urllib3.exceptions.HTTPError, OSError) as exc:
            # Whatever the closed socket looked like (a reset, a short read), say why it closed.
            if attempt.cut == "stopped":
                raise FetchStoppedError("stopped while fetching", url=url) from exc
            if attempt.cut == "deadline":
                raise TotalTimeoutError(
                    f"gave up after {self.total_timeout:g}s (total timeout)", url=url) from exc
            raise
        finally:
            self._watchdog.end(attempt)

    def _hops(self, url: str, extra: dict[str, str], limit: int, truncate: bool,
              attempt: Attempt, hop: Hop | None) -> Capture:
        """Follow the redirect chain and read the final body."""
        session = self._session()
        current = _strip_fragment(url)
        seen = {current}
        redirects: list[tuple[int, str]] = []
        while True:
            self.policy.check(current)
            with _turn(hop, current, attempt):
                if time.monotonic() > attempt.deadline:
                    raise TotalTimeoutError(
                        f"gave up after {self.total_timeout:g}s (total timeout)", url=url)
                resp = self._send(session, current, extra, url)
                try:
                    self._check_peer(resp, current)
                    status = resp.status_code
                    location = resp.headers.get("Location")
                    if status in REDIRECT_STATUSES and location:
                        if len(redirects) >= self.max_redirects:
                            raise TooManyRedirectsError(f"more than {self.max_redirects} "
                                                        "redirects", url=url, status=status)
                        redirects.append((status, current))
                        target = _strip_fragment(urljoin(current, location.strip()))
                        if target in seen:
                            raise TooManyRedirectsError(
                                f"redirect loop: {current} -> {target}", url=url,
                                status=status)
                        seen.add(target)
                        logger.debug("%s: %d redirect to %s", url, status, target)
                        current = target
                        continue
                    return self._finish(resp, url, current, redirects, limit, truncate,
                                        attempt.deadline)
                finally:
                    resp.close()

    def _send(self, session: requests.Session, current: str, extra: dict[str, str],
              url: str) -> requests.Response:
        """Send one GET (no redirects followed, body not read), mapping requests' errors."""
        try:
            return session.get(current, headers=extra, timeout=self.timeout,
                               allow_redirects=False, stream=True)
        except requests.exceptions.ConnectTimeout as exc:
            raise TransientFetchError(f"timed out connecting (no connection within "
                                      f"{self.timeout[0]:g}s)", url=url) from exc
        except requests.exceptions.Timeout as exc:
            raise TransientFetchError(f"timed out waiting for the response (nothing received "
                                      f"for {self.timeout[1]:g}s)", url=url) from exc
        except requests.exceptions.SSLError as exc:
            raise PermanentFetchError(f"TLS error: {_root_cause(exc)}", url=url) from exc
        except requests.exceptions.ConnectionError as exc:
            raise TransientFetchError(f"connection failed: {_root_cause(exc)}", url=url) from exc
        except (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                requests.exceptions.MissingSchema, requests.exceptions.InvalidHeader) as exc:
            raise PermanentFetchError(f"cannot request: {_root_cause(exc)}", url=url) from exc
        except requests.exceptions.RequestException as exc:
            raise TransientFetchError(f"request failed: {_root_cause(exc)}", url=url) from exc

    def _check_peer(self, resp: requests.Response, current: str) -> None:
        """Vet the address we actually connected to (see scraper.safety on DNS rebinding)."""
        conn = getattr(resp.raw, "connection", None)
        sock = getattr(conn, "sock", None)
        if sock is None:
            return  # nothing to inspect (e.g. the connection was already released)
        try:
            peer = sock.getpeername()[0]
        except (OSError, IndexError, TypeError):
            return
        self.policy.check_peer(current, str(peer))

    def _finish(self, resp: requests.Response, url: str, final_url: str,
                redirects: list[tuple[int, str]], limit: int, truncate: bool,
                deadline: float) -> Capture:
        """Map the final response's status; read its body if it is a result."""
        status = resp.status_code
        if status == 429 or 500 <= status <= 599:
            retry_after = parse_retry_after(resp.headers.get("Retry-After"),
                                            date=resp.headers.get("Date"))
            raise TransientFetchError(f"HTTP {status} {resp.reason or ''}".rstrip(), url=url,
                                      status=status, retry_after=retry_after)
        if not (200 <= status <= 299 or status in RESULT_STATUSES):
            raise PermanentFetchError(f"HTTP {status} {resp.reason or ''}".rstrip(), url=url,
                                      status=status)
        fetched_at = self._clock()
        body, wire = (b"", 0) if status == 304 else self._read_body(resp, url, limit, truncate,
                                                                    deadline)
        return Capture(
            url=url,
            final_url=final_url,
            status=status,
            reason=resp.reason or "",
            http_version=_HTTP_VERSIONS.get(getattr(resp.raw, "version", 11), "HTTP/1.1"),
            headers=_response_headers(resp),
            request_headers=_request_headers(resp, final_url),
            body=body,
            redirects=redirects,
            fetched_at=fetched_at,
            bytes_received=wire,
        )

    def _read_body(self, resp: requests.Response, url: str, limit: int, truncate: bool,
                   deadline: float) -> tuple[bytes, int]:
        """Read the decoded body, at most ``limit`` bytes; return it and the wire byte count.

        The wire count (``raw.tell()``) is the body as transferred: still content-encoded,
        without headers or chunked framing.
        """
        raw = resp.raw
        encoding = resp.headers.get("Content-Encoding", "").strip().lower()
        encoded = encoding not in ("", "identity")
        declared = _content_length(resp)
        if declared is not None and not encoded and declared > limit and not truncate:
            # Refuse up front rather than download what we will throw away.
            raise TooLargeError(f"Content-Length {declared} exceeds {limit} bytes", url=url)
        # BytesIO, not bytearray: getvalue() hands over its buffer without copying it (bytes()
        # of a bytearray would hold a 200 MB body twice; docs/benchmarks.md, Memory).
        buf = io.BytesIO()
        size = 0
        while True:
            if time.monotonic() > deadline:
                raise TotalTimeoutError(
                    f"body not complete after {self.total_timeout:g}s (total timeout)", url=url)
            try:
                # read1 returns as soon as some bytes arrive, so the deadline is checked even
                # when the server trickles; it inflates at most CHUNK_SIZE bytes per call.
                chunk = raw.read1(CHUNK_SIZE, decode_content=True)
            except urllib3.exceptions.ReadTimeoutError as exc:
                raise TransientFetchError(f"timed out reading the body (nothing received for "
                                          f"{self.timeout[1]:g}s)", url=url) from exc
            except urllib3.exceptions.ProtocolError as exc:
                # IncompleteRead (short of Content-Length) or a reset/closed connection.
                raise TruncatedBodyError(
                    f"body truncated after {raw.tell()} bytes: {_broken_reason(exc)}",
                    url=url) from exc
            except urllib3.exceptions.DecodeError as exc:
                raise PermanentFetchError(f"cannot undo Content-Encoding: {exc}",
                                          url=url) from exc
            except urllib3.exceptions.SSLError as exc:
                raise TruncatedBodyError(f"TLS error mid-body: {exc}", url=url) from exc
            if not chunk:
                break
            if size + len(chunk) > limit:
                if truncate:
                    buf.write(chunk[: limit - size])
                    break
                raise TooLargeError(
                    f"body exceeds {limit} bytes" + (" once decompressed" if encoded else ""),
                    url=url)
            size += buf.write(chunk)
        return buf.getvalue(), raw.tell()


@contextmanager
def _turn(hop: Hop | None, url: str, attempt: Attempt) -> Iterator[None]:
    """Enter ``hop(url)`` around one request; waiting there does not use up the attempt's
    total timeout (a Crawl-delay is the host's wish, not the server being slow)."""
    if hop is None:
        yield
        return
    with ExitStack() as stack:
        saved, entered = attempt.deadline, time.monotonic()
        attempt.deadline = math.inf  # the watchdog must not cut an attempt that only waits
        try:
            stack.enter_context(hop(url))
        finally:
            attempt.deadline = saved + (time.monotonic() - entered)
        yield


def _root_cause(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 error, in one short line.

    requests wraps urllib3 which wraps the socket error, and the outer messages repeat the
    pool, host and URL ("HTTPConnectionPool(host=...): Max retries exceeded ... (Caused by
    NewConnectionError(...))"); the URL is already in our error, the socket's reason is what a
    person needs ("[Errno 111] Connection refused").
    """
    seen: set[int] = set()
    cause: BaseException = exc
    while id(cause) not in seen:
        seen.add(id(cause))
        inner = getattr(cause, "reason", None) or cause.__cause__ or cause.__context__
        if inner is None and cause.args and isinstance(cause.args[0], BaseException):
            inner = cause.args[0]
        if not isinstance(inner, BaseException):
            break
        cause = inner
    text = str(cause)
    # urllib3's NewConnectionError reads "<HTTPConnection object>: Failed to establish ...: why"
    if ": " in text and ("Connection" in text.split(": ", 1)[0] or "object at" in text):
        text = text.rsplit(": ", 1)[-1] if "Errno" in text else text.split(": ", 1)[1]
    return " ".join(text.split())[:300] or type(cause).__name__


def _broken_reason(exc: urllib3.exceptions.ProtocolError) -> str:
    """Why a body stopped short, in words: urllib3's ProtocolError carries a (message, cause)
    tuple whose repr would otherwise end up in the message."""
    for arg in exc.args:
        if isinstance(arg, urllib3.exceptions.IncompleteRead) or type(arg).__name__ == \
                "IncompleteRead":
            expected = getattr(arg, "expected", None)
            if isinstance(expected, int):
                return f"the connection closed with {expected} more bytes expected"
            return "the connection closed before the end of the body"
        if isinstance(arg, ConnectionResetError):
            return "the connection was reset"
        if isinstance(arg, OSError):
            return arg.strerror or type(arg).__name__
    first = exc.args[0] if exc.args else ""
    text = first if isinstance(first, str) else type(exc).__name__
    return text.rstrip(":. ") or "the connection broke"


def _strip_fragment(url: str) -> str:
    """The URL without its #fragment, which is never sent and would hide redirect loops."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(fragment="")) if parts.fragment else url


def _content_length(resp: requests.Response) -> int | None:
    try:
        value = int(resp.headers.get("Content-Length", ""))
    except ValueError:
        return None
    return value if value >= 0 else None


def _response_headers(resp: requests.Response) -> list[tuple[str, str]]:
    """The response headers in wire order, duplicates kept.

    http.client's message keeps the order exactly; urllib3's HTTPHeaderDict (the fallback)
    keeps duplicates but groups them by name.
    """
    original = getattr(resp.raw, "_original_response", None)
    msg = getattr(original, "msg", None)
    if msg is not None:
        return [(str(k), str(v)) for k, v in msg.items()]
    return [(str(k), str(v)) for k, v in resp.raw.headers.items()]


def _request_headers(resp: requests.Response, url: str) -> list[tuple[str, str]]:
    """The request headers sent for the final hop: Host (added by http.client) and the rest."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(parts.scheme)
    if parts.port is not None and parts.port != default:
        host = f"{host}:{parts.port}"
    sent = [(str(k), str(v)) for k, v in resp.request.headers.items()]
    return [("Host", host), *sent]


def _log_retry(retry_state: tenacity.RetryCallState) -> None:
    exc = retry_state.outcome.exception() if retry_state.outcome else None
    wait = retry_state.next_action.sleep if retry_state.next_action else 0.0
    logger.info("retry %d in %.1fs: %s", retry_state.attempt_number, wait, exc)
