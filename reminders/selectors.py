"""Read-side queries of the reminders app."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.permissions import actor_for, scope
from reminders.models import Deadline, EmailPreference, Notification, ReminderPreference


def deadlines_for_person(user: Any) -> QuerySet[Deadline]:
    """Open deadlines the user must act on or is told about when overdue — their own, even for admins.

    Intersected with the policy's scope, so a person who lost their membership sees nothing.
    """
    own = Q(recipients=user) | Q(escalate_to=user)
    ids = Deadline.objects.filter(own, is_open=True).values("pk")
    return scope(Deadline.objects.filter(pk__in=ids), user).select_related("organisation").order_by("due_at")


@dataclass
class DeadlineRow:
    deadline: Deadline
    days_left: int  # negative when overdue

    @property
    def is_overdue(self) -> bool:
        return self.days_left < 0


def my_deadlines(*, user: Any, show: str = "all", now: datetime | None = None) -> list[DeadlineRow]:
    """The user's open deadlines with days left; ``show`` is all, upcoming or overdue."""
    now = now or timezone.now()
    qs = deadlines_for_person(user)
    if show == "upcoming":
        qs = qs.filter(due_at__gte=now)
    elif show == "overdue":
        qs = qs.filter(due_at__lt=now)
    return [DeadlineRow(deadline=deadline, days_left=days_until(deadline.due_at, now)) for deadline in qs]


def days_until(due_at: datetime, now: datetime) -> int:
    """Whole days left, rounded up (1 day 2 hours is "2 days"); negative once overdue (rounded away from 0)."""
    seconds = (due_at - now).total_seconds()
    days = math.ceil(abs(seconds) / 86400)
    return days if seconds >= 0 else -days


def notifications_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    qs = scope(Notification.objects.all(), user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_notification_count(user: Any) -> int:
    """One indexed COUNT for the header."""
    if actor_for(user) is None:
        return 0
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def preference_of(user: Any) -> ReminderPreference:
    """The user's preference (unsaved default when they never chose)."""
    return ReminderPreference.objects.filter(user=user).first() or ReminderPreference(
        user=user, email=EmailPreference.IMMEDIATE
    )


def hash_calendar_token(token: str) -> str:
    """What is stored of a calendar feed token, and looked up when the feed is asked for."""
    return hashlib.sha256(token.encode()).hexdigest()


def user_for_calendar_token(token: str) -> Any | None:
    """The active user whose calendar feed token this is, or None."""
    if not token or len(token) > 100:
        return None
    preference = (
        ReminderPreference.objects.select_related("user")
        .filter(calendar_token_hash=hash_calendar_token(token), user__is_active=True)
        .first()
    )
    return preference.user if preference else None


def calendar_feed(user: Any) -> bytes:
    """The user's open deadlines as an iCalendar document (one VEVENT each, with an alarm)."""
    from icalendar import Alarm, Calendar, Event

    site = settings.SITE_URL.rstrip("/")
    calendar = Calendar()
    calendar.add("prodid", "-//Review Portal//Deadlines//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Review Portal deadlines")
    calendar.add("x-published-ttl", "PT1H")
    stamp = timezone.now()
    for deadline in deadlines_for_person(user):
        event = Event()
        event.add("uid", f"{deadline.public_id}@review-portal")
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due_at)
        event.add("dtend", deadline.due_at)
        event.add("summary", f"{deadline.get_kind_display()}: {deadline.title}")
        event.add("sequence", deadline.revision)
        event.add("last-modified", deadline.updated_at)
        if deadline.url:
            event.add("url", f"{site}{deadline.url}")
            event.add("description", f"Open in Review Portal: {site}{deadline.url}")
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", deadline.title)
        alarm.add("trigger", timedelta(days=-1))
        event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()
