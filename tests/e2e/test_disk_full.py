"""A full disk is reported as such, in one line, and the archive stays whole.

The archive is put on a tiny tmpfs mounted in a private mount namespace (``unshare -rm``:
no root needed where user namespaces are allowed), so the disk really fills (ENOSPC).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.builders import doc_html
from tests.cli import cli_command
from tests.warc_files import http_response, warc_record

SIZE = "400k"  # the tmpfs: room for the archive, not for the big import


def warc_of(path: Path, pages: list[tuple[str, bytes]]) -> Path:
    path.write_bytes(b"".join(
        warc_record("response", url, f"2016-10-21T12:00:{i:02d}Z", http_response(body))
        for i, (url, body) in enumerate(pages)))
    return path


def in_small_disk(tmp_path: Path, steps: list[list[str]],
                  size: str = SIZE) -> list[tuple[int, str, str]]:
    """Run each command (``{disk}`` in an argument is the tmpfs) in one private mount
    namespace where ``tmp_path / "disk"`` is a fresh tmpfs of ``size``; (exit code, stdout,
    stderr) of each."""
    if shutil.which("unshare") is None:
        pytest.fail("util-linux's unshare is needed for the disk-full test")
    disk = tmp_path / "disk"
    disk.mkdir()
    script = [f"mount -t tmpfs -o size={size} tmpfs {shlex.quote(str(disk))} || exit 99"]
    for i, step in enumerate(steps):
        cmd = " ".join(shlex.quote(a.replace("{disk}", str(disk))) for a in step)
        out, err = tmp_path / f"{i}.out", tmp_path / f"{i}.err"
        script.append(f"{cmd} >{shlex.quote(str(out))} 2>{shlex.quote(str(err))}; "
                      f"echo $? >{shlex.quote(str(tmp_path / f'{i}.rc'))}")
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", "\n".join(script)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode != 99, f"cannot mount a tmpfs: {proc.stderr}"
    return [(int((tmp_path / f"{i}.rc").read_text()), (tmp_path / f"{i}.out").read_text(),
             (tmp_path / f"{i}.err").read_text()) for i in range(len(steps))]


def test_disk_full_is_one_line_and_the_archive_is_intact(tmp_path: Path) -> None:
    small = warc_of(tmp_path / "small.warc", [("http://www.state.gov/a", doc_html("A", "a"))])
    # Text that does not compress, more than the tmpfs holds.
    big = warc_of(tmp_path / "big.warc", [
        (f"http://www.state.gov/big{i}", doc_html("Big", os.urandom(100_000).hex()))
        for i in range(4)])
    db = "{disk}/a.db"
    (first, full, check, sql) = in_small_disk(tmp_path, [
        cli_command("import", str(small), "--db", db),
        cli_command("import", str(big), "--db", db),
        cli_command("check", "--db", db),
        cli_command("sql", "SELECT url FROM pages ORDER BY url", "--db", db, "--csv"),
    ])
    assert first[0] == 0, first
    code, _, stderr = full
    assert code == 3, stderr
    assert stderr.startswith("coop-archive: disk full"), stderr
    assert "the archive is intact" in stderr and "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1, stderr
    assert check[0] == 0, check
    assert "http://www.state.gov/a" in sql[1]
