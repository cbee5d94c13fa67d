"""Markdown for finding text, rendered safely and faithfully.

**Safe.** Raw HTML typed into Markdown is shown as text (the HTML parsers of
Python-Markdown are switched off), and the result is cleaned by nh3 with a
small allow-list: no script, no event handlers, no styles, no images, and links
only to http, https and mailto.

**Faithful.** The API gives the company a finding's Markdown source, while the
lead who releases it reads the rendering (page, report, PDF). So no word of the
source may be invisible in the rendering:

* images are not displayed (evidence is attached as files): ``![alt](src "title")``
  is shown as typed;
* a link shows its address and title after its text, so neither an empty link
  text nor a title can hide anything;
* reference definitions (``[id]: url "title"``) are not consumed, so they and
  the reference-style links that use them stay as typed;
* a fenced code block shows its info string (the language and any options) above
  the code, and a table row keeps cells beyond the header's columns;
* raw HTML, including comments, is shown as text.

As a last line of defence, ``render_markdown`` compares the words of the source
with the words of the result; if a word is missing (a construct not foreseen
above), the whole text is shown as plain text instead; so is text whose rendering would
be longer than ``bounds.RENDERED_BODY`` (only absurd Markdown, such as thousands of empty
table cells, expands that much).

**Rendered once.** Pages and reports do not render a finding's Markdown: the
services that write ``Finding.details`` store its rendering (``details_html``)
and the ``RENDERER_VERSION`` that made it, in the same transaction as the text.
So the stored HTML is never stale with respect to the text. After a change to
this module's output, raise ``RENDERER_VERSION``: rows rendered by an older
version are rendered on the fly when read (``Finding.details_rendered``) until
``manage.py findings_render_markdown`` has stored their new rendering.
"""

from __future__ import annotations

import html
import logging
import re
import threading
import xml.etree.ElementTree as etree  # nosec B405 (builds elements, parses no XML: .ci/security-exceptions.md)
from collections import Counter
from html.parser import HTMLParser

import markdown as md
import nh3
from django.utils.html import linebreaks
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions.tables import TableProcessor
from markdown.inlinepatterns import IMAGE_LINK_RE, LINK_RE, LinkInlineProcessor
from markdown.preprocessors import Preprocessor
from markdown.treeprocessors import Treeprocessor

from core.bounds import RENDERED_BODY

logger = logging.getLogger(__name__)

# Raise by one whenever a change here changes the HTML produced for some text (allow-lists,
# extensions, the faithfulness check): stored renderings of an older version are then redone.
RENDERER_VERSION = 1

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}

# Set on links written as [text](url) while converting; nh3 removes it, as it is not allowed.
_SHOW_DESTINATION = "data-show-destination"


class _ImageAsTyped(LinkInlineProcessor):
    """``![alt](src "title")`` is shown as the text typed, never as an image."""

    def handleMatch(self, m, data):
        _text, index, handled = self.getText(data, m.end(0))
        if not handled:
            return None, None, None
        _src, _title, index, handled = self.getLink(data, index)
        if not handled:
            return None, None, None
        # A string result is placed as text and not parsed again.
        return self.unescape(data[m.start(0) : index]), m.start(0), index


class _LinkShowingDestination(LinkInlineProcessor):
    """An ordinary link, marked so that ``_ShowLinkDestinations`` writes its address and title after it."""

    def handleMatch(self, m, data):
        link, start, end = super().handleMatch(m, data)
        if link is not None:
            link.set(_SHOW_DESTINATION, "1")
        return link, start, end


class _ShowLinkDestinations(Treeprocessor):
    """Write ``(address “title”)`` after each marked link, as text the reader sees on screen and on paper."""

    def run(self, root):
        for link in root.iter("a"):
            if link.attrib.pop(_SHOW_DESTINATION, None) is None:
                continue
            title = link.get("title")
            shown = " ".join(part for part in (link.get("href", ""), f"“{title}”" if title else "") if part)
            if shown:
                link.tail = f" ({shown})" + (link.tail or "")


