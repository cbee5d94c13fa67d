"""Reads of the findings app. Every query starts from ``scope()``, so it shows only what the user may see."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Count, F, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.permissions import can, scope
from assessments.models import AccessTicket, Assessment
from assessments.selectors import TimelineEntry
from assessments.states import ACCESS_GIVEN_TICKET_STATUSES
from core.choices import RiskDomain
from core.lists import Column, Sorts
from findings.models import (
    RELEASED_STATUSES,
    SEVERITY_ORDER,
    Finding,
    FindingComment,
    FindingEvidence,
    FindingStatus,
    ReportJob,
    Severity,
)

# Most severe first: the database keeps each finding's place in SEVERITY_ORDER in ``severity_order``
# (a generated column), so sorting by it is an indexed read, not a CASE computed over every row.
SEVERITY_RANK = F("severity_order")

# The list's columns and sorts. Each ORDER BY reads one of Finding.Meta.indexes (or the
# reference's unique index), either way; "severity", "newest", "oldest", "due" and "assessment"
# are the keys the list has always taken.
LIST_COLUMNS = (
    Column("reference", "Finding", ("reference",)),
    Column("assessment", "Assessment", ("assessment__reference", "severity_order", "-created_at")),
    Column(
        "severity", "Severity", ("severity_order", "-created_at"), up="most severe first", down="least severe first"
    ),
    Column("domain", "Domain", ("risk_domain", "severity_order", "-created_at")),
    Column("status", "Status", ("status", "severity_order", "-created_at")),
    Column("due", "Response due", ("response_due_at", "-created_at"), up="soonest first", down="latest first"),
)
SORTS = Sorts(
    LIST_COLUMNS,
    default="severity",
    named={"newest": ("Newest first", ("-created_at",)), "oldest": ("Oldest first", ("created_at",))},
)
DEFAULT_SORT = SORTS.default

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
    return qs.order_by(*SORTS.order_by(params.get("sort")))


# The assessment page shows this many findings, most severe first, and links to the full list.
PANEL_SIZE = 25
# Long texts the panel's table never shows.
_PANEL_DEFERRED = (
    "summary",
    "details",
    "details_html",
    "reproduction_steps",
    "recommended_action",
    "company_response",
    "planned_mitigation",
    "resolution_note",
    "withdrawn_reason",
)


@dataclass
class FindingSummary:
    """What the assessment page shows about its findings: counts of all, and the first ``PANEL_SIZE``."""

    findings: list[Finding]
    by_severity: list[tuple[str, str, int]] = field(default_factory=list)  # (value, label, count)
    by_domain: list[tuple[str, str, int]] = field(default_factory=list)
    total: int = 0
    overdue: int = 0
    can_create: bool = False

    @property
    def has_more(self) -> bool:
        return self.total > len(self.findings)


def assessment_finding_summary(*, user: Any, assessment: Assessment) -> FindingSummary:
    """Counts by severity and domain (one aggregate query) and the ``PANEL_SIZE`` most severe findings of
    the assessment that the user may see (one query), whatever the size of the case."""
    qs = scope(Finding.objects.filter(assessment=assessment), user)
    now = timezone.now()
    counts = qs.aggregate(
        total=Count("pk"),
        overdue=Count("pk", filter=Q(status=FindingStatus.RELEASED, response_due_at__lt=now)),
        **{f"severity_{value}": Count("pk", filter=Q(severity=value)) for value in Severity.values},
        **{f"domain_{value}": Count("pk", filter=Q(risk_domain=value)) for value in RiskDomain.values},
    )
    page = qs.with_related().defer(*_PANEL_DEFERRED).order_by("severity_order", "-created_at")[:PANEL_SIZE]
    by_domain = [(value, label, counts[f"domain_{value}"]) for value, label in RiskDomain.choices]
    return FindingSummary(
        findings=list(page),
        by_severity=[(value, label, counts[f"severity_{value}"]) for value, label in Severity.choices],
        by_domain=[c for c in by_domain if c[2]],
        total=counts["total"],
        overdue=counts["overdue"],
        can_create=can(user, "finding.create", assessment),
    )


def finding_thread(*, user: Any, finding: Finding) -> list[FindingComment]:
    """The comments of ``finding`` the user may read (a liaison never gets internal ones)."""
    return list(scope(FindingComment.objects.filter(finding=finding), user).select_related("author"))


def finding_files(*, user: Any, finding: Finding) -> list[FindingEvidence]:
    return list(scope(FindingEvidence.objects.filter(finding=finding), user).select_related("uploaded_by"))


# --- The assessment report -------------------------------------------------------------


# Findings per page of the HTML report.
REPORT_PAGE_SIZE = 100


@dataclass
class AssessmentReport:
    """A report of an assessment, or one part of it (a page of the HTML report, a part of the PDF).

    ``counts`` and ``total`` cover every finding of the report; ``findings`` only those of this
    part, most severe first. ``first``: the part opens with the scope, access and counts;
    ``last``: it ends with the outcome.
    """

    assessment: Assessment
    released_only: bool
    counts: list[tuple[str, str, int]]  # (value, label, count), severities with findings only
    total: int
    access: list[AccessTicket]
    generated_at: Any
    risk_domain_labels: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    first: bool = True
    last: bool = True

    @property
    def by_severity(self) -> list[tuple[str, str, list[Finding]]]:
        """This part's findings grouped by severity, most severe first: (value, label, findings)."""
        return [
            (value, label, items)
            for value, label in Severity.choices
            if (items := [f for f in self.findings if f.severity == value])
        ]

    def part(self, findings: list[Finding], *, first: bool = True, last: bool = True) -> AssessmentReport:
        return replace(self, findings=findings, first=first, last=last)


