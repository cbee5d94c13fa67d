"""The dashboard each role lands on: one card per domain app, counted through the policy.

It reads every app's models, so it lives in the composition root, above all of them. What each
person must act on is counted from the start states of the moves they would make
(``<app>/states.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Actor, actor_for, scope
from agreements.models import Agreement
from agreements.states import AgreementStatus
from assessments.models import AccessTicket, Assessment, ModelSubmission
from assessments.states import LIVE_TICKET_STATUSES, TICKET_MOVES, AssessmentStatus, TicketStatus
from findings.models import Finding
from findings.states import FINDING_MOVES, FindingStatus
from reminders.models import Deadline


@dataclass
class DashboardPanel:
    """One card. ``count`` is the number of the things in ``title``; ``details`` break that number
    down and add up to it; ``notes`` are separately labelled numbers (what the viewer must act on),
    never part of the big number."""

    title: str
    description: str
    url: str
    count: int
    details: list[tuple[str, int]] = field(default_factory=list)
    notes: list[tuple[str, int]] = field(default_factory=list)


def _by_status(qs: QuerySet, choices, to_act: Q | None = None) -> tuple[int, list[tuple[str, int]], int]:
    """The total, its breakdown by status and how many rows match ``to_act``, in ONE aggregate query.

    Each number is a conditional count (``COUNT(*) FILTER (WHERE ...)`` on PostgreSQL) over a
    single pass of the scoped rows, so the total and its breakdown always agree and the card
    costs one query whatever the number of records. It counts the (never empty) status column
    rather than the key, so that when the filters name only indexed columns the rows are counted
    from an index alone.
    Statuses with no rows are left out.
    """
    counts = {f"status_{i}": Count("status", filter=Q(status=value)) for i, (value, _) in enumerate(choices)}
    if to_act is not None:
        counts["to_act"] = Count("status", filter=to_act)
    row = qs.order_by().aggregate(**counts)
    details = [(label, row[f"status_{i}"]) for i, (_, label) in enumerate(choices) if row[f"status_{i}"]]
    return sum(n for _, n in details), details, row.get("to_act", 0)


def _for_role(actor: Actor, *, liaison: str, admin: str, staff: str) -> str:
    if actor.is_liaison:
        return liaison
    return admin if actor.is_admin else staff


def dashboard_for(user) -> list[DashboardPanel]:
    """The panels a user sees on the dashboard, each counted through the permission policy.

    Every count is one aggregate query over a scoped queryset, so the page costs the same
    whatever the number of records.
    """
    actor = actor_for(user)
    if actor is None:
        return []
    panels: list[DashboardPanel] = []

    agreements = scope(Agreement.objects.all(), user)
    count, details, _ = _by_status(agreements, AgreementStatus.choices)
    panels.append(
        DashboardPanel(
            title="Agreements",
            description=_for_role(
                actor,
                liaison="Your company's voluntary agreements with the centre.",
                admin="Voluntary agreements and their negotiation record.",
                staff="Voluntary agreements and their negotiation record.",
            ),
            url=reverse("agreements:list"),
            count=count,
            details=details,
        )
    )
    submissions = scope(ModelSubmission.objects.all(), user)
    panels.append(
        DashboardPanel(
            title="Model submissions",
            description="Models your company has offered for assessment."
            if actor.is_liaison
            else "Covered models offered for pre-release assessment.",
            url=reverse("assessments:submission_list"),
            count=submissions.count(),
        )
    )
    assessments = scope(Assessment.objects.all(), user)
    count, details, _ = _by_status(assessments, AssessmentStatus.choices)
    panels.append(
        DashboardPanel(
            title="Assessments",
            description=_for_role(
                actor,
                liaison="Assessments of your company's models.",
                admin="Every assessment case.",
                staff="Assessment cases you lead or work on.",
            ),
            url=reverse("assessments:list"),
            count=count,
            details=details,
        )
    )
    if actor.is_liaison:
        to_act = ("Waiting for you to provision", Q(status__in=TICKET_MOVES["provision"].sources))
    elif actor.is_lead:
        to_act = (
            "Requests waiting for your decision",
            Q(status__in=TICKET_MOVES["approve"].sources, assessment__lead_id=actor.user_id)
            & ~Q(requested_by_id=actor.user_id),
        )
    else:
        to_act = ("Live access", Q(status__in=LIVE_TICKET_STATUSES))
    tickets = scope(AccessTicket.objects.all(), user)
    count, details, acting = _by_status(tickets, TicketStatus.choices, to_act[1])
    panels.append(
        DashboardPanel(
            title="Model access",
            description=_for_role(
                actor,
                liaison="Approved access requests to provision, and access your company has given.",
                admin="Access tickets across all assessments.",
                staff="Access tickets on your assessments: requests, approvals and live credentials.",
            ),
            url=reverse("assessments:ticket_list"),
            count=count,
            details=details,
            notes=[(to_act[0], acting)],
        )
    )
    if actor.is_liaison:
        to_act = ("Waiting for your answer", Q(status__in=FINDING_MOVES["respond"].sources))
        description = "Findings the centre released to your company."
    elif actor.is_lead:
        to_act = (
            "In review, yours to release",
            Q(status__in=FINDING_MOVES["release"].sources) & ~Q(author_id=actor.user_id),
        )
        description = "Findings on the assessments you lead or work on."
    elif actor.is_admin:
        to_act = (
            "Company answers overdue",
            Q(status__in=FINDING_MOVES["respond"].sources, response_due_at__lt=timezone.now()),
        )
        description = "Findings across all assessments."
    else:
        to_act = ("Your drafts", Q(status__in=FINDING_MOVES["submit_for_review"].sources, author_id=actor.user_id))
        description = "Findings on the assessments you work on."
    findings = scope(Finding.objects.all(), user)
    count, details, acting = _by_status(findings, FindingStatus.choices, to_act[1])
    panels.append(
        DashboardPanel(
            title="Findings",
            description=description,
            url=reverse("findings:list"),
            count=count,
            details=details,
            notes=[(to_act[0], acting)],
        )
    )
    now = timezone.now()
    deadlines = scope(Deadline.objects.filter(is_open=True, due_at__lte=now + timedelta(days=7)), user)
    week = deadlines.order_by().aggregate(
        overdue=Count("due_at", filter=Q(due_at__lt=now)), this_week=Count("due_at", filter=Q(due_at__gte=now))
    )
    overdue, this_week = week["overdue"], week["this_week"]
    panels.append(
        DashboardPanel(
            title="Deadlines this week",
            description="Dates you must act by in the next seven days, and any that are overdue.",
            url=reverse("reminders:my_deadlines"),
            count=overdue + this_week,
            details=[(label, n) for label, n in (("Overdue", overdue), ("Due in the next 7 days", this_week)) if n],
        )
    )
    return panels
