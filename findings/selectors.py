"""Reads of the findings app. Every query starts from ``scope()``, so it shows only what the user may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.permissions import can, scope
from assessments.models import AccessTicket, Assessment
from assessments.selectors import TimelineEntry
from assessments.states import ACCESS_GIVEN_TICKET_STATUSES
from core.choices import RiskDomain
from findings.models import (
    RELEASED_STATUSES,
    SEVERITY_ORDER,
    Finding,
    FindingComment,
    FindingEvidence,
    FindingStatus,
    Severity,
)

# Most severe first: the database keeps each finding's place in SEVERITY_ORDER in ``severity_order``
# (a generated column), so sorting by it is an indexed read, not a CASE computed over every row.
SEVERITY_RANK = F("severity_order")

# Sort keys offered on the list page → ORDER BY.
SORTS: dict[str, tuple[str, list[str]]] = {
    "severity": ("Severity (most severe first)", ["severity_rank", "-created_at"]),
    "newest": ("Newest first", ["-created_at"]),
    "oldest": ("Oldest first", ["created_at"]),
    "due": ("Response due (soonest first)", ["response_due_at", "-created_at"]),
    "assessment": ("Assessment", ["assessment__reference", "severity_rank", "-created_at"]),
}
DEFAULT_SORT = "severity"

# What a finding's reference looks like (``FND-2026-0042``), in any case.
FINDING_REFERENCE = re.compile(r"FND-\d{4}-\d{4,}", re.IGNORECASE)

# What a row of the list shows; the long texts stay in the database.
LIST_FIELDS = (
    "public_id",
    "reference",
    "assessment",
    "title",
    "risk_domain",
    "severity",
    "status",
    "response_due_at",
    "created_at",
    "assessment__reference",
    "assessment__submission__model_name",
    "assessment__submission__model_version",
    "assessment__submission__organisation__name",
)


def finding_list(*, user: Any, params: dict[str, str] | None = None) -> QuerySet[Finding]:
    """The findings ``user`` may see, filtered and sorted by the list page's ``params``.

    ``params``: ``severity``, ``risk_domain``, ``status``, ``assessment`` (reference),
    ``overdue`` ("1": released and past the response due date), ``q`` (a finding's
    reference in any case, else words of the title or summary), ``sort`` (a key of
    ``SORTS``). Unknown values are ignored.

    Only the columns a row shows are loaded, and every filter and sort has an index
    (``Finding.Meta.indexes``), so a page costs what it shows: the caller pages the
    result in SQL.
    """
    params = params or {}
    qs = (
        scope(Finding.objects.all(), user)
        .select_related("assessment__submission__organisation")
        .only(*LIST_FIELDS)
        .annotate(severity_rank=SEVERITY_RANK)
    )
    if params.get("severity") in Severity.values:
        # The rank stands for the severity one to one, and the sort indexes lead with it.
        qs = qs.filter(severity_order=SEVERITY_ORDER.index(params["severity"]))
    if params.get("risk_domain") in RiskDomain.values:
        qs = qs.filter(risk_domain=params["risk_domain"])
    if params.get("status") in FindingStatus.values:
        qs = qs.filter(status=params["status"])
    if params.get("assessment"):
        # The case's id as a value (not a join), so its findings come straight off finding_case_sort_idx.
        case = Assessment.objects.filter(reference=params["assessment"].strip().upper()).values("pk")[:1]
        qs = qs.filter(assessment_id=Subquery(case))
    if params.get("overdue") in ("1", "true", "on"):
        qs = qs.overdue()
    query = (params.get("q") or "").strip()
    if FINDING_REFERENCE.fullmatch(query):
        # A reference is matched exactly (references are stored in upper case): one unique-index lookup,
        # where OR-ing it with the text search below would make every search read every row.
        qs = qs.filter(reference=query.upper())
    elif query:
        qs = qs.filter(Q(title__icontains=query) | Q(summary__icontains=query))
    sort = params.get("sort") if params.get("sort") in SORTS else DEFAULT_SORT
    return qs.order_by(*SORTS[sort][1])


@dataclass
class FindingSummary:
    """What the assessment page shows about its findings."""

    findings: list[Finding]
    by_severity: list[tuple[str, str, int]] = field(default_factory=list)  # (value, label, count)
    by_domain: list[tuple[str, str, int]] = field(default_factory=list)
    total: int = 0
    overdue: int = 0
    can_create: bool = False


def _counts(qs: QuerySet, field_name: str, choices) -> list[tuple[str, str, int]]:
    counts = dict(qs.order_by().values_list(field_name).annotate(n=Count("pk")))
    return [(value, label, counts.get(value, 0)) for value, label in choices]


def assessment_finding_summary(*, user: Any, assessment: Assessment) -> FindingSummary:
    """Counts by severity and domain and the list of the assessment's findings the user may see (4 queries)."""
    qs = scope(Finding.objects.filter(assessment=assessment), user)
    findings = list(qs.with_related().annotate(severity_rank=SEVERITY_RANK).order_by("severity_rank", "-created_at"))
    now = timezone.now()
    return FindingSummary(
        findings=findings,
        by_severity=_counts(qs, "severity", Severity.choices),
        by_domain=[c for c in _counts(qs, "risk_domain", RiskDomain.choices) if c[2]],
        total=len(findings),
        overdue=sum(1 for f in findings if f.awaits_response and f.response_due_at < now),
        can_create=can(user, "finding.create", assessment),
    )


