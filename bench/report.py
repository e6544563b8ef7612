"""Render the measures' results into docs/benchmarks.md through bench/template.md."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from string import Template

import lxml.etree
import zstandard

from bench.util import ROOT, Result, table

TEMPLATE = Path(__file__).with_name("template.md")


def machine() -> str:
    """CPU count and model, and the kernel."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}"


def software() -> str:
    """Python, SQLite, lxml, zstandard versions and the commit measured."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip() or "unknown"
    except OSError:
        commit = "unknown"
    return (f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
            f"lxml {'.'.join(map(str, lxml.etree.LXML_VERSION[:3]))}, "
            f"zstandard {zstandard.__version__}; commit {commit} (with the working tree as it "
            "was)")


def render(results: list[Result], *, quick: bool, elapsed: float) -> str:
    """The whole report as markdown."""
    summary = table(["measure", "goal", "measured", "verdict"],
                    [row for r in results for row in r.rows])
    sections = "\n\n".join(f"## {r.title}\n\n{r.body}" for r in results)
    short = [s for r in results for s in r.shortfalls]
    shortfalls = "\n".join(f"- {s}" for s in short) if short else "Nothing: every goal is met."
    return Template(TEMPLATE.read_text()).substitute(
        date=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine(), software=software(),
        mode="quick (reduced sizes; not for judging speed)" if quick else "full",
        elapsed=f"{elapsed / 60:.1f} min", summary=summary, sections=sections,
        shortfalls=shortfalls,
    )
