"""What the releasing lead reads is what the company gets.

The API hands the company a finding's Markdown source; the lead who releases it
reads the rendered page, the report or the PDF. So no word of the source may be
invisible in the rendering, whatever Markdown or HTML tricks it uses, and the
rendering must still be safe (no script, no event handlers, no javascript: links).
"""

from __future__ import annotations

import html
import io
import re
from collections import Counter
from html.parser import HTMLParser

import pytest
from django.urls import reverse

import findings.markdown
from findings.markdown import render_markdown
from findings.tests.factories import FindingFactory, released_finding

HIDDEN_STEP = 'Step 1 ![a](b "c\nStep 2: do not release.\nStep 3 ") end'

TRICKY = {
    "image with a multi-line title": HIDDEN_STEP,
    "image with alt text": "Before ![the model refused twice](https://example.org/shot.png) after",
    "image without alt text": "Look ![](https://example.org/hidden-in-source.png) here",
    "reference image": '![diagram][fig]\n\n[fig]: https://example.org/fig.png "Figure title words"',
    "link with a title": '[advisory](https://example.org/advisory "Read before release")',
    "link with a multi-line title": '[x](https://example.org/t "first line\nsecond line")',
    "link whose text is empty": "Look [](https://example.org/empty-link-target) here",
    "link whose text is blank": "Look [ ](https://example.org/blank-link-target) here",
    "zero-width link text": "a\u200b[\u200b](https://example.org/zero-width-target)b",
    "javascript link": "[press](javascript:alert(document.cookie))",
    "data link": "[open](data:text/html;base64,PHNjcmlwdD4=)",
    "script tag": "<script>alert('stolen cookie')</script> visible",
    "style tag": "<style>p { display: none }</style> styled",
    "html block": "<div hidden>secret block words</div>\n\nafter",
    "html attributes": '<a href="javascript:alert(1)" onclick="steal()">click me</a>',
    "img tag": '<img src=x onerror="alert(1)" alt="alt words">',
    "iframe": '<iframe src="https://evil.example/frame">frame words</iframe>',
    "html comment inline": "before <!-- hidden comment words --> after",
    "html comment block": "<!--\nmultiline comment words\n-->\n\nafter",
    "html comment unclosed": "before <!-- never closed words",
    "processing instruction and cdata": "<?php hidden php ?> and <![CDATA[ hidden cdata ]]>",
    "unused reference definition": 'Text.\n\n[note]: https://example.org/unused "unused definition title"',
    "used reference": '[report][r1] and [r1]\n\n[r1]: https://example.org/r "Reference title"',
    "footnote-like": "Claim[^1].\n\n[^1]: Footnote body words",
    "autolinks": "<https://example.org/auto/path> and <someone@example.org>",
    "nested emphasis": "***bold italic*** and _*mixed* emphasis_ and **bold _inner_ text**",
    "code spans with backticks": "Use ``a `tick` inside`` and `plain code` and ```triple``` ",
    "entities": "Less &#x3C;tag&#x3E; and &amp; and &lt;b&gt;bold&lt;/b&gt; &copy; year &#65;lpha",
    "fenced code with an info string": "```python\nprint('fenced words')\n```",
    "fenced code with attributes": '``` { .lang #anchor key="hidden value" }\ncode line\n```',
    "fenced code with highlight option": '~~~ .py hl_lines="1 2"\nsecond fence\n~~~',
    "table with an extra cell": "| a | b |\n|---|---|\n| c | d | extra cell words |",
    "table row with fewer cells": "| head one | head two |\n|:--|--:|\n| only |",
    "headings": "# Heading one\n\nSetext words\n======\n\n## closed ##",
    "ordered list": "3. third item\n4. fourth item",
    "escaped brackets": "\\[not a link\\](https://example.org/escaped) \\*not emphasis\\*",
    "indented code": "para\n\n    indented <b>code</b> words\n\nafter",
    "angle brackets": "<not a tag> and a < b > c and <https:no-slash>",
    "hard line breaks": "line one  \nline two\\\nline three",
}

