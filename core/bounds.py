"""Bounds on what people type: how long a text may be, and how far from today a date may lie.

Every limit is written here once. Forms (``max_length``), API serializers
(``max_length``), model fields (``MaxLengthValidator`` plus a database
``CheckConstraint``, see ``length_checks``) and the services read these
numbers, so the portal, the API, the admin and management commands refuse the
same input with the same message. The README's "Limits" section lists them.

Dates are checked by the services (``check_dates``), relative to today in the
user's time zone: a planned date cannot lie in the past or decades ahead, and
only records of what already happened (a meeting held last month, an
agreement recorded after it took effect) may lie in the past. A value that an
edit sends back unchanged is not checked again (``changed``), so an old record
stays editable after its dates have left the range.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone

from core.choices import MAX_WINDOW_DAYS
from core.errors import RuleViolation

# --- Text lengths, in characters --------------------------------------------------------

TITLE = 200  # titles, names as signed, capacities, model names
VERSION = 100  # a model's version label
SHORT_NOTE = 300  # one-line notes: why the terms changed, a document's description, one attendee
ENDPOINT = 500  # where the access is (a URL or a location)
SUMMARY = 2_000  # a finding's summary: two or three sentences the report leads with
NOTE = 5_000  # reasons, decision notes, justifications, instructions, comments, open points, attendee lists
BODY = 50_000  # finding details, reproduction steps, responses, meeting minutes, proposals, clause text
# Never typed: the stored HTML rendering of a BODY text. Markdown that would render longer than this
# is shown as plain paragraphs instead, which for a BODY text always fit (escaping at most sextuples it).
RENDERED_BODY = 10 * BODY

# A credential (API key, token, key file) is checked in bytes before it is encrypted.
CREDENTIAL_BYTES = 8 * 1024
# Room for the sealed largest credential (Fernet adds about a third, about 11,000 characters in all).
CREDENTIAL_CIPHERTEXT = 16 * 1024

# --- Numbers of days --------------------------------------------------------------------

# The longest release-notice period an agreement can set.
RELEASE_NOTICE_MAX_DAYS = 365


@dataclass(frozen=True)
class DateRange:
    """How far back and ahead of today a date may lie, in calendar years or days (both ends included)."""

    label: str  # the start of the message: "The intended release date"
    ahead_years: int  # 0: today is the latest
    back_years: int = 0  # 0 (and no back_days): today is the earliest
    back_days: int = 0

    def limits(self, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
        today = today or _today()
        first = _years_from(today, -self.back_years) - datetime.timedelta(days=self.back_days)
        return first, _years_from(today, self.ahead_years)

    def error(self, value: datetime.date | datetime.datetime | None) -> str | None:
        """The message for ``value`` outside the range (None when it is inside, or empty).

        A datetime is inside when it falls on one of the range's days in the current time
        zone; it is compared with the range's ends as moments, never converted, so a
        value as far off as year 1 or year 9999 cannot overflow.
        """
        if value is None:
            return None
        today = _today()
        first, last = self.limits(today)
        if isinstance(value, datetime.datetime):
            inside = _start_of(first) <= _aware(value) < _start_of(last + datetime.timedelta(days=1))
        else:
            inside = first <= value <= last
        if inside:
            return None
        return f"{self.label} must be between {_day(first, today)} and {_day(last, today)}."


# Planned dates start today; records of what happened may lie in the past.
INTENDED_RELEASE = DateRange("The intended release date", ahead_years=5)
# A case may be recorded after its window began (a closed case written up later), or planned up to two years out.
ASSESSMENT_WINDOW = DateRange("The access window", back_years=1, ahead_years=2)
# Access lies inside a window of at most 30 days, so it cannot have started longer ago than that.
ACCESS_PERIOD = DateRange("The access period", back_days=MAX_WINDOW_DAYS, ahead_years=2)
# An agreement may be recorded after it took effect, or after it ended.
AGREEMENT_EFFECTIVE = DateRange("The effective date", back_years=5, ahead_years=2)
AGREEMENT_EXPIRY = DateRange("The expiry date", back_years=5, ahead_years=10)
OPEN_POINT_DUE = DateRange("The due date", ahead_years=1)
SIGNATURE_DUE = DateRange("The signature due date", ahead_years=1)
RESPONSE_DUE = DateRange("The response due date", ahead_years=1)
# A record of a meeting that took place: today at the latest.
MEETING_HELD = DateRange("The meeting date", back_years=5, ahead_years=0)


# --- Checks the services call ---------------------------------------------------------


def changed(new, old):
    """``new`` if it differs from the stored ``old``, else None: an unchanged date is not checked again.

    Datetimes are compared to the minute, the precision of the portal's forms, so a stored
    value with seconds that a form sends back is still unchanged.
    """
    if isinstance(new, datetime.datetime) and isinstance(old, datetime.datetime):
        same = new.replace(second=0, microsecond=0) == old.replace(second=0, microsecond=0)
    else:
        same = new == old
    return None if same else new


def date_errors(**fields: tuple[datetime.date | datetime.datetime | None, DateRange]) -> dict[str, list[str]]:
    """Field name → message, for each ``name=(value, range)`` whose value lies outside its range."""
    errors: dict[str, list[str]] = {}
    for name, (value, allowed) in fields.items():
        message = allowed.error(value)
        if message:
            errors[name] = [message]
    return errors


def length_errors(**fields: tuple[str | None, int]) -> dict[str, list[str]]:
    """Field name → message, for each ``name=(text, limit)`` longer than its limit in characters."""
    errors: dict[str, list[str]] = {}
    for name, (text, limit) in fields.items():
        if text is not None and len(text) > limit:
            errors[name] = [f"This can be at most {limit:,} characters long; it is {len(text):,}."]
    return errors


def check_dates(**fields: tuple[datetime.date | datetime.datetime | None, DateRange]) -> None:
    """Raise RuleViolation naming every field whose date lies outside its range."""
    _raise(date_errors(**fields))


def check_lengths(**fields: tuple[str | None, int]) -> None:
    """Raise RuleViolation naming every field whose text is longer than its limit."""
    _raise(length_errors(**fields))


def check_credential(credential: str, *, field: str = "credential") -> None:
    """A credential longer than ``CREDENTIAL_BYTES`` (UTF-8) is refused before it is encrypted."""
    size = len((credential or "").encode("utf-8"))
    if size > CREDENTIAL_BYTES:
        message = f"The credential can be at most {CREDENTIAL_BYTES:,} bytes (8 KiB); this one is {size:,} bytes."
        raise RuleViolation(message, errors={field: [message]})


def length_checks(model: str, limits: dict[str, int]) -> list[models.CheckConstraint]:
    """Database CheckConstraints that no text of ``limits`` (field → limit) is longer than its limit.

    Named ``<model>_<field>_max_length``; counted in characters, as the validators count.
    """
    return [
        models.CheckConstraint(condition=LessThanOrEqual(Length(field), limit), name=f"{model}_{field}_max_length")
        for field, limit in limits.items()
    ]


# --- Helpers ----------------------------------------------------------------------------


def _raise(errors: dict[str, list[str]]) -> None:
    if errors:
        raise RuleViolation(next(iter(errors.values()))[0], errors=errors)


def _today() -> datetime.date:
    return timezone.localdate()


def _years_from(day: datetime.date, years: int) -> datetime.date:
    """The same day ``years`` later (earlier when negative); 29 February becomes the 28th in other years."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _aware(value: datetime.datetime) -> datetime.datetime:
    return value if timezone.is_aware(value) else timezone.make_aware(value)


def _day(day: datetime.date, today: datetime.date) -> str:
    """27 Nov 2026, the portal's date format, marked "(today)" on today."""
    text = f"{day.day} {day:%b %Y}"
    return f"{text} (today)" if day == today else text
