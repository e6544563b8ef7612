"""The main-content rules of scraper/maincontent.py, each on a small page built to need it.

The real-page corpus (tests/test_realpages.py) shows the rules hold together; these say which
rule does what, so a change that breaks one says so by name.
"""

from __future__ import annotations

from scraper.parse import parse

URL = "http://127.0.0.1:8000/page"
P1 = ("The committee met for three hours on Monday and agreed on a plan for the harbour, "
      "which had been waiting for a decision since the storm damaged its eastern wall.")
P2 = ("Work starts in spring and should be done before the summer season, when the ferries "
      "run twice as often and the quay is needed for the visitors who come by boat.")
P3 = ("The cost is shared between the city and the region, and a loan from the state bank "
      "covers what the two budgets cannot, repaid over twenty years from harbour dues.")


def _text(html: str) -> str:
    return parse(html.encode(), url=URL, content_type="text/html; charset=utf-8").text


def test_article_inside_a_header_element_is_read() -> None:
    text = _text(f"""<body><nav><a href="/">Home</a></nav>
      <header><ul><li><a href="/a">Share</a></li></ul><h1>Harbour plan</h1>
        <p>{P1}</p><p>{P2}</p></header>
      <div>© 2024 The Gazette</div></body>""")
    assert P1 in text and P2 in text


def test_an_articles_own_header_with_its_lead_is_read() -> None:
    text = _text(f"""<body><article><header><h1>Harbour plan</h1><p>{P1}</p>
        <ul class="share"><li><a href="/s">Share</a></li></ul></header>
      <div><p>{P2}</p><p>{P3}</p></div></article></body>""")
    assert P1 in text and P2 in text and P3 in text


def test_a_form_holding_much_of_the_content_is_read() -> None:
    text = _text(f"""<body><main><h1>Harbour plan</h1><p>{P1}</p>
      <form action="/vote"><p>{P2}</p><p>{P3}</p><input type="hidden" name="t" value="x">
      <button>Vote</button></form></main></body>""")
    assert P2 in text and P3 in text and "Vote" not in text


def test_a_small_form_in_the_content_is_still_skipped() -> None:
    text = _text(f"""<body><main><h1>Harbour plan</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p>
      <form action="/search"><label>Search the site</label><input name="q"></form></main>
      </body>""")
    assert P3 in text and "Search the site" not in text


def test_a_chrome_line_cannot_steal_the_pick() -> None:
    people = "".join(f"<li>Member {n}<br>Engineer, department {n}</li>" for n in range(30))
    html = f"""<body><div class="team"><h1>Our team</h1><ul>{people}</ul></div>
      <div><p>Page generated 2026-11-11 01:11:01 UTC · 1037 readers</p></div></body>"""
    text = _text(html)
    assert "Member 17" in text and "Engineer, department 29" in text
    assert "Page generated" not in text


def test_the_intro_above_a_table_is_read() -> None:
    rows = "".join(f"<tr><td>Entry number {n} of the list, with its description</td></tr>"
                   for n in range(20))
    text = _text(f"""<body><div><h2>The list</h2><div>{P1}<br>{P2}</div>
      <table>{rows}</table></div><div>Contact us</div></body>""")
    assert P1 in text and "Entry number 19" in text


def test_a_page_wrapped_in_a_header_id_is_read() -> None:
    text = _text(f"""<body><div id="header"><div id="nav"><a href="/">Home</a>
      <a href="/about">About</a></div><div id="content"><h1>About us</h1><p>{P1}</p>
      <p>{P2}</p></div></div></body>""")
    assert P1 in text and P2 in text


def test_links_and_trailing_lines_stay_out_of_a_fallback() -> None:
    links = "".join(f'<li><a href="/s/{n}">Story number {n} of the day</a></li>'
                    for n in range(6))
    html = f"""<body><div><h3>Trending now</h3><ul>{links}</ul></div>
      <div><div>{P1}</div><div>{P2}</div><div>{P3}</div></div>
      <div>Page generated at 10:00</div></body>"""
    page = parse(html.encode(), url=URL, content_type="text/html")
    assert P1 in page.text and P3 in page.text
    assert "Story number" not in page.text and "Page generated" not in page.text
    assert "Story number 3 of the day" in page.outside_text


