"""``{% due value %}``: a due date with the days left beside it, the same on every page.

``value`` is a date or a date-time. The days are counted between calendar days in the
viewer's time zone, so "due today" means today on their clock, and an overdue date says by
how many days. ``days_left`` gives the number alone (negative once overdue), for pages
that word it themselves.
"""

from __future__ import annotations

from datetime import date, datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

register = template.Library()

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"


def _local_day(value: date | datetime) -> date:
    if isinstance(value, datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


@register.filter
def days_left(value: date | datetime | None) -> int | None:
    """Whole calendar days from today until ``value``: 0 on the day, negative once it has passed."""
    if value is None or not isinstance(value, date):
        return None
    return (_local_day(value) - timezone.localdate()).days


def days_left_text(days: int) -> str:
    """How a number of days left reads beside a date: "3 days left", "due today", "overdue by 2 days"."""
    if days > 0:
        return f"{days} day{'s' if days != 1 else ''} left"
    if days == 0:
        return "due today"
    late = -days
    return f"overdue by {late} day{'s' if late != 1 else ''}"


@register.simple_tag
def due(value: date | datetime | None, with_time: bool = True):
    """``value`` as a date (and time, when it has one) followed by the days left, in brackets.

    Overdue dates carry the ``portal-overdue`` class, and the wording says so too, so the
    state is never told by colour alone.
    """
    days = days_left(value)
    if days is None:
        return ""
    if isinstance(value, datetime):
        moment = timezone.localtime(value) if timezone.is_aware(value) else value
        shown = date_format(moment, DATETIME_FORMAT if with_time else DATE_FORMAT)
        iso = moment.isoformat()
    else:
        shown = date_format(value, DATE_FORMAT)
        iso = value.isoformat()
    css = "portal-days-left portal-overdue" if days < 0 else "portal-days-left"
    return format_html(
        '<time datetime="{}">{}</time> <span class="{}">({})</span>', iso, shown, css, days_left_text(days)
    )
