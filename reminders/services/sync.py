"""Keeping deadlines in step with the records that own them (``deadline_sync``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from reminders.deadlines import DeadlineSpec
from reminders.models import Deadline, DeliveryStatus, Notification, Reminder
from reminders.queue import SCAN, enqueue_once_on_commit
from reminders.services.stages import first_stage_time


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
                # Its reminders ("Due in 4 days: ...") are done with once the deadline is met or gone.
                Notification.objects.filter(reminder__deadline=deadline, read_at__isnull=True).update(read_at=now)
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
        enqueue_once_on_commit(SCAN)
    return result


def _cancel_pending(deadline: Deadline, *, keep_revision: int | None) -> None:
    pending = Reminder.objects.filter(deadline=deadline, status=DeliveryStatus.PENDING)
    if keep_revision is not None:
        pending = pending.exclude(revision=keep_revision)
    pending.update(status=DeliveryStatus.CANCELLED, last_error="Deadline moved or closed before delivery.")
