"""Services of the reminders app."""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from reminders.deadlines import DeadlineSpec
from reminders.models import Deadline


def deadline_sync(*, owner: Model, specs: Iterable[DeadlineSpec]) -> list[Deadline]:
    """Make the owner's stored deadlines equal to ``specs``.

    Call it in the owning service's transaction. New kinds are created; a
    changed due date bumps ``revision`` (re-arming reminders) and reopens the
    deadline; kinds no longer listed are closed, which cancels their pending
    reminders. Returns the open deadlines of the owner.
    """
    owner_type = ContentType.objects.get_for_model(owner, for_concrete_model=True)
    wanted = {spec.kind: spec for spec in specs}
    result: list[Deadline] = []
    with transaction.atomic():
        existing = {
            d.kind: d for d in Deadline.objects.select_for_update().filter(owner_type=owner_type, owner_id=owner.pk)
        }
        for kind, deadline in existing.items():
            if kind not in wanted and deadline.is_open:
                deadline.is_open = False
                deadline.closed_at = timezone.now()
                deadline.save(update_fields=["is_open", "closed_at", "updated_at"])
        for kind, spec in wanted.items():
            deadline = existing.get(kind)
            if deadline is None:
                deadline = Deadline.objects.create(
                    owner_type=owner_type,
                    owner_id=owner.pk,
                    kind=kind,
                    title=spec.title[:300],
                    url=spec.url,
                    due_at=spec.due_at,
                    organisation=spec.organisation,
                )
            else:
                if deadline.due_at != spec.due_at:
                    deadline.revision += 1
                deadline.due_at = spec.due_at
                deadline.title = spec.title[:300]
                deadline.url = spec.url
                deadline.organisation = spec.organisation
                deadline.is_open = True
                deadline.closed_at = None
                deadline.save()
            deadline.recipients.set(list(spec.recipients))
            deadline.escalate_to.set(list(spec.escalate_to))
            result.append(deadline)
    return result
