# ruff: noqa: E501  (HTML templates keep their lines as a page would)
"""A synthetic copy of the hub and its documents, and how it changes over time.

The pages look like the real ones (scraper/sitedata): a Drupal 7 hub with a mega-menu, a
search form with a per-request ``form_build_id``, a CSRF token, a theme token and a timestamp,
sections of linked items with summaries, and State Department style documents with their own
per-request noise. :class:`Site` holds the content; :meth:`Site.evolve` makes one real change
(an item added or removed, a summary edited, a date bumped, a document rewritten) and
``render_*`` turn the content plus a noise seed into bytes. Everything is seeded, so a run is
reproducible.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape

WORDS = (
    "climate change clean energy cooperation bilateral dialogue strategic economic track "
    "outcomes session held beijing washington secretary state councilor partnership cities "
    "summit low carbon emissions agreement paris implementation transportation vehicles fuel "
    "efficiency standards heavy duty trucks research technology exchange experts innovators "
    "universities companies governments provinces framework ten year environment oceans "
    "fisheries wildlife trafficking infrastructure investment smart grid building efficiency "
    "carbon capture storage methane hydrofluorocarbons aviation maritime shipping ports rail "
    "safety data collection reporting working group annual report progress review commitments "
    "joint statement announced agreed reaffirmed continue expand strengthen support develop "
    "the of and to in a for with on by as at from that this their both countries two united "
    "states china chinese american national federal department administration office program"
).split()

_MENU = ("Briefing Room", "Our Activities", "Areas of Focus", "Resources", "About DOT")


def sentence(rng: random.Random, n: int | None = None) -> str:
    """A plausible sentence of ``n`` (default 12-28) vocabulary words."""
    words = [rng.choice(WORDS) for _ in range(n or rng.randint(12, 28))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random, sentences: int | None = None) -> str:
    """A few sentences."""
    return " ".join(sentence(rng) for _ in range(sentences or rng.randint(2, 5)))


def token(rng: random.Random, n: int = 32) -> str:
    """A random URL-safe token (form_build_id, CSRF, cache-buster)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return "".join(rng.choice(alphabet) for _ in range(n))


@dataclass
class Doc:
    """A linked document: a fact sheet or media note."""

    host: int  # index into the site's hosts
    path: str
    title: str
    dated: date
    paragraphs: list[str]


@dataclass
class Item:
    """One entry of a hub list: the document it links to, and its summary."""

    doc: str  # key into Site.docs
    summary: str


@dataclass
class HubSection:
    """A heading, its introduction and its list of items."""

    heading: str
    intro: str
    items: list[Item] = field(default_factory=list)


@dataclass
class Site:
    """The content of the hub and its documents at one moment (without noise)."""

    hosts: list[str]  # base URLs, e.g. "https://www.transportation.gov"
    hub_path: str
    updated: date
    sections: list[HubSection]
    docs: dict[str, Doc]
    rng: random.Random
    serial: int = 0

    @property
    def hub_url(self) -> str:
        return self.hosts[0] + self.hub_path

    def doc_url(self, key: str) -> str:
        """The absolute URL of document ``key``."""
        d = self.docs[key]
        return self.hosts[d.host] + d.path

    def linked(self) -> list[str]:
        """The keys of the documents the hub links to, in page order."""
        return [i.doc for s in self.sections for i in s.items]

    def new_doc(self, day: date, host: int | None = None) -> str:
        """Create a document (not yet linked) and return its key."""
        self.serial += 1
        host = host if host is not None else self.rng.randrange(len(self.hosts))
        key = f"d{self.serial}"
        path = f"/r/pa/prs/ps/{day.year}/{day.month:02d}/{258000 + self.serial}.htm"
        title = sentence(self.rng, self.rng.randint(3, 8)).rstrip(".")
        self.docs[key] = Doc(host, path, title, day,
                             [paragraph(self.rng) for _ in range(self.rng.randint(4, 9))])
        return key

    def evolve(self, day: date) -> str:
        """Make one real change to the content on ``day``; returns what it was."""
        rng = self.rng
        kind = rng.choice(("add", "add", "remove", "summary", "summary", "bump", "intro",
                           "doc", "doc", "silent"))
        items = [(s, i) for s in self.sections for i in s.items]
        if kind == "remove" and len(items) <= 4:
            kind = "add"
        if kind == "add":
            section = rng.choice(self.sections)
            section.items.insert(rng.randint(0, len(section.items)),
                                 Item(self.new_doc(day), paragraph(rng, 1)))
            self.updated = day
        elif kind == "remove":
            section, item = rng.choice(items)
            section.items.remove(item)
            self.updated = day
        elif kind == "summary":
            _, item = rng.choice(items)
            item.summary = paragraph(rng, 1)
            self.updated = day
        elif kind == "bump":
            self.updated = day  # date-only bump
        elif kind == "intro":
            section = rng.choice(self.sections)
            section.intro = paragraph(rng)
            self.updated = day
        elif kind == "silent":
            section = rng.choice(self.sections)
            section.intro = section.intro.replace(" the ", " a ", 1) + " " + sentence(rng)
        else:
            _, item = rng.choice(items)
            doc = self.docs[item.doc]
            doc.paragraphs[rng.randrange(len(doc.paragraphs))] = paragraph(rng)
            doc.dated = day
        return kind


