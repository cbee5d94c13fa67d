"""Reads of the findings app. Every query starts from ``scope()``, so it shows only what the user may see."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlencode

from django.db.models import Count, F, Max, Prefetch, Q, QuerySet, Subquery
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from accounts.permissions import can, scope
from assessments.models import AccessTicket, Assessment
from assessments.selectors import TimelineEntry, TimelinePart
from assessments.states import ACCESS_GIVEN_TICKET_STATUSES
from audit.models import AuditEvent
from core.choices import RiskDomain
from core.lists import Column, Sorts
from core.markings import HandlingMarking, marking_for_code
from findings.actions import recommendation_steps_allowed
from findings.models import (
    RELEASED_STATUSES,
    SEVERITY_ORDER,
    Finding,
    FindingComment,
    FindingDisposition,
    FindingEvidence,
    FindingStatus,
    Recommendation,
    ReportJob,
    Severity,
)
from findings.states import ISSUED_RECOMMENDATION_STATUSES, RECOMMENDATION_MOVES

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

# The disposition filter's value for "no answer yet this round" (the disposition is empty).
AWAITING = "awaiting"


def disposition_q(value: str | None) -> Q | None:
    """The filter for the list's, the API's and the report's ``disposition`` parameter (None: ignore it).

    A disposition's value, or ``AWAITING``: released findings the company has not answered this round.
    """
    if value in FindingDisposition.values:
        return Q(disposition=value)
    if value == AWAITING:
        return Q(disposition="", status__in=RELEASED_STATUSES)
    return None


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
    "disposition",
    "response_due_at",
    "created_at",
    "marking",
    "assessment__reference",
    "assessment__submission__model_name",
    "assessment__submission__model_version",
    "assessment__submission__organisation__name",
)


def finding_list(*, user: Any, params: dict[str, str] | None = None) -> QuerySet[Finding]:
    """The findings ``user`` may see, filtered and sorted by the list page's ``params``.

    ``params``: ``severity``, ``risk_domain``, ``status``, ``disposition`` (see ``disposition_q``),
    ``assessment`` (reference),
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
    if (by_disposition := disposition_q(params.get("disposition"))) is not None:
        qs = qs.filter(by_disposition)
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


