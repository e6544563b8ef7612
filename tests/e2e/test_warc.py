"""WARC export (checked by warcio's own checker) and import: round trip, damage, order."""

from __future__ import annotations

import gzip
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from archive.store import Archive
from archive.timeutil import from_iso, to_iso
from archive.warc_export import PROFILE_IDENTICAL, PROFILE_NOT_MODIFIED, export_warc, payload_digest
from scraper.fetch import Fetcher
from scraper.network import Network
from scraper.parse import parse
from scraper.robots import RobotsCache
from scraper.settings import CrawlSettings
from scraper.sources.crawl import crawl
from scraper.sources.warc_import import import_warc
from scraper.throttle import Throttle
from tests import builders
from tests.builders import at, capture, doc_html
from tests.cli import invoke, run_cli
from tests.servers import LoopbackServer, Redirect, Static, Validated

WARCIO = str(Path(sys.executable).with_name("warcio"))
HUB = "http://hub.example/coop"
DOC = "http://hub.example/fs/one"


def hub_html(updated: str, *items: tuple[str, str]) -> bytes:
    return builders.hub_html(*items, head_title="Coop", updated=updated)


def page_of(url: str, body: bytes) -> Any:
    return parse(body, url=url, content_type="text/html")


@pytest.fixture
def built(tmp_path: Path) -> Iterator[Archive]:
    """Four runs: new; unchanged re-crawl (200 and 304); a change and a 404; a failure."""
    a = Archive.open(tmp_path / "built.db")
    h1 = hub_html("October 21, 2016", (DOC, "Fact sheet one"))
    h2 = hub_html("November 15, 2016", (DOC, "Fact sheet one"), ("http://hub.example/n", "N"))
    d1 = doc_html("Fact sheet one", "Clean energy.")
    etag = [("Content-Type", "text/html; charset=utf-8"), ("ETag", '"d1"')]
    for day, hub, doc in (("2016-10-21", h1, "200"), ("2016-10-22", h1, "304"),
                          ("2016-11-15", h2, "404"), ("2016-11-16", h2, "fail")):
        run = a.begin_run(HUB, started_at=at(day, 11))
        capture(a, HUB, at(day, 12), page_of(HUB, hub), body=hub, run_id=run)
        when = at(day, 13)
        if doc == "200":
            capture(a, DOC, when, page_of(DOC, d1), body=d1, run_id=run, headers=etag)
        elif doc == "304":
            capture(a, DOC, when, status=304, run_id=run, headers=etag)
        elif doc == "404":
            capture(a, DOC, when, status=404, body=b"<html>Not found</html>", run_id=run)
        else:
            capture(a, DOC, when, error="connection refused", run_id=run)
        a.finish_run(run, "partial" if doc == "fail" else "complete",
                     finished_at=at(day, 14))
    yield a
    a.close()


def warcio_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True, text=True,
                          timeout=60, check=False)


def records(path: Path) -> list[dict[str, Any]]:
    out = []
    with open(path, "rb") as fh:
        for rec in ArchiveIterator(fh):
            h = rec.rec_headers
            out.append({
                "type": rec.rec_type,
                "uri": h.get_header("WARC-Target-URI"),
                "date": h.get_header("WARC-Date"),
                "digest": h.get_header("WARC-Payload-Digest"),
                "profile": h.get_header("WARC-Profile"),
                "refers_uri": h.get_header("WARC-Refers-To-Target-URI"),
                "refers_date": h.get_header("WARC-Refers-To-Date"),
                "warcinfo": h.get_header("WARC-Warcinfo-ID"),
                "id": h.get_header("WARC-Record-ID"),
                "status": rec.http_headers.get_statuscode() if rec.http_headers else None,
                "http": rec.http_headers.headers if rec.http_headers else [],
                "body": rec.content_stream().read(),
            })
    return out


# -- export ---------------------------------------------------------------------------------


