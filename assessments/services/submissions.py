"""Model submissions: a company offers a covered model for assessment under its active agreement."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from agreements.models import Agreement, AgreementStatus, ReleaseNotice, ReleaseNoticeStatus
from agreements.services import SYSTEM
from agreements.services.release_notices import release_notice_cancel, release_notice_mark_submitted
from assessments import deadlines, handoffs
from assessments.models import Modality, ModelSubmission
from assessments.services.cases import assessment_withdraw
from assessments.states import OPEN_ASSESSMENT_STATUSES, AssessmentStatus
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from core.references import save_with_reference

# A case in one of these has not started: the company may still take its submission back.
NOT_STARTED_STATUSES = (AssessmentStatus.SCHEDULED, AssessmentStatus.ACCESS_PENDING)


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
    release_notice: ReleaseNotice | None = None,
    request=None,
) -> ModelSubmission:
    """A liaison submits one of their company's models under the company's **active** agreement.

    Refused (RuleViolation, naming the field) when the agreement belongs to
    another organisation or is not active, or when the same model version was
    already submitted. With the centre's ``release_notice`` of this release (same
    company, still expected), the planned release date is the notice's, and the
    notice's late flag shows on the submission and its case.
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
    if release_notice is not None:
        if release_notice.organisation_id != organisation.pk or release_notice.status != ReleaseNoticeStatus.EXPECTED:
            message = "Choose a release notice of your organisation that is still expected."
            raise RuleViolation(message, errors={"release_notice": [message]})
        intended_release_date = release_notice.planned_release_date
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
                release_notice=release_notice,
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
        if release_notice is not None:
            release_notice_mark_submitted(notice=release_notice)
        deadlines.sync_submission(submission)
    return submission


def submission_withdraw(*, actor: Any, submission: ModelSubmission, reason: str, request=None) -> ModelSubmission:
    """The company takes back its offer before the assessment starts, saying why.

    Refused once a case of it is in progress (or beyond), or when already withdrawn. A case
    still scheduled or waiting for access is withdrawn with it through ``assessment_withdraw``
    (its tickets end, its deadlines close); a linked release notice is cancelled; the centre's
    people on the case (or the programme admins) are told why.
    """
    require(actor, "submission.withdraw", submission, message="You may not withdraw this submission.")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the submission is withdrawn.", errors={"reason": ["A reason is required."]})
    bounds.check_lengths(reason=(reason, bounds.NOTE))
    with transaction.atomic():
        submission = ModelSubmission.objects.select_for_update().select_related("organisation").get(pk=submission.pk)
        if submission.is_withdrawn:
            raise TransitionNotAllowed(f"{submission.reference} was already withdrawn.")
        started = submission.assessments.exclude(status__in=NOT_STARTED_STATUSES).exclude(
            status=AssessmentStatus.WITHDRAWN
        )
        case = started.first()
        if case is not None:
            raise TransitionNotAllowed(
                f"{submission.reference} can no longer be withdrawn: its assessment {case.reference} is "
                f"{case.get_status_display().lower()}. Ask the centre to withdraw the case."
            )
        submission.withdrawn_at = timezone.now()
        submission.withdrawn_by = actor
        submission.withdrawal_reason = reason
        submission.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawal_reason"])
        audit_record(
            actor=actor,
            action="transition",
            obj=submission,
            summary=f"Withdrawn by the company: {reason[:200]}",
            changes={"withdrawn": {"from": False, "to": True}, "withdrawal_reason": {"from": "", "to": reason}},
            request=request,
        )
        for assessment in submission.assessments.filter(status__in=NOT_STARTED_STATUSES):
            assessment_withdraw(
                actor=SYSTEM,
                assessment=assessment,
                reason=f"The company withdrew {submission.reference}: {reason}",
                request=request,
            )
        if submission.release_notice_id:
            release_notice_cancel(
                notice=submission.release_notice, reason=f"{submission.reference} withdrawn", actor=actor
            )
        deadlines.sync_submission(submission)
        handoffs.submission_withdrawn(submission, actor=actor)
    return submission


def submissions_follow_release_date(*, notice: Any, actor: Any, request=None) -> None:
    """A planned release date moved (``agreements.services.release_notices``): each submission of the
    notice takes the new date, its deadlines move, and the lead of a case whose window now ends after
    the release is told. Registered with ``release_date_moved_register`` when the app loads."""
    for submission in ModelSubmission.objects.filter(release_notice=notice).select_related("organisation"):
        old = submission.intended_release_date
        submission.intended_release_date = notice.planned_release_date
        submission.save(update_fields=["intended_release_date"])
        audit_record(
            actor=actor,
            action="change",
            obj=submission,
            summary=f"Planned release moved with {notice.reference}",
            changes={
                "intended_release_date": {
                    "from": old.isoformat() if old else None,
                    "to": notice.planned_release_date.isoformat(),
                }
            },
            request=request,
        )
        deadlines.sync_submission(submission)
        for assessment in submission.assessments.filter(status__in=OPEN_ASSESSMENT_STATUSES):
            if timezone.localtime(assessment.window_end).date() > notice.planned_release_date:
                handoffs.window_past_release(assessment, release=notice.planned_release_date, actor=actor)
