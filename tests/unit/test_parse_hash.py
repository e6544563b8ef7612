"""The content hash is the archive's identity: it must not move when the parser gets faster.

Expected values were recorded from the parser before its speed-ups (commit 1f8b42c); a change
here means every existing archive would see each page as changed once.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


@pytest.mark.parametrize("route", ["plain", "streamed", "sliced"])
def test_streamed_hash_is_the_whole_json_hash(route: str,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Built whole for a small page, or hashed a part (and a slice of a long text) at a time,
    the value is the old one's."""
    from archive import model

    if route != "plain":  # every page is streamed, as a page over _SMALL is
        monkeypatch.setattr(model, "_SMALL", -1)
    if route == "sliced":  # every text over 7 characters goes in slices
        monkeypatch.setattr(model, "_SLICE", 7)
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


# Characters the canonical JSON treats apart (escapes, U+2028 which json.dumps keeps as it is),
# norm_text's cases (odd spaces, zero-width characters, text not in NFC) and plain ones. Most
# strings are plain, so that one string needing an escape on an otherwise plain page is tried.
_PLAIN = ["a", "b", " ", "\u00e9", "\u4e2d", "\U0001f600", "/", "x" * 40]
_DIRTY = [*_PLAIN, "  ", "\n", "\t", "\r", "\x00", "\x1c", "\x1f", "\x7f", '"', "\\",
          "\u2028", "\u2029", "\u00a0", "\u3000", "\u200b", "\u00ad", "e\u0301", "\u1100\u1161",
          "\u00ff"]
_ODD = st.sampled_from([None, True, 1.5, 0, -3, 2**70])  # types json.dumps writes its own way
_FALSY = st.sampled_from([None, 0, False])  # what norm_text takes that is not a str: ""


@st.composite
def _strings(draw: st.DrawFn) -> str:
    chars = _DIRTY if draw(st.integers(0, 7)) == 0 else _PLAIN
    return "".join(draw(st.lists(st.sampled_from(chars), max_size=20)))


@st.composite
def _texts(draw: st.DrawFn) -> str:
    """A text, often in lines (the parser's shape), now and then long."""
    if draw(st.booleans()):
        text = draw(_strings())
    else:
        text = "\n".join(s.strip() or "z" for s in draw(st.lists(_strings(), max_size=12)))
    return text * draw(st.sampled_from([1, 1, 1, 3, 50]))


@st.composite
def _pages(draw: st.DrawFn) -> Page:
    """A Page of any shape content_hash must take, with the parser's hints on some texts."""
    from archive.model import Item

    def odd(usual: st.SearchStrategy[Any], other: st.SearchStrategy[Any] = _ODD) -> Any:
        return draw(st.one_of(usual, other) if draw(st.integers(0, 9)) == 0 else usual)

    url = st.none() | _strings().map("https://x/".__add__)
    sections = [Section(odd(_strings(), _FALSY), odd(st.integers(1, 6)), draw(_texts()),
                        odd(st.none() | st.integers(0, 5)))
                for _ in range(draw(st.integers(0, 4)))]
    items = [Item(odd(_strings(), _FALSY), odd(url), odd(_strings(), _FALSY),
                  odd(st.none() | st.integers(0, 5)))
             for _ in range(draw(st.integers(0, 5)))]
    text = draw(_texts())
    if draw(st.booleans()):  # the parser's shape: its headings and section texts, a line each
        text = "\n".join(x for sec in sections for x in (sec.heading, sec.text)
                         if x and isinstance(x, str)) + draw(st.sampled_from(["", "\nz", "z"]))
    if draw(st.integers(0, 19)) == 0:  # past a 1 MiB slice, and the size the page is streamed at
        text = (text or "q") * (2**21 // (len(text) or 1) + 1)
    page = Page(url="http://x/", title=odd(_strings(), _FALSY),
                updated_on=odd(st.none() | _strings()), text=text, sections=sections,
                items=items, kind=odd(st.just("html") | _strings()))
    for s in [page.text, *(sec.text for sec in sections)]:
        hint = draw(st.sampled_from(["none", "spaced", "norm"]))
        if hint == "spaced":
            page._note_spaced(s)  # trusted as given, by records() too
        elif hint == "norm":
            page._note_norm(s, draw(_strings()))
    return page


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.data_too_large])
@given(page=_pages())
def test_content_hash_is_sha256_of_json_dumps(page: Page) -> None:
    """Every route content_hash takes (one string, streamed, sliced, the general encoder) gives
    sha256 of the canonical json.dumps of records(), for any page."""
    import hashlib

    from archive import model

    want = _dumps(page.records())
    plain = model._plain_json(page)
    assert plain is None or plain == want
    assert page.content_hash() == hashlib.sha256(want.encode("utf-8")).hexdigest()


def test_plain_json_takes_the_usual_pages() -> None:
    """The one-string route is exercised: it takes parsed pages (quotes and all) but not one
    over the size budget, which is streamed."""
    from archive import model

    paths = sorted(SITEDATA.rglob("*.ht*")) + sorted(REALPAGES.glob("*.htm*"))
    for path in paths:
        page = parse(path.read_bytes(), url="https://example.gov/p", content_type="text/html")
        assert model._plain_json(page) == _dumps(page.records()), path.name
    big = Page(url="http://x/", text="a\\" * (model._SMALL // 2 + 1))
    assert model._plain_json(big) is None
    assert big.content_hash() == _old_hash(big)


def test_one_odd_value_on_a_plain_page() -> None:
    """Each field of a plain page in turn given each value the canonical JSON (or norm_text)
    treats apart: the hash is still sha256 of the canonical json.dumps of records()."""
    import dataclasses
    import hashlib

    from archive.model import Item

    base = Page(url="http://x/", title="T", updated_on="2016-05-02", text="a b\nc d",
                sections=[Section("H", 2, "c d", None), Section("I", 3, "e\nf", 0)],
                items=[Item("t", "https://x/", "s", 0), Item("u", None, "", None)])
    strings = ["a" + ch + "b" for ch in _DIRTY] + ["", " ", "\x00"]
    values = [*strings, None, True, False, 1.5, 0, -3, 2**70]
    pages = []
    for field in ("kind", "title", "updated_on", "text"):
        pages += [dataclasses.replace(base, **{field: v}) for v in values]
    for n in (0, 1):
        for field in ("heading", "level", "text", "parent"):
            for v in values:
                sections = list(base.sections)
                sections[n] = dataclasses.replace(sections[n], **{field: v})
                pages.append(dataclasses.replace(base, sections=sections))
        for field in ("title", "url", "summary", "section"):
            for v in values:
                items = list(base.items)
                items[n] = dataclasses.replace(items[n], **{field: v})
                pages.append(dataclasses.replace(base, items=items))
    hashed = 0
    for page in pages:
        for spaced in (False, True):
            if spaced:
                for s in [page.text, *(sec.text for sec in page.sections)]:
                    page._note_spaced(s)
            try:
                want = hashlib.sha256(_dumps(page.records()).encode("utf-8")).hexdigest()
            except Exception as e:  # norm_text(True) and the like: the hash fails the same way
                with pytest.raises(type(e)):
                    page.content_hash()
                continue
            assert page.content_hash() == want, page
            hashed += 1
    assert hashed > len(pages)
