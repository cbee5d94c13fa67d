"""Read-side queries of the reminders app."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.paginator import Page
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.permissions import actor_for, scope
from core import pagination
from core.lists import Column, Sorts
from core.pagination import CappedPaginator, count_display
from reminders.models import Deadline, EmailPreference, Notification, ReminderPreference, deadline_involves


def deadlines_for_person(user: Any) -> QuerySet[Deadline]:
    """Open deadlines the user must act on or is told about when overdue — their own, even for admins —
    soonest first.

    Read through the policy's scope, so a person who lost their membership sees nothing. Everyone
    but an admin is scoped to the deadlines that involve them already; an admin's scope is every
    deadline, so theirs is narrowed to their own here. (Filtering everyone twice made PostgreSQL
    test both through tables twice for each open deadline.)
    """
    actor = actor_for(user)
    if actor is None:
        return Deadline.objects.none()
    own = scope(Deadline.objects.filter(is_open=True), user)
    if actor.is_admin:
        own = own.filter(deadline_involves(user.pk))
    return own.order_by("due_at", "pk")


@dataclass
class DeadlineRow:
    deadline: Deadline
    days_left: int  # negative when overdue

    @property
    def is_overdue(self) -> bool:
        return self.days_left < 0


@dataclass
class DeadlinePage:
    """One page of My deadlines: its rows, the page (for the page links) and how many of all the
    deadlines shown by the filter are overdue."""

    page_obj: Page
    rows: list[DeadlineRow]
    overdue_count: int
    overdue_display: str  # "12", or "more than 1,000"


# What the My deadlines table shows of each deadline.
MY_DEADLINES_COLUMNS = ("due_at", "title", "url", "kind", "organisation__name")

# My deadlines' columns and sorts, each read off a partial index of open deadlines, either way:
# deadline_open_due_id_idx, deadline_open_title_idx and deadline_open_kind_idx.
DEADLINE_SORTS = Sorts(
    (
        Column("due", "Due", ("due_at", "pk"), up="soonest first", down="latest first"),
        Column("days_left", "Days left"),
        Column("title", "What", ("title", "due_at", "pk")),
        Column("kind", "Kind", ("kind", "due_at", "pk")),
        Column("company", "Company"),
    ),
    default="due",
)
# Notifications: newest first on notification_list_idx, or oldest first (the same index backwards).
NOTIFICATION_SORTS = Sorts(
    (),
    default="newest",
    named={"newest": ("Newest first", ("-created_at", "-id")), "oldest": ("Oldest first", ("created_at", "id"))},
)


def my_deadline_rows(*, user: Any, show: str = "all", q: str = "", sort: str = "", now: datetime | None = None):
    """The user's open deadlines that ``show`` (all, upcoming or overdue) and the search ``q`` (words of
    the title, in any case) select, in the order of ``sort`` (a key of ``DEADLINE_SORTS``)."""
    now = now or timezone.now()
    qs = deadlines_for_person(user)
    if show == "upcoming":
        qs = qs.filter(due_at__gte=now)
    elif show == "overdue":
        qs = qs.filter(due_at__lt=now)
    if q:
        qs = qs.filter(title__icontains=q)
    return qs.order_by(*DEADLINE_SORTS.order_by(sort))


def my_deadlines(
    *,
    user: Any,
    show: str = "all",
    q: str = "",
    sort: str = "",
    page: Any = None,
    per_page: int = 50,
    now: datetime | None = None,
) -> DeadlinePage:
    """The ``page``-th page of the user's open deadlines with days left; ``show`` is all, upcoming or
    overdue. Two queries whatever the number of deadlines: one counts the rows and the overdue ones
    together (``_bounded_counts``), one reads the page's rows (only the columns shown) by the keys
    a subquery finds on the sort's index. Both counts
    stop at the lists' cap (core/pagination.py): an admin, told of every deadline, would otherwise
    count them all on each visit. A missing or out-of-range ``page`` gives the nearest page, as every list does.
    """
    now = now or timezone.now()
    qs = my_deadline_rows(user=user, show=show, q=q, sort=sort, now=now)
    # The page's keys first, then its rows: the keys come off the sort's index alone (it holds the
    # key), so the deadlines passed over on the way to this person's are never read from the table
    # (for an evaluator, ten thousand of them before the first page of fifty).
    shown = qs.values_list("pk", flat=True)
    if show == "upcoming":
        page_obj = CappedPaginator(shown, per_page).get_page(page)
        overdue, capped = 0, False
    elif show == "overdue":
        page_obj = CappedPaginator(shown, per_page).get_page(page)
        overdue, capped = page_obj.paginator.count, page_obj.paginator.is_capped
    else:  # all, as my_deadline_rows reads any other value
        total, overdue = _bounded_counts(qs, now)
        page_obj = CappedPaginator(shown, per_page, bounded_count=total).get_page(page)
        overdue, capped = min(overdue, pagination.COUNT_CAP), overdue > pagination.COUNT_CAP
    page_rows = (
        Deadline.objects.filter(pk__in=page_obj.object_list)
        .select_related("organisation")
        .only(*MY_DEADLINES_COLUMNS)
        .order_by(*DEADLINE_SORTS.order_by(sort))
    )
    rows = [DeadlineRow(deadline=d, days_left=days_until(d.due_at, now)) for d in page_rows]
    return DeadlinePage(
        page_obj=page_obj, rows=rows, overdue_count=overdue, overdue_display=count_display(overdue, capped)
    )


def _bounded_counts(qs: QuerySet[Deadline], now: datetime) -> tuple[int, int]:
    """How many of ``qs`` there are and how many are overdue, each up to the cap + 1, in ONE query.

    It reads the first cap + 1 rows soonest due first (the index of open deadlines by due date):
    every overdue deadline comes before every other, so among those rows the overdue count is right
    up to the cap as well.
    """
    first = qs.order_by("due_at", "pk").values("pk", "due_at")[: pagination.COUNT_CAP + 1]
    counts = first.aggregate(total=Count("pk"), overdue=Count("pk", filter=Q(due_at__lt=now)))
    return counts["total"], counts["overdue"]


def days_until(due_at: datetime, now: datetime) -> int:
    """Whole days left, rounded up (1 day 2 hours is "2 days"); negative once overdue (rounded away from 0)."""
    seconds = (due_at - now).total_seconds()
    days = math.ceil(abs(seconds) / 86400)
    return days if seconds >= 0 else -days


def notifications_for(user: Any, *, unread_only: bool = False, q: str = "", sort: str = "") -> QuerySet[Notification]:
    """The user's notifications (unread only, or those whose title holds ``q`` in any case), newest
    first unless ``sort`` (a key of ``NOTIFICATION_SORTS``) says otherwise."""
    qs = scope(Notification.objects.all(), user)
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if q:
        qs = qs.filter(title__icontains=q)
    return qs.order_by(*NOTIFICATION_SORTS.order_by(sort))


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
    feed = deadlines_for_person(user).only("public_id", "kind", "title", "url", "due_at", "revision", "updated_at")
    for deadline in feed:
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
