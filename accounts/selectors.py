"""Read-side queries for accounts: the dashboard each role lands on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from accounts.permissions import actor_for, scope


@dataclass
class DashboardPanel:
    title: str
    description: str
    url: str | None
    count: int
    details: list[tuple[str, int]] = field(default_factory=list)


def _url(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def _status_counts(qs, choices) -> list[tuple[str, int]]:
    from django.db.models import Count

    counts = dict(qs.order_by().values_list("status").annotate(n=Count("pk")))
    return [(label, counts[value]) for value, label in choices if counts.get(value)]


def dashboard_for(user) -> list[DashboardPanel]:
    """The panels a user sees on the dashboard, each counted through the permission policy."""
    from agreements.models import Agreement, AgreementStatus
    from assessments.models import Assessment, AssessmentStatus, ModelSubmission
    from reminders.models import Deadline

    actor = actor_for(user)
    if actor is None:
        return []
    panels: list[DashboardPanel] = []

    agreements = scope(Agreement.objects.all(), user)
    panels.append(
        DashboardPanel(
            title="Agreements",
            description="Your company's voluntary agreements with the centre."
            if actor.is_liaison
            else "Voluntary agreements and their negotiation record.",
            url=_url("agreements:list"),
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
            url=_url("assessments:submission_list"),
            count=submissions.count(),
        )
    )
    assessments = scope(Assessment.objects.all(), user)
    panels.append(
        DashboardPanel(
            title="Assessments",
            description="Assessments of your company's models."
            if actor.is_liaison
            else "Assessment cases you lead or work on."
            if not actor.is_admin
            else "Every assessment case.",
            url=_url("assessments:list"),
            count=assessments.count(),
            details=_status_counts(assessments, AssessmentStatus.choices),
        )
    )
    soon = timezone.now() + timedelta(days=7)
    deadlines = scope(Deadline.objects.filter(is_open=True), user)
    panels.append(
        DashboardPanel(
            title="Deadlines this week",
            description="Dates you must act by in the next seven days, and any that are overdue.",
            url=_url("reminders:my_deadlines"),
            count=deadlines.filter(due_at__lte=soon).count(),
        )
    )
    return panels
