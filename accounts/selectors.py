"""Read-side queries for accounts: the dashboard each role lands on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import Actor, actor_for, scope


@dataclass
class DashboardPanel:
    title: str
    description: str
    url: str
    count: int
    details: list[tuple[str, int]] = field(default_factory=list)


def _status_counts(qs, choices) -> list[tuple[str, int]]:
    counts = dict(qs.order_by().values_list("status").annotate(n=Count("pk")))
    return [(label, counts[value]) for value, label in choices if counts.get(value)]


def _for_role(actor: Actor, *, liaison: str, admin: str, staff: str) -> str:
    if actor.is_liaison:
        return liaison
    return admin if actor.is_admin else staff


def dashboard_for(user) -> list[DashboardPanel]:
    """The panels a user sees on the dashboard, each counted through the permission policy.

    Every count is one aggregate query over a scoped queryset, so the page costs the same
    whatever the number of records.
    """
    from agreements.models import Agreement, AgreementStatus
    from assessments.models import Assessment, AssessmentStatus, ModelSubmission
    from assessments.models.tickets import AccessTicket, TicketStatus
    from findings.models import Finding, FindingStatus
    from reminders.models import Deadline

    actor = actor_for(user)
    if actor is None:
        return []
    panels: list[DashboardPanel] = []

    agreements = scope(Agreement.objects.all(), user)
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
            count=agreements.count(),
            details=_status_counts(agreements, AgreementStatus.choices),
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
            count=assessments.count(),
            details=_status_counts(assessments, AssessmentStatus.choices),
        )
    )
    tickets = scope(AccessTicket.objects.all(), user)
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
            count=tickets.filter(status__in=[TicketStatus.REQUESTED, TicketStatus.APPROVED,
                                             TicketStatus.PROVISIONED, TicketStatus.ACTIVE]).count(),
            details=_status_counts(tickets, TicketStatus.choices),
        )
    )
    findings = scope(Finding.objects.all(), user)
    if actor.is_liaison:
        waiting = findings.filter(status=FindingStatus.RELEASED)
        description = "Findings released to your company; those awaiting your response are counted."
    elif actor.is_lead:
        waiting = findings.filter(status=FindingStatus.IN_REVIEW).exclude(author_id=actor.user_id)
        description = "Findings on your cases; those in review that you may release are counted."
    elif actor.is_admin:
        waiting = findings.filter(status=FindingStatus.RELEASED, response_due_at__lt=timezone.now())
        description = "Findings across all cases; company responses that are overdue are counted."
    else:
        waiting = findings.filter(status=FindingStatus.DRAFT, author_id=actor.user_id)
        description = "Findings on your cases; your drafts not yet sent for review are counted."
    panels.append(
        DashboardPanel(
            title="Findings",
            description=description,
            url=reverse("findings:list"),
            count=waiting.count(),
            details=_status_counts(findings, FindingStatus.choices),
        )
    )
    soon = timezone.now() + timedelta(days=7)
    deadlines = scope(Deadline.objects.filter(is_open=True), user)
    panels.append(
        DashboardPanel(
            title="Deadlines this week",
            description="Dates you must act by in the next seven days, and any that are overdue.",
            url=reverse("reminders:my_deadlines"),
            count=deadlines.filter(due_at__lte=soon).count(),
        )
    )
    return panels
