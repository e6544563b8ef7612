"""HTML parsing in a child process, so that the parse runs beside the writer on a second core.

The parse (:func:`scraper.parse.parse`) is Python work over lxml's tree and holds the GIL: in
a worker thread it takes turns with the thread that writes to the archive instead of running
beside it. :class:`ParseProcess` hands HTML captures to one child interpreter
(``python -I -c ...`` running :func:`_serve`, started by hand like the PDF reader of
:mod:`scraper.pdf`; jobs and answers are pickled over its stdin and stdout) and gives back
each :class:`~archive.model.Page` with its content hash, as a
:class:`concurrent.futures.Future`. The crawl and the WARC import
ask for the next pages' parses ahead, so fetching (or reading), parsing and writing overlap.

The result is the same Page :func:`scraper.ingest.parse_capture` makes in this process (the
child runs the same code on the same arguments); what the parser logs in the child is logged
again here, under its own logger name. Only HTML goes to the child: a PDF is extracted in its
own bounded child by :mod:`scraper.pdf`, which a stop kills at once, and that stays in the
asking thread. If the child cannot be started or dies, every capture asked for from then on
is parsed in the asking thread as before (:meth:`ParseProcess.parse` does that), so a broken
child costs time, never a page (the one it was on when it died is recorded as a failure, not
lost: the next run fetches it again).

The child is bounded like the PDF reader: an address space of :data:`CHILD_MEMORY` and
:data:`PAGE_CPU_SECONDS` of CPU per page (it moves its own soft ``RLIMIT_CPU`` before each
page, so the bound is per page in a long-lived process). A page that needs more memory is
answered as a failure with its reason (``Page.truncated`` with no text, which
:meth:`scraper.ingest.RunContext.ingest` records as a failed snapshot, never a version). When
the child dies (the kernel's SIGXCPU at the CPU bound, a crash, a kill from outside) the page
it was parsing is such a failure too, named with the cause: parsing it again in the writing
process would bring what killed the child there, without bounds. The pages queued behind it
are parsed in the asking thread. :meth:`ParseProcess.close` ends the child (it is killed when
it does not end at once): a stopped run leaves no process behind. The child ignores SIGINT and
SIGTERM (a Ctrl-C reaches the whole process group; the parent decides when it ends) and ends
by itself when its input closes, so a kill -9 of the parent ends it too.
"""

from __future__ import annotations

import logging
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

from archive.capture import HTML_TYPES, PDF_TYPES, Capture
from archive.model import Page

logger = logging.getLogger(__name__)

#: A parse done: the page and its content hash (None for a capture that has no page).
Parsed = tuple[Page | None, str | None]

_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # holds scraper/
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); from scraper.parse_process import "
          "_serve; raise SystemExit(_serve(sys.argv[2:]))")
_CLOSE_WAIT = 2.0  # seconds the child gets to end on its own before it is killed
#: A crawl level or an import of at least this many pages parses in the child (below it,
#: starting the child costs more than it saves).
PARSE_PROCESS_MIN = 8


#: A body this big is parsed where it was received: shipped to the child it would be held there
#: once more, with its pickled parse on the way back, and pipelining gains nothing on a few
#: big pages (a crawl or an import holds one big body at a time, as it did without the child).
MAX_CHILD_BODY = 4 << 20
#: The child's address space (RLIMIT_AS). The pages it gets (under MAX_CHILD_BODY) have not
#: needed 300 MB: a 3.8 MB page of 480,000 paragraphs peaks at about 290 MB resident.
CHILD_MEMORY = 2 << 30
#: CPU seconds the child may spend on one page (its soft RLIMIT_CPU, moved before each page).
#: The slowest page under MAX_CHILD_BODY measured takes about 4 s (3.6 MB of short sections;
#: docs/limits.md, Page shapes); a normal page takes well under a second.
PAGE_CPU_SECONDS = 120


def for_child(capture: Capture) -> bool:
    """Whether ``capture`` is one the child parses: a 2xx that the parser reads as HTML, of
    less than :data:`MAX_CHILD_BODY` bytes.

    The same test :func:`scraper.parse.parse` makes (a PDF by type or magic bytes, a declared
    type that is not HTML), so the child never meets a PDF.
    """
    return len(capture.body) < MAX_CHILD_BODY and _html_2xx(capture)


def for_writer(capture: Capture) -> bool:
    """Whether ``capture`` is a 2xx HTML body of :data:`MAX_CHILD_BODY` bytes or more, which
    the thread that writes it to the archive parses, just before it writes it.

    Memory, not speed: glibc's malloc gives each thread an arena of its own and keeps what a
    thread frees for that arena. Parsed in a crawl worker, a 20 MB page leaves the freed
    lxml tree and walk buffers (several times the page) in the worker's arena, and the
    writer's SQLite copies of its text come on top of them; parsed by the writer, SQLite
    reuses that memory (docs/limits.md, Memory).
    """
    return len(capture.body) >= MAX_CHILD_BODY and _html_2xx(capture)


