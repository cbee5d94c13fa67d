"""Report exports of an assessment's findings."""

from __future__ import annotations

from typing import Any

from accounts.permissions import require
from assessments.models import Assessment
from audit.services import audit_record

# --- Report exports ----------------------------------------------------------------------


def assessment_report_export(
    *, actor: Any, assessment: Assessment, released_only: bool, fmt: str, request=None
) -> None:
    """Check the actor may download the report variant, and record the export."""
    action = "assessment.report_company" if released_only else "assessment.report"
    require(actor, action, assessment, "You cannot download this report.")
    audit_record(
        actor=actor,
        action="export",
        obj=assessment,
        request=request,
        case_ref=assessment.reference,
        summary=f"Downloaded the {'released-findings' if released_only else 'full'} report ({fmt.upper()})",
    )