def report_findings(*, assessment: Assessment, released_only: bool) -> QuerySet[Finding]:
    """The findings of the report, most severe first: slice it for a page or a part.

    The full variant has every finding except withdrawn ones; the company
    variant only findings released to the company.
    """
    qs = Finding.objects.filter(assessment=assessment)
    if released_only:
        qs = qs.filter(status__in=RELEASED_STATUSES)
    else:
        qs = qs.exclude(status=FindingStatus.WITHDRAWN)
    # The cited run's summary is printed with each finding: joined, not fetched per finding.
    return qs.select_related("evaluation_run").order_by("severity_order", "reference")


def assessment_report(*, assessment: Assessment, released_only: bool) -> AssessmentReport:
    """The report of ``assessment`` without its findings (two queries: the counts and the access given).

    Add the findings of a page or part with ``report.part(list(report_findings(...)[a:b]))``.
    The caller has checked the report permission.
    """
    counts = report_findings(assessment=assessment, released_only=released_only).aggregate(
        total=Count("pk"), **{value: Count("pk", filter=Q(severity=value)) for value in Severity.values}
    )
    # Only access actually given: requests and rejections are not access.
    given = AccessTicket.objects.filter(assessment=assessment, status__in=ACCESS_GIVEN_TICKET_STATUSES)
    return AssessmentReport(
        assessment=assessment,
        released_only=released_only,
        counts=[(value, label, counts[value]) for value, label in Severity.choices if counts[value]],
        total=counts["total"],
        access=list(given.order_by("starts_at")),
        generated_at=timezone.now(),
        risk_domain_labels=[RiskDomain(d).label for d in assessment.risk_domains or [] if d in RiskDomain.values],
    )


def report_job_latest(*, user: Any, assessment: Assessment, kind: str) -> ReportJob | None:
    """The newest background build of this report that the user may see, if any."""
    jobs = scope(ReportJob.objects.filter(assessment=assessment, kind=kind), user)
    return jobs.select_related("pdf").order_by("-created_at").first()


def assessment_timeline_findings(*, user: Any, assessment: Assessment) -> list[TimelineEntry]:
    """The case's findings on its timeline, through the policy's scope (a liaison sees only released ones)."""
    visible = scope(Finding.objects.filter(assessment=assessment), user)
    return [
        TimelineEntry(finding.created_at, f"Finding: {finding.title}", kind="finding")
        for finding in visible.order_by("created_at")[:50]
    ]
