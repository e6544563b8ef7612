"""Varied real-world-like HTML pages for the parse benchmark, generated from a seed.

Page shapes seen on government and news sites: a Drupal page with a body field and a
mega-menu, a WordPress article, an ASP.NET page wrapped whole in a form with layout tables, a
bare page with no main-content marker, a data table of hundreds of rows, a long list of links,
a deeply nested div soup, and a script-heavy single-page-app shell. Sizes run from a few KB
to about a megabyte.
"""

from __future__ import annotations

import json
import random
from html import escape

from bench.site import paragraph, sentence, token

SHAPES = ("drupal", "wordpress", "aspnet", "bare", "table", "links", "nested", "scripts")


def _chrome(rng: random.Random, links: int) -> str:
    items = "".join(f'<li><a href="/section/{token(rng, 8)}">{sentence(rng, 2).rstrip(".")}'
                    "</a></li>" for _ in range(links))
    return (f'<header id="header" role="banner"><nav class="menu" role="navigation">'
            f"<ul>{items}</ul></nav></header>")


def _footer(rng: random.Random) -> str:
    return ('<footer id="footer"><p>' + " | ".join(
        f'<a href="/{token(rng, 6)}">{sentence(rng, 2).rstrip(".")}</a>' for _ in range(12))
        + "</p></footer>")


def _items(rng: random.Random, n: int) -> str:
    out = ["<ul>"]
    for _ in range(n):
        out.append(f'<li><a href="https://example.gov/doc/{token(rng, 10)}.htm">'
                   f"{escape(sentence(rng, 5))}</a><br />{escape(paragraph(rng, 1))}</li>")
    out.append("</ul>")
    return "\n".join(out)


def _article(rng: random.Random, paras: int) -> str:
    out = []
    for i in range(paras):
        if i % 7 == 0:
            level = rng.choice((2, 3))
            out.append(f"<h{level}>{escape(sentence(rng, 4))}</h{level}>")
        if i % 11 == 5:
            out.append(_items(rng, rng.randint(2, 8)))
        out.append(f"<p>{escape(paragraph(rng))} <a href='/x/{token(rng, 5)}'>more</a>"
                   f" <em>{escape(sentence(rng, 3))}</em></p>")
    return "\n".join(out)


def _wrap(title: str, head: str, body: str) -> bytes:
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>{escape(title)} | Example Agency</title>{head}</head>"
            f"<body>{body}</body></html>").encode()


def page(shape: str, rng: random.Random, size: int) -> bytes:
    """One page of ``shape``; ``size`` (1-100) scales its content."""
    title = sentence(rng, 5).rstrip(".")
    head = "".join(f"<script src='/js/{token(rng, 12)}.js'></script>" for _ in range(4))
    head += f"<style>{'.c' + token(rng, 4) + '{margin:0}' * 20}</style>"
    chrome = _chrome(rng, 20 + size * 2)
    if shape == "drupal":
        body = (f"{chrome}<div id='main' role='main'><h1>{title}</h1>"
                f"<div class='updated-date'>Updated: Monday, May 2, 2016</div>"
                f"<div class='field field-name-body'><div class='field-items'>"
                f"{_article(rng, 3 + size * 3)}</div></div></div>{_footer(rng)}")
    elif shape == "wordpress":
        body = (f"{chrome}<main id='content'><article><h1 class='entry-title'>{title}</h1>"
                f"<div class='entry-content'>{_article(rng, 3 + size * 3)}</div></article>"
                f"</main><aside class='sidebar'>{_items(rng, 10)}</aside>{_footer(rng)}")
    elif shape == "aspnet":
        rows = "".join(f"<tr><td class='nav'>{sentence(rng, 2)}</td><td>"
                       f"<p>{escape(paragraph(rng))}</p></td></tr>" for _ in range(2 + size))
        body = (f"<form id='aspnetForm' method='post'><input type='hidden' name='__VIEWSTATE' "
                f"value='{token(rng, 200 + size * 40)}'/>{chrome}<table width='100%'>"
                f"<tr><td><h1>{title}</h1></td></tr>{rows}</table>{_footer(rng)}</form>")
    elif shape == "bare":
        body = (f"<div class='top'>{chrome}</div><div class='wrap'><div class='inner'>"
                f"<h1>{title}</h1>{_article(rng, 2 + size * 2)}</div></div>{_footer(rng)}")
    elif shape == "table":
        cells = "".join("<tr>" + "".join(f"<td>{rng.randint(0, 10**6)}</td>" for _ in range(8))
                        + f"<td>{escape(sentence(rng, 4))}</td></tr>" for _ in range(size * 12))
        body = (f"{chrome}<div role='main'><h1>{title}</h1><p>{paragraph(rng)}</p>"
                f"<table><thead><tr>{'<th>col</th>' * 9}</tr></thead><tbody>{cells}</tbody>"
                f"</table></div>{_footer(rng)}")
    elif shape == "links":
        body = (f"{chrome}<div id='content'><h1>{title}</h1>"
                + "".join(f"<h2>{sentence(rng, 3)}</h2>{_items(rng, 4 + size)}"
                          for _ in range(1 + size // 8))
                + f"</div>{_footer(rng)}")
    elif shape == "nested":
        depth = 20 + size  # libxml2 flattens beyond 255 levels; real pages stay well under
        inner = _article(rng, 2 + size)
        body = (f"{chrome}<div id='main-content'>" + "<div class='l'><span>" * depth
                + f"<h1>{title}</h1>{inner}" + "</span></div>" * depth + f"</div>{_footer(rng)}")
    else:  # scripts
        state = json.dumps({"k" + token(rng, 6): paragraph(rng, 1) for _ in range(size * 10)})
        body = (f"{chrome}<script>window.__STATE__ = {state};</script>"
                + "".join(f"<script>(function(){{var a{i}='{token(rng, 80)}';}})();</script>"
                          for i in range(size))
                + f"<main><h1>{title}</h1>{_article(rng, 2 + size)}</main>{_footer(rng)}")
    return _wrap(title, head, body)


def generate(n: int, *, seed: int = 5) -> list[tuple[str, bytes]]:
    """``n`` pages as (name, bytes), shapes in turn, sizes spread log-uniformly."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        shape = SHAPES[i % len(SHAPES)]
        size = max(1, int(round(2 ** rng.uniform(0, 6.6))))  # 1 .. ~100
        out.append((f"{shape}-{i}", page(shape, rng, size)))
    return out
