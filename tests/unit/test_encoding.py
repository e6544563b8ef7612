"""decode_html: declared charsets that lie, BOMs, meta tags, labels, and bytes that fit nothing."""

from __future__ import annotations

import codecs

import pytest

from scraper.encoding import canonical_charset, decode_cp1252, decode_html

WORD = "It\u2019s \u201cquoted\u201d \u2013 caf\u00e9\u00a0\u20ac"  # what Word pastes into a CMS
CP1252 = WORD.encode("cp1252")


def test_cp1252_declared_utf8_keeps_curly_quotes():
    text, enc = decode_html(CP1252, http_charset="utf-8")
    assert (text, enc) == (WORD, "windows-1252")


def test_cp1252_declared_utf8_in_meta_only():
    body = b'<meta charset="utf-8"><p>' + CP1252
    text, enc = decode_html(body)
    assert text.endswith(WORD) and enc == "windows-1252"


def test_utf8_with_cp1252_pasted_in_is_detwingled():
    body = "Beijing \u2013 \u5317\u4eac ".encode() + "\u201cParis\u201d".encode("cp1252")
    text, enc = decode_html(body, http_charset="utf-8")
    assert text == "Beijing \u2013 \u5317\u4eac \u201cParis\u201d"
    assert enc == "utf-8"


@pytest.mark.parametrize("label", ["iso-8859-1", "ISO-8859-1", "latin1", "us-ascii", "ascii"])
def test_latin1_and_ascii_labels_mean_windows_1252(label):
    text, enc = decode_html(CP1252, http_charset=label)
    assert (text, enc) == (WORD, "windows-1252")


def test_http_charset_beats_meta():
    body = '<meta charset="iso-8859-1"><p>\u043f\u0440\u0438\u0432\u0435\u0442'.encode("koi8-r")
    text, enc = decode_html(body, http_charset="koi8-r")
    assert "\u043f\u0440\u0438\u0432\u0435\u0442" in text and enc == "koi8-r"


def test_meta_http_equiv():
    body = ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">'
            "\u041c\u043e\u0441\u043a\u0432\u0430").encode("cp1251")
    text, enc = decode_html(body)
    assert text.endswith("\u041c\u043e\u0441\u043a\u0432\u0430") and enc == "cp1251"


@pytest.mark.parametrize(
    ("bom_codec", "name"),
    [("utf-8-sig", "utf-8"), ("utf-16", "utf-16-le"), ("utf-32", "utf-32-le")],
)
def test_bom_wins_even_over_a_wrong_header(bom_codec, name):
    body = ("<p>" + WORD).encode(bom_codec)
    assert body[:2] in (codecs.BOM_UTF16_LE, b"\xef\xbb") or body.startswith(codecs.BOM_UTF32_LE)
    text, enc = decode_html(body, http_charset="iso-8859-1")
    assert (text, enc) == ("<p>" + WORD, name)


def test_utf16_in_meta_is_read_as_utf8():
    body = '<meta charset="utf-16"><p>\u2019'.encode()
    assert decode_html(body) == ('<meta charset="utf-16"><p>\u2019', "utf-8")


@pytest.mark.parametrize("label", ["bogus", "x-unknown-42", "", "utf-8\x00", "replacement"])
def test_unknown_labels_fall_through(label):
    body = '<meta charset="nonsense"><p>\u2019 ok'.encode()
    text, enc = decode_html(body, http_charset=label)
    assert text.endswith("\u2019 ok") and enc == "utf-8"


def test_undeclared_non_utf8_is_detected():
    body = ("<p>" + "\u0417\u0434\u0440\u0430\u0432\u0441\u0442\u0432\u0443\u0439\u0442\u0435, "
            "\u044d\u0442\u043e \u0442\u0435\u0441\u0442 \u043a\u043e\u0434\u0438\u0440\u043e\u0432"
            "\u043a\u0438 \u0441\u0442\u0440\u0430\u043d\u0438\u0446\u044b.</p>").encode("cp1251")
    text, enc = decode_html(body)
    assert "\u0442\u0435\u0441\u0442" in text


@pytest.mark.parametrize(
    "body",
    [b"", b"\x00", bytes(range(256)), b"\xff\xfe\xff", b"\x81\x8d\x8f\x90\x9d", b"\xc3" * 1000],
)
def test_garbage_never_raises(body):
    for http_charset in ("utf-8", None):
        text, enc = decode_html(body, http_charset=http_charset)
        # The encoding named is the one used: reading the bytes with it gives the same text.
        assert canonical_charset(enc) == enc
        bom = next((len(b) for b in (codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8,
                                     codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
                    if body.startswith(b)), 0)
        expected = (decode_cp1252(body) if enc == "windows-1252"
                    else body[bom:].decode(enc, "replace"))
        assert text == expected, (http_charset, enc)


def test_cp1252_undefined_bytes_become_c1_controls_like_browsers():
    assert decode_cp1252(b"\x81\x80\x9d") == "\x81\u20ac\x9d"


def test_canonical_charset():
    assert canonical_charset("UTF8") == "utf-8"
    assert canonical_charset(" 'Windows-1252' ") == "windows-1252"
    assert canonical_charset("latin-1") == "windows-1252"
    assert canonical_charset("no-such-charset") is None
    assert canonical_charset(None) is None


def test_utf8_bytes_under_an_iso_8859_1_header_are_read_as_utf8():
    body = "<html><meta charset=utf-8><p>It’s “quoted” — Café</p></html>".encode()
    text, enc = decode_html(body, http_charset="ISO-8859-1")
    assert enc == "utf-8" and "It’s “quoted” — Café" in text


def test_real_latin1_under_an_iso_8859_1_header_stays_windows_1252():
    body = "<p>Caf\xe9 \x93ok\x94</p>".encode("latin-1")
    text, enc = decode_html(body, http_charset="iso-8859-1")
    assert enc == "windows-1252" and "Café “ok”" in text


def test_a_utf16_label_over_utf8_bytes_is_ignored():
    body = "<p>Café</p>".encode()
    text, enc = decode_html(body, http_charset="utf-16")
    assert (text, enc) == ("<p>Café</p>", "utf-8")
    real = "<p>Café</p>".encode("utf-16-le")
    assert decode_html(real, http_charset="utf-16le")[0] == "<p>Café</p>"
