"""SIGTERM ends a crawl at once while a PDF's text is being extracted (issue 16): the crawl's
workers hand the stop event to the parser, which kills the extraction's child process. The
PDF gets a failed snapshot saying why, never a half (or empty) version."""

from __future__ import annotations

import signal
import sqlite3
from pathlib import Path

from tests.cli import descendant_cmdlines, run_cli_signalled
from tests.integration.test_parse_budgets import pdf_bomb
from tests.servers import LoopbackServer, Static


def extracting(pid: int) -> bool:
    """Whether the command ``pid`` has a PDF reader child running (it may be the child of the
    parser process): the signal must come while the text is being extracted, and on a loaded
    machine a fixed wait may end before the page is even fetched."""
    return any("scraper.pdf import _main" in cmd for cmd in descendant_cmdlines(pid))


def test_sigterm_during_a_pdf_extraction_ends_the_crawl_at_once(server: LoopbackServer,
                                                                 tmp_path: Path) -> None:
    # 40 pages of 100,000 empty text operators: minutes of pypdf work, hardly any text, so
    # neither the character nor the memory budget ends it; only the 30 s time budget would.
    slow = pdf_bomb(pages=40, ops=100_000, run=0)
    server.route("/report.pdf", Static(body=slow, content_type="application/pdf"))
    db = tmp_path / "a.db"
    proc, took = run_cli_signalled("crawl", server.url("/report.pdf"), "--db", str(db),
                                   "--ignore-robots", "--delay", "0", "--depth", "0",
                                   after=60, ready=extracting, sig=signal.SIGTERM)
    assert took < 4, proc.stderr
    assert proc.returncode == 143, proc.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT status FROM runs").fetchall() == [("interrupted",)]
    rows = conn.execute("SELECT outcome, version_id, error FROM snapshots").fetchall()
    assert len(rows) == 1 and rows[0][0] == "failed" and rows[0][1] is None
    assert "stopped" in rows[0][2]
    assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
    conn.close()


def test_sigterm_during_an_import_ends_it_at_once(tmp_path: Path) -> None:
    from tests.e2e.test_warc_budget import response_record

    slow = pdf_bomb(pages=40, ops=100_000, run=0)
    path = tmp_path / "slow.warc.gz"
    path.write_bytes(response_record("http://127.0.0.1:9/report.pdf", "2024-01-01T00:00:00Z",
                                     slow, content_type="application/pdf"))
    db = tmp_path / "a.db"
    proc, took = run_cli_signalled("import", str(path), "--db", str(db), after=60,
                                   ready=extracting, sig=signal.SIGTERM)
    assert took < 4, proc.stderr
    assert proc.returncode == 143, proc.stderr
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
    conn.close()
