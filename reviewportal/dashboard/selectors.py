"""The dashboard each role lands on: one card per domain app, counted through the policy.

It reads every app's models, so it lives in the composition root, above all of them. What each
person must act on is counted from the start states of the moves they would make
(``<app>/states.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Actor, actor_for, scope
from agreements.models import Agreement
from agreements.states import AgreementStatus
from assessments.models import AccessTicket, Assessment, ModelSubmission
from assessments.states import LIVE_TICKET_STATUSES, TICKET_MOVES, AssessmentStatus, TicketStatus
from core.freshness import cached_total
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
    # When the total and its breakdown were counted (they may come from the cache); None when live.
    counted_at: datetime | None = None


# Every number of a card may be this many seconds old, unless a record changed since (then it is
# counted again at once: core/freshness.py); the page says when they were counted.
TOTALS_MAX_AGE = 60


def _scope_key(actor: Actor) -> str:
    """Who sees the same totals: every programme admin, a company's liaisons, or one person."""
    if actor.is_admin:
        return "admin"
    if actor.is_liaison:
        return f"organisation-{actor.organisation_id}"
    return f"user-{actor.user_id}"


def _by_status(
    rows: Callable[[], QuerySet], choices, *, key: str, to_act: Q | None = None
) -> tuple[int, list[tuple[str, int]], int, datetime]:
    """The total of ``rows()``, its breakdown by status, how many rows match ``to_act``, and when the
    total was counted. ``rows`` builds the scoped queryset only when a number must be counted: the
    policy's scopes cost a request more to build than the cache costs to read.

    The breakdown is one aggregate query, a conditional count (``COUNT(*) FILTER (WHERE ...)`` on
    PostgreSQL) per status over a single pass of the scoped rows, so the total and its breakdown
    always agree; at a programme's size that pass reads hundreds of thousands of rows, so it is
    cached under ``key`` (see ``TOTALS_MAX_AGE``). It counts the (never empty) status column rather
    than the key, so that when the filters name only indexed columns the rows are counted from an
    index alone. ``to_act`` is counted in its own (narrow, indexed) query, cached under the same rule
    (``key`` names whose scope it is, and what a viewer must act on follows from that scope).
    Statuses with no rows are left out.
    """

    def breakdown() -> list[tuple[str, int]]:
        counts = {f"status_{i}": Count("status", filter=Q(status=value)) for i, (value, _) in enumerate(choices)}
        row = rows().order_by().aggregate(**counts)
        return [(str(label), row[f"status_{i}"]) for i, (_, label) in enumerate(choices) if row[f"status_{i}"]]

    details, counted_at = cached_total(key, breakdown, max_age=TOTALS_MAX_AGE)
    acting = 0
    if to_act is not None:
        acting, _ = cached_total(
            f"{key}-to-act", lambda: rows().filter(to_act).order_by().count(), max_age=TOTALS_MAX_AGE
        )
    return sum(n for _, n in details), details, acting, counted_at


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
    who = _scope_key(actor)

    count, details, _, counted_at = _by_status(
        lambda: scope(Agreement.objects.all(), user), AgreementStatus.choices, key=f"agreements-{who}"
    )
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
            counted_at=counted_at,
        )
    )
    submission_count, counted_at = cached_total(
        f"submissions-{who}",
        lambda: scope(ModelSubmission.objects.all(), user).order_by().count(),
        max_age=TOTALS_MAX_AGE,
    )
    panels.append(
        DashboardPanel(
            title="Model submissions",
            description="Models your company has offered for assessment."
            if actor.is_liaison
            else "Covered models offered for pre-release assessment.",
            url=reverse("assessments:submission_list"),
            count=submission_count,
            counted_at=counted_at,
        )
    )
    count, details, _, counted_at = _by_status(
        lambda: scope(Assessment.objects.all(), user), AssessmentStatus.choices, key=f"assessments-{who}"
    )
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
            counted_at=counted_at,
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
    count, details, acting, counted_at = _by_status(
        lambda: scope(AccessTicket.objects.all(), user), TicketStatus.choices, key=f"tickets-{who}", to_act=to_act[1]
    )
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
            counted_at=counted_at,
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
    count, details, acting, counted_at = _by_status(
        lambda: scope(Finding.objects.all(), user), FindingStatus.choices, key=f"findings-{who}", to_act=to_act[1]
    )
    panels.append(
        DashboardPanel(
            title="Findings",
            description=description,
            url=reverse("findings:list"),
            count=count,
            details=details,
            notes=[(to_act[0], acting)],
            counted_at=counted_at,
        )
    )
    now = timezone.now()
    week, _ = cached_total(
        f"deadline-week-user-{actor.user_id}",
        lambda: (
            scope(Deadline.objects.filter(is_open=True, due_at__lte=now + timedelta(days=7)), user)
            .order_by()
            .aggregate(
                overdue=Count("due_at", filter=Q(due_at__lt=now)), this_week=Count("due_at", filter=Q(due_at__gte=now))
            )
        ),
        max_age=TOTALS_MAX_AGE,
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
