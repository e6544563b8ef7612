"""PDF text, extracted where it can be stopped and bounded: a child process with resource limits.

pypdf is pure Python but a hostile PDF can still make it run for minutes and take gigabytes
(a few KB of compressed content streams that inflate to hundreds of MB of text operators), and
a thread cannot be stopped from outside. So :func:`extract_pdf` runs pypdf in a child
interpreter (``python -m scraper.pdf``) that first limits its own address space
(``RLIMIT_AS``) and CPU time (``RLIMIT_CPU``), then reads the PDF from stdin, page by page,
within budgets of pages, characters and seconds, and writes JSON to stdout. The parent waits
in short slices, so a stop (SIGTERM in the CLI) or the wall-clock deadline kills the child
within a fraction of a second.

The result says whether the text is whole. ``truncated`` names the fixed budget (pages,
characters) that ended the extraction early; the text then holds what came before it, the
same every time for the same bytes, so it is a stable (marked) version. ``failed`` says why
there is no text at all: an unreadable PDF, or time or memory exhausted, or stopped. A budget of
time gives no text rather than the pages read so far, because where it cuts depends on the
machine's load: half a document must never become a new version (see
:attr:`archive.model.Page.truncated`).

>>> DEFAULT_LIMITS.max_pages, DEFAULT_LIMITS.max_chars
(200, 5000000)
"""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
import time
import warnings
from dataclasses import dataclass

logger = logging.getLogger(__name__)

SLICE = 0.1  # seconds between looks at the stop event while the child works
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # holds scraper/
_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); from scraper.pdf import _main; "
          "raise SystemExit(_main(sys.argv[2:]))")
_STARTUP = 2.0  # seconds allowed for the child interpreter to start, on top of max_seconds


@dataclass(frozen=True)
class PdfLimits:
    """Budgets of one PDF extraction (documented in docs/limits.md)."""

    max_pages: int = 200  # pages read; the rest of a longer PDF is left out (truncated)
    max_chars: int = 5_000_000  # characters of extracted text kept (truncated beyond)
    max_seconds: float = 30.0  # wall-clock and CPU seconds for the whole extraction
    max_memory: int = 1 << 30  # bytes of address space of the child (RLIMIT_AS)


DEFAULT_LIMITS = PdfLimits()


@dataclass(frozen=True)
class PdfText:
    """What :func:`extract_pdf` found: metadata title, text, and whether it is whole."""

    title: str = ""
    text: str = ""
    pages: int = 0  # pages read
    truncated: str | None = None  # the budget that cut the text short, or None
    failed: str | None = None  # why no text could be extracted, or None


def extract_pdf(body: bytes, *, limits: PdfLimits = DEFAULT_LIMITS,
                stop: threading.Event | None = None) -> PdfText:
    """The text of the PDF ``body``, extracted in a bounded child process. Never raises.

    ``stop``, when set, kills the child at once (the result is ``failed``).
    """
    # -I: no PYTHON* variables, no user site; the package root is put on sys.path by hand.
    cmd = [sys.executable, "-I", "-c", _CHILD, _ROOT, str(limits.max_pages),
           str(limits.max_chars), repr(float(limits.max_seconds)), str(int(limits.max_memory))]
    deadline = time.monotonic() + limits.max_seconds + _STARTUP
    try:
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE)
    except OSError as e:
        return PdfText(failed=f"cannot start the PDF reader: {e.strerror or e}")
    # communicate() in a thread of its own: called again after a timeout it would not go on
    # writing the body, and this thread must stay free to notice a stop or the deadline.
    got: list[tuple[bytes, bytes]] = []
    talker = threading.Thread(target=lambda: got.append(child.communicate(body)),
                              name="pdf-child", daemon=True)
    talker.start()
    try:
        while talker.is_alive():
            talker.join(SLICE)
            if not talker.is_alive():
                break
            if stop is not None and stop.is_set():
                return PdfText(failed="PDF text extraction stopped")
            if time.monotonic() > deadline:
                return PdfText(failed=f"PDF text extraction took longer than "
                                      f"{limits.max_seconds:g}s")
    finally:
        if child.poll() is None:
            child.kill()  # communicate() then sees the pipes close and returns
        talker.join()
    if not got:
        return PdfText(failed="the PDF reader gave no usable answer")
    out, err = got[0]
    return _result(child.returncode, out, err, limits)


