"""``{% due value %}``: a due date with the days left beside it, the same on every page.

``value`` is a date or a date-time. The days are counted between calendar days in the
viewer's time zone, so "due today" means today on their clock, and an overdue date says by
how many days. ``days_left`` gives the number alone (negative once overdue), for pages
that word it themselves.

``{{ value|day }}`` and ``{{ value|moment }}`` write the portal's two ways of showing a date,
"4 Mar 2026" and "4 Mar 2026, 09:30 EST": exactly what Django's ``date`` filter writes for
``"j M Y"`` and ``"j M Y, H:i T"``, at a fifth of its cost (it parses its format string and
looks up the language on every call; a list page shows a hundred dates). Anything but a date
or an aware date-time goes to Django's filter. The library is a template builtin (settings).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone, translation
from django.utils.dates import MONTHS_3
from django.utils.html import format_html

register = template.Library()

DATE_FORMAT = "j M Y"
DATETIME_FORMAT = "j M Y, H:i T"

# The months as "M" writes them, per language: Django translates them on every call.
_month_names: dict[str, tuple[str, ...]] = {}


def _month(number: int) -> str:
    language = translation.get_language() or ""
    names = _month_names.get(language)
    if names is None:
        names = _month_names[language] = tuple(str(MONTHS_3[m]).title() for m in range(1, 13))
    return names[number - 1]


def _is_aware(value: datetime) -> bool:
    return value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None


def _zone_name(value: datetime) -> str:
    """``T``: the zone's abbreviation, or nothing for a wall time that is ambiguous or skipped (a DST change)."""
    zone = value.tzinfo
    if zone.utcoffset(value.replace(fold=not value.fold)) != zone.utcoffset(value):
        return ""
    return str(zone.tzname(value))


@register.filter(expects_localtime=True)
def day(value: Any) -> str:
    """``value|date:"j M Y"``: "4 Mar 2026"."""
    if isinstance(value, date) and (not isinstance(value, datetime) or _is_aware(value)):
        return f"{value.day} {_month(value.month)} {value.year:04d}"
    return date_filter(value, DATE_FORMAT)


@register.filter(expects_localtime=True)
def moment(value: Any) -> str:
    """``value|date:"j M Y, H:i T"``: "4 Mar 2026, 09:30 EST"."""
    if isinstance(value, datetime) and _is_aware(value):
        return (
            f"{value.day} {_month(value.month)} {value.year:04d}, "
            f"{value.hour:02d}:{value.minute:02d} {_zone_name(value)}"
        )
    return date_filter(value, DATETIME_FORMAT)


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
        local = timezone.localtime(value) if timezone.is_aware(value) else value
        shown = moment(local) if with_time else day(local)
        iso = local.isoformat()
    else:
        shown = day(value)
        iso = value.isoformat()
    css = "portal-days-left portal-overdue" if days < 0 else "portal-days-left"
    return format_html(
        '<time datetime="{}">{}</time> <span class="{}">({})</span>', iso, shown, css, days_left_text(days)
    )
