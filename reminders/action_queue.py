"""What the programme's admins must follow up now, for their action queue (``core.action_queue``).

(``reminders/queue.py`` is the one module that enqueues Celery tasks; this is the action queue.)

* every open deadline of the programme that is overdue, oldest first: a finding left unanswered,
  an open point or a signature past due, access or a window that should have ended;
* reminders, digests and hand-off messages whose delivery failed, to queue again once the cause
  is fixed (``delivery.retry``: the admin's "Deliver again" action, ``reminders.services.delivery_retry``).

Other people's overdue work is in their own queue under its own kind; the deadlines are the
admin's view across the programme.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from accounts.permissions import actionable, actor_for, scope
from core.action_queue import QueueItem, QueueSource, first_items, total
from reminders.models import Deadline, DeliveryStatus, Digest, Handoff, Reminder


def _deadline_item(deadline: Deadline) -> QueueItem:
    return QueueItem(
        kind="reminders.overdue",
        verb="Follow up the overdue deadline",
        reference=deadline.get_kind_display(),
        title=deadline.title,
        url=deadline.url or reverse("reminders:my_deadlines"),
        due_at=deadline.due_at,
        due_label="Was due",
        note=deadline.organisation.name if deadline.organisation else "",
    )


def _overdue(user: Any, now: datetime) -> QueueSource:
    rows = Deadline.objects.filter(is_open=True, due_at__lt=now).select_related("organisation")
    return QueueSource(
        kind="reminders.overdue",
        label="Overdue deadlines",
        rows=scope(rows, user),
        item=_deadline_item,
        more_url=reverse("reminders:my_deadlines") + "?show=overdue",
        due="due_at",
    )


def _reminder_item(reminder: Reminder) -> QueueItem:
    return QueueItem(
        kind="reminders.failed",
        verb="Fix the cause, then queue the reminder again",
        reference=f"Reminder to {reminder.recipient.email}",
        title=f"{reminder.stage_label}: {reminder.deadline.title}",
        url=reverse("admin:reminders_reminder_change", args=[reminder.pk]),
        note=reminder.last_error,
    )


def _digest_item(digest: Digest) -> QueueItem:
    return QueueItem(
        kind="reminders.failed_digest",
        verb="Fix the cause, then queue the digest again",
        reference=f"Digest to {digest.recipient.email}",
        title=f"{digest.get_kind_display()} of {digest.day:%d %b %Y}",
        url=reverse("admin:reminders_digest_change", args=[digest.pk]),
        note=digest.last_error,
    )


def _handoff_item(handoff: Handoff) -> QueueItem:
    return QueueItem(
        kind="reminders.failed_handoff",
        verb="Fix the cause, then queue the message again",
        reference=f"Update to {handoff.recipient.email}",
        title=handoff.title,
        url=reverse("admin:reminders_handoff_change", args=[handoff.pk]),
        note=handoff.last_error,
    )


def _failed(user: Any, model, item, kind: str, label: str) -> QueueSource:
    rows = model.objects.filter(status=DeliveryStatus.FAILED).select_related("recipient")
    if model is Reminder:
        rows = rows.select_related("deadline")
    name = model._meta.model_name
    return QueueSource(
        kind=kind,
        label=label,
        rows=actionable(rows, user, "delivery.retry"),
        item=item,
        more_url=reverse(f"admin:reminders_{name}_changelist") + f"?status__exact={DeliveryStatus.FAILED}",
    )


def queue_sources_for(*, actor: Any, now: datetime | None = None) -> list[QueueSource]:
    """The admin's programme-wide follow-ups; nobody else has any here (see the module's docstring)."""
    who = actor_for(actor)
    if who is None or not who.is_admin:
        return []
    return [
        _overdue(actor, now or timezone.now()),
        _failed(actor, Reminder, _reminder_item, "reminders.failed", "Failed reminders"),
        _failed(actor, Digest, _digest_item, "reminders.failed_digest", "Failed digests"),
        _failed(actor, Handoff, _handoff_item, "reminders.failed_handoff", "Failed hand-off messages"),
    ]


def queue_items_for(*, actor: Any, limit: int, now: datetime | None = None) -> list[QueueItem]:
    """The first ``limit`` follow-ups of ``actor``, the longest overdue first: one query per kind."""
    return first_items(queue_sources_for(actor=actor, now=now), limit)


def queue_count_for(*, actor: Any, now: datetime | None = None) -> int:
    """How many follow-ups ``actor`` has: one query."""
    return total(queue_sources_for(actor=actor, now=now), user=actor)
