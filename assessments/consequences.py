"""What ending an agreement leaves behind: the cases still open under it, for its confirmation page.

Registered with ``agreements.selectors.agreement_dependents_register`` when the app loads, since
agreements sit below assessments and cannot ask for cases themselves.
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import scope
from assessments.models import Assessment
from assessments.states import OPEN_ASSESSMENT_STATUSES
from core.choices import RiskDomain


def open_cases_under_agreement(*, user: Any, agreement: Any) -> list[tuple[str, str, str]]:
    """(reference, what and where it is, url) of each open case under ``agreement`` that ``user``
    may see, earliest window first: one query."""
    cases = (
        scope(Assessment.objects.all(), user)
        .filter(submission__agreement=agreement, status__in=OPEN_ASSESSMENT_STATUSES)
        .select_related("submission")
        .order_by("window_start", "reference")
    )
    return [
        (case.reference, f"{case.submission}, {case.get_status_display().lower()}", case.get_absolute_url())
        for case in cases
    ]


def cases_outside_terms(*, agreement: Any, terms: dict[str, Any]) -> list[tuple[str, str]]:
    """(reference, what falls outside) for each open case under ``agreement`` that ``terms`` would
    leave outside: a risk domain no longer in scope, or a window longer than the new maximum. One query."""
    in_scope = set(terms.get("risk_domains") or [])
    limit = terms.get("max_window_days")
    found: list[tuple[str, str]] = []
    cases = Assessment.objects.filter(submission__agreement=agreement, status__in=OPEN_ASSESSMENT_STATUSES).only(
        "reference", "risk_domains", "window_start", "window_end"
    )
    for case in cases.order_by("reference"):
        problems = []
        outside = [d for d in case.risk_domains if d not in in_scope]
        if outside:
            problems.append("risk domains " + ", ".join(RiskDomain(d).label for d in outside if d in RiskDomain.values))
        if isinstance(limit, int) and case.window_days > limit:
            problems.append(f"a {case.window_days:g}-day window (maximum {limit})")
        if problems:
            found.append((case.reference, " and ".join(problems) + " outside the terms"))
    return found


def withdraw_cases_of_ended_agreement(*, agreement: Any, reason: str) -> None:
    """An agreement ended on notice: its open cases are withdrawn (their access ends with them).

    Registered with ``agreements.services.ending.agreement_ended_register`` when the app loads.
    """
    from agreements.services import SYSTEM
    from assessments.services.cases import assessment_withdraw

    for case in Assessment.objects.filter(submission__agreement=agreement, status__in=OPEN_ASSESSMENT_STATUSES):
        assessment_withdraw(actor=SYSTEM, assessment=case, reason=reason)
