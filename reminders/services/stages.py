"""The stages of a deadline's reminders: days before the due date, then overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings

from reminders.models import Reminder


def reminder_stages() -> list[int]:
    """Offsets in days, earliest reminder first, ending with 0 (overdue)."""
    return [*sorted(set(settings.REMINDER_OFFSETS_DAYS), reverse=True), Reminder.OVERDUE]


def stage_time(due_at: datetime, offset_days: int) -> datetime:
    return due_at - timedelta(days=offset_days)


def current_stage(due_at: datetime, now: datetime) -> int | None:
    """The latest stage whose time has come (earlier, missed stages are not sent late)."""
    reached = None
    for offset in reminder_stages():
        if stage_time(due_at, offset) <= now:
            reached = offset
    return reached


def next_stage_time(due_at: datetime, now: datetime) -> datetime | None:
    """When the next stage after ``now`` falls, or None once the overdue reminder is behind us."""
    for offset in reminder_stages():
        moment = stage_time(due_at, offset)
        if moment > now:
            return moment
    return None


def first_stage_time(due_at: datetime) -> datetime:
    return stage_time(due_at, reminder_stages()[0])
