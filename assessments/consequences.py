"""What ending an agreement leaves behind: the cases still open under it, for its confirmation page.

Registered with ``agreements.selectors.agreement_dependents_register`` when the app loads, since
agreements sit below assessments and cannot ask for cases themselves.
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import scope
from assessments.models import Assessment
from assessments.states import OPEN_ASSESSMENT_STATUSES


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