class _FencedCode(Preprocessor):
    """Fenced code blocks (```` ``` ```` or ``~~~``), with the info string shown above the code.

    Python-Markdown's own extension turns the info string into attributes
    (a class, an id, options), which the sanitiser then drops with their words.
    """

    FENCE = re.compile(
        r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\n]*?)[ \t]*\n(?P<code>.*?)(?<=\n)(?P=fence)[ \t]*$",
        re.MULTILINE | re.DOTALL,
    )

    def run(self, lines):
        def stash(match: re.Match) -> str:
            info = match.group("info")
            label = f"<p><code>{html.escape(info)}</code></p>\n" if info else ""
            block = f"{label}<pre><code>{html.escape(match.group('code'))}</code></pre>"
            return f"\n{self.md.htmlStash.store(block)}\n"

        return self.FENCE.sub(stash, "\n".join(lines)).split("\n")


class _TableKeepingEveryCell(TableProcessor):
    """A table whose rows keep the cells beyond the header's columns (the base class drops them)."""

    def _build_row(self, row, parent, align):
        super()._build_row(row, parent, align)
        tag = "th" if parent.tag == "thead" else "td"
        for extra in self._split_row(row)[len(align) :]:
            etree.SubElement(parent[-1], tag).text = extra.strip(" ")


def _build_converter() -> md.Markdown:
    converter = md.Markdown(extensions=["sane_lists"], output_format="html")
    # Raw HTML is escaped instead of passed through: nothing typed as HTML reaches the page as HTML.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    # Reference definitions would vanish from the text; without them, reference-style links stay as typed.
    converter.parser.blockprocessors.deregister("reference")
    for name in ("reference", "short_reference", "image_reference", "short_image_ref"):
        converter.inlinePatterns.deregister(name)
    converter.inlinePatterns.register(_LinkShowingDestination(LINK_RE, converter), "link", 160)
    converter.inlinePatterns.register(_ImageAsTyped(IMAGE_LINK_RE, converter), "image_link", 150)
    converter.treeprocessors.register(_ShowLinkDestinations(converter), "show_link_destinations", 15)
    converter.preprocessors.register(_FencedCode(converter), "fenced_code_block", 25)
    converter.parser.blockprocessors.register(
        _TableKeepingEveryCell(converter.parser, {"use_align_attribute": True}), "table", 75
    )
    return converter


# A converter keeps state while it works, so each thread has its own, built on first use and reset per text.
_local = threading.local()


def _convert(text: str) -> str:
    converter = getattr(_local, "converter", None)
    if converter is None:
        converter = _local.converter = _build_converter()
    return converter.reset().convert(text)


def render_markdown(text: str) -> SafeString:
    """``text`` (Markdown) as sanitised HTML in which every word of ``text`` is visible.

    Safe to put in a page or a PDF. Text that the Markdown rendering would not
    show in full is returned as plain paragraphs instead (see the module docstring).
    """
    if not text:
        return mark_safe("")  # noqa: S308 - empty string
    cleaned = nh3.clean(
        _convert(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    missing = _words_of_source(text) - _words_shown(cleaned)
    if missing:
        logger.warning("Markdown would have hidden %d word(s); the text is shown as plain text.", sum(missing.values()))
        return linebreaks(text, autoescape=True)  # escaped here, so safe as it is
    if len(cleaned) > RENDERED_BODY:
        logger.warning("Markdown rendered to %d characters; the text is shown as plain text.", len(cleaned))
        return linebreaks(text, autoescape=True)
    return mark_safe(cleaned)  # noqa: S308 - cleaned by nh3 with an allow-list just above


# --- The faithfulness check ------------------------------------------------------------------

_WORD = re.compile(r"[^\W_]+")
# An ordered list draws its own numbers (counting on from the first), so the typed ones are not words.
_ORDERED_LIST_MARKER = re.compile(r"^[ \t>]*\d+\.(?=[ \t])", re.MULTILINE)


def _words(text: str) -> Counter:
    return Counter(word.casefold() for word in _WORD.findall(text))


def _words_of_source(text: str) -> Counter:
    return _words(html.unescape(_ORDERED_LIST_MARKER.sub(" ", text)))


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data):
        self.parts.append(data)


def _words_shown(rendered: str) -> Counter:
    parser = _VisibleText()
    parser.feed(rendered)
    parser.close()
    shown = " ".join(parser.parts)
    # A code span shows an entity as typed (``&amp;``): count its words both as shown and as meant.
    return _words(shown) | _words(html.unescape(shown))
