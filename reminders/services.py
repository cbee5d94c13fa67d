"""Services of the reminders app: keeping deadlines in step, the scan, delivery, preferences.

How a reminder travels:

1. ``deadline_sync`` (called by the owning app's service, in its transaction)
   stores the deadline and sets ``next_reminder_at`` to its first reminder time.
2. ``reminders_scan`` (Celery beat, every few minutes) reads only deadlines whose
   ``next_reminder_at`` has passed, inserts one ``Reminder`` row per person for
   the current stage (the unique constraint drops duplicates), moves
   ``next_reminder_at`` to the next stage, and after commit enqueues one
   delivery task per pending reminder.
3. ``reminder_deliver`` (a worker) claims the row with
   ``UPDATE ... WHERE status='pending'`` and goes on only if it changed exactly
   one row, sends, and marks it sent. A failure releases the claim for a retry;
   a worker that dies leaves a claim that the scan frees after a timeout.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F, Model, QuerySet
from django.utils import timezone

from accounts.permissions import require
from audit.models import AuditEvent
from audit.services import audit_record
from core.errors import TransitionNotAllowed
from reminders.deadlines import DeadlineSpec
from reminders.emails import delivery_message_id, send_templated_email
from reminders.models import (
    Deadline,
    DeliveryStatus,
    Digest,
    EmailPreference,
    EmailStatus,
    Notification,
    Reminder,
    ReminderPreference,
)
from reminders.queue import enqueue_on_commit, enqueue_once_on_commit
from reminders.selectors import days_until

logger = logging.getLogger(__name__)

# After this many failed attempts a delivery is marked failed (visible in the admin) instead of retried forever.
MAX_ATTEMPTS = 8


# --- Stages -------------------------------------------------------------------------


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


# --- Keeping deadlines in step with their owners -----------------------------------------


def deadline_sync(*, owner: Model, specs: Iterable[DeadlineSpec]) -> list[Deadline]:
    """Make the owner's stored deadlines equal to ``specs``.

    Call it in the owning service's transaction. New kinds are created; a
    changed due date (or a reopened deadline) bumps ``revision`` and re-arms
    its reminders, cancelling the pending ones of the old date; kinds no
    longer listed are closed, which cancels their pending reminders. Someone
    newly added as a recipient gets the current stage's reminder at the next
    scan. Returns the open deadlines of the owner.
    """
    owner_type = ContentType.objects.get_for_model(owner, for_concrete_model=True)
    wanted = {spec.kind: spec for spec in specs}
    now = timezone.now()
    result: list[Deadline] = []
    due_now = False
    with transaction.atomic():
        existing = {
            d.kind: d for d in Deadline.objects.select_for_update().filter(owner_type=owner_type, owner_id=owner.pk)
        }
        for kind, deadline in existing.items():
            if kind not in wanted and deadline.is_open:
                deadline.is_open = False
                deadline.closed_at = now
                deadline.next_reminder_at = None
                deadline.save(update_fields=["is_open", "closed_at", "next_reminder_at", "updated_at"])
                _cancel_pending(deadline, keep_revision=None)
        for kind, spec in wanted.items():
            deadline = existing.get(kind)
            recipient_ids = {user.pk for user in spec.recipients}
            if deadline is None:
                deadline = Deadline.objects.create(
                    owner_type=owner_type,
                    owner_id=owner.pk,
                    kind=kind,
                    title=spec.title[:300],
                    url=spec.url,
                    due_at=spec.due_at,
                    organisation=spec.organisation,
                    next_reminder_at=first_stage_time(spec.due_at),
                )
            else:
                rearm = deadline.due_at != spec.due_at or not deadline.is_open
                before_ids = set(deadline.recipients.values_list("pk", flat=True))
                changed = (
                    rearm
                    or deadline.title != spec.title[:300]
                    or deadline.url != spec.url
                    or deadline.organisation_id != getattr(spec.organisation, "pk", None)
                )
                if rearm:
                    deadline.revision += 1
                    deadline.next_reminder_at = first_stage_time(spec.due_at)
                elif recipient_ids - before_ids and deadline.next_reminder_at is None:
                    # A newcomer after the overdue stage: let the scan create their reminder (others' are kept
                    # once by the unique constraint).
                    deadline.next_reminder_at = first_stage_time(spec.due_at)
                    changed = True
                elif recipient_ids - before_ids:
                    deadline.next_reminder_at = min(deadline.next_reminder_at, first_stage_time(spec.due_at))
                    changed = True
                if changed:
                    deadline.due_at = spec.due_at
                    deadline.title = spec.title[:300]
                    deadline.url = spec.url
                    deadline.organisation = spec.organisation
                    deadline.is_open = True
                    deadline.closed_at = None
                    deadline.save()
                if rearm:
                    _cancel_pending(deadline, keep_revision=deadline.revision)
            deadline.recipients.set(recipient_ids)
            deadline.escalate_to.set([user.pk for user in spec.escalate_to])
            if deadline.next_reminder_at is not None and deadline.next_reminder_at <= now:
                due_now = True
            result.append(deadline)
    if due_now:
        # Something is due already (a deadline created close to its date): do not wait for beat.
        from reminders.tasks import scan

        enqueue_once_on_commit(scan)
    return result


def _cancel_pending(deadline: Deadline, *, keep_revision: int | None) -> None:
    pending = Reminder.objects.filter(deadline=deadline, status=DeliveryStatus.PENDING)
    if keep_revision is not None:
        pending = pending.exclude(revision=keep_revision)
    pending.update(status=DeliveryStatus.CANCELLED, last_error="Deadline moved or closed before delivery.")


# --- The scan --------------------------------------------------------------------------


@dataclass
class ScanResult:
    deadlines: int = 0
    reminders_created: int = 0
    digests_created: int = 0
    stale_claims_freed: int = 0
    reminders_enqueued: int = 0
    digests_enqueued: int = 0


def due_deadlines_query(*, now: datetime, batch_size: int) -> QuerySet[Deadline]:
    """The scan's one read of the deadline table: served by the partial index deadline_next_reminder_idx.

    Rows are locked and locked rows skipped, so concurrent scans split the work instead of waiting.
    """
    return (
        Deadline.objects.filter(is_open=True, next_reminder_at__isnull=False, next_reminder_at__lte=now)
        .order_by("next_reminder_at")
        .select_for_update(skip_locked=True, of=("self",))
        .only("id", "due_at", "revision", "next_reminder_at")[:batch_size]
    )


def reminders_scan(*, now: datetime | None = None, batch_size: int = 5000) -> ScanResult:
    """Create the reminders and digests that are due and enqueue their delivery after commit.

    Safe to run twice or concurrently: rows are inserted with the unique
    constraint deciding, and delivery claims each row before sending. Every
    query reads a partial index, so the cost follows what is due, not how
    many deadlines exist.
    """
    now = now or timezone.now()
    result = ScanResult()
    with transaction.atomic():
        due = list(due_deadlines_query(now=now, batch_size=batch_size))
        result.deadlines = len(due)
        if due:
            result.reminders_created = _create_reminders(due, now)
        result.stale_claims_freed = _free_stale_claims(now)
        if now.hour >= settings.REMINDER_DIGEST_HOUR_UTC:
            result.digests_created = _create_digests(now)
        from reminders.tasks import deliver_digest, deliver_reminder

        reminder_ids = list(
            Reminder.objects.filter(status=DeliveryStatus.PENDING)
            .order_by("send_at")
            .values_list("id", flat=True)[:batch_size]
        )
        digest_ids = list(
            Digest.objects.filter(status=DeliveryStatus.PENDING).values_list("id", flat=True)[:batch_size]
        )
        for reminder_id in reminder_ids:
            enqueue_on_commit(deliver_reminder, reminder_id)
        for digest_id in digest_ids:
            enqueue_on_commit(deliver_digest, digest_id)
        result.reminders_enqueued = len(reminder_ids)
        result.digests_enqueued = len(digest_ids)
    return result


def _create_reminders(due: list[Deadline], now: datetime) -> int:
    through = Deadline.recipients.through
    people: dict[int, list[int]] = {}
    for deadline_id, user_id in through.objects.filter(
        deadline_id__in=[d.pk for d in due], user__is_active=True
    ).values_list("deadline_id", "user_id"):
        people.setdefault(deadline_id, []).append(user_id)
    rows = []
    for deadline in due:
        stage = current_stage(deadline.due_at, now)
        if stage is not None:
            for user_id in people.get(deadline.pk, []):
                rows.append(
                    Reminder(
                        deadline_id=deadline.pk,
                        revision=deadline.revision,
                        offset_days=stage,
                        recipient_id=user_id,
                        send_at=stage_time(deadline.due_at, stage),
                    )
                )
        deadline.next_reminder_at = next_stage_time(deadline.due_at, now)
    before = Reminder.objects.filter(status=DeliveryStatus.PENDING).count() if rows else 0
    Reminder.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    Deadline.objects.bulk_update(due, ["next_reminder_at"], batch_size=1000)
    if not rows:
        return 0
    return Reminder.objects.filter(status=DeliveryStatus.PENDING).count() - before


def _free_stale_claims(now: datetime) -> int:
    """A worker that died after claiming left its row 'claimed': make it pending again after the timeout."""
    cutoff = now - timedelta(minutes=settings.REMINDER_CLAIM_TIMEOUT_MINUTES)
    note = "Claim expired (the worker stopped before finishing); delivering again."
    freed = Reminder.objects.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff).update(
        status=DeliveryStatus.PENDING, claimed_at=None, last_error=note
    )
    freed += Digest.objects.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff).update(
        status=DeliveryStatus.PENDING, claimed_at=None, last_error=note
    )
    return freed


def _create_digests(now: datetime) -> int:
    today = now.date()
    escalated = Deadline.escalate_to.through.objects.filter(
        deadline__is_open=True, deadline__due_at__lt=now, user__is_active=True
    )
    overdue_people = set(escalated.values_list("user_id", flat=True).distinct())
    digest_people = set(
        Reminder.objects.filter(email_status=EmailStatus.AWAITING_DIGEST, digest__isnull=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    rows = [Digest(recipient_id=uid, kind=Digest.Kind.OVERDUE, day=today) for uid in overdue_people]
    rows += [Digest(recipient_id=uid, kind=Digest.Kind.REMINDERS, day=today) for uid in digest_people]
    if not rows:
        return 0
    before = Digest.objects.filter(day=today).count()
    Digest.objects.bulk_create(rows, ignore_conflicts=True)
    return Digest.objects.filter(day=today).count() - before


# --- Delivery ----------------------------------------------------------------------------


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
                context={"person": person, "deadline": deadline, "reminder": reminder, "title": title, "body": body},
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
            mine.update(status=DeliveryStatus.CANCELLED, last_error="Email turned off before the digest went out.")
            return "cancelled"
        # Attach the waiting reminders to this digest first, so a retry sends the same list.
        Reminder.objects.filter(recipient=person, email_status=EmailStatus.AWAITING_DIGEST, digest__isnull=True).update(
            digest=digest
        )
        items = list(digest.reminders.select_related("deadline").order_by("deadline__due_at"))
        template, title = "reminder-digest", f"Your reminders: {len(items)} deadline{'s' if len(items) != 1 else ''}"
    if not items:
        mine.update(status=DeliveryStatus.CANCELLED, last_error="Nothing left to report.")
        return "cancelled"
    try:
        send_templated_email(
            name=template,
            to=person.email,
            context={"person": person, "items": items, "title": title, "day": digest.day},
            connection=connection,
            message_id=delivery_message_id("digest", digest.pk),
        )
    except Exception as exc:
        _release(Digest, digest_id, claimed_at, exc)
        raise
    with transaction.atomic():
        done = mine.update(status=DeliveryStatus.SENT, sent_at=now, item_count=len(items), last_error="")
        if done == 1:
            if digest.kind == Digest.Kind.REMINDERS:
                digest.reminders.update(email_status=EmailStatus.IN_DIGEST, emailed_at=now)
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


# --- Notifications, preferences and the calendar feed ---------------------------------------


def notification_mark_read(*, user: Any, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read (idempotent)."""
    require(user, "notification.read", notification)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    require(user, "notification.read_all")
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def preference_update(*, user: Any, email: str, request: Any = None) -> ReminderPreference:
    """Set how the user gets reminder emails (overdue escalations to leads are always emailed)."""
    require(user, "reminder_preference.edit", user)
    with transaction.atomic():
        preference, _ = ReminderPreference.objects.select_for_update().get_or_create(user=user)
        before = preference.email
        if before != email:
            preference.email = email
            preference.save(update_fields=["email", "updated_at"])
            audit_record(
                actor=user,
                action=AuditEvent.Action.CHANGE,
                obj=preference,
                changes={"email": {"from": before, "to": email}},
                request=request,
                summary=f"Reminder emails: {preference.get_email_display()}",
            )
    return preference


