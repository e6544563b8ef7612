"""Start-up stays cheap: printing the help imports none of what the commands need to run.

`coop-archive --help` was 1.25x `sqlite-utils --help` while the command modules imported the
crawl (requests, lxml, the store) at module level; docs/benchmarks.md measures the two side by
side. This test keeps a top-level import from bringing that back.
"""

from __future__ import annotations

import json
import subprocess
import sys

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
