"""Read-side queries of the assessments app. Every list starts from the permission policy's scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.permissions import scope
from assessments.models import AccessTicket, Assessment, CredentialReveal, ModelSubmission


def submission_list(*, user: Any, q: str = "", organisation: str = "") -> QuerySet[ModelSubmission]:
    qs = scope(ModelSubmission.objects.all(), user).select_related("organisation", "agreement")
    if q:
        qs = qs.filter(Q(model_name__icontains=q) | Q(model_version__icontains=q) | Q(reference__icontains=q))
    if organisation:
        qs = qs.filter(organisation__public_id=organisation)
    return qs.annotate(n_assessments=Count("assessments", distinct=True)).order_by("-created_at")


def assessment_list(*, user: Any, status: str = "", q: str = "") -> QuerySet[Assessment]:
    qs = scope(Assessment.objects.all(), user).select_related("submission__organisation", "lead")
    if status:
        qs = qs.filter(status=status)
    if q:
        qs = qs.filter(
            Q(reference__icontains=q)
            | Q(submission__model_name__icontains=q)
            | Q(submission__organisation__name__icontains=q)
        )
    return qs.order_by("-window_start")


def ticket_list(*, user: Any, status: str = "", assessment: Assessment | None = None) -> QuerySet[AccessTicket]:
    # Never selects more than the list shows: the credential column is left out on purpose.
    qs = (
        scope(AccessTicket.objects.all(), user)
        .select_related("assessment__submission__organisation", "requested_by")
        .defer("credential_ciphertext")
    )
    if status:
        qs = qs.filter(status=status)
    if assessment is not None:
        qs = qs.filter(assessment=assessment)
    return qs.order_by("-requested_at")


def reveals_for(*, user: Any, ticket: AccessTicket) -> QuerySet[CredentialReveal]:
    return scope(CredentialReveal.objects.filter(ticket=ticket), user).select_related("revealed_by")


@dataclass
class TimelineEntry:
    when: datetime
    label: str
    detail: str = ""
    kind: str = "event"  # window | ticket | finding | release | now


def _as_datetime(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()))


def assessment_timeline(*, user: Any, assessment: Assessment) -> list[TimelineEntry]:
    """The dated story of a case: window, tickets and findings the user may see, release, today."""
    entries = [
        TimelineEntry(assessment.window_start, "Access window opens", kind="window"),
        TimelineEntry(assessment.window_end, "Access window closes", kind="window"),
        TimelineEntry(timezone.now(), "Today", kind="now"),
    ]
    for ticket in ticket_list(user=user, assessment=assessment):
        entries.append(
            TimelineEntry(ticket.requested_at, f"{ticket.reference} requested", ticket.get_kind_display(), "ticket")
        )
        if ticket.starts_at and ticket.status not in ("requested", "rejected"):
            entries.append(
                TimelineEntry(
                    ticket.starts_at, f"{ticket.reference} access begins", ticket.get_kind_display(), "ticket"
                )
            )
        if ticket.ended_at:
            entries.append(
                TimelineEntry(
                    ticket.ended_at,
                    f"{ticket.reference} {ticket.get_status_display().lower()}",
                    ticket.end_reason,
                    "ticket",
                )
            )
        elif ticket.ends_at and ticket.status not in ("requested",):
            entries.append(
                TimelineEntry(
                    min(ticket.ends_at, assessment.window_end),
                    f"{ticket.reference} access ends",
                    ticket.get_kind_display(),
                    "ticket",
                )
            )
    entries.extend(_finding_entries(user=user, assessment=assessment))
    release = assessment.submission.intended_release_date
    if release:
        entries.append(TimelineEntry(_as_datetime(release), "Planned release of the model", kind="release"))
    if assessment.closed_at:
        entries.append(
            TimelineEntry(assessment.closed_at, f"Case {assessment.get_status_display().lower()}", kind="event")
        )
    return sorted(entries, key=lambda e: e.when)


def _finding_entries(*, user: Any, assessment: Assessment) -> list[TimelineEntry]:
    """Findings on the timeline, through the policy's scope (a liaison sees only released ones)."""
    from findings.models import Finding  # findings depend on assessments, not the other way round

    entries = []
    visible = scope(Finding.objects.filter(assessment=assessment), user)
    for finding in visible.order_by("created_at")[:50]:
        entries.append(TimelineEntry(finding.created_at, f"Finding: {finding.title}", kind="finding"))
    return entries


def days_left(assessment: Assessment) -> int | None:
    """Whole days until the window closes (0 on the last day), or None once it has closed."""
    remaining = assessment.window_end - timezone.now()
    if remaining.total_seconds() < 0:
        return None
    return remaining.days