def hash_calendar_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def calendar_token_issue(*, user: Any, request: Any = None) -> str:
    """A new secret calendar feed token for the user (the old one stops working). Shown once; stored hashed."""
    require(user, "reminder_preference.edit", user)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        preference, _ = ReminderPreference.objects.select_for_update().get_or_create(user=user)
        replaced = preference.has_calendar_feed
        preference.calendar_token_hash = hash_calendar_token(token)
        preference.calendar_token_created_at = timezone.now()
        preference.save(update_fields=["calendar_token_hash", "calendar_token_created_at", "updated_at"])
        audit_record(
            actor=user,
            action=AuditEvent.Action.CREATE,
            obj=preference,
            request=request,
            summary="Calendar feed address replaced" if replaced else "Calendar feed address created",
        )
    return token


def calendar_token_revoke(*, user: Any, request: Any = None) -> bool:
    """Stop the user's calendar feed address from working. False when there was none."""
    require(user, "reminder_preference.edit", user)
    with transaction.atomic():
        preference = ReminderPreference.objects.select_for_update().filter(user=user).first()
        if preference is None or not preference.has_calendar_feed:
            return False
        preference.calendar_token_hash = None
        preference.calendar_token_created_at = None
        preference.save(update_fields=["calendar_token_hash", "calendar_token_created_at", "updated_at"])
        audit_record(
            actor=user,
            action=AuditEvent.Action.CHANGE,
            obj=preference,
            request=request,
            summary="Calendar feed revoked",
        )
    return True
