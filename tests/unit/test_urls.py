"""URL normalisation: one spelling per document, and never a different URL fetched."""

from __future__ import annotations

import doctest

import pytest

import archive.model
import archive.timeutil
import archive.urls
from archive.urls import host_key, normalize_url


@pytest.mark.parametrize("raw, expected", [
    ("HTTPS://WWW.State.GOV:443/r/pa/prs/ps/2016/06/258178.htm#top",
     "https://www.state.gov/r/pa/prs/ps/2016/06/258178.htm"),
    ("http://x.gov", "http://x.gov/"),
    ("http://x.gov:8080/a", "http://x.gov:8080/a"),
    ("http://x.gov/a;jsessionid=ABC123?x=1", "http://x.gov/a?x=1"),
    ("http://x.gov/img.jpg?itok=Mn0x", "http://x.gov/img.jpg"),
    ("http://x.gov/a?utm_source=tw&utm_campaign=c&id=7", "http://x.gov/a?id=7"),
    ("http://x.gov/a?_=1477000000&cb=9&id=7", "http://x.gov/a?id=7"),
    # parameters that may name a document are kept, and kept as written
    ("http://x.gov/doc?t=2&sid=4&ts=5", "http://x.gov/doc?t=2&sid=4&ts=5"),
    ("http://x.gov/s?q=a/b&flag&x=%2F", "http://x.gov/s?q=a/b&flag&x=%2F"),
    ("http://[::1]:8000/a", "http://[::1]:8000/a"),
    ("mailto:someone@x.gov", "mailto:someone@x.gov"),
    ("http://x.gov:99999/a", "http://x.gov:99999/a"),  # bad port: left for the fetcher
])
def test_normalize_url(raw, expected):
    assert normalize_url(raw) == expected
    assert normalize_url(expected) == expected  # idempotent


def test_relative_links_resolve_against_the_page():
    assert normalize_url("../b?utm_x=1", "https://X.gov/a/c/") == "https://x.gov/a/b"


def test_host_key_separates_ports_and_defaults():
    assert host_key("http://x.gov/a") == "x.gov:80"
    assert host_key("https://x.gov/a") == "x.gov:443"
    assert host_key("http://127.0.0.2:8080/") == "127.0.0.2:8080"


@pytest.mark.parametrize("module", [archive.urls, archive.model, archive.timeutil])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
