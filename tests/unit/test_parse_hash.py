"""The content hash is the archive's identity: it must not move when the parser gets faster.

Expected values were recorded from the parser before its speed-ups (commit 1f8b42c); a change
here means every existing archive would see each page as changed once.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from archive.model import Page, Section, _canonical_json, norm_text
from scraper.parse import parse

SITEDATA = Path(__file__).resolve().parents[2] / "scraper" / "sitedata"

EXPECTED = [
    ("2016-10-21/dot/r2ze/US-China-Cooperation.html",
     "094ddc8e2614478e75beafeaa4dd1a3501f8a159f3a769deac22a3c77ebc7dca"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258115.htm",
     "a579b817a86bf100bbdff624ea7c0ab30203ba87badea569a14dc1d2de9839b2"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258124.htm",
     "b17a4146b549faf0b8e88f61df4c38e2145bf30e3eb4e0e1771957e042f4ea99"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258146.htm",
     "6df453639dc5de8c62bd6f20d352c729da9210c5a25975e790d7973072e93160"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258148.htm",
     "23e2a5831de51e76ae6fd2a50251eb7cff036e7d01c6cb0d0657cadfe380ae94"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258162.htm",
     "ed3e7f087f89b736e3e4164c616a1ee2aee53d96a1cc6fb720d949ae76e68b23"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258166.htm",
     "d09951fa382717c8fa3204d243810e556e41b6e4998103e7643d720455b8502a"),
    ("2016-10-21/state/r/pa/prs/ps/2016/06/258178.htm",
     "12259af030159ca60f3f040da7154475001bf276ff9e47ad27f11c7af3f0ea71"),
    ("2016-10-21/treasury/press-center/press-releases/Pages/jl0484.aspx",
     "ab770ff7cef58a68dcd9d05e1e51093f05720c7a3c8dd4d5a63611cfd09750df"),
    ("2016-11-15/dot/r2ze/US-China-Cooperation.html",
     "40e974b1229de70c214f0d9c8a3ba7692690d9b20f77ec9d9e94c62eb0947a1b"),
    ("2016-11-15/state/r/pa/prs/ps/2016/06/258115.htm",
     "a579b817a86bf100bbdff624ea7c0ab30203ba87badea569a14dc1d2de9839b2"),
    ("2016-11-15/state/r/pa/prs/ps/2016/06/258124.htm",
     "b17a4146b549faf0b8e88f61df4c38e2145bf30e3eb4e0e1771957e042f4ea99"),
    ("2016-11-15/state/r/pa/prs/ps/2016/06/258146.htm",
     "2ae901c5433f0a455328178539d82ac747e6a6cda9e933cbd4c8eee64e90a792"),
    ("2016-11-15/state/r/pa/prs/ps/2016/06/258148.htm",
     "23e2a5831de51e76ae6fd2a50251eb7cff036e7d01c6cb0d0657cadfe380ae94"),
    ("2016-11-15/state/r/pa/prs/ps/2016/06/258166.htm",
     "d09951fa382717c8fa3204d243810e556e41b6e4998103e7643d720455b8502a"),
    ("2016-11-15/state/r/pa/prs/ps/2016/06/258178.htm",
     "12259af030159ca60f3f040da7154475001bf276ff9e47ad27f11c7af3f0ea71"),
    ("2016-11-15/state/r/pa/prs/ps/2016/11/264127.htm",
     "e52c3fb28b9447905c4f935c7ea70aef8c21ac1643ab6e8e219de59074a64d3f"),
    ("2016-11-15/treasury/press-center/press-releases/Pages/jl0484.aspx",
     "ab770ff7cef58a68dcd9d05e1e51093f05720c7a3c8dd4d5a63611cfd09750df"),
]


@pytest.mark.parametrize(("name", "digest"), EXPECTED)
def test_sitedata_hashes_unchanged(name: str, digest: str) -> None:
    page = parse((SITEDATA / name).read_bytes(), url="https://example.gov/dir/page.html",
                 content_type="text/html")
    assert page.content_hash() == digest


def _dumps(rec: object) -> str:
    return json.dumps(rec, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


_PIECES = ["a", "b c", "\"", "\\", "\n", "\t", "\x00", "\x1f", "\x7f", "\u00e9", "\u00a0",
           "\u2028", "\ud800", "\U0001f600", "/", "<", "\u200b", "  ", "x" * 300]


def _rand_str(rng: random.Random) -> str:
    return "".join(rng.choice(_PIECES) for _ in range(rng.randint(0, 60)))


def test_canonical_json_is_json_dumps() -> None:
    rng = random.Random(7)
    for _ in range(400):
        rec = {
            "kind": _rand_str(rng), "title": _rand_str(rng),
            "updated_on": rng.choice([None, "2016-05-02", _rand_str(rng)]),
            "text": _rand_str(rng) * rng.randint(1, 20),
            "sections": [[_rand_str(rng), rng.randint(1, 6), rng.choice([None, 0, 12]),
                          _rand_str(rng) * rng.randint(1, 20)] for _ in range(rng.randint(0, 4))],
            "items": [[_rand_str(rng), rng.choice([None, "https://x/" + _rand_str(rng)]),
                       _rand_str(rng), rng.choice([None, 3])] for _ in range(rng.randint(0, 4))],
        }
        assert _canonical_json(rec) == _dumps(rec)
    # Shapes json.dumps handles and the fast path does not: handed to json.dumps.
    for odd in ({"a": True}, {"a": 1.5}, {"a": [[True]]}, {"a": [1]}, {"a": {"b": 1}}, {},
                {"b": [], "a": [[]]}):
        assert _canonical_json(odd) == _dumps(odd)


def test_norm_hint_only_for_the_same_string() -> None:
    page = Page(url="http://x/", text="a\nb", sections=[Section("h", 2, "c\nd")])
    page._note_norm(page.text, "WRONG")  # the hint is trusted for that very string ...
    assert page.records()["text"] == "WRONG"
    page.text = "".join(["a\n", "b"])  # ... and ignored for any other, even an equal one
    assert page.records()["text"] == "a b"
    assert page.records()["sections"][0][3] == "c d"


def test_parser_hints_match_norm_text() -> None:
    for path in sorted(SITEDATA.rglob("*.ht*")):
        page = parse(path.read_bytes(), url="https://example.gov/p", content_type="text/html")
        rec = page.records()
        assert rec["text"] == norm_text(page.text)
        assert [s[3] for s in rec["sections"]] == [norm_text(s.text) for s in page.sections]
        fresh = Page(**{k: getattr(page, k) for k in page.__dataclass_fields__})
        assert fresh.content_hash() == page.content_hash()


def test_odd_spaces_are_all_the_white_space_split_knows() -> None:
    from scraper.parse import _ODD_SPACES

    every = {ch for ch in map(chr, range(0x110000)) if ch.isspace()}
    assert every - {" ", "\n"} == set(_ODD_SPACES)


def test_hint_fast_path_on_made_up_pages() -> None:
    bodies = [
        "<p>a\u00a0b</p><h2>x</h2><p>c\u200bd</p>", "<p>caf\u0065\u0301</p><h2>y</h2><p>z</p>",
        "<p>plain</p><h2>h</h2><p>one\x1ctwo</p>", "<pre> a\n\n b </pre><h2>h</h2><p>q  r</p>",
        "<p>\u00e9t\u00e9</p><h3>t</h3><p>\u4e2d\u6587 text</p>", "<h2>h</h2><p>a\u3000b</p>",
    ]
    for body in bodies:
        page = parse(body.encode(), url="https://example.gov/p", content_type="text/html")
        rec = page.records()
        assert rec["text"] == norm_text(page.text)
        assert [s[3] for s in rec["sections"]] == [norm_text(s.text) for s in page.sections]


def _old_hash(page: Page) -> str:
    """The construction before the hash was streamed: the whole canonical JSON, then its UTF-8."""
    import hashlib

    return hashlib.sha256(_dumps(page.records()).encode("utf-8")).hexdigest()


REALPAGES = Path(__file__).resolve().parents[1] / "fixtures" / "realpages"


@pytest.mark.parametrize("slice_chars", [None, 7])
def test_streamed_hash_is_the_whole_json_hash(slice_chars: int | None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Hashed a part (and a slice of a long text) at a time, the value is the old one's."""
    from archive import model

    if slice_chars is not None:  # every text over 7 characters goes in slices
        monkeypatch.setattr(model, "_SLICE", slice_chars)
    paths = sorted(SITEDATA.rglob("*.ht*")) + sorted(REALPAGES.glob("*.htm*"))
    assert len(paths) > 40
    for path in paths:
        page = parse(path.read_bytes(), url="https://example.gov/p", content_type="text/html")
        assert page.content_hash() == _old_hash(page), path.name
    rng = random.Random(11)
    for _ in range(200):  # made-up pages, with every character JSON escapes (a lone
        # surrogate cannot be hashed, then or now)
        text = _rand_str(rng).replace("\ud800", "") * rng.randint(1, 20)
        page = Page(url="http://x/", title=_rand_str(rng).replace("\ud800", ""), text=text,
                    sections=[Section("h", 2, text, None)])
        page._note_spaced(page.text)  # the parser's hint, trusted as given
        assert page.content_hash() == _old_hash(page)


def test_all_normal_is_norm_text_of_each() -> None:
    from archive.model import _all_normal

    rng = random.Random(5)
    pieces = [*_PIECES, " ", "a b", "\u1100\u1161", "e\u0301", "\u3000", "\x1c", "\n"]
    pieces.remove("\ud800")  # norm_text's NFC step is defined on real text only
    for _ in range(2000):
        strings = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
                   for _ in range(rng.randint(0, 5))]
        assert _all_normal(strings) == all(norm_text(s) == s for s in strings), strings
    assert not _all_normal(["a", None])  # type: ignore[list-item]  # norm_text(None) is ""


def test_an_item_without_a_title_hashes_as_before() -> None:
    from archive.model import Item

    page = Page(url="http://x/", text="t", items=[Item(None, None, "s", None)])  # type: ignore[arg-type]
    assert page.records()["items"] == [["", None, "s", None]]
    assert page.content_hash() == _old_hash(page)
