"""The access tickets and cases a person can act on now, for their action queue (``core.action_queue``).

Each kind of work is a move of ``assessments.states`` (its statuses: the move's ``sources``)
that the policy lets the person make (``actionable`` with the move's action: the same rule as
the button on the ticket's or the case's page, ``assessments.actions``).

* a company liaison: approved tickets to provision, extensions the team asked for, to
  consent to or refuse, and outcomes of completed cases to acknowledge;
* a lead: requests to approve or reject on the cases they lead (never their own), and cases in
  reporting to complete;
* an evaluator: provisioned access on their cases whose period has begun, ready to use.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models.functions import Least
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import actionable, actor_for
from assessments.models import AccessTicket, Assessment
from assessments.states import (
    ACKNOWLEDGE_OUTCOME,
    ASSESSMENT_MOVES,
    GRANTED_TICKET_STATUSES,
    OUTCOME_ACKNOWLEDGEABLE_STATUSES,
    TICKET_MOVES,
)
from core.action_queue import QueueItem, QueueSource, first_items, total

APPROVE = TICKET_MOVES["approve"]
PROVISION = TICKET_MOVES["provision"]
ACTIVATE = TICKET_MOVES["activate"]
COMPLETE = ASSESSMENT_MOVES["complete"]
# An extension is asked and decided while access is granted (``ticket_actions_for``'s can_consent).
EXTENSION_STATUSES = GRANTED_TICKET_STATUSES


def _tickets(**filters: Any):
    return AccessTicket.objects.filter(**filters).select_related("assessment__submission")


def _ticket_item(kind: str, verb: str, url_name: str, due_label: str, due_field: str):
    def item(ticket: AccessTicket) -> QueueItem:
        return QueueItem(
            kind=kind,
            verb=verb,
            reference=ticket.reference,
            title=f"{ticket.get_kind_display()} for {ticket.assessment.submission}",
            url=reverse(url_name, kwargs={"reference": ticket.reference}),
            due_at=getattr(ticket, due_field),
            due_label=due_label,
            note=ticket.assessment.reference,
        )

    return item


def _ticket_list(status: str = "") -> str:
    return reverse("assessments:ticket_list") + (f"?status={status}" if status else "")


def _to_provision(user: Any) -> QueueSource:
    kind = "tickets.provision"
    return QueueSource(
        kind=kind,
        label="Access to provision",
        rows=actionable(_tickets(status__in=PROVISION.sources), user, PROVISION.action),
        item=_ticket_item(kind, "Provision the access", "assessments:ticket_provision", "Wanted from", "starts_at"),
        more_url=_ticket_list(PROVISION.sources[0]),
        due="starts_at",
    )


def _extensions(user: Any) -> QueueSource:
    kind = "tickets.extension"
    # A pending extension is one asked for and not yet decided (``AccessTicket.has_pending_extension``).
    rows = _tickets(status__in=EXTENSION_STATUSES, extension_requested_to__isnull=False)
    return QueueSource(
        kind=kind,
        label="Extensions to decide",
        rows=actionable(rows, user, "ticket.consent_extension"),
        item=_ticket_item(
            kind, "Consent to or refuse the extension", "assessments:ticket_extension", "Access ends", "ends_at"
        ),
        more_url=_ticket_list(),
        due="ends_at",
    )


def _to_approve(user: Any) -> QueueSource:
    kind = "tickets.approve"
    return QueueSource(
        kind=kind,
        label="Access requests to decide",
        rows=actionable(_tickets(status__in=APPROVE.sources), user, APPROVE.action),
        item=_ticket_item(
            kind, "Approve or reject the request", "assessments:ticket_detail", "Wanted from", "wanted_from"
        ),
        more_url=_ticket_list(APPROVE.sources[0]),
        due="wanted_from",
    )


def _ready_to_use(user: Any, now: datetime) -> QueueSource:
    kind = "tickets.ready"
    # Access stops at the earlier of the ticket's end and the case's window end (``access_ends_at``).
    rows = _tickets(status__in=ACTIVATE.sources, starts_at__lte=now).annotate(
        access_ends=Least("ends_at", "assessment__window_end")
    )
    return QueueSource(
        kind=kind,
        label="Access ready to use",
        rows=actionable(rows, user, ACTIVATE.action),
        item=_ticket_item(kind, "Use the access provided", "assessments:ticket_detail", "Access ends", "access_ends"),
        more_url=_ticket_list(ACTIVATE.sources[0]),
        due="access_ends",
    )


def _case_item(case: Assessment) -> QueueItem:
    return QueueItem(
        kind="assessments.complete",
        verb="Complete the assessment with its outcome",
        reference=case.reference,
        title=str(case.submission),
        url=reverse("assessments:close", kwargs={"reference": case.reference}),
    )


def _to_complete(user: Any) -> QueueSource:
    cases = Assessment.objects.filter(status__in=COMPLETE.sources).select_related("submission")
    return QueueSource(
        kind="assessments.complete",
        label="Assessments to complete",
        rows=actionable(cases, user, COMPLETE.action),
        item=_case_item,
        more_url=reverse("assessments:list") + f"?status={COMPLETE.sources[0]}",
    )


def _outcome_item(case: Assessment) -> QueueItem:
    return QueueItem(
        kind="assessments.acknowledge_outcome",
        verb="Acknowledge the outcome",
        reference=case.reference,
        title=f"{case.submission}: {case.get_outcome_display()}",
        url=reverse("assessments:acknowledge_outcome", kwargs={"reference": case.reference}),
    )


def _outcomes_to_acknowledge(user: Any) -> QueueSource:
    cases = Assessment.objects.filter(
        status__in=OUTCOME_ACKNOWLEDGEABLE_STATUSES, outcome_acknowledged_at__isnull=True
    ).select_related("submission")
    return QueueSource(
        kind="assessments.acknowledge_outcome",
        label="Assessment outcomes to acknowledge",
        rows=actionable(cases, user, ACKNOWLEDGE_OUTCOME),
        item=_outcome_item,
        more_url=reverse("assessments:list") + f"?status={OUTCOME_ACKNOWLEDGEABLE_STATUSES[0]}",
    )


def queue_sources_for(*, actor: Any, now: datetime | None = None) -> list[QueueSource]:
    """The kinds of ticket and case work ``actor`` (a user) has, by role: see the module's docstring."""
    who = actor_for(actor)
    if who is None:
        return []
    if who.is_liaison:
        return [_to_provision(actor), _extensions(actor), _outcomes_to_acknowledge(actor)]
    if who.is_lead:
        return [_to_approve(actor), _to_complete(actor)]
    if who.is_evaluator:
        return [_ready_to_use(actor, now or timezone.now())]
    return []


def queue_items_for(*, actor: Any, limit: int, now: datetime | None = None) -> list[QueueItem]:
    """The first ``limit`` ticket and case items of ``actor``, soonest due first: one query per kind."""
    return first_items(queue_sources_for(actor=actor, now=now), limit)


def queue_count_for(*, actor: Any, now: datetime | None = None) -> int:
    """How many ticket and case items ``actor`` has: one query."""
    return total(queue_sources_for(actor=actor, now=now), user=actor)