def _html_2xx(capture: Capture) -> bool:
    if not 200 <= capture.status < 300:
        return False
    media = capture.content_type or ""
    if media in PDF_TYPES or capture.body[:1024].lstrip().startswith(b"%PDF-"):
        return False
    return not media or media in HTML_TYPES or media.startswith("text/html")


def parse_here(capture: Capture, *, main: str | None = None,
               ignore: Sequence[str] = ()) -> Parsed:
    """The parse the child makes, made in this thread: (page, content hash)."""
    from scraper.ingest import parse_capture

    page = parse_capture(capture, main=main, ignore=ignore)
    return page, (page.content_hash() if page is not None else None)


class ParseProcess:
    """One child interpreter parsing HTML captures in order; see the module doc.

    ``main`` / ``ignore``: a watch's CSS selectors, the same for every page. Thread-safe:
    several crawl workers may ask at once. Use as a context manager, or call :meth:`close`.
    """

    def __init__(self, *, main: str | None = None, ignore: Sequence[str] = (),
                 max_memory: int = CHILD_MEMORY,
                 max_cpu_seconds: int = PAGE_CPU_SECONDS) -> None:
        self.main, self.ignore = main, tuple(ignore)
        self.max_memory, self.max_cpu_seconds = max_memory, max_cpu_seconds
        self._lock = threading.Lock()  # the child, the pending parses, the flags
        # Jobs for the sender thread (None: no more): a pipe holds less than one page, so
        # writing in the asking thread would wait for the child's previous parse.
        self._jobs: queue.SimpleQueue[tuple[Any, ...] | None] = queue.SimpleQueue()
        self._child: subprocess.Popen[bytes] | None = None
        self._pending: dict[int, tuple[Future[Parsed], Capture]] = {}
        self._next = 0
        self._broken = False  # the child could not start or died: parse here from now on
        self._closed = False
        self._reader: threading.Thread | None = None
        self._sender: threading.Thread | None = None

    def __enter__(self) -> ParseProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Start the child now (it takes a fraction of a second to import the parser), so
        the first parse does not wait for it."""
        with self._lock:
            self._ensure_child()

    def _ensure_child(self) -> subprocess.Popen[bytes] | None:
        if self._broken or self._closed:
            return None
        if self._child is not None:
            return self._child
        try:
            # -I: no PYTHON* variables, no user site; the package root goes on sys.path.
            child = subprocess.Popen([sys.executable, "-I", "-c", _CHILD, _ROOT,
                                      str(self.max_memory), str(self.max_cpu_seconds)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        except OSError as e:
            logger.warning("cannot start the parser process (%s); parsing in this one", e)
            self._broken = True
            return None
        self._child = child
        assert child.stdout is not None and child.stdin is not None
        self._reader = threading.Thread(target=self._read, args=(child,),
                                        name="parse-process-reader", daemon=True)
        self._reader.start()
        self._sender = threading.Thread(target=self._send, args=(child,),
                                        name="parse-process-sender", daemon=True)
        self._sender.start()
        return child

    def submit(self, capture: Capture) -> Future[Parsed]:
        """The parse of ``capture`` to come: in the child when it is HTML and the child
        works, else done here at once."""
        fut: Future[Parsed] = Future()
        with self._lock:
            child = self._ensure_child() if for_child(capture) else None
            seq = self._next
            self._next += 1
            if child is not None:
                self._pending[seq] = (fut, capture)
        if child is not None:
            self._jobs.put((seq, capture.body, capture.final_url, capture.content_type,
                            capture.charset, self.main, self.ignore))
            return fut
        fut.set_result(parse_here(capture, main=self.main, ignore=self.ignore))
        return fut

    def _send(self, child: subprocess.Popen[bytes]) -> None:
        """The sender thread: writes each job to the child, closes its input at the end."""
        stdin = child.stdin
        assert stdin is not None
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    break
                pickle.dump(job, stdin, protocol=pickle.HIGHEST_PROTOCOL)
                stdin.flush()
        except (OSError, ValueError):
            # The child is gone: its reader fails what is pending (parse() parses it here).
            child.kill()
        finally:
            try:
                stdin.close()
            except OSError:  # what was left unwritten to a dead child
                pass

    def parse(self, fut: Future[Parsed], capture: Capture) -> Parsed:
        """The result of ``fut`` (from :meth:`submit` of ``capture``); parsed here if the
        child died before it answered, unless it died parsing this very page: that page is a
        failure with the cause (a Page with no text and the reason in ``truncated``)."""
        try:
            return fut.result()
        except ChildGone as gone:
            if gone.reason is not None:
                return Page(url=capture.final_url, truncated=gone.reason), None
            return parse_here(capture, main=self.main, ignore=self.ignore)

    def _why_ended(self, child: subprocess.Popen[bytes]) -> str:
        """Why the child stopped answering, from its exit status (killed when it is still
        there: its answers can no longer be read)."""
        try:
            code = child.wait(timeout=_CLOSE_WAIT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
            return "the parser process gave an answer that could not be read"
        if code == -signal.SIGXCPU:
            return (f"parsing used more than {self.max_cpu_seconds}s of CPU (the parser "
                    "process's limit per page)")
        if code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            return f"the parser process was killed ({name})"
        return f"the parser process ended (exit {code})"

    def _read(self, child: subprocess.Popen[bytes]) -> None:
        """The reader thread: each answer resolves its future; EOF fails the rest."""
        out = child.stdout
        assert out is not None
        started = None  # the page the child said it began and has not answered yet
        try:
            while True:
                answer = pickle.load(out)
                if isinstance(answer, int):  # the child begins page ``answer``
                    started = answer
                    continue
                seq, page, content_hash, records = answer
                started = None
                for record in records:
                    named = logging.getLogger(record.name)
                    if named.isEnabledFor(record.levelno):
                        named.handle(record)
                with self._lock:
                    fut, _ = self._pending.pop(seq)
                fut.set_result((page, content_hash))
        except Exception:  # EOF, a killed child, a broken answer: the same to us
            with self._lock:
                closed = self._closed
            # Closed: we killed it (a stop), its pages are parsed here if at all.
            why = None if closed else self._why_ended(child)
            with self._lock:
                self._broken = True
                pending, self._pending = self._pending, {}
            if why is not None:
                logger.warning("%s; parsing in this one", why)
            # The page the child was on when it died is a failure (the cause of its death as
            # far as we can tell); the others, sent but not begun, are parsed here.
            for seq, (fut, _) in pending.items():
                fut.set_exception(ChildGone(f"{why} while parsing this page"
                                            if why is not None and seq == started else None))

    def close(self) -> None:
        """End the child: the end of its input, or at once (killed) when parses are still
        pending (a stopped run). Those fail with :class:`ChildGone` (:meth:`parse` then
        parses here)."""
        with self._lock:
            self._closed = True
            child, self._child = self._child, None
            busy = bool(self._pending)
        if child is None:
            return
        if busy:
            child.kill()
        self._jobs.put(None)
        try:
            child.wait(timeout=_CLOSE_WAIT)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        for thread in (self._sender, self._reader):
            if thread is not None:
                thread.join()
        if child.stdout is not None:
            child.stdout.close()


class ChildGone(Exception):
    """The parser process ended before it answered; ``reason`` when it ended while parsing
    this page (then a failure of the page, not to be parsed again)."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason or "the parser process ended")
        self.reason = reason


