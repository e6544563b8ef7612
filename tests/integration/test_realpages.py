"""Issue 15 on the real-page corpus: every article edit caught, no version from invisible
noise, changing chrome alarming on at most 5% of pages (see tests/realpages.py)."""

from __future__ import annotations

import pytest

from archive.capture import Capture
from archive.store import Archive
from tests.realpages import (
    MAX_CHROME_ALARMS,
    URL,
    load_manifest,
    parse_state,
    render,
    run_corpus,
    shows_in_diff,
)

PAGES = load_manifest()


def test_corpus_is_varied_and_sourced() -> None:
    assert len(PAGES) >= 30
    assert len({p.lang for p in PAGES}) >= 8
    assert len({p.package for p in PAGES}) >= 4
    for p in PAGES:
        assert p.licence and p.path and p.edits
        src = p.source()
        for e in p.edits:
            assert e.find in src and e.find != e.replace


def test_four_states_on_the_corpus() -> None:
    outcomes = run_corpus()
    noisy = [o.file for o in outcomes if o.noise_version]
    alarms = [o.file for o in outcomes if o.chrome_alarm]
    missed = {o.file: o.missed for o in outcomes if o.missed}
    assert noisy == []
    assert len(alarms) <= MAX_CHROME_ALARMS * len(outcomes), alarms
    assert missed == {}


@pytest.mark.parametrize("page", PAGES[:3] + PAGES[-3:], ids=lambda p: p.file)
def test_store_decides_as_the_hash(tmp_path, page) -> None:
    """Through the real store: noise is no new version, an edit is one and shows in the diff."""
    states = [dict(seed=0), dict(seed=1), dict(seed=3, chrome=2),
              dict(seed=4, chrome=2, edit=page.edits[0])]
    with Archive.open(tmp_path / "a.db") as archive:
        run = archive.begin_run(URL)
        recorded = []
        for n, state in enumerate(states):
            body = render(page, **state)  # type: ignore[arg-type]
            capture = Capture(url=URL, final_url=URL, status=200, body=body,
                              headers=[("Content-Type", "text/html; charset=utf-8")])
            recorded.append(archive.record_snapshot(
                run, URL, captured_at=f"2026-11-0{n + 1}T00:00:00.000000Z", result=capture,
                page=parse_state(page, **state)))  # type: ignore[arg-type]
        assert recorded[0].new_version
        assert not recorded[1].new_version and not recorded[1].changed
        assert recorded[3].new_version and recorded[3].changed
        old = archive.load_version(recorded[2].version_id)
        new = archive.load_version(recorded[3].version_id)
        assert shows_in_diff(old, new, page.edits[0])
