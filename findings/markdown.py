"""Markdown for finding text, rendered safely.

Raw HTML typed into Markdown is shown as text (the HTML parsers of
Python-Markdown are switched off), and the result is cleaned by nh3 with a
small allow-list: no script, no event handlers, no styles, and links only to
http, https and mailto.
"""

from __future__ import annotations

import markdown as md
import nh3
from django.utils.safestring import SafeString, mark_safe

ALLOWED_TAGS = {
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "h3", "h4", "h5", "h6", "a",
    "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}


def _converter() -> md.Markdown:
    converter = md.Markdown(extensions=["fenced_code", "tables", "sane_lists"], output_format="html")
    # Raw HTML is escaped instead of passed through: nothing typed as HTML reaches the page as HTML.
    converter.preprocessors.deregister("html_block")
    converter.inlinePatterns.deregister("html")
    return converter


def render_markdown(text: str) -> SafeString:
    """``text`` (Markdown) as sanitised HTML, safe to put in a page or a PDF."""
    if not text:
        return mark_safe("")  # noqa: S308 - empty string
    html = _converter().convert(text)
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(cleaned)  # noqa: S308 - cleaned by nh3 with an allow-list just above
