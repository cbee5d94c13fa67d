"""``{% marking_banner item … %}``: the handling-marking banner (``core.markings``), the same everywhere.

Give it one or more items (anything with a ``marking``, a ``HandlingMarking``, or lists of
either); it shows the most restrictive of their markings, or nothing when none is given. Pages
get it at the top and bottom from ``base.html`` (the view puts ``page_marking`` in the context);
PDFs and HTML emails pass ``inline=True`` for colours written into the element (no stylesheet
there). ``{% marking_text item %}`` is the plain-text line of text emails and CSV exports.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template

from core.markings import HandlingMarking, most_restrictive

register = template.Library()


def _markings(items: Iterable[Any]) -> Iterable[HandlingMarking | None]:
    for item in items:
        if item is None or isinstance(item, HandlingMarking):
            yield item
        elif isinstance(item, (list, tuple)):
            yield from _markings(item)
        else:
            yield getattr(item, "marking", None)


def page_marking(*items: Any) -> HandlingMarking | None:
    """The most restrictive marking of ``items`` (see the module docstring)."""
    return most_restrictive(_markings(items))


@register.inclusion_tag("partials/marking_banner.html")
def marking_banner(*items: Any, inline: bool = False, position: str = "top") -> dict[str, Any]:
    return {"marking": page_marking(*items), "inline": inline, "position": position}


@register.simple_tag
def marking_text(*items: Any) -> str:
    marking = page_marking(*items)
    return f"[{marking.banner_text}]" if marking is not None else ""