def test_what_a_fallback_on_the_whole_body_skips_is_kept_outside() -> None:
    links = "".join(f'<li><a href="/s/{n}">Story number {n} of the day</a></li>'
                    for n in range(6))
    html = f"""<body><ul>{links}</ul><p>{P1}</p><p>{P2}</p><div>{P3}</div>
      <div>Page generated at 10:00</div></body>"""
    page = parse(html.encode(), url=URL, content_type="text/html")
    assert P1 in page.text and "Story number" not in page.text
    assert "Story number 5 of the day" in page.outside_text
    assert P1 not in page.outside_text


def test_a_wrapper_is_not_a_block_of_links_for_its_chrome_menus_links() -> None:
    # A site header's mega menu inside the page wrapper holds most of the wrapper's links; the
    # walk skips the header anyway, so its links must not make the wrapper (and the article in
    # it) look like a menu to drop. The first <article> is a tiny one, so the fallback decides.
    menu = "".join(f'<li><a href="/topic/{n}">Topic number {n} of the site menu</a></li>'
                   for n in range(60))
    html = f"""<body><div class="wrap"><header><ul>{menu}</ul></header>
      <section><div class="trail"><a href="/">Start page</a></div>
        <article><p>Printed on Monday</p></article>
        <article><h1>Harbour plan</h1><p>{P1}</p><p>{P2}</p><p>{P3}</p></article></section>
      </div>
      <div><p>This page was printed from the site of the harbour committee, whose address and
      opening hours are on the contact page: Harbour Street 1, Monday to Friday.</p></div></body>"""
    page = parse(html.encode(), url=URL, content_type="text/html")
    assert P1 in page.text and P3 in page.text
    assert "Topic number" not in page.text


def _product_page(between: str) -> str:
    details = "".join(f"<tr><th>Property {n}</th><td>value number {n} of the wine</td></tr>"
                      for n in range(8))
    others = "".join(f'<li><a href="/wine/{n}">Other wine number {n}</a> {n + 4}.99 euro</li>'
                     for n in range(6))
    return f"""<body><nav><a href="/">Shop</a></nav><div class="product">
      <div class="head"><h1>Harbour Rosé 2015</h1></div>{between}
      <div class="tabs"><div class="tab-list">
        <div class="tab"><div class="pane"><div class="desc"><p>{P1}</p><p>{P2}</p><p>{P3}</p>
        </div></div></div>
        <div class="tab"><div class="pane"><table>{details}</table></div></div></div></div>
      <div class="also"><h3>Customers also bought</h3><ul>{others}</ul></div></div>
      <div>© 2024 The Wine Shop</div></body>"""


def test_a_density_pick_reaches_up_to_the_h1_over_a_paragraph_between_them() -> None:
    # A product page: the paragraph vote finds the description tabs; the price and the facts
    # between the product's name and the tabs are its content too. What follows the tabs
    # (other products) is not read, but kept as outside text.
    buy = """<div class="buy"><p>Now 7.49 euro instead of 8.99 euro, VAT included, plus
      shipping costs.</p><ul><li>Contents: 0.75 litre (9.99 euro per litre)</li>
      <li>Article number 009345, ready to ship, delivery in one to three working days</li>
      </ul></div>"""
    page = parse(_product_page(buy).encode(), url=URL, content_type="text/html")
    assert "Harbour Rosé 2015" in page.text and "Now 7.49 euro" in page.text
    assert "Contents: 0.75 litre" in page.text and P1 in page.text and "Property 7" in page.text
    assert "Other wine number" not in page.text and "Customers also bought" not in page.text
    assert "Other wine number 5" in page.outside_text and "The Wine Shop" in page.outside_text
    assert "Now 7.49 euro" not in page.outside_text


