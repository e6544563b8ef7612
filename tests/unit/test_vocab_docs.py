"""The docs list the vocabularies the code defines, and no other values.

docs/diff.md's tables of page changes and flags and its JSON example's item and section change
lists are compared with archive/diff_vocab.py; docs/schema.md's `runs.status`, `runs.source`,
`snapshots.source` and `snapshots.outcome` rows with archive/vocab.py.
"""

from __future__ import annotations

import re
from pathlib import Path

from archive.diff_vocab import PAGE_CHANGES, Flag, ItemChangeKind, SectionChangeKind
from archive.vocab import Outcome, RunStatus, Source

DOCS = Path(__file__).resolve().parents[2] / "docs"
_CODE_RE = re.compile(r"`([a-z_]+)`")


def _table_keys(text: str, header: str) -> list[str]:
    """The first column (a `code` value) of each row of the Markdown table headed ``header``."""
    lines = text.splitlines()
    start = next(n for n, line in enumerate(lines) if re.match(rf"\|\s*{header}\s*\|", line))
    keys = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        m = _CODE_RE.match(line.split("|")[1].strip())
        assert m, line
        keys.append(m.group(1))
    return keys


def _section(text: str, heading: str) -> str:
    """The text of the ``### heading`` section of a Markdown page."""
    m = re.search(rf"^### {re.escape(heading)}\n(.*?)(?=^#)", text, re.S | re.M)
    assert m, heading
    return m.group(1)


def _row_values(table: str, column: str) -> list[str]:
    """The `code` values listed in the row ``| column | ... |`` of a schema table."""
    row = next(line for line in table.splitlines() if line.startswith(f"| {column} |"))
    return _CODE_RE.findall(row.split("|", 2)[2])


def test_diff_md_lists_the_page_changes_and_flags_of_diff_vocab() -> None:
    text = (DOCS / "diff.md").read_text(encoding="utf-8")
    assert _table_keys(text, "change") == [str(c) for c in PAGE_CHANGES]
    assert sorted(_table_keys(text, "flag")) == sorted(str(f) for f in Flag)
    counts = re.search(r'"counts": \{(.*?)\}', text, re.S)
    assert counts is not None
    assert re.findall(r'"([a-z_]+)":', counts.group(1)) == [str(c) for c in PAGE_CHANGES]


def test_diff_md_json_example_lists_item_and_section_changes() -> None:
    text = (DOCS / "diff.md").read_text(encoding="utf-8")
    lists = {tuple(m.split(" | ")) for m in re.findall(r"// ((?:[a-z]+ \| )+[a-z]+)", text)}
    assert tuple(str(c) for c in ItemChangeKind) in lists
    assert tuple(str(c) for c in SectionChangeKind) in lists
    assert lists <= {tuple(str(c) for c in ItemChangeKind),
                     tuple(str(c) for c in SectionChangeKind)}


def test_schema_md_lists_the_outcomes_statuses_and_sources_of_vocab() -> None:
    text = (DOCS / "schema.md").read_text(encoding="utf-8")
    runs, snapshots = _section(text, "runs"), _section(text, "snapshots")
    assert _row_values(runs, "status") == [str(s) for s in RunStatus]
    assert _row_values(runs, "source") == [str(s) for s in Source]
    assert _row_values(snapshots, "source") == [str(s) for s in Source]
    assert _row_values(snapshots, "outcome") == [str(o) for o in Outcome]