def finding_thread(*, user: Any, finding: Finding) -> list[FindingComment]:
    """The comments of ``finding`` the user may read (a liaison never gets internal ones)."""
    return list(scope(FindingComment.objects.filter(finding=finding), user).select_related("author"))


def finding_files(*, user: Any, finding: Finding) -> list[FindingEvidence]:
    return list(scope(FindingEvidence.objects.filter(finding=finding), user).select_related("uploaded_by"))


# --- The assessment report -------------------------------------------------------------


@dataclass
class AssessmentReport:
    assessment: Assessment
    released_only: bool
    findings: list[Finding]
    by_severity: list[tuple[str, str, list[Finding]]]
    access: list[AccessTicket]
    generated_at: Any
    risk_domain_labels: list[str] = field(default_factory=list)


def assessment_report(*, assessment: Assessment, released_only: bool) -> AssessmentReport:
    """What the report of ``assessment`` contains; the caller has checked the report permission.

    The full variant has every finding except withdrawn ones; the company
    variant only findings released to the company.
    """
    qs = Finding.objects.filter(assessment=assessment).with_related()
    if released_only:
        qs = qs.filter(status__in=RELEASED_STATUSES)
    else:
        qs = qs.exclude(status=FindingStatus.WITHDRAWN)
    findings = list(qs.annotate(severity_rank=SEVERITY_RANK).order_by("severity_rank", "reference"))
    by_severity = [
        (value, label, [f for f in findings if f.severity == value])
        for value, label in Severity.choices
        if any(f.severity == value for f in findings)
    ]
    # Only access actually given: requests and rejections are not access.
    given = AccessTicket.objects.filter(assessment=assessment, status__in=ACCESS_GIVEN_TICKET_STATUSES)
    access = list(given.order_by("starts_at"))
    return AssessmentReport(
        assessment=assessment,
        released_only=released_only,
        findings=findings,
        by_severity=by_severity,
        access=access,
        generated_at=timezone.now(),
        risk_domain_labels=[RiskDomain(d).label for d in assessment.risk_domains or [] if d in RiskDomain.values],
    )


def assessment_timeline_findings(*, user: Any, assessment: Assessment) -> list[TimelineEntry]:
    """The case's findings on its timeline, through the policy's scope (a liaison sees only released ones)."""
    visible = scope(Finding.objects.filter(assessment=assessment), user)
    return [
        TimelineEntry(finding.created_at, f"Finding: {finding.title}", kind="finding")
        for finding in visible.order_by("created_at")[:50]
    ]