# -- the child ----------------------------------------------------------------------------

class _Collect(logging.Handler):
    """Keeps the records the parser logs, to be sent back with its answer."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Formatted here: the exception and arguments may not pickle, their text does.
        record.msg, record.args = record.getMessage(), None
        if record.exc_info:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
            record.exc_info = None
        self.records.append(record)


def _limit_self(max_memory: int) -> None:
    """The child's own bounds: its address space, and no core file (the kernel's SIGXCPU
    at the CPU bound would write one of a process of up to ``max_memory``)."""
    import resource

    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    if hard != resource.RLIM_INFINITY:
        max_memory = min(max_memory, hard)
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, hard))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _cpu_budget(seconds: int) -> None:
    """Give the next page ``seconds`` of CPU: the soft RLIMIT_CPU counts the process's whole
    life, so it is moved to what is used so far plus the budget (the hard limit stays, so
    it can be moved again)."""
    import resource

    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime) + 1 + seconds
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def _serve(argv: Sequence[str] = ()) -> int:
    """The child's loop: read a job from stdin, answer on stdout, until EOF. ``argv``: the
    address space in bytes and the CPU seconds per page."""
    max_memory, cpu_seconds = (int(argv[0]), int(argv[1])) if argv else (
        CHILD_MEMORY, PAGE_CPU_SECONDS)
    _limit_self(max_memory)

    from scraper.parse import OUT_OF_MEMORY, parse

    # Ctrl-C reaches the whole process group: the parent stops its job between two pages and
    # then ends this process (end of input, or kill); a traceback here would only be noise.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        try:
            job: Any = pickle.load(stdin)
        except EOFError:
            return 0
        seq, body, url, content_type, charset, main, ignore = job
        # Said first, so that if this page kills the process the parent knows which it was.
        pickle.dump(seq, stdout, protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()
        _cpu_budget(cpu_seconds)
        content_hash: str | None = None
        try:
            page = parse(body, url=url, content_type=content_type, http_charset=charset,
                         main=main, ignore=ignore)
            if page.truncated != OUT_OF_MEMORY:
                content_hash = page.content_hash()
        except MemoryError:  # in the hash: what the parse held is freed as it unwinds
            page = Page(url=url, truncated=OUT_OF_MEMORY)
        if page.truncated == OUT_OF_MEMORY and not page.text:  # the next page starts afresh
            page = Page(url=url, truncated=f"parsing needed more than {max_memory >> 20} MiB "
                                           "of memory (the parser process's limit)")
        # The parser's hints for the hash (keyed by object identity) mean nothing in
        # another process; the hash is computed, so they need not travel.
        page.__dict__.pop("_norm_hints", None)
        pickle.dump((seq, page, content_hash, collect.records), stdout,
                    protocol=pickle.HIGHEST_PROTOCOL)
        stdout.flush()
        collect.records = []
