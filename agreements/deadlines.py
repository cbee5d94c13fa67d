"""The deadlines an agreement owns, described for the reminders app.

Services call ``deadline_sync(owner=..., specs=...)`` with these lists in the
same transaction as the change that moved a date or a state; an empty list
closes the deadline (a resolved open point, a signed or withdrawn agreement).
"""

from __future__ import annotations

import datetime
import zoneinfo

from django.conf import settings
from django.urls import reverse

from accounts.models import Role, User
from agreements.models import Agreement, OpenPoint, SignatureSide
from reminders.deadlines import DeadlineSpec
from reminders.models import DeadlineKind


def end_of_day(day: datetime.date) -> datetime.datetime:
    """A date-only deadline falls due at the end of that day in the centre's time zone (stored as UTC)."""
    local = datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    return local.astimezone(datetime.UTC)


def programme_admins() -> list[User]:
    return list(User.objects.filter(is_active=True, membership__role=Role.PROGRAMME_ADMIN))


def company_liaisons(agreement: Agreement) -> list[User]:
    return list(
        User.objects.filter(
            is_active=True, membership__role=Role.LIAISON, membership__organisation_id=agreement.organisation_id
        )
    )


def agreement_deadline_specs(agreement: Agreement) -> list[DeadlineSpec]:
    """The signature deadline, while the agreement awaits a signature that is still missing."""
    if not agreement.awaits_signature or agreement.signature_due is None:
        return []
    signed_sides = set(agreement.signatures.filter(voided_at__isnull=True).values_list("side", flat=True))
    recipients: list[User] = []
    if SignatureSide.COMPANY not in signed_sides:
        recipients += company_liaisons(agreement)
    if SignatureSide.CENTRE not in signed_sides and agreement.created_by is not None:
        recipients.append(agreement.created_by)
    if not recipients:
        return []
    return [
        DeadlineSpec(
            kind=DeadlineKind.SIGNATURE_DUE,
            due_at=end_of_day(agreement.signature_due),
            title=f"Sign {agreement.reference} — {agreement.title}",
            recipients=recipients,
            url=reverse("agreements:detail", kwargs={"reference": agreement.reference}),
            organisation=agreement.organisation,
            escalate_to=programme_admins(),
        )
    ]


def open_point_deadline_specs(point: OpenPoint) -> list[DeadlineSpec]:
    """The due date of an open point, while it is open and its agreement is still being negotiated."""
    agreement = point.agreement
    if not point.is_open or not agreement.is_open:
        return []
    return [
        DeadlineSpec(
            kind=DeadlineKind.OPEN_POINT_DUE,
            due_at=end_of_day(point.due_date),
            title=f"{agreement.reference}: {point.title}",
            recipients=[point.owner],
            url=reverse("agreements:detail", kwargs={"reference": agreement.reference}) + "#open-points",
            organisation=agreement.organisation,
            escalate_to=programme_admins(),
        )
    ]
