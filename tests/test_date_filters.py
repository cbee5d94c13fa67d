"""The portal's date filters write exactly what Django's ``date`` filter writes for the same formats.

``day`` and ``moment`` (core/templatetags/portal_dates.py) replace ``|date:"j M Y"`` and
``|date:"j M Y, H:i T"`` on every page, for speed; a reader must not see a difference, in any time
zone, across a change of daylight saving time, or for a value that is not an aware date-time.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

ZONES = ["America/New_York", "UTC", "Europe/London", "Asia/Kolkata", "Australia/Lord_Howe", "Pacific/Chatham"]

# Aware moments across a year (each day of it at an odd hour), the DST changes of New York, and
# the edges of a day and a year.
MOMENTS = [datetime(2026, 1, 1, 0, 0, tzinfo=UTC) + timedelta(days=d, hours=d % 24, minutes=d % 60) for d in range(366)]
MOMENTS += [
    datetime(2026, 3, 8, 6, 59, tzinfo=UTC),
    datetime(2026, 3, 8, 7, 0, tzinfo=UTC),
    datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    datetime(9999, 12, 30, 23, 59, tzinfo=UTC),
    datetime(999, 1, 2, 3, 4, tzinfo=UTC),
]


def render(source: str, **context) -> str:
    return Template(source).render(Context(context))


@pytest.mark.parametrize("zone", ZONES)
def test_day_and_moment_match_djangos_date_filter_for_aware_moments(zone):
    with timezone.override(zoneinfo.ZoneInfo(zone)):
        for value in MOMENTS:
            expected = render('{{ v|date:"j M Y" }}|{{ v|date:"j M Y, H:i T" }}', v=value)
            assert render("{{ v|day }}|{{ v|moment }}", v=value) == expected, value


def test_ambiguous_and_skipped_wall_times_carry_no_zone_name_as_in_django():
    new_york = zoneinfo.ZoneInfo("America/New_York")
    # 1:30 happens twice on 1 November 2026 and never on 8 March 2026, in New York.
    for value in [
        datetime(2026, 11, 1, 1, 30, tzinfo=new_york),
        datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=new_york),
        datetime(2026, 3, 8, 2, 30, tzinfo=new_york),
    ]:
        with timezone.override(new_york):
            expected = render('{{ v|date:"j M Y, H:i T" }}', v=value)
            assert render("{{ v|moment }}", v=value) == expected
            assert expected.endswith(" ")  # no abbreviation, as Django writes it


@pytest.mark.parametrize(
    "value",
    [date(2026, 3, 4), date(1, 1, 1), datetime(2026, 3, 4, 9, 30), None, "", "not a date", 17],
)
def test_dates_naive_moments_and_non_dates_are_written_as_django_writes_them(value):
    with timezone.override(zoneinfo.ZoneInfo("America/New_York")):
        assert render("{{ v|day }}", v=value) == render('{{ v|date:"j M Y" }}', v=value)
        if not (isinstance(value, date) and not isinstance(value, datetime)):
            assert render("{{ v|moment }}", v=value) == render('{{ v|date:"j M Y, H:i T" }}', v=value)


def test_a_page_shows_the_viewers_local_time(settings):
    value = datetime(2026, 7, 4, 16, 5, tzinfo=UTC)
    with timezone.override(zoneinfo.ZoneInfo("America/Los_Angeles")):
        assert render("{{ v|moment }}", v=value) == "4 Jul 2026, 09:05 PDT"
        assert render("{{ v|day }}", v=value) == "4 Jul 2026"
    with timezone.override(zoneinfo.ZoneInfo("Asia/Tokyo")):
        assert render("{{ v|day }}", v=value) == "5 Jul 2026"