def make_site(hosts: list[str], *, docs: int = 9, seed: int = 7,
              start: date = date(2016, 1, 4)) -> Site:
    """A hub on ``hosts[0]`` linking ``docs`` documents spread round-robin over ``hosts``."""
    rng = random.Random(seed)
    site = Site(hosts, "/r2ze/US-China-Cooperation", start, [], {}, rng)
    headings = ("U.S.-China Strategic and Economic Dialogue (S&ED)",
                "U.S.-China Climate Change Working Group (CCWG)",
                "Clean Energy Research Center")
    site.sections = [HubSection(h, paragraph(rng)) for h in headings]
    for n in range(docs):
        key = site.new_doc(start - timedelta(days=30 + n), host=n % len(hosts))
        site.sections[n % len(site.sections)].items.append(Item(key, paragraph(rng, 1)))
    return site


# -- rendering ---------------------------------------------------------------------------------

def _menu(rng: random.Random) -> str:
    out = ['<nav id="navigation" role="navigation" class="mega-menu"><ul class="menu">']
    for top in _MENU:
        slug = top.lower().replace(" ", "-")
        out.append(f'<li class="expanded"><a href="/{slug}" class="menu-top">{top}</a>'
                   '<div class="mega-menu-panel"><div class="mega-col"><ul class="menu">')
        for _ in range(20):
            label = sentence(rng, rng.randint(1, 3)).rstrip(".")
            out.append(f'<li class="leaf"><a href="/{slug}/{label.lower().replace(" ", "-")}" '
                       f'title="{label}">{label}</a></li>')
        out.append(f'</ul></div><div class="mega-col promo"><p>{sentence(rng)}</p>'
                   f'<a href="/{slug}" class="more">More {top} &raquo;</a></div></div></li>')
    out.append("</ul></nav>")
    return "\n".join(out)


_CHROME_CACHE: dict[int, str] = {}


def _chrome() -> str:
    """The hub's mega-menu: about 12 KB, the same on every request."""
    if 0 not in _CHROME_CACHE:
        _CHROME_CACHE[0] = _menu(random.Random(1))
    return _CHROME_CACHE[0]


def _long_date(d: date) -> str:
    return f"{d:%A}, {d:%B} {d.day}, {d.year}"


def render_hub(site: Site, noise: int) -> bytes:
    """The hub's HTML; ``noise`` seeds the per-request tokens and timestamp."""
    n = random.Random(noise)
    body = []
    for s in site.sections:
        body.append(f"<h2>{escape(s.heading)}</h2>\n<p>{escape(s.intro)}</p>")
        body.append("<p><strong>Fact Sheets</strong></p>\n<ul>")
        for it in s.items:
            d = site.docs[it.doc]
            body.append(f'<li><a href="{site.doc_url(it.doc)}">{escape(d.title)}</a>&nbsp;<br />'
                        f"\n{escape(it.summary)}</li>")
        body.append("</ul>\n<p>&nbsp;</p>")
    html = f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8" />
<meta name="csrf-token" content="{token(n)}" />
<title>U.S.-China Cooperation | US Department of Transportation</title>
<link type="text/css" rel="stylesheet" href="/sites/dot.gov/files/css/css_pbm0lsQQJ7A7WaCR.css?{token(n, 6)}" media="all" />
<script type="text/javascript">
jQuery.extend(Drupal.settings, {{"basePath":"\\/","ajaxPageState":{{"theme":"dot_gov","theme_token":"{token(n, 43)}"}}}});
</script>
</head>
<body class="html not-front not-logged-in page-node node-type-page">
<div id="skip-link"><a href="#main-content" class="element-invisible">Skip to main content</a></div>
<header id="header" role="banner" class="site-header">
<form action="{site.hub_path}" method="post" id="search-block-form"><div>
<input type="text" name="search_block_form" value="" />
<input type="hidden" name="form_build_id" value="form-{token(n, 43)}" />
<input type="hidden" name="form_id" value="search_block_form" />
</div></form>
{_chrome()}
</header>
<div id="main-wrapper"><div id="main" class="clearfix">
<div id="content" class="column" role="main"><div class="section">
<a id="main-content"></a>
<h1 class="title" id="page-title">U.S.-China Cooperation</h1>
<div class="updated-date">Updated: {_long_date(site.updated)}</div>
<div class="region region-content"><div class="content">
<div class="field field-name-body field-type-text-with-summary field-label-hidden"><div class="field-items"><div class="field-item even">
{chr(10).join(body)}
</div></div></div>
</div></div>
</div></div>
</div></div>
<footer id="footer" role="contentinfo" class="site-footer"><ul class="menu footer-menu">
<li><a href="/about-dot">About DOT</a></li><li><a href="/foia">FOIA</a></li>
<li><a href="/privacy-policy">Privacy Policy</a></li><li><a href="/contact-us">Contact Us</a></li>
</ul></footer>
<!-- Page generated in 0.{n.randint(100, 999)} seconds at {n.randint(10**9, 2 * 10**9)} -->
</body>
</html>
"""
    return html.encode("utf-8")


def render_doc(site: Site, key: str, noise: int | None) -> bytes:
    """A document's HTML; ``noise`` None renders it byte-stable (a static file)."""
    d = site.docs[key]
    n = random.Random(noise) if noise is not None else None
    stamp = (f'<meta name="request-id" content="{token(n, 24)}" />' if n is not None else "")
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in d.paragraphs)
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8" />
{stamp}
<title>{escape(d.title)}</title>
</head>
<body>
<div id="header"><a href="/">U.S. Department of State</a> | <a href="/r/pa/prs/ps/index.htm">Press Releases</a></div>
<div id="centerblock">
<h1 id="doctitle">{escape(d.title)}</h1>
<div class="ddate">{d.dated:%B} {d.dated.day}, {d.dated.year}</div>
<div id="body-row">
{paras}
</div>
</div>
<div id="footer"><p><a href="/home/index.htm">Home</a> | <a href="/contactus/index.htm">Contact Us</a> | <a href="/privacypolicy/index.htm">Privacy Policy</a></p></div>
</body>
</html>
"""
    return html.encode("utf-8")