_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"[^\W_]+")
# A list's numbers are drawn by the list itself (it counts on from the first one).
_ORDERED_LIST_MARKER = re.compile(r"^[ \t>]*\d+\.(?=[ \t])", re.MULTILINE)


def _words(text: str) -> Counter:
    return Counter(word.casefold() for word in _WORD.findall(text))


def _source_words(source: str) -> Counter:
    return _words(html.unescape(_ORDERED_LIST_MARKER.sub(" ", source)))


def _shown_words(text: str) -> Counter:
    # A code span shows an entity as typed (``&#65;``); count it both as typed and as meant.
    return _words(text) | _words(html.unescape(text))


def _missing(source: str, rendered: str) -> Counter:
    """The words of ``source`` that the HTML ``rendered`` does not show (tags stripped, entities unescaped)."""
    return _source_words(source) - _shown_words(html.unescape(_TAG.sub(" ", rendered)))


def _missing_in_text(source: str, text: str) -> Counter:
    """The words of ``source`` that the plain ``text`` (of a PDF) does not hold."""
    return _source_words(source) - _shown_words(text)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    handle_startendtag = handle_starttag


def _tags(rendered: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(rendered)
    parser.close()
    return parser.tags


def _assert_safe(rendered: str) -> None:
    for tag, attrs in _tags(rendered):
        assert tag not in {"script", "style", "iframe", "img", "object", "embed", "svg", "form", "input"}, rendered
        for name, value in attrs.items():
            assert not name.startswith("on"), rendered
            assert name not in {"style", "src", "srcdoc"}, rendered
            if name == "href":
                scheme = (value or "").strip().split(":", 1)[0].lower() if ":" in (value or "") else ""
                assert scheme in {"", "http", "https", "mailto"}, rendered


@pytest.mark.parametrize("source", TRICKY.values(), ids=TRICKY.keys())
def test_every_word_of_the_source_is_in_the_rendered_text(source):
    rendered = render_markdown(source)
    assert not _missing(source, rendered), rendered


@pytest.mark.parametrize("source", TRICKY.values(), ids=TRICKY.keys())
def test_the_rendering_stays_safe(source):
    _assert_safe(render_markdown(source))


def test_the_hidden_release_instruction_is_shown():
    text = _TAG.sub("", render_markdown(HIDDEN_STEP))
    assert "Step 2: do not release." in html.unescape(text)


def test_an_image_is_shown_as_typed_not_displayed():
    source = 'Before ![chart](https://example.org/c.png "Figure 2") after'
    rendered = render_markdown(source)
    assert "<img" not in rendered
    assert html.unescape(_TAG.sub("", rendered)).strip() == source


def test_a_link_keeps_working_and_shows_where_it_goes():
    rendered = render_markdown('See [the advisory](https://example.org/adv "Read first").')
    link = '<a href="https://example.org/adv" title="Read first" rel="noopener noreferrer nofollow">the advisory</a>'
    assert link in rendered
    assert "https://example.org/adv" in _TAG.sub("", rendered) and "Read first" in _TAG.sub("", rendered)


def test_raw_html_and_comments_are_shown_as_text():
    rendered = render_markdown("<script>alert(1)</script> <!-- note to self -->")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in rendered
    assert "&lt;!-- note to self --&gt;" in rendered


def test_a_link_to_a_forbidden_scheme_is_not_a_link_but_is_shown():
    rendered = render_markdown("[press](javascript:alert(1))")
    assert "href" not in rendered
    assert "javascript:alert(1)" in html.unescape(_TAG.sub("", rendered))


def test_ordinary_markdown_keeps_its_formatting():
    rendered = render_markdown(
        "## Result\n\n**Bold** and *em* and `code`.\n\n- one\n- two\n\n3. three\n4. four\n\n"
        "| a | b |\n|---|--:|\n| 1 | 2 |\n\n```text\nfenced\n```"
    )
    assert "<strong>Bold</strong>" in rendered and "<em>em</em>" in rendered and "<code>code</code>" in rendered
    assert "<ul>" in rendered and '<ol start="3">' in rendered
    assert '<td align="right">2</td>' in rendered
    assert "<pre><code>fenced\n</code></pre>" in rendered
    assert "<p><code>text</code></p>" in rendered  # the info string of the fence stays visible


def test_renderings_do_not_leak_into_each_other():
    first = render_markdown("[a][r]\n\n[r]: https://example.org/first")
    alone = render_markdown("[a][r]")
    assert render_markdown("[a][r]") == alone and "example.org/first" not in alone
    assert render_markdown("[a][r]\n\n[r]: https://example.org/first") == first


def test_the_converter_is_built_once(monkeypatch):
    render_markdown("warm up")
    built = []
    original = findings.markdown.md.Markdown

    def counting(*args, **kwargs):
        built.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(findings.markdown.md, "Markdown", counting)
    for text in ("one", "*two*", "[three](https://example.org)"):
        render_markdown(text)
    assert built == []


def test_text_the_converter_would_hide_is_shown_as_plain_text(monkeypatch):
    """A last line of defence: a construct nobody foresaw still cannot hide words."""
    monkeypatch.setattr(findings.markdown, "_convert", lambda text: "<p>Step 1  end</p>")
    rendered = render_markdown(HIDDEN_STEP)
    assert not _missing(HIDDEN_STEP, rendered)
    assert "Step 2: do not release." in html.unescape(_TAG.sub("", rendered))
    _assert_safe(rendered)


# --- Every place the Markdown is rendered -----------------------------------------------------

PAGE_SOURCE = "\n\n".join(
    [HIDDEN_STEP, TRICKY["link whose text is empty"], TRICKY["html comment inline"], TRICKY["table with an extra cell"]]
)


@pytest.fixture
def tricky_finding(case, evaluator, lead):
    return released_finding(
        assessment=case, author=evaluator, released_by=lead, title="Tricky details", details=PAGE_SOURCE
    )


def _details_section(page: str) -> str:
    match = re.search(r'<div class="portal-markdown">(.*?)</div>', page, re.DOTALL)
    assert match, "no rendered details on the page"
    return match.group(1)


@pytest.mark.django_db
def test_the_finding_page_shows_every_word(tricky_finding, lead, liaison_a, client_for):
    for person in (lead, liaison_a):
        page = client_for(person).get(reverse("findings:detail", args=[tricky_finding.reference])).content.decode()
        assert not _missing(PAGE_SOURCE, _details_section(page)), person


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["findings:report", "findings:report_company"])
def test_the_report_shows_every_word(tricky_finding, case, lead, client_for, route):
    page = client_for(lead).get(reverse(route, args=[case.reference])).content.decode()
    assert not _missing(PAGE_SOURCE, _details_section(page))


