"""Delivery: each reminder and digest claimed, sent at most once, and retried when it failed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Model
from django.utils import timezone

from accounts.permissions import require
from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import TransitionNotAllowed
from core.markings import marking_for_path, most_restrictive
from reminders.emails import delivery_message_id, send_templated_email
from reminders.models import (
    Deadline,
    DeliveryStatus,
    Digest,
    EmailPreference,
    EmailStatus,
    Handoff,
    Notification,
    Reminder,
    ReminderPreference,
)
from reminders.selectors import days_until

logger = logging.getLogger(__name__)

# After this many failed attempts a delivery is marked failed (visible in the admin) instead of retried forever.
MAX_ATTEMPTS = 8


def email_preference_for(user: Any) -> str:
    preference = ReminderPreference.objects.filter(user=user).values_list("email", flat=True).first()
    return preference or EmailPreference.IMMEDIATE


def reminder_text(reminder: Reminder, now: datetime) -> tuple[str, str]:
    """Title and one-line body of a reminder, as the recipient will read it."""
    deadline = reminder.deadline
    local_due = timezone.localtime(deadline.due_at, _zone(reminder.recipient))
    # The same readable form as the pages ("25 Nov 2026, 23:59 EST"), in the recipient's zone.
    when = f"{local_due.day} {local_due:%b %Y, %H:%M} {local_due.tzname()}"
    if reminder.offset_days == Reminder.OVERDUE:
        return f"Overdue: {deadline.title}", f"{deadline.get_kind_display()}: {when}, now past."
    if (deadline.due_at - now).total_seconds() < 86400:
        lead_in = "Due within a day"
    else:
        days = days_until(deadline.due_at, now)
        lead_in = f"Due in {days} day{'s' if days != 1 else ''}"
    return f"{lead_in}: {deadline.title}", f"{deadline.get_kind_display()}: {when}."


def _zone(user: Any):
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(user.time_zone or settings.TIME_ZONE)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _claim(model: type[Model], pk: int) -> datetime | None:
    """Claim one pending row; the claim time identifies our claim. None when someone else has it."""
    claimed_at = timezone.now()
    changed = model.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.CLAIMED, claimed_at=claimed_at, attempts=F("attempts") + 1
    )
    return claimed_at if changed == 1 else None


def _release(model: type[Model], pk: int, claimed_at: datetime, error: BaseException) -> None:
    """Hand a failed claim back (pending, for a retry), or give up after MAX_ATTEMPTS."""
    mine = model.objects.filter(pk=pk, status=DeliveryStatus.CLAIMED, claimed_at=claimed_at)
    message = f"{type(error).__name__}: {error}"[:500]
    if mine.filter(attempts__gte=MAX_ATTEMPTS).update(status=DeliveryStatus.FAILED, last_error=message):
        logger.error("Giving up on %s %s after %s attempts: %s", model.__name__, pk, MAX_ATTEMPTS, message)
        return
    mine.update(status=DeliveryStatus.PENDING, claimed_at=None, last_error=message)


def reminder_deliver(*, reminder_id: int, connection: Any = None) -> str:
    """Deliver one reminder at most once: in-app notification plus email as the person prefers.

    Returns what happened: ``sent``, ``cancelled`` or ``not_claimed`` (another
    worker has it, or it is already done). Transport errors release the claim
    and are raised again so the task can retry with backoff.
    """
    claimed_at = _claim(Reminder, reminder_id)
    if claimed_at is None:
        return "not_claimed"
    reminder = Reminder.objects.select_related("deadline", "recipient").get(pk=reminder_id)
    deadline, person = reminder.deadline, reminder.recipient
    still_wanted = (
        deadline.is_open
        and deadline.revision == reminder.revision
        and person.is_active
        and deadline.recipients.filter(pk=person.pk).exists()
    )
    if not still_wanted:
        Reminder.objects.filter(pk=reminder_id, status=DeliveryStatus.CLAIMED, claimed_at=claimed_at).update(
            status=DeliveryStatus.CANCELLED, last_error="Deadline moved or closed, or person no longer concerned."
        )
        return "cancelled"
    now = timezone.now()
    title, body = reminder_text(reminder, now)
    preference = email_preference_for(person)
    email_status, emailed_at = {
        EmailPreference.IMMEDIATE: (EmailStatus.SENT, now),
        EmailPreference.DIGEST: (EmailStatus.AWAITING_DIGEST, None),
        EmailPreference.OFF: (EmailStatus.OFF, None),
    }[preference]
    if preference == EmailPreference.IMMEDIATE:
        try:
            send_templated_email(
                name="reminder",
                to=person.email,
                context={
                    "person": person,
                    "deadline": deadline,
                    "reminder": reminder,
                    "title": title,
                    "body": body,
                    "marking": marking_for_path(deadline.url),
                },
                connection=connection,
                message_id=delivery_message_id("reminder", reminder.pk),
            )
        except Exception as exc:
            _release(Reminder, reminder_id, claimed_at, exc)
            raise
    with transaction.atomic():
        done = Reminder.objects.filter(pk=reminder_id, status=DeliveryStatus.CLAIMED, claimed_at=claimed_at).update(
            status=DeliveryStatus.SENT, sent_at=now, email_status=email_status, emailed_at=emailed_at, last_error=""
        )
        if done == 1:
            Notification.objects.get_or_create(
                reminder=reminder,
                defaults={"recipient": person, "title": title[:300], "body": body, "url": deadline.url},
            )
    return "sent"


def digest_deliver(*, digest_id: int, connection: Any = None) -> str:
    """Send one daily digest at most once. The overdue digest is always emailed (it escalates)."""
    claimed_at = _claim(Digest, digest_id)
    if claimed_at is None:
        return "not_claimed"
    digest = Digest.objects.select_related("recipient").get(pk=digest_id)
    person = digest.recipient
    now = timezone.now()
    mine = Digest.objects.filter(pk=digest_id, status=DeliveryStatus.CLAIMED, claimed_at=claimed_at)
    updates: list[Handoff] = []
    if digest.kind == Digest.Kind.OVERDUE:
        items = list(
            Deadline.objects.filter(is_open=True, due_at__lt=now, escalate_to=person)
            .select_related("organisation")
            .order_by("due_at")[:200]
        )
        template, title = "overdue-digest", f"{len(items)} overdue deadline{'s' if len(items) != 1 else ''}"
    else:
        if email_preference_for(person) == EmailPreference.OFF:
            Reminder.objects.filter(recipient=person, email_status=EmailStatus.AWAITING_DIGEST).update(
                email_status=EmailStatus.OFF
            )
            Handoff.objects.filter(recipient=person, email_status=EmailStatus.AWAITING_DIGEST).update(
                email_status=EmailStatus.OFF
            )
            mine.update(status=DeliveryStatus.CANCELLED, last_error="Email turned off before the digest went out.")
            return "cancelled"
        # Attach the waiting reminders to this digest first, so a retry sends the same list.
        Reminder.objects.filter(recipient=person, email_status=EmailStatus.AWAITING_DIGEST, digest__isnull=True).update(
            digest=digest
        )
        # The hand-offs of the day (a finding released, a ticket approved...) go in the same email.
        Handoff.objects.filter(recipient=person, email_status=EmailStatus.AWAITING_DIGEST, digest__isnull=True).update(
            digest=digest
        )
        items = list(digest.reminders.select_related("deadline").order_by("deadline__due_at"))
        updates = list(digest.handoffs.order_by("created_at", "pk"))
        template, title = "reminder-digest", _digest_title(len(items), len(updates))
    if not items and not updates:
        mine.update(status=DeliveryStatus.CANCELLED, last_error="Nothing left to report.")
        return "cancelled"
    # The digest carries the most restrictive handling marking of the records it names.
    paths = {getattr(item, "deadline", item).url for item in items} | {update.url for update in updates}
    marking = most_restrictive(marking_for_path(path) for path in sorted(paths))
    try:
        send_templated_email(
            name=template,
            to=person.email,
            context={
                "person": person,
                "items": items,
                "updates": updates,
                "title": title,
                "day": digest.day,
                "marking": marking,
            },
            connection=connection,
            message_id=delivery_message_id("digest", digest.pk),
        )
    except Exception as exc:
        _release(Digest, digest_id, claimed_at, exc)
        raise
    with transaction.atomic():
        done = mine.update(status=DeliveryStatus.SENT, sent_at=now, item_count=len(items) + len(updates), last_error="")
        if done == 1:
            if digest.kind == Digest.Kind.REMINDERS:
                digest.reminders.update(email_status=EmailStatus.IN_DIGEST, emailed_at=now)
                digest.handoffs.update(email_status=EmailStatus.IN_DIGEST, emailed_at=now)
            else:
                from django.urls import reverse

                Notification.objects.get_or_create(
                    digest=digest,
                    defaults={
                        "recipient": person,
                        "title": title,
                        "body": "; ".join(d.title for d in items[:5]) + ("…" if len(items) > 5 else ""),
                        "url": reverse("reminders:my_deadlines") + "?show=overdue",
                    },
                )
    return "sent"


def _digest_title(deadlines: int, updates: int) -> str:
    """The digest's title ("Your reminders: 2 deadlines"), with the day's updates counted when there are any."""
    parts = []
    if deadlines or not updates:
        parts.append(f"{deadlines} deadline{'s' if deadlines != 1 else ''}")
    if updates:
        parts.append(f"{updates} update{'s' if updates != 1 else ''}")
    return "Your reminders: " + " and ".join(parts)


def delivery_retry(*, actor: Any, deliveries: Iterable[Reminder | Digest], request: Any = None) -> int:
    """Queue failed deliveries (reminders or digests) again for the next scan; returns how many.

    A programme admin's remedy once the cause of the failure is fixed. Only a
    delivery that failed (gave up after ``MAX_ATTEMPTS``) goes back to
    pending, with its attempts reset; if any given one did not fail, nothing
    is queued and ``TransitionNotAllowed`` names it. Each one is audited, in
    the same transaction. The scan then delivers it once, as any other.
    """
    require(actor, "delivery.retry")
    wanted = sorted(deliveries, key=lambda d: (d._meta.label, d.pk))
    with transaction.atomic():
        locked = [type(d).objects.select_for_update().get(pk=d.pk) for d in wanted]
        not_failed = [d for d in locked if d.status != DeliveryStatus.FAILED]
        if not_failed:
            named = "; ".join(f"{d} ({d.get_status_display().lower()})" for d in not_failed[:5])
            more = f" and {len(not_failed) - 5} more" if len(not_failed) > 5 else ""
            raise TransitionNotAllowed(
                f"Nothing was queued. Only failed deliveries can be delivered again; these did not fail: {named}{more}."
            )
        for delivery in locked:
            type(delivery).objects.filter(pk=delivery.pk, status=DeliveryStatus.FAILED).update(
                status=DeliveryStatus.PENDING, attempts=0, claimed_at=None
            )
            audit_record(
                actor=actor,
                action=AuditEvent.Action.TRANSITION,
                obj=delivery,
                summary=f"Queued again for delivery after it failed: {delivery.last_error or 'no error recorded'}"[
                    :500
                ],
                changes={
                    "status": {"from": DeliveryStatus.FAILED.value, "to": DeliveryStatus.PENDING.value},
                    "attempts": {"from": delivery.attempts, "to": 0},
                },
                request=request,
            )
    return len(locked)
