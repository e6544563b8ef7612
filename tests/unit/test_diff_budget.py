"""The diff's work budgets (archive.diff_match.DIFF_TOKENS, DIFF_WORK, SIMILAR_PAIRS): under
them the answer is difflib's, as it always was; past them, a valid diff in about linear time."""

from __future__ import annotations

import difflib
import random

import pytest

from archive import diff_match
from archive.diff import diff_pages, word_diff
from archive.diff_match import match_items, opcodes_within_budget
from archive.model import Item, Page


def _check_alignment(a: list[str], b: list[str], ops: list[tuple[str, int, int, int, int]]) -> None:
    i = j = 0
    for tag, i1, i2, j1, j2 in ops:
        assert (i1, j1) == (i, j), ops  # contiguous, in order, both sides covered
        if tag == "equal":
            assert a[i1:i2] == b[j1:j2]
        i, j = i2, j2
    assert (i, j) == (len(a), len(b))


def test_under_the_budget_the_opcodes_are_difflibs() -> None:
    rng = random.Random(7)
    for _ in range(200):
        vocab = [f"w{k}" for k in range(rng.randint(2, 30))]
        a = [rng.choice(vocab) for _ in range(rng.randint(0, 300))]
        b = [w if rng.random() < 0.8 else rng.choice(vocab) for w in a]
        b = b[rng.randint(0, 5):] + [rng.choice(vocab) for _ in range(rng.randint(0, 5))]
        expected = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
        assert opcodes_within_budget(a, b) == expected


def test_past_the_budget_the_diff_is_cut_at_words_found_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_match, "DIFF_TOKENS", 6)
    a = "start the the one the the two the the three end".split()
    b = "start the the one the the TWO the the three end".split()
    ops = opcodes_within_budget(a, b)
    _check_alignment(a, b, ops)
    assert [op for op in ops if op[0] != "equal"] == [("replace", 6, 7, 6, 7)]
    # No word found once on each side in the changed stretch: removed and added whole.
    a, b = ("x y " * 10).split(), ("y x " * 10).split()
    assert opcodes_within_budget(a, b) == [("replace", 0, 20, 0, 20)]
    rng = random.Random(3)
    for _ in range(100):
        vocab = [f"w{k}" for k in range(rng.randint(2, 400))]
        a = [rng.choice(vocab) for _ in range(rng.randint(0, 200))]
        b = [w if rng.random() < 0.9 else rng.choice(vocab) for w in a if rng.random() < 0.95]
        _check_alignment(a, b, opcodes_within_budget(a, b))


def test_a_word_diff_past_the_budget_still_gives_both_texts(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(diff_match, "DIFF_TOKENS", 10)
    old = " ".join(f"line {k} of the notice" for k in range(40))
    new = old.replace("line 17 ", "row 17 ").replace("line 30 of", "line 30 in")
    segments = word_diff(old, new)
    assert " ".join("".join(t for op, t in segments if op != "+").split()) == old
    assert " ".join("".join(t for op, t in segments if op != "-").split()) == new
    assert [t.strip() for op, t in segments if op == "-"] == ["line", "of"]


def test_many_identical_entries_pair_in_document_order() -> None:
    items = [Item("Read more", "https://e.gov/same", "") for _ in range(50)]
    assert match_items(items, list(items)) == {k: k for k in range(50)}


def test_similar_unlinked_items_pair_within_the_pair_budget(
        monkeypatch: pytest.MonkeyPatch) -> None:
    old = Page(url="u", items=[Item(f"Bullet number {k} about the harbour plan")
                               for k in range(4)])
    new = Page(url="u", items=[Item(f"Bullet number {k} about the harbour plans")
                               for k in range(4)])
    assert {str(i.change) for i in diff_pages(old, new).items} == {"changed"}
    monkeypatch.setattr(diff_match, "SIMILAR_PAIRS", 15)  # 16 pairs: none weighed
    assert {str(i.change) for i in diff_pages(old, new).items} == {"added", "removed"}


def test_a_removed_item_is_listed_after_the_furthest_new_place_of_the_matched_before_it() -> None:
    def items(*titles: str) -> list[Item]:
        return [Item(t, f"https://e.gov/{t}") for t in titles]

    def listed(old: list[Item], new: list[Item]) -> list[tuple[str, str]]:
        return [(str(i.change), i.side["title"])
                for i in diff_pages(Page(url="u", items=old), Page(url="u", items=new)).items]

    assert listed(items("a", "gone1", "b", "gone2", "c"), items("a", "x", "b", "y", "c")) == [
        ("removed", "gone1"), ("added", "x"), ("removed", "gone2"), ("added", "y")]
    # b (before gone) went after a: gone follows b's new place, the furthest.
    assert listed(items("b", "a", "gone", "c"), items("a", "new", "b", "c")) == [
        ("added", "new"), ("moved", "b"), ("removed", "gone")]