def _result(code: int, out: bytes, err: bytes, limits: PdfLimits) -> PdfText:
    """The child's answer, or the reason it gave none."""
    if code == 0:
        try:
            data = json.loads(out)
            return PdfText(title=str(data["title"]), text=str(data["text"]),
                           pages=int(data["pages"]), truncated=data["truncated"],
                           failed=data["failed"])
        except (ValueError, KeyError, TypeError):
            return PdfText(failed="the PDF reader gave no usable answer")
    tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
    if code == -9 or code == -24 or "CPU" in tail[0]:  # SIGKILL/SIGXCPU: RLIMIT_CPU
        return PdfText(failed=f"PDF text extraction used more than {limits.max_seconds:g}s "
                              "of CPU")
    if "MemoryError" in tail[0]:
        return PdfText(failed=f"PDF text extraction needed more than "
                              f"{limits.max_memory // (1 << 20)} MiB of memory")
    return PdfText(failed=f"the PDF reader failed (exit {code}): {tail[0][:200]}")


# -- the child ----------------------------------------------------------------------------


def _limit_self(max_seconds: float, max_memory: int) -> None:
    import resource

    cpu = max(1, int(max_seconds + 0.999))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (max_memory, max_memory))


def read_pdf(body: bytes, *, max_pages: int, max_chars: int,
             max_seconds: float) -> dict[str, object]:
    """Extract title and text page by page within the budgets (runs in the child).

    Returns the JSON-ready answer; ``failed`` is set when pypdf cannot read the file at all.
    The text is the pages' texts joined by new lines, as the parser has always joined them.
    """
    from pypdf import PdfReader

    from scraper.markup import clean

    deadline = time.monotonic() + max_seconds
    texts: list[str] = []
    chars = 0
    truncated: str | None = None
    title = ""
    with warnings.catch_warnings():
        # pypdf warns about every sloppy PDF; a warning is not a reason to lose the text.
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(io.BytesIO(body), strict=False)
            try:
                meta = reader.metadata
                title = clean(str(meta.title)) if meta and meta.title else ""
            except Exception:  # broken /Info: the text is still worth having
                title = ""
            total = len(reader.pages)
            for n, page in enumerate(reader.pages):
                if n >= max_pages:
                    truncated = f"PDF page budget: read {max_pages} of {total} pages"
                    break
                if time.monotonic() > deadline:
                    # Not a truncation: where a clock cuts depends on the load (module doc).
                    return {"title": "", "text": "", "pages": 0, "truncated": None,
                            "failed": f"PDF text extraction took longer than {max_seconds:g}s"
                                      f" (after {n} of {total} pages)"}
                text = page.extract_text() or ""
                if chars + len(text) > max_chars:
                    texts.append(text[: max_chars - chars])
                    truncated = (f"PDF text budget: more than {max_chars} characters "
                                 f"(page {n + 1} of {total})")
                    break
                chars += len(text)
                texts.append(text)
        except MemoryError:
            raise  # the parent names the memory limit; the child's exit says it was hit
        except Exception as exc:  # any pypdf failure: no text, not a crash
            return {"title": "", "text": "", "pages": 0, "truncated": None,
                    "failed": f"pypdf could not read the PDF: {type(exc).__name__}: "
                              f"{str(exc)[:200]}"}
    return {"title": title, "text": "\n".join(texts), "pages": len(texts),
            "truncated": truncated, "failed": None}


def _main(argv: list[str]) -> int:
    max_pages, max_chars = int(argv[0]), int(argv[1])
    max_seconds, max_memory = float(argv[2]), int(argv[3])
    _limit_self(max_seconds, max_memory)
    body = sys.stdin.buffer.read()
    answer = read_pdf(body, max_pages=max_pages, max_chars=max_chars, max_seconds=max_seconds)
    sys.stdout.write(json.dumps(answer))
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))