# The assessment page shows this many findings, most severe first, and links to the full list (which
# filters, sorts and pages them all): the case page is an overview, read on every visit.
PANEL_SIZE = 10
# What the panel's table shows of a finding.
_PANEL_FIELDS = (
    "reference",
    "title",
    "severity",
    "severity_order",
    "risk_domain",
    "status",
    "created_at",
    "assessment_id",
    "author__full_name",
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
    """Counts by severity and domain (one grouped count) and the ``PANEL_SIZE`` most severe findings of
    the assessment that the user may see (one query), whatever the size of the case."""
    qs = scope(Finding.objects.filter(assessment=assessment), user)
    overdue_q = Q(status=FindingStatus.RELEASED, response_due_at__lt=timezone.now())
    # One count per (severity, domain) pair present, at most 35 rows, added up here: the database
    # counts every finding, and the query is built with two aggregates instead of thirteen.
    groups = (
        qs.order_by().values_list("severity", "risk_domain").annotate(n=Count("pk"), late=Count("pk", filter=overdue_q))
    )
    by_severity = dict.fromkeys(Severity.values, 0)
    by_domain = dict.fromkeys(RiskDomain.values, 0)
    overdue = 0
    for severity, domain, n, late in groups:
        by_severity[severity] = by_severity.get(severity, 0) + n
        by_domain[domain] = by_domain.get(domain, 0) + n
        overdue += late
    # The panel's columns only, its author joined: the case is the page's own, so neither it nor its
    # company is read again, and there is no marking column.
    page = qs.select_related("author").only(*_PANEL_FIELDS).order_by("severity_order", "-created_at")[:PANEL_SIZE]
    return FindingSummary(
        findings=list(page),
        by_severity=[(value, label, by_severity[value]) for value, label in Severity.choices],
        by_domain=[(value, label, by_domain[value]) for value, label in RiskDomain.choices if by_domain[value]],
        total=sum(by_severity.values()),
        overdue=overdue,
        can_create=can(user, "finding.create", assessment),
    )


def finding_thread(*, user: Any, finding: Finding) -> list[FindingComment]:
    """The comments of ``finding`` the user may read (a liaison never gets internal ones)."""
    return list(scope(FindingComment.objects.filter(finding=finding), user).select_related("author", "marking"))


def finding_files(*, user: Any, finding: Finding) -> list[FindingEvidence]:
    return list(
        scope(FindingEvidence.objects.filter(finding=finding), user).select_related(
            "uploaded_by", "marking", "attested_by"
        )
    )


# --- The assessment report -------------------------------------------------------------


# Findings per page of the HTML report: each carries its details, the company's answer and its
# recommendations, about a screen each, so a page of 20 is a long read already; a request costs
# what its findings cost (50 were 28 ms of a page, 20 are about 13 ms). The PDF holds them all.
REPORT_PAGE_SIZE = 20


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
    # The disposition the report was filtered by, as read ("" when it shows every finding).
    disposition_label: str = ""
    findings: list[Finding] = field(default_factory=list)
    first: bool = True
    last: bool = True
    # The most restrictive handling marking of the findings it holds (core.markings), on every page.
    marking: HandlingMarking | None = None

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


def report_findings(*, assessment: Assessment, released_only: bool, disposition: str = "") -> QuerySet[Finding]:
    """The findings of the report, most severe first: slice it for a page or a part.

    The full variant has every finding except withdrawn ones; the company
    variant only findings released to the company. ``disposition`` (see
    ``disposition_q``) keeps only findings with that disposition.
    """
    qs = Finding.objects.filter(assessment=assessment)
    if (by_disposition := disposition_q(disposition)) is not None:
        qs = qs.filter(by_disposition)
    recommendations = Recommendation.objects.order_by("created_at", "pk")
    if released_only:
        qs = qs.filter(status__in=RELEASED_STATUSES)
        recommendations = recommendations.filter(status__in=ISSUED_RECOMMENDATION_STATUSES)
    else:
        qs = qs.exclude(status=FindingStatus.WITHDRAWN)
    # Each finding's recommendations with their state: one more query per page or part.
    qs = qs.prefetch_related(Prefetch("recommendations", queryset=recommendations, to_attr="report_recommendations"))
    # The cited run's summary is printed with each finding: joined, not fetched per finding.
    return qs.select_related("marking", "evaluation_run").order_by("severity_order", "reference")


def finding_marking_for_path(path: str) -> HandlingMarking | None:
    """The handling marking of the finding whose page is ``path`` (None for any other page)."""
    try:
        match = resolve(path.split("?", 1)[0].split("#", 1)[0])
    except Resolver404:
        return None
    if match.view_name != "findings:detail":
        return None
    finding = Finding.objects.filter(reference=match.kwargs.get("reference")).select_related("marking").first()
    return finding.marking if finding is not None else None


def rows_marking(rows: QuerySet) -> HandlingMarking | None:
    """The most restrictive handling marking among ``rows`` (any marked queryset), None when empty (one query).

    It reads every row's marking: for an export, which holds them all. A page uses ``shown_marking``."""
    return HandlingMarking.objects.filter(pk__in=rows.order_by().values("marking_id")).order_by("-rank").first()


def shown_marking(shown: Iterable[Finding]) -> HandlingMarking | None:
    """The most restrictive handling marking among the findings a page shows (one query on the small
    markings table, whatever is stored), None when it shows none."""
    marking_ids = {finding.marking_id for finding in shown}
    return HandlingMarking.objects.filter(pk__in=marking_ids).order_by("-rank").first() if marking_ids else None


def report_marking(*, assessment: Assessment, top_rank: int | None) -> HandlingMarking:
    """The marking a report carries: the most restrictive (``top_rank``) of the findings it shows,
    or, with none, the marking its agreement gives the company's material."""
    marking = HandlingMarking.objects.filter(rank=top_rank).first() if top_rank is not None else None
    return marking or marking_for_code(assessment.submission.agreement.default_marking)


def assessment_report(*, assessment: Assessment, released_only: bool, disposition: str = "") -> AssessmentReport:
    """The report of ``assessment`` without its findings (the counts and top marking, the access given,
    and the marking itself).

    Add the findings of a page or part with ``report.part(list(report_findings(...)[a:b]))``.
    The caller has checked the report permission.
    """
    counts = report_findings(assessment=assessment, released_only=released_only, disposition=disposition).aggregate(
        total=Count("pk"),
        top_rank=Max("marking__rank"),
        **{value: Count("pk", filter=Q(severity=value)) for value in Severity.values},
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
        marking=report_marking(assessment=assessment, top_rank=counts["top_rank"]),
        disposition_label=_disposition_label(disposition),
    )


def _disposition_label(value: str) -> str:
    if value == AWAITING:
        return "Awaiting an answer"
    return FindingDisposition(value).label if value in FindingDisposition.values else ""


def report_job_latest(*, user: Any, assessment: Assessment, kind: str) -> ReportJob | None:
    """The newest background build of this report that the user may see, if any."""
    jobs = scope(ReportJob.objects.filter(assessment=assessment, kind=kind), user)
    return jobs.select_related("pdf").order_by("-created_at").first()


# A case's timeline dates at most this many of its findings, the newest; it says so when there are
# more, and links to the findings list, which has them all.
TIMELINE_FINDINGS = 50


def case_findings_url(assessment: Assessment) -> str:
    """The findings list filtered to ``assessment``: where a case's page sends a reader for all its findings."""
    return f"{reverse('findings:list')}?{urlencode({'assessment': assessment.reference})}"


def assessment_timeline_findings(*, user: Any, assessment: Assessment) -> TimelinePart:
    """The case's newest findings on its timeline, through the policy's scope (a liaison sees only
    released ones), one more read to know whether there are older ones."""
    visible = scope(Finding.objects.filter(assessment=assessment), user)
    # Only what the line shows: a finding's long texts are kilobytes each.
    rows = list(visible.only("created_at", "title").order_by("-created_at", "-pk")[: TIMELINE_FINDINGS + 1])
    part = TimelinePart(
        [
            TimelineEntry(finding.created_at, f"Finding: {finding.title}", kind="finding")
            for finding in rows[:TIMELINE_FINDINGS]
        ]
    )
    if len(rows) > TIMELINE_FINDINGS:
        part.older_note = f"The timeline dates the newest {TIMELINE_FINDINGS} findings of the case."
        part.older_url = case_findings_url(assessment)
        part.older_link_text = f"See all findings of {assessment.reference}"
    return part


# --- A finding's timeline ----------------------------------------------------------------

# Audit events of a finding that its timeline shows: its moves and the follow-up of the answer.
_TIMELINE_ACTIONS = ("create", "transition", "change")
# What only the centre reads on it: edits of the text and escalation.
_CENTRE_ONLY_SUMMARIES = ("Changed ", "Escalated")


@dataclass(frozen=True)
class FindingStep:
    at: Any
    who: str
    what: str


def finding_timeline(*, user: Any, finding: Finding, limit: int = 100) -> list[FindingStep]:
    """The steps of ``finding`` from its audit trail, oldest first (one query).

    The centre sees every step; the company only the steps from its release on, without the
    centre's text edits and escalations, and never who in the centre took a step by the clock.
    """
    events = AuditEvent.objects.filter(
        object_type=Finding._meta.label_lower, object_id=finding.reference, action__in=_TIMELINE_ACTIONS
    ).order_by("occurred_at", "pk")
    company = not can(user, "finding.comment_internal", finding)
    if company:
        if finding.released_at is None:
            return []
        events = events.filter(occurred_at__gte=finding.released_at)
        for prefix in _CENTRE_ONLY_SUMMARIES:
            events = events.exclude(summary__startswith=prefix)
    rows = events.select_related("actor")[:limit]
    return [
        FindingStep(at=e.occurred_at, who=e.actor.full_name if e.actor else "The portal, by the clock", what=e.summary)
        for e in rows
    ]


# --- Recommendations ------------------------------------------------------------------------

# The case page lists this many recommendations, soonest due first.
RECOMMENDATION_PANEL_SIZE = 25


@dataclass(frozen=True)
class RecommendationRow:
    """A recommendation as a panel shows it: its stage, whose turn it is, and the days left."""

    recommendation: Recommendation
    days_left: int | None
    actions: dict[str, bool] = field(default_factory=dict)

    @property
    def is_overdue(self) -> bool:
        return self.days_left is not None and self.days_left < 0

    @property
    def days_overdue(self) -> int:
        return -self.days_left if self.is_overdue else 0


def _days_left(due, today) -> int | None:
    return (timezone.localdate(due) - today).days if due else None


def finding_recommendations(*, user: Any, finding: Finding) -> list[RecommendationRow]:
    """The recommendations of ``finding`` the user may see (a company never sees a proposal), with
    the steps the user may take on each: one query."""
    rows = list(scope(Recommendation.objects.filter(finding=finding), user).order_by("created_at", "pk"))
    today = timezone.localdate()
    # The rules read only the finding, the same for every row: the policy is asked once per step.
    allowed: dict[str, bool] = {}
    if rows:
        rows[0].finding = finding
        allowed = recommendation_steps_allowed(user=user, recommendation=rows[0])
    result = []
    for recommendation in rows:
        recommendation.finding = finding
        actions = {
            f"can_{name}": allowed.get(name, False) and RECOMMENDATION_MOVES[name].starts_from(recommendation.status)
            for name in allowed
        }
        result.append(
            RecommendationRow(
                recommendation, _days_left(recommendation.due_at if recommendation.is_open else None, today), actions
            )
        )
    return result


_RECOMMENDATION_COLUMNS = tuple(f.name for f in Recommendation._meta.concrete_fields)


def assessment_recommendations(*, user: Any, assessment: Assessment) -> list[RecommendationRow]:
    """The case's recommendations the user may see, open ones soonest due first, then ended ones
    (at most ``RECOMMENDATION_PANEL_SIZE``, one query)."""
    rows = (
        scope(Recommendation.objects.filter(finding__assessment=assessment), user)
        .select_related("finding")
        # The row names its finding, nothing more: the finding's long texts stay in the database.
        .only(*_RECOMMENDATION_COLUMNS, "finding__reference")
        .order_by(F("due_at").asc(nulls_last=True), "created_at")[:RECOMMENDATION_PANEL_SIZE]
    )
    today = timezone.localdate()
    return [RecommendationRow(r, _days_left(r.due_at if r.is_open else None, today)) for r in rows]
