"""Report exports of an assessment's findings."""

from __future__ import annotations

from typing import Any

from accounts.permissions import require
from assessments.models import Assessment
from audit.services import audit_record_once_a_day

# --- Report exports ----------------------------------------------------------------------


def assessment_report_export(
    *, actor: Any, assessment: Assessment, released_only: bool, fmt: str, request=None
) -> None:
    """Check the actor may have the report variant, and record that they had it, once a day.

    Reading the report page after page, or downloading it again, adds nothing more to the case's
    history that day: the first view of each variant and format by each person is recorded
    (``audit_record_once_a_day``).
    """
    action = "assessment.report_company" if released_only else "assessment.report"
    require(actor, action, assessment, "You cannot download this report.")
    variant = "released-findings" if released_only else "full"
    audit_record_once_a_day(
        actor=actor,
        action="export",
        obj=assessment,
        request=request,
        case_ref=assessment.reference,
        summary=f"Viewed the {variant} report (HTML)"
        if fmt == "html"
        else f"Downloaded the {variant} report ({fmt.upper()})",
    )
