"""The company's acknowledgement of a completed case's outcome."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from assessments import handoffs
from assessments.models import Assessment
from assessments.states import ACKNOWLEDGE_OUTCOME, OUTCOME_ACKNOWLEDGEABLE_STATUSES
from audit.services import audit_record
from core import bounds
from core.errors import TransitionNotAllowed


def assessment_outcome_acknowledge(
    *, actor: Any, assessment: Assessment, comment: str = "", request=None
) -> Assessment:
    """The company's liaison acknowledges the outcome of its completed case, with a comment if any.

    Once per case: the acknowledgement (who, when, the comment) goes on the case's timeline and in
    the released report; the case's lead and team are told.
    """
    comment = (comment or "").strip()
    bounds.check_lengths(comment=(comment, bounds.NOTE))
    with transaction.atomic():
        assessment = (
            Assessment.objects.select_for_update().select_related("submission__agreement").get(pk=assessment.pk)
        )
        require(actor, ACKNOWLEDGE_OUTCOME, assessment, "Only the company's liaison can acknowledge the outcome.")
        if assessment.status not in OUTCOME_ACKNOWLEDGEABLE_STATUSES:
            raise TransitionNotAllowed(
                f"{assessment.reference} is {assessment.get_status_display().lower()}: only the outcome of a "
                "completed assessment can be acknowledged."
            )
        if assessment.outcome_acknowledged_at is not None:
            raise TransitionNotAllowed(f"The outcome of {assessment.reference} was already acknowledged.")
        assessment.outcome_acknowledged_at = timezone.now()
        assessment.outcome_acknowledged_by = actor
        assessment.outcome_company_comment = comment
        assessment.save(
            update_fields=[
                "outcome_acknowledged_at",
                "outcome_acknowledged_by",
                "outcome_company_comment",
                "updated_at",
            ]
        )
        audit_record(
            actor=actor,
            action="change",
            obj=assessment,
            request=request,
            case_ref=assessment.reference,
            summary="The company acknowledged the outcome" + (" with a comment" if comment else ""),
            changes={"outcome_acknowledged_at": {"from": None, "to": assessment.outcome_acknowledged_at.isoformat()}},
        )
        handoffs.outcome_acknowledged(assessment, actor=actor)
        return assessment
