"""Start-up stays cheap: printing the help imports none of what the commands need to run.

`coop-archive --help` was 1.25x `sqlite-utils --help` while the command modules imported the
crawl (requests, lxml, the store) at module level; docs/benchmarks.md measures the two side by
side. The first test keeps a top-level import from bringing that back; the second keeps
`history` (a reader of snapshot rows, docs/benchmarks.md section 5) from importing what only
writing or reading bodies and pages needs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from archive.model import Page
from archive.store import Archive
from tests.builders import at, capture

HEAVY = ("requests", "lxml", "zstandard", "archive.store", "scraper.crawl", "scraper.fetch",
         "scraper.parse", "archive.diff", "archive.query")

PROBE = """
import json, sys
from scraper.cli import main
try:
    main(["--help"])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def test_help_imports_nothing_heavy() -> None:
    proc = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None)
    loaded = [m for m in HEAVY if m in report["modules"]]
    assert loaded == [], f"`coop-archive --help` imports {loaded}"


HISTORY_PROBE = """
import json, sys
from scraper.cli import main
try:
    main(["history", "--db", sys.argv[1]])
except SystemExit as e:
    code = e.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""

#: What reading the history of an archive needs none of: the body codec, header-date parsing,
#: the page model and the outside-text index are for writing and for reading pages and bodies.
NOT_FOR_HISTORY = ("zstandard", "archive.blobs", "email.utils", "archive.model",
                   "archive.outside", "shutil")


def test_history_imports_only_what_reading_snapshot_rows_needs(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    with Archive.open(db) as archive:
        capture(archive, "http://127.0.0.1:9/hub", at("2016-10-21"),
                Page("http://127.0.0.1:9/hub", title="Hub", text="one"))
    proc = subprocess.run([sys.executable, "-c", HISTORY_PROBE, str(db)], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    assert report["code"] in (0, None)
    assert "http://127.0.0.1:9/hub" in proc.stdout  # the listing was printed
    loaded = [m for m in NOT_FOR_HISTORY if m in report["modules"]]
    assert loaded == [], f"`coop-archive history` imports {loaded}"
