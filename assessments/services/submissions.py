"""Model submissions: a company offers a covered model for assessment under its active agreement."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from accounts.permissions import require
from agreements.models import Agreement, AgreementStatus
from assessments import deadlines
from assessments.models import Modality, ModelSubmission
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation
from core.references import save_with_reference


def _clean_modalities(modalities: list[str]) -> list[str]:
    allowed = set(Modality.values)
    unknown = [m for m in modalities if m not in allowed]
    if unknown:
        raise RuleViolation(
            f"Unknown modalities: {', '.join(unknown)}.", errors={"modalities": [f"Choose from {', '.join(allowed)}."]}
        )
    if not modalities:
        raise RuleViolation("Name at least one modality.", errors={"modalities": ["Name at least one modality."]})
    return sorted(set(modalities), key=Modality.values.index)


def submission_create(
    *,
    actor: Any,
    agreement: Agreement,
    model_name: str,
    model_version: str,
    modalities: list[str],
    intended_release_date: date | None = None,
    notes: str = "",
    request=None,
) -> ModelSubmission:
    """A liaison submits one of their company's models under the company's **active** agreement.

    Refused (RuleViolation, naming the field) when the agreement belongs to
    another organisation or is not active, or when the same model version was
    already submitted.
    """
    require(actor, "submission.create")
    organisation = actor.organisation
    model_name = (model_name or "").strip()
    model_version = (model_version or "").strip()
    if agreement.organisation_id != organisation.pk:
        raise RuleViolation(
            "Choose one of your organisation's agreements.",
            errors={"agreement": ["Choose one of your organisation's agreements."]},
        )
    if agreement.status != AgreementStatus.ACTIVE:
        message = (
            f"Agreement {agreement.reference} is {agreement.get_status_display().lower()}: "
            "a model can be submitted only under an active agreement."
        )
        raise RuleViolation(message, errors={"agreement": [message]})
    if not model_name or not model_version:
        raise RuleViolation(
            "Give the model's name and version.",
            errors={
                field: ["This field is required."]
                for field, value in (("model_name", model_name), ("model_version", model_version))
                if not value
            },
        )
    bounds.check_lengths(
        model_name=(model_name, bounds.TITLE), model_version=(model_version, bounds.VERSION), notes=(notes, bounds.NOTE)
    )
    bounds.check_dates(intended_release_date=(intended_release_date, bounds.INTENDED_RELEASE))
    modalities = _clean_modalities(list(modalities))
    with transaction.atomic():
        if ModelSubmission.objects.filter(
            organisation=organisation, model_name=model_name, model_version=model_version
        ).exists():
            message = f"{model_name} {model_version} has already been submitted."
            raise RuleViolation(message, errors={"model_version": [message]})
        submission = save_with_reference(
            ModelSubmission(
                organisation=organisation,
                agreement=agreement,
                model_name=model_name,
                model_version=model_version,
                modalities=modalities,
                intended_release_date=intended_release_date,
                notes=notes,
                submitted_by=actor,
            ),
            "SUB",
        )
        audit_record(
            actor=actor,
            action="create",
            obj=submission,
            summary=f"Submitted {submission} under {agreement.reference}",
            request=request,
        )
        deadlines.sync_submission(submission)
    return submission