def test_a_density_pick_stays_below_an_h1_with_only_links_between() -> None:
    share = """<ul class="tools"><li><a href="/s/1">Share on the first network</a></li>
      <li><a href="/s/2">Share on the second network</a></li></ul>"""
    page = parse(_product_page(share).encode(), url=URL, content_type="text/html")
    assert P1 in page.text and "Property 7" in page.text
    assert "Share on the" not in page.text and "Harbour Rosé 2015" not in page.text


def test_folding_the_outside_text_at_once_is_folding_each_line() -> None:
    """The outside text is folded on the whole text in C passes; it must be what folding each
    line (``" ".join(line.split())``) and dropping the blank ones gives."""
    import random

    from scraper.outside import _fold_lines

    pieces = ["a", "bc", " ", "  ", "\n", "\n\n", "\t", "\r", "\x0b", "\x1c", "\x85", "\xa0",
              "\u2028", "\u3000", "\u00e9", "x y"]
    rng = random.Random(3)
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        per_line = "\n".join(" ".join(line.split()) for line in text.split("\n")
                             if line and not line.isspace())
        assert _fold_lines(text) == per_line, repr(text)


def test_link_text_counts_the_links_inside_an_element_only() -> None:
    """How much of an element's text is links: the links inside it, each text once, never the
    text of a link the element itself stands in (scraper.maincontent._link_text)."""
    from lxml import etree

    from scraper.maincontent import _link_text, _text_weight

    root = etree.fromstring(
        b"<html><body><div id=d>lead <a href=/a>one</a> mid <a href=/b>two <b>bold</b></a>"
        b"<a href=/c>out<span id=s>in <i id=i>deep</i></span></a></div></body></html>",
        etree.HTMLParser())
    div, span, i = (root.find(f".//*[@id='{x}']") for x in ("d", "s", "i"))
    assert _link_text(div) == "onetwo boldoutin deep"
    assert _text_weight(div) == len("leadmid")
    # Inside a link: the link is not inside them, so none of their text is link text.
    assert _link_text(span) == "" and _link_text(i) == ""
    assert _text_weight(span) == len("indeep")
    # A link itself: the links inside it (none here), not its own text.
    first = root.find(".//a")
    assert _link_text(first) == "" and _text_weight(first) == len("one")


def test_a_page_whose_text_sits_inside_its_h1_is_read() -> None:
    """Broken markup that puts the whole text in the <h1>: the paragraph-density pick is inside
    the title, and the widening toward the h1 leaves it as it is (it raised StopIteration,
    and the page was stored empty)."""
    para = "This paragraph holds enough words to count as a paragraph of real text. " * 3
    page = parse(f"<html><body><h1>Title<div><p>{para}</p><p>{para}</p><p>{para}</p></div>"
                 "</h1><div><a href=/x>menu</a></div></body></html>".encode(),
                 url="https://example.gov/p")
    assert page.title.startswith("Title")
    assert page.text.count(para.strip()) == 3


def test_link_text_is_the_text_nodes_with_a_link_between_them_and_the_element() -> None:
    """``_link_text(el)`` is, on every element, what its XPath definition selects: the text
    nodes (tails included) with more ``<a>`` ancestors than ``el`` has, itself counted. Links
    nested by libxml2 (an unclosed ``<a>``), an element inside a link and a link inside bold
    inside a link included; on the real-page corpus too."""
    from pathlib import Path

    from lxml import etree

    from scraper.maincontent import _link_text

    spec = etree.XPath("descendant::text()[count(ancestor::a) > $outer]")
    pages = [
        b"<div>lead <a href=1>one <b>x<a href=2>two</b> tail <a href=3>three</a> after</div>"
        b"<p><a href=4>four<span>in <i>deep</i> out</span> tail</a> end <a>no href</a></p>"
        b"<a href=5><div>block <a href=6>six</a> mid</div> <em>em</em></a>",
        *(p.read_bytes()[:60_000] for p in sorted(
            (Path(__file__).parent.parent / "fixtures" / "realpages").glob("*.html"))[:6]),
    ]
    checked = 0
    for html in pages:
        root = etree.fromstring(html, etree.HTMLParser(remove_comments=True, remove_pis=True))
        for el in root.iter():
            if not isinstance(el.tag, str):
                continue
            outer = sum(1 for _ in el.iterancestors("a")) + (el.tag == "a")
            assert _link_text(el) == "".join(spec(el, outer=outer)), etree.tostring(el)[:200]
            checked += 1
    assert checked > 500


