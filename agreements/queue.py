"""The agreements work a person can act on now, for their action queue (``core.action_queue``).

Each kind of work is a move or an action of ``agreements.states`` that the policy lets the
person make (``actionable``: the same rule as the agreement page's buttons, ``agreements.actions``).

* a company liaison: agreements awaiting their company's signature, open points they own, and
  proposals from the centre that their company has not answered;
* a lead: agreements awaiting the centre's signature, and open points they own;
* a programme admin: agreements in force that expire within ``EXPIRING_DAYS`` (or have passed
  their expiry date and are still active).

A proposal "awaits" a side when it is the latest proposal or counter-proposal on its clause, the
other side made it, nobody has replied to it, and the agreement is still being made.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import actionable, actor_for
from agreements.deadlines import end_of_day
from agreements.models import Agreement, EntryKind, NegotiationEntry, OpenPoint, OpenPointStatus, Signature
from agreements.services.signatures import signature_side_for
from agreements.states import AGREEMENT_MOVES, OPEN_AGREEMENT_STATUSES
from core.action_queue import QueueItem, QueueSource, first_items, total

# An agreement in force "expires soon" from this many days before its expiry date.
EXPIRING_DAYS = 60

SIGN = AGREEMENT_MOVES["sign"]
EXPIRE = AGREEMENT_MOVES["expire"]
PROPOSAL_KINDS = (EntryKind.PROPOSAL, EntryKind.COUNTER_PROPOSAL)


def _day(value: datetime.date | None) -> datetime.datetime | None:
    return end_of_day(value) if value is not None else None


def _list_url(status: str = "") -> str:
    return reverse("agreements:list") + (f"?status={status}" if status else "")


def _agreement_item(kind: str, verb: str, url_name: str, due_label: str, due_field: str, anchor: str = ""):
    def item(agreement: Agreement) -> QueueItem:
        return QueueItem(
            kind=kind,
            verb=verb,
            reference=agreement.reference,
            title=agreement.title,
            url=reverse(url_name, kwargs={"reference": agreement.reference}) + anchor,
            due_at=_day(getattr(agreement, due_field)),
            due_label=due_label,
            note=agreement.organisation.name,
        )

    return item


def _to_sign(user: Any, side: str) -> QueueSource:
    signed = Signature.objects.filter(agreement_id=OuterRef("pk"), side=side)
    rows = Agreement.objects.filter(status__in=SIGN.sources).exclude(Exists(signed)).select_related("organisation")
    return QueueSource(
        kind="agreements.sign",
        label="Agreements to sign",
        rows=actionable(rows, user, SIGN.action),
        item=_agreement_item(
            "agreements.sign", "Sign the agreement", "agreements:sign", "Signature due", "signature_due"
        ),
        more_url=_list_url(SIGN.sources[0]),
        due="signature_due",
    )


def _point_item(point: OpenPoint) -> QueueItem:
    agreement = point.agreement
    return QueueItem(
        kind="agreements.open_point",
        verb="Settle the open point",
        reference=agreement.reference,
        title=point.title,
        url=reverse(
            "agreements:open_point_resolve", kwargs={"reference": agreement.reference, "point_id": point.public_id}
        ),
        due_at=_day(point.due_date),
        due_label="Settle by",
        note=agreement.organisation.name,
    )


def _own_open_points(user: Any) -> QueueSource:
    # The owner's own points; the open-point buttons show while the point is open.
    rows = OpenPoint.objects.filter(status=OpenPointStatus.OPEN, owner_id=user.pk).select_related(
        "agreement__organisation"
    )
    return QueueSource(
        kind="agreements.open_point",
        label="Open points you own",
        rows=actionable(rows, user, "open_point.resolve"),
        item=_point_item,
        more_url=reverse("reminders:my_deadlines"),
        due="due_date",
    )


def awaiting_reply(entries: QuerySet, *, side: str) -> QuerySet:
    """The proposals of ``entries`` that await ``side``: made by the other side, the latest
    proposal on their clause, not replied to, on an agreement still being made."""
    later = NegotiationEntry.objects.filter(
        agreement_id=OuterRef("agreement_id"),
        clause=OuterRef("clause"),
        kind__in=PROPOSAL_KINDS,
        created_at__gt=OuterRef("created_at"),
    )
    replies = NegotiationEntry.objects.filter(responds_to_id=OuterRef("pk"))
    return (
        entries.filter(kind__in=PROPOSAL_KINDS, agreement__status__in=OPEN_AGREEMENT_STATUSES)
        .exclude(author_side=side)
        .exclude(Exists(later))
        .exclude(Exists(replies))
    )


def _proposal_item(entry: NegotiationEntry) -> QueueItem:
    agreement = entry.agreement
    return QueueItem(
        kind="agreements.proposal",
        verb=f"Answer the {entry.get_kind_display().lower()}",
        reference=agreement.reference,
        title=f"{entry.get_clause_display()}: {agreement.title}",
        url=reverse("agreements:detail", kwargs={"reference": agreement.reference}) + "#timeline",
        note=agreement.organisation.name,
    )


def _proposals_to_answer(user: Any, side: str) -> QueueSource:
    # Either side answers on the record of an agreement they may propose on.
    agreements = actionable(Agreement.objects.filter(status__in=OPEN_AGREEMENT_STATUSES), user, "agreement.propose")
    entries = NegotiationEntry.objects.filter(agreement__in=agreements.values("pk")).select_related(
        "agreement__organisation"
    )
    return QueueSource(
        kind="agreements.proposal",
        label="Proposals to answer",
        rows=awaiting_reply(entries, side=side),
        item=_proposal_item,
        more_url=_list_url(),
    )


def _expiring(user: Any, today: datetime.date) -> QueueSource:
    rows = Agreement.objects.filter(
        status__in=EXPIRE.sources, expiry_date__lte=today + datetime.timedelta(days=EXPIRING_DAYS)
    ).select_related("organisation")
    return QueueSource(
        kind="agreements.expiring",
        label="Agreements about to expire",
        rows=actionable(rows, user, EXPIRE.action),
        item=_agreement_item(
            "agreements.expiring", "Renew, or let it expire", "agreements:detail", "Expires", "expiry_date"
        ),
        more_url=_list_url(EXPIRE.sources[0]),
        due="expiry_date",
    )


def queue_sources_for(*, actor: Any, now: datetime.datetime | None = None) -> list[QueueSource]:
    """The kinds of agreements work ``actor`` (a user) has, by role: see the module's docstring."""
    who = actor_for(actor)
    if who is None:
        return []
    side = signature_side_for(actor)
    if who.is_liaison:
        return [_to_sign(actor, side), _own_open_points(actor), _proposals_to_answer(actor, side)]
    if who.is_lead:
        return [_to_sign(actor, side), _own_open_points(actor)]
    if who.is_admin:
        return [_expiring(actor, timezone.localdate(now))]
    return []


def queue_items_for(*, actor: Any, limit: int, now: datetime.datetime | None = None) -> list[QueueItem]:
    """The first ``limit`` agreements items of ``actor``, soonest due first: one query per kind."""
    return first_items(queue_sources_for(actor=actor, now=now), limit)


def queue_count_for(*, actor: Any, now: datetime.datetime | None = None) -> int:
    """How many agreements items ``actor`` has: one query."""
    return total(queue_sources_for(actor=actor, now=now), user=actor)