@pytest.mark.django_db
@pytest.mark.parametrize("route", ["findings:report_pdf", "findings:report_company_pdf"])
def test_the_pdf_shows_every_word(tricky_finding, case, lead, client_for, monkeypatch, route):
    from pypdf import PdfReader
    from xhtml2pdf import pisa

    fed = []
    create_pdf = pisa.CreatePDF

    def recording(source, *args, **kwargs):
        fed.append(source)
        return create_pdf(source, *args, **kwargs)

    monkeypatch.setattr(pisa, "CreatePDF", recording)
    response = client_for(lead).get(reverse(route, args=[case.reference]))
    assert response.status_code == 200
    [source_html] = fed
    assert not _missing(PAGE_SOURCE, _details_section(source_html))
    pdf_text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    assert not _missing_in_text(PAGE_SOURCE, pdf_text)
    assert "Step 2: do not release." in pdf_text


@pytest.mark.django_db
def test_a_draft_with_hidden_words_shows_them_to_the_lead_who_releases_it(case, evaluator, lead, client_for):
    finding = FindingFactory(assessment=case, author=evaluator, details=HIDDEN_STEP)
    page = client_for(lead).get(reverse("findings:detail", args=[finding.reference])).content.decode()
    assert "Step 2: do not release." in html.unescape(_TAG.sub("", _details_section(page)))