def test_densest_votes_as_the_text_of_each_paragraph_less_its_links() -> None:
    """The paragraphs that vote, and their weights, are what ``itertext`` and no memo give:
    nested density elements (a blockquote in a blockquote, a cell in a cell) and a link
    inside a link counted at each level, on crafted and real pages."""
    from pathlib import Path

    from lxml import etree

    from scraper.maincontent import _votes
    from scraper.markup import collapse, in_chrome, text_of

    density = etree.XPath("//p | //pre | //blockquote | //td")

    def reference(root: etree._Element) -> list[tuple[etree._Element, int]]:
        measured = [(p, len(collapse(text_of(p)).strip()),
                     sum(len(text_of(a).strip()) for a in p.iter("a")))
                    for p in density(root) if not in_chrome(p)]
        return [(p, whole - links) for p, whole, links in measured
                if whole >= 25 and whole - links >= 25]

    nested = "".join(f"words of the quote number {i} <a href=/q{i}>and its link {i}</a> "
                     f"<a href=/r{i}>one <b>in <a href=/s{i}>two</a></b></a><br>"
                     for i in range(30))
    pages = [
        f"<div id=a><blockquote>{'<blockquote>' * 20}{nested}{'</blockquote>' * 20}"
        f"</blockquote></div><div id=b><p>{P1}</p></div>".encode(),
        f"<table><tr><td>{P1}<table><tr><td>{P2} <a href=/x>{P3}</a></td></tr></table>"
        f"</td></tr></table><div><p>{P3}</p></div>".encode(),
        *(p.read_bytes() for p in sorted(
            (Path(__file__).parent.parent / "fixtures" / "realpages").glob("*.html"))),
    ]
    voted = 0
    for html in pages:
        root = etree.fromstring(html, etree.HTMLParser(remove_comments=True, remove_pis=True))
        got = list(_votes(root))
        assert got == reference(root)
        voted += len(got)
    assert voted > 100


MENU = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(12))


def _index(n: int) -> str:
    entries = "".join(f'<li><a href="/pub/{i}.pdf">Fact sheet {i}: the harbour in figures</a></li>'
                      for i in range(n))
    return (f"<body><div><ul>{MENU}</ul></div><h1>Publications</h1><ul>{entries}</ul>"
            "<p>© 2024 The Port Authority</p></body>")


def test_an_index_page_is_read_from_its_title_with_its_lists() -> None:
    """A page that is a title and a list of links (publications, fact sheets) has no
    paragraph for the text mass to find; its list is its content, the menu before the
    title is not."""
    page = parse(_index(20).encode(), url=URL, content_type="text/html; charset=utf-8")
    assert page.text.startswith("Publications\nFact sheet 0: the harbour in figures")
    assert len(page.items) == 20 and page.items[3].url == "http://127.0.0.1:8000/pub/3.pdf"
    assert "Section 3" not in page.text and "Section 3" in page.outside_text


def test_a_new_entry_on_an_index_page_changes_its_content() -> None:
    before = parse(_index(20).encode(), url=URL, content_type="text/html; charset=utf-8")
    after = parse(_index(21).encode(), url=URL, content_type="text/html; charset=utf-8")
    assert before.content_hash() != after.content_hash()
    assert after.items[-1].title == "Fact sheet 20: the harbour in figures"


def test_an_article_with_link_lists_after_its_title_still_drops_them() -> None:
    related = "".join(f'<li><a href="/r/{i}">Related story number {i}</a></li>'
                      for i in range(12))
    text = _text(f"<body><h1>Harbour plan</h1><div><p>{P1}</p><p>{P2}</p></div>"
                 f"<div><ul>{related}</ul></div></body>")
    assert P1 in text and "Related story number 3" not in text
