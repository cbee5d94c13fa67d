"""The scan: create the reminders and digests that are due, and enqueue their delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from reminders.models import Deadline, DeliveryStatus, Digest, EmailStatus, Handoff, Reminder
from reminders.queue import DELIVER_DIGEST, DELIVER_HANDOFF, DELIVER_REMINDER, enqueue_on_commit
from reminders.services.stages import current_stage, next_stage_time, stage_time


@dataclass
class ScanResult:
    deadlines: int = 0
    reminders_created: int = 0
    digests_created: int = 0
    stale_claims_freed: int = 0
    reminders_enqueued: int = 0
    digests_enqueued: int = 0
    handoffs_enqueued: int = 0


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
        reminder_ids = list(
            Reminder.objects.filter(status=DeliveryStatus.PENDING)
            .order_by("send_at")
            .values_list("id", flat=True)[:batch_size]
        )
        digest_ids = list(
            Digest.objects.filter(status=DeliveryStatus.PENDING).values_list("id", flat=True)[:batch_size]
        )
        # Hand-offs are published when their event commits; these are the ones whose message was
        # lost (a broker that was down) or whose claim was freed above.
        handoff_ids = list(
            Handoff.objects.filter(status=DeliveryStatus.PENDING)
            .order_by("created_at")
            .values_list("id", flat=True)[:batch_size]
        )
        for handoff_id in handoff_ids:
            enqueue_on_commit(DELIVER_HANDOFF, handoff_id)
        result.handoffs_enqueued = len(handoff_ids)
        for reminder_id in reminder_ids:
            enqueue_on_commit(DELIVER_REMINDER, reminder_id)
        for digest_id in digest_ids:
            enqueue_on_commit(DELIVER_DIGEST, digest_id)
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
    freed += Handoff.objects.filter(status=DeliveryStatus.CLAIMED, claimed_at__lt=cutoff).update(
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
    digest_people |= set(
        Handoff.objects.filter(email_status=EmailStatus.AWAITING_DIGEST, digest__isnull=True)
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
