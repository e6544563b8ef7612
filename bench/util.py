"""Small helpers shared by the measures: timing, medians, file sizes and the result type."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable


@dataclass
class Result:
    """What one measure found: a markdown section and its headline figures.

    ``rows`` are (what, goal, measured, verdict) lines for the summary table; ``shortfalls``
    are plain sentences for "where we fall short and why"; ``body`` is the section's markdown.
    """

    key: str
    title: str
    body: str
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    shortfalls: list[str] = field(default_factory=list)


def median(xs: Sequence[float]) -> float:
    """The median of ``xs`` (NaN when empty)."""
    return statistics.median(xs) if xs else float("nan")


def timed(fn: Callable[[], object], n: int, *, warmup: int = 1) -> list[float]:
    """Seconds per call of ``fn`` for ``n`` calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def run_cmd(args: Sequence[str], *, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing output; raise with its stderr when it fails."""
    proc = subprocess.run(list(args), cwd=cwd or ROOT, capture_output=True, text=True,
                          env=bench_env())
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc


def bench_env() -> dict[str, str]:
    """The environment for child processes: ours, with the repository importable."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("COOP_ARCHIVE_DB", None)
    return env


def time_cmd(args: Sequence[str], n: int) -> list[float]:
    """Wall seconds of ``n`` runs of a command (after one warm-up run)."""
    return timed(lambda: run_cmd(args), n)


def db_size(path: str | os.PathLike[str]) -> int:
    """Bytes on disk of a SQLite file with its -wal and -shm companions."""
    total = 0
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(path) + suffix)
        if p.exists():
            total += p.stat().st_size
    return total


def dir_size(path: Path) -> int:
    """Bytes of every file under ``path`` (what ``du -b`` would sum)."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def kb(n: float) -> str:
    """``n`` bytes as a short human figure."""
    if n >= 10 * 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MiB"
    if n >= 10 * 1024:
        return f"{n / 1024:.1f} KiB"
    return f"{n:.0f} B"


def ms(seconds: float) -> str:
    """Seconds as milliseconds with sensible precision."""
    v = seconds * 1000
    return f"{v:.2f} ms" if v < 10 else f"{v:.0f} ms"


def ratio(x: float) -> str:
    """A ratio as ``1.23x``."""
    return f"{x:.2f}x"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def verdict(ok: bool) -> str:
    """The summary table's verdict word."""
    return "meets" if ok else "**short**"