@pytest.mark.parametrize("gz", [True, False])
def test_export_to_a_file_object_writes_the_same_records(built: Archive, tmp_path: Path,
                                                         gz: bool) -> None:
    out = tmp_path / ("file.warc.gz" if gz else "file.warc")
    by_path = export_warc(built, out)
    stream = io.BytesIO()
    by_stream = export_warc(built, stream, gzip=gz)
    assert by_stream["bytes"] == len(stream.getvalue()) > 0
    assert {k: v for k, v in by_stream.items() if k != "bytes"} == {
        k: v for k, v in by_path.items() if k != "bytes"}
    copy = tmp_path / ("stream.warc.gz" if gz else "stream.warc")
    copy.write_bytes(stream.getvalue())
    assert (copy.read_bytes()[:2] == b"\x1f\x8b") is gz
    keep = ("type", "uri", "digest", "profile", "refers_uri", "refers_date")
    assert [{k: r[k] for k in keep} for r in records(copy)] == [
        {k: r[k] for k in keep} for r in records(out)]


@pytest.mark.parametrize("name", ["out.warc.gz", "out.warc"])
def test_export_is_valid_and_uses_revisits(built: Archive, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    stats = export_warc(built, out)
    check = warcio_check(out)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "digest pass" in check.stdout
    recs = records(out)
    assert recs[0]["type"] == "warcinfo"
    assert stats["records"] == len(recs)
    assert stats["captures"] == 7 and stats["failures"] == 1
    responses = [r for r in recs if r["type"] == "response"]
    revisits = [r for r in recs if r["type"] == "revisit"]
    # bodies: hub v1, doc, hub v2, the 404 page; repeats are revisits
    assert len(responses) == 4 and len(revisits) == 3
    assert len([r for r in recs if r["type"] == "request"]) == 7
    first_hub = next(r for r in responses if r["uri"] == HUB)
    assert first_hub["date"] == "2016-10-21T12:00:00Z"
    assert first_hub["digest"] == payload_digest(first_hub["body"])
    hub_revisit = next(r for r in revisits if r["uri"] == HUB)
    assert hub_revisit["profile"] == PROFILE_IDENTICAL
    assert hub_revisit["date"] == "2016-10-22T12:00:00Z"
    assert (hub_revisit["refers_uri"], hub_revisit["refers_date"]) == (HUB, first_hub["date"])
    assert hub_revisit["digest"] == first_hub["digest"]
    doc_revisit = next(r for r in revisits if r["uri"] == DOC)
    assert doc_revisit["profile"] == PROFILE_NOT_MODIFIED and doc_revisit["status"] == "304"
    doc_response = next(r for r in responses if r["uri"] == DOC and r["status"] == "200")
    assert doc_revisit["digest"] == doc_response["digest"]
    # one warcinfo per run, named by every record of that run
    infos = {r["id"] for r in recs if r["type"] == "warcinfo"}
    assert len(infos) == 5
    assert all(r["warcinfo"] in infos for r in recs if r["type"] != "warcinfo")
    failed = [r for r in recs if r["type"] == "metadata"]
    assert len(failed) == 1 and b"coop-outcome: failed" in failed[0]["body"]


def test_export_range(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "range.warc.gz"
    stats = export_warc(built, out, from_at="2016-10-22", to_at="2016-10-22")
    assert stats["captures"] == 2
    recs = records(out)
    # the hub body is written in full: its first capture is outside the range
    assert [r["type"] for r in recs if r["type"] in ("response", "revisit")] == \
        ["response", "revisit"]
    # the 304 refers to a record in an earlier file; export says so
    assert stats["external_refs"] == 1
    assert warcio_check(out).returncode == 0


def test_export_range_by_snapshot_id(built: Archive, tmp_path: Path) -> None:
    from archive.errors import UsageError

    first, last = (built.conn.execute(
        f"SELECT {f}(id) FROM snapshots WHERE captured_at LIKE '2016-10-22%'").fetchone()[0]
        for f in ("min", "max"))
    for lo, hi in ((f"#{first}", f"id:{last}"), (f"ID:{first}", f"#{last}")):
        out = tmp_path / "ids.warc"
        stats = export_warc(built, out, from_at=lo, to_at=hi)
        assert stats["captures"] == 2
        assert {r["date"][:10] for r in records(out) if r["type"] in ("response", "revisit")} \
            == {"2016-10-22"}
    with pytest.raises(UsageError, match="no snapshot with id 999"):
        export_warc(built, tmp_path / "none.warc", from_at="#999")
    with pytest.raises(UsageError, match="ambiguous"):
        export_warc(built, tmp_path / "none.warc", to_at="2017")
    with pytest.raises(UsageError, match=f"write #{first} "):  # a bare number is no id
        export_warc(built, tmp_path / "none.warc", from_at=str(first))
    result = cli("export", str(tmp_path / "cli.warc"), "--format", "warc", "--db", built.path,
                 "--from", f"#{first}", "--to", f"#{last}")
    assert result.exit_code == 0, result.output
    assert sum(r["type"] in ("response", "revisit") for r in records(tmp_path / "cli.warc")) \
        == 2


# -- real crawls: headers made true of the decoded body, redirects, round trip -------------


@pytest.fixture
def crawled(tmp_path: Path, server: LoopbackServer,
            make_fetcher: Callable[..., Fetcher]) -> Iterator[Archive]:
    """Three real crawls of a loopback site: gzip hub, a 304-ing document, a redirect."""
    base = server.base_url
    one, two = f"{base}/fs/one", f"{base}/old"
    v1 = hub_html("October 21, 2016", (one, "One"), (two, "Two"))
    v2 = hub_html("November 15, 2016", (one, "One"), (two, "Two (revised)"))
    server.route("/robots.txt", Static(404, b"", content_type="text/plain"))
    server.route("/fs/one", Validated(body=doc_html("One", "Clean energy.")))
    server.route("/old", Redirect("/fs/two", status=301))
    server.route("/fs/two", Static(body=doc_html("Two", "Safety.")))
    a = Archive.open(tmp_path / "crawled.db")
    fetcher = make_fetcher()
    for hub in (v1, v1, v2):
        server.route("/", Static(body=gzip.compress(hub),
                                 headers=[("Content-Encoding", "gzip")]))
        robots = RobotsCache(fetcher, user_agent=fetcher.user_agent)
        summary = crawl(a, f"{base}/", settings=CrawlSettings(depth=1, delay=0),
                        network=Network(fetcher, robots, Throttle()))
        assert summary.status == "complete", summary.to_dict()
    yield a
    a.close()


def timeline(a: Archive) -> dict[str, Any]:
    """What a round trip must keep: per page its observations, versions and items."""
    pages: dict[str, Any] = {}
    for (url,) in a.conn.execute("SELECT url FROM pages ORDER BY url"):
        snaps = a.conn.execute(
            """SELECT s.captured_at, s.outcome, s.http_status, s.changed, s.suspect,
                      s.final_url, s.error, b.body_sha256, v.content_hash, s.redirects
                 FROM snapshots s JOIN pages p ON p.id = s.page_id
                 LEFT JOIN snapshot_bodies b ON b.snapshot_id = s.id
                 LEFT JOIN versions v ON v.id = s.version_id
                WHERE p.url = ? ORDER BY s.captured_at, s.id""", (url,)).fetchall()
        versions = a.conn.execute(
            """SELECT v.id, v.content_hash, v.title, v.updated_on, v.text, v.first_seen
                 FROM versions v JOIN pages p ON p.id = v.page_id WHERE p.url = ?
                ORDER BY v.first_seen""", (url,)).fetchall()
        pages[url] = {
            "snapshots": [tuple(r) for r in snaps],
            "versions": [(tuple(v)[1:], [(i.title, i.url, i.summary) for i in
                                         a.load_version(v["id"]).items]) for v in versions],
        }
    return pages


def strip_ids(value: Any) -> Any:
    """A diff's JSON without row ids (they differ between archives)."""
    if isinstance(value, dict):
        return {k: strip_ids(v) for k, v in value.items()
                if not (k.endswith(("snapshot", "version", "_id")) or k in ("id", "run"))}
    if isinstance(value, list):
        return [strip_ids(v) for v in value]
    return value


def diffs(a: Archive) -> list[Any]:
    from archive.compare import default_from, diff_archive, diff_between

    times = [r[0] for r in a.conn.execute(
        "SELECT max(captured_at) FROM snapshots GROUP BY run_id ORDER BY 1")]
    out = [strip_ids(diff_archive(a, default_from(a, t), t).to_dict()) for t in times]
    # An instant inside a run (after its first capture, before its last) means the end of
    # that run, on the original and the re-imported archive alike; so does a snapshot id.
    for first, last in a.conn.execute(
            "SELECT min(captured_at), max(captured_at) FROM snapshots GROUP BY run_id"
            " ORDER BY 1").fetchall():
        if first == last:
            continue
        inside = to_iso(from_iso(first) + timedelta(microseconds=1))
        sid = a.conn.execute("SELECT id FROM snapshots WHERE captured_at = ?",
                             (first,)).fetchone()[0]
        assert first < inside < last
        for from_when, to_when in ((inside, None), (None, inside), (f"#{sid}", None)):
            result = diff_between(a, from_when, to_when).to_dict()
            assert result["from" if from_when else "to"] == last
            out.append(strip_ids(result))
    return out


def runs(a: Archive) -> list[tuple[Any, ...]]:
    """The runs as the round trip must keep them (the import's own source aside)."""
    return [tuple(r) for r in a.conn.execute(
        "SELECT seed_url, started_at, finished_at, status FROM runs ORDER BY id")]


def test_export_of_real_crawls(crawled: Archive, tmp_path: Path) -> None:
    out = tmp_path / "crawls.warc"
    export_warc(crawled, out)
    check = warcio_check(out)
    assert check.returncode == 0, check.stdout
    recs = records(out)
    hub = next(r for r in recs if r["type"] == "response" and r["uri"].endswith("/"))
    names = {k.lower(): v for k, v in hub["http"]}
    assert "content-encoding" not in names  # the body we keep is decoded
    assert names["x-coop-orig-content-encoding"] == "gzip"
    assert int(names["content-length"]) == len(hub["body"])
    assert hub["body"].startswith(b"<html>")
    request = next(r for r in recs if r["type"] == "request" and r["uri"] == hub["uri"])
    assert any(k.lower() == "user-agent" for k, _ in request["http"])
    redirect = next(r for r in recs if r["type"] == "response" and r["status"] == "301")
    assert redirect["uri"].endswith("/old")
    assert dict(redirect["http"])["Location"].endswith("/fs/two")
    not_modified = [r for r in recs if r["type"] == "revisit" and r["status"] == "304"]
    assert len(not_modified) == 2  # /fs/one on the second and third crawls


def test_round_trip(crawled: Archive, tmp_path: Path) -> None:
    out = tmp_path / "rt.warc.gz"
    export_warc(crawled, out)
    with Archive.open(tmp_path / "copy.db") as copy:
        report = import_warc(copy, [out])
        assert report.status == "complete", report.problems
        assert report.imported == crawled.conn.execute(
            "SELECT count(*) FROM snapshots").fetchone()[0]
        assert timeline(copy) == timeline(crawled)
        assert diffs(copy) == diffs(crawled)
        assert runs(copy) == runs(crawled)
        assert {r[0] for r in copy.conn.execute("SELECT source FROM snapshots")} == {"import"}
        assert {r[0] for r in copy.conn.execute("SELECT source FROM runs")} == {"import"}


def test_round_trip_with_failures_and_gone(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "built.warc.gz"
    export_warc(built, out)
    with Archive.open(tmp_path / "copy.db") as copy:
        report = import_warc(copy, [out])
        assert report.status == "complete", report.problems
        assert timeline(copy) == timeline(built)
        assert diffs(copy) == diffs(built)
        assert runs(copy) == runs(built)
        assert [r[3] for r in runs(copy)] == ["complete"] * 3 + ["partial"]


def test_import_of_a_foreign_warc_keeps_the_import_clock(built: Archive, tmp_path: Path) -> None:
    """Only our own warcinfo (coop-run, coop-started...) restores a run's times and status."""
    out = tmp_path / "foreign.warc"
    export_warc(built, out)
    data = out.read_bytes().replace(b"coop-started", b"other-started")
    data = data.replace(b"coop-run", b"other-run")
    foreign = tmp_path / "foreign2.warc"
    foreign.write_bytes(data)
    with Archive.open(tmp_path / "copy.db") as copy:
        report = import_warc(copy, [foreign], clock=lambda: "2030-01-01T00:00:00.000000Z")
        assert report.status == "partial"  # block digests of the edited warcinfo records
        assert {r[1:] for r in runs(copy)} == {
            ("2030-01-01T00:00:00.000000Z", "2030-01-01T00:00:00.000000Z", "partial")}


class _StopAfter:
    """A stop event that is set after ``n`` checks (an import interrupted mid-way)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def is_set(self) -> bool:
        self.n -= 1
        return self.n < 0


def test_interrupted_import_keeps_what_it_wrote_and_resumes(built: Archive,
                                                            tmp_path: Path) -> None:
    from archive.check import check

    out = tmp_path / "built.warc.gz"
    export_warc(built, out)
    with Archive.open(tmp_path / "copy.db") as copy:
        first = import_warc(copy, [out], stop=_StopAfter(3))  # type: ignore[arg-type]
        assert first.status == "interrupted" and first.imported == 3
        assert {r[0] for r in copy.conn.execute("SELECT status FROM runs")} == {"interrupted"}
        assert check(copy.conn, deep=True).ok
        rest = import_warc(copy, [out])
        assert rest.status == "complete" and rest.imported == 8 - 3
        assert timeline(copy) == timeline(built)


def test_importing_twice_changes_nothing(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "twice.warc.gz"
    export_warc(built, out)
    tables = ("runs", "pages", "blobs", "versions", "sections", "items", "snapshots")
    with Archive.open(tmp_path / "copy.db") as copy:
        import_warc(copy, [out])
        before = {t: copy.conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
        again = import_warc(copy, [out, out])
        assert again.imported == 0 and again.run_ids == []
        assert again.duplicates == 2 * 8
        after = {t: copy.conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}
        assert [list(map(tuple, before[t])) for t in tables] == \
            [list(map(tuple, after[t])) for t in tables]


def test_import_older_captures_into_newer_archive(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "old.warc.gz"
    export_warc(built, out, to_at="2016-10-31")  # the first two runs: hub v1 only
    with Archive.open(tmp_path / "newer.db") as newer:
        body = hub_html("October 21, 2016", (DOC, "Fact sheet one"))
        capture(newer, HUB, at("2020-01-01"), page_of(HUB, body), body=body)
        import_warc(newer, [out])
        hub = builders.history(newer, HUB)
        assert [(r["captured_at"][:10], r["outcome"], r["changed"]) for r in hub] == [
            ("2016-10-21", "new", 1), ("2016-10-22", "unchanged", 0),
            ("2020-01-01", "unchanged", 0)]
        assert newer.conn.execute("SELECT first_seen FROM pages WHERE url = ?",
                                  (HUB,)).fetchone()[0] == at("2016-10-21")
        assert newer.conn.execute("SELECT min(first_seen) FROM versions").fetchone()[0] \
            == at("2016-10-21")


# -- damage ---------------------------------------------------------------------------------


def test_truncated_gz_imports_what_is_whole(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "cut.warc.gz"
    export_warc(built, out)
    data = out.read_bytes()
    with open(out, "rb") as fh:
        offsets = [(rec.rec_type, it_offset) for rec, it_offset in _offsets(fh)]
    # cut in the middle of the last response record (the 404 page of 2016-11-15)
    last_response = [o for t, o in offsets if t == "response"][-1]
    out.write_bytes(data[: last_response + 40])
    with Archive.open(tmp_path / "copy.db") as copy:
        report = import_warc(copy, [out])
        assert report.status == "partial"
        assert report.problems and all("\n" not in p for p in report.problems)
        assert any("cut.warc.gz" in p for p in report.problems)
        # everything before the cut: 3 hub captures and 2 document captures
        assert report.imported == 5
        assert copy.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _offsets(fh: Any) -> Iterator[tuple[Any, int]]:
    it = ArchiveIterator(fh)
    for rec in it:
        yield rec, it.get_record_offset()


def test_garbage_between_records_is_stepped_over(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "plain.warc"
    export_warc(built, out)
    with open(out, "rb") as fh:
        offsets = [o for _, o in _offsets(fh)]
    data = out.read_bytes()
    cut = offsets[len(offsets) // 2]
    out.write_bytes(data[:cut] + b"\x00garbage that is no WARC record\r\n" * 3 + data[cut:])
    with Archive.open(tmp_path / "copy.db") as copy:
        report = import_warc(copy, [out])
        assert report.status == "partial"
        assert any("unreadable" in p for p in report.problems)
        assert any("resuming" in p for p in report.problems)
        assert report.imported == 8  # nothing lost: the garbage sat between records


def test_corrupt_payload_fails_its_digest(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "flip.warc"
    export_warc(built, out)
    data = out.read_bytes()
    pos = data.index(b"Clean energy.")
    out.write_bytes(data[:pos] + b"Dirty energy." + data[pos + len(b"Clean energy."):])
    with Archive.open(tmp_path / "copy.db") as copy:
        report = import_warc(copy, [out])
        assert report.status == "partial"
        assert any("digest" in p for p in report.problems)
        # the damaged document response is skipped, so is the 304 revisit that needs it
        assert not copy.conn.execute(
            "SELECT 1 FROM versions WHERE text LIKE '%Dirty%'").fetchone()
        assert copy.conn.execute(
            "SELECT count(*) FROM snapshots s JOIN pages p ON p.id = s.page_id"
            " WHERE p.url = ?", (HUB,)).fetchone()[0] == 4


def test_not_a_warc(tmp_path: Path) -> None:
    bad = tmp_path / "bad.warc"
    bad.write_bytes(b"hello, I am not a WARC file\n" * 10)
    with Archive.open(tmp_path / "a.db") as a:
        report = import_warc(a, [bad])
        assert report.status == "failed" and report.problems
        assert a.conn.execute("SELECT count(*) FROM runs").fetchone()[0] == 0


def test_not_a_warc_problem_does_not_echo_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "passwd"
    bad.write_bytes(b"root:x:0:0:secret-token-123:/root:/bin/bash\n")
    with Archive.open(tmp_path / "a.db") as a:
        report = import_warc(a, [bad])
    assert report.problems == [
        "passwd: offset 0: not a WARC file (no WARC/1.x record header)"]


def test_cli_import_of_no_warc_creates_no_archive(tmp_path: Path) -> None:
    bad = tmp_path / "passwd"
    bad.write_bytes(b"root:x:0:0:secret-token-123:/root:/bin/bash\n")
    db = tmp_path / "new.db"
    proc = run_cli("import", "--db", str(db), str(bad), timeout=60, script=True)
    assert proc.returncode == 3, proc.stderr
    assert "secret-token" not in proc.stderr + proc.stdout
    assert proc.stderr.splitlines() == [
        "coop-archive: passwd: offset 0: not a WARC file (no WARC/1.x record header)"]
    assert "import failed (no new run): 0 capture(s) found" in proc.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["passwd"]  # no new.db, no lock


# -- CLI ------------------------------------------------------------------------------------


def cli(*args: str) -> Any:
    return invoke(*args)


def test_cli_import_exit_codes(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "cli.warc.gz"
    export_warc(built, out)
    db = str(tmp_path / "cli.db")
    first = cli("import", str(out), "--db", db)
    assert first.exit_code == 0, first.output
    assert "8 imported" in first.stdout
    again = cli("import", str(out), "--db", db, "--json")
    assert again.exit_code == 0
    assert json.loads(again.stdout)["imported"] == 0
    damaged = tmp_path / "damaged.warc.gz"
    damaged.write_bytes(out.read_bytes()[:-200])
    partial = cli("import", str(damaged), "--db", str(tmp_path / "other.db"))
    assert partial.exit_code == 1
    assert "damaged.warc.gz" in partial.stderr
    bad = tmp_path / "bad.warc"
    bad.write_bytes(b"nothing here\n")
    assert cli("import", str(bad), "--db", db).exit_code == 3
    assert cli("import", str(tmp_path / "missing.warc"), "--db", db).exit_code == 2


def test_cli_export_format_warc(built: Archive, tmp_path: Path) -> None:
    out = tmp_path / "via-cli.warc.gz"
    result = cli("export", str(out), "--format", "warc", "--db", built.path)
    assert result.exit_code == 0, result.output
    assert warcio_check(out).returncode == 0
    assert sum(r["type"] == "response" for r in records(out)) == 4


def test_warcio_console_script_exists() -> None:
    assert shutil.which(WARCIO) or Path(WARCIO).exists()
