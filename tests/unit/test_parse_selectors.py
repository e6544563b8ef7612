"""A watch's CSS selectors in parsing: ``ignore`` drops elements before records and the
content hash are made; ``main`` says where the content is."""

from __future__ import annotations

from scraper.parse import parse

URL = "https://example.gov/page"


def page(counter: int, sidebar: str = "Today's pick: solar") -> bytes:
    return (f"<html><body><main><h1>Climate</h1><p>First <span class=visit-counter>"
            f"{counter} visits</span> tail stays.</p><p>Second.</p></main>"
            f"<aside class=promo><h2>Pick</h2><p>{sidebar}</p></aside>"
            f"<div id=real><h2>Real content</h2><p>The agreement.</p>"
            f"<ul><li><a href=/doc>Doc</a></li></ul></div></body></html>").encode()


def test_ignore_drops_the_elements_but_not_the_text_after_them():
    a = parse(page(10), url=URL, ignore=[".visit-counter"])
    b = parse(page(11), url=URL, ignore=[".visit-counter"])
    assert a.text == "Climate\nFirst tail stays.\nSecond."
    assert a.content_hash() == b.content_hash()
    # Without the selector the counter is content, and the hash moves with it.
    assert parse(page(10), url=URL).content_hash() != parse(page(11), url=URL).content_hash()


def test_main_overrides_detection_and_falls_back_when_it_matches_nothing():
    chosen = parse(page(1), url=URL, main="#real", ignore=[".promo"])
    assert "The agreement." in chosen.text and "Climate" not in chosen.text
    assert chosen.links == ["https://example.gov/doc"]
    detected = parse(page(1), url=URL)
    fallback = parse(page(1), url=URL, main="#nowhere")
    assert fallback.text == detected.text and "Climate" in detected.text
