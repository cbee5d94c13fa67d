"""What the programme page reads: every company's engagement, agreements, expected releases and work.

It reads every domain app, so it lives in the composition root. Each part is one query whatever the
number of companies, cases or findings: per-company numbers are correlated counts or one grouped
aggregate, and the lists are single queries with their related rows joined.

Who may open the page is the policy's ``programme.view`` (accounts/rules.py). The figures per
company (cases under way, findings by severity) are programme-wide counts without titles; the
list of cases shows only the cases the viewer may open (``scope``), and says how many others are
under way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organisation
from accounts.permissions import scope
from accounts.states import ENGAGEMENT_ORDER, EngagementStage
from agreements.models import Agreement, ReleaseNotice, ReleaseNoticeStatus
from agreements.selectors import release_notices_late, release_notices_upcoming
from agreements.states import AgreementStatus
from assessments.models import Assessment
from assessments.states import OPEN_ASSESSMENT_STATUSES
from findings.models import SEVERITY_ORDER, Finding, Severity
from findings.states import OPEN_FINDING_STATUSES

# How far ahead the page looks for covered releases.
HORIZON_DAYS = 90
# Release notices that still describe a coming release (a cancelled one does not).
LIVE_NOTICE_STATUSES = (ReleaseNoticeStatus.EXPECTED, ReleaseNoticeStatus.SUBMITTED)
# Agreements worth a line beside a company: every one but those withdrawn before signature.
SHOWN_AGREEMENTS = Q(status__in=[s for s in AgreementStatus if s != AgreementStatus.WITHDRAWN])
# The cases under way listed on the page, those whose windows end soonest; the Assessments list has them all.
CASES_SHOWN = 50


@dataclass
class CompanyRow:
    """One company's line: its engagement, its agreements and the numbers of its work."""

    organisation: Organisation
    agreements: list[Agreement]
    releases_due: int
    late_notices: int
    open_cases: int
    findings_by_severity: list[tuple[str, str, int]]

    @property
    def open_findings(self) -> int:
        return sum(n for _value, _label, n in self.findings_by_severity)

    @property
    def signed_without_agreement(self) -> bool:
        """Recorded as signed while no agreement of the company is in force: the record needs a look."""
        return self.organisation.engagement_stage == EngagementStage.SIGNED and not any(
            agreement.status == AgreementStatus.ACTIVE for agreement in self.agreements
        )

    @property
    def findings_text(self) -> str:
        """The open findings written out by severity, most severe first ("2 critical, 1 high")."""
        return ", ".join(f"{n} {label.lower()}" for _value, label, n in self.findings_by_severity if n)


@dataclass
class CaseRow:
    assessment: Assessment
    days_left: int | None


@dataclass
class ProgrammeOverview:
    today: date
    horizon: date
    companies: list[CompanyRow]
    stage_counts: list[tuple[str, str, int]]
    releases: list[ReleaseNotice]
    late_notices: list[ReleaseNotice]
    cases: list[CaseRow]
    cases_under_way: int  # every open case of the programme, whoever is on it
    cases_cut: bool  # the person may open more than CASES_SHOWN: the soonest-ending are listed
    severity_totals: list[tuple[str, str, int]] = field(default_factory=list)

    @property
    def cases_not_on(self) -> int:
        """Open cases the person is not on (none for an admin), when the list is complete."""
        return 0 if self.cases_cut else self.cases_under_way - len(self.cases)

    @property
    def open_findings(self) -> int:
        return sum(n for _value, _label, n in self.severity_totals)


def _counted(qs: QuerySet, link: str) -> Coalesce:
    """The number of rows of ``qs`` whose ``link`` is the outer company, as a correlated subquery."""
    per_company = qs.filter(**{link: OuterRef("pk")}).order_by().values(link).annotate(n=Count("pk"))
    return Coalesce(Subquery(per_company.values("n"), output_field=IntegerField()), 0)


def _releases_ahead(today: date, horizon: date) -> QuerySet[ReleaseNotice]:
    return ReleaseNotice.objects.filter(
        status__in=LIVE_NOTICE_STATUSES, planned_release_date__gte=today, planned_release_date__lte=horizon
    )


def _late_notices(today: date) -> QuerySet[ReleaseNotice]:
    # As agreements.selectors.release_notices_late: notice given inside the agreed period, release still ahead.
    return ReleaseNotice.objects.filter(is_late=True, status__in=LIVE_NOTICE_STATUSES, planned_release_date__gte=today)


def _open_cases() -> QuerySet[Assessment]:
    return Assessment.objects.filter(status__in=OPEN_ASSESSMENT_STATUSES)


def companies_overview(*, today: date, horizon: date) -> QuerySet[Organisation]:
    """Every developer company with its engagement, agreements and counts (2 queries)."""
    return (
        Organisation.objects.filter(kind=Organisation.Kind.DEVELOPER)
        .select_related("engagement_changed_by")
        .annotate(
            releases_due=_counted(_releases_ahead(today, horizon), "organisation"),
            late_count=_counted(_late_notices(today), "organisation"),
            open_cases=_counted(_open_cases(), "submission__organisation"),
        )
        .prefetch_related(
            Prefetch(
                "agreements",
                queryset=Agreement.objects.filter(SHOWN_AGREEMENTS).order_by("-created_at"),
                to_attr="shown_agreements",
            ),
        )
        .order_by("name")
    )


def _findings_by_company() -> dict[int, dict[str, int]]:
    """Open findings counted by company and severity, in one grouped query."""
    rows = (
        Finding.objects.filter(status__in=OPEN_FINDING_STATUSES)
        .order_by()
        .values("assessment__submission__organisation")
        .annotate(**{value: Count("pk", filter=Q(severity=value)) for value in Severity.values})
    )
    return {row["assessment__submission__organisation"]: row for row in rows}


def _days_left(assessment: Assessment, now) -> int | None:
    remaining = assessment.window_end - now
    return None if remaining.total_seconds() < 0 else remaining.days


def programme_overview(*, user: Any) -> ProgrammeOverview:
    """The whole programme page for ``user``, who the caller has checked may see it (``programme.view``).

    A fixed number of queries (7): the companies (with their counts and the one who last moved
    them), their agreements, the findings aggregate, the releases ahead, the late notices, the
    open cases the user may open (at most ``CASES_SHOWN``, soonest-ending first), and the count of
    all open cases.
    """
    now = timezone.now()
    today = timezone.localdate()
    horizon = today + timedelta(days=HORIZON_DAYS)
    organisations = list(companies_overview(today=today, horizon=horizon))
    findings = _findings_by_company()
    order = [(value, Severity(value).label) for value in SEVERITY_ORDER]
    companies = [
        CompanyRow(
            organisation=o,
            agreements=o.shown_agreements,
            releases_due=o.releases_due,
            late_notices=o.late_count,
            open_cases=o.open_cases,
            findings_by_severity=[(value, label, findings.get(o.pk, {}).get(value, 0)) for value, label in order],
        )
        for o in organisations
    ]
    by_stage = {value: 0 for value in EngagementStage.values}
    for o in organisations:
        by_stage[o.engagement_stage] += 1
    severity_totals = [
        (value, label, sum(c.findings_by_severity[i][2] for c in companies)) for i, (value, label) in enumerate(order)
    ]

    releases = list(release_notices_upcoming(user=user, days=HORIZON_DAYS, today=today))
    late = list(release_notices_late(user=user, today=today))

    visible = scope(_open_cases(), user).select_related("submission__organisation", "lead")
    rows = list(visible.order_by("window_end", "reference")[: CASES_SHOWN + 1])
    cases = [CaseRow(assessment=a, days_left=_days_left(a, now)) for a in rows[:CASES_SHOWN]]
    under_way = _open_cases().count()
    return ProgrammeOverview(
        today=today,
        horizon=horizon,
        companies=companies,
        stage_counts=[(stage.value, stage.label, by_stage[stage.value]) for stage in ENGAGEMENT_ORDER],
        releases=releases,
        late_notices=late,
        cases=cases,
        cases_under_way=under_way,
        cases_cut=len(rows) > CASES_SHOWN,
        severity_totals=severity_totals,
    )
