"""Release notices: the centre records a covered model's planned public release before it is submitted.

Notice is *late* when it was given inside the agreement's release-notice period (the effective
terms when the notice is recorded): fewer days lie between the day notice was given and the
planned public release than the period asks for. A late notice tells the lead (or, with none
named yet, the programme admins) through a hand-off. The company may move its planned release
date; the move is audited, the late flag is recomputed, the planned-release deadline moves, and
the apps above follow through the hooks registered with ``release_date_moved_register``
(a linked submission's intended release date and its case).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.permissions import require
from agreements.deadlines import company_liaisons, end_of_day, programme_admins
from agreements.models import Agreement, AgreementKind, ReleaseNotice, ReleaseNoticeStatus
from agreements.services.agreements import SYSTEM as SYSTEM_ACTOR
from agreements.states import AgreementStatus
from agreements.terms import effective_terms
from audit.models import AuditEvent
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from core.references import save_with_reference
from reminders.deadlines import DeadlineSpec
from reminders.models import DeadlineKind
from reminders.services import deadline_sync, handoff_notify

# Agreements under which a covered release can be announced: in force, or about to be.
NOTICE_AGREEMENT_STATUSES = (AgreementStatus.ACTIVE,)

ReleaseMoved = Callable[..., None]
_release_moved_hooks: list[ReleaseMoved] = []


def release_date_moved_register(hook: ReleaseMoved) -> None:
    """Call ``hook(notice=..., actor=..., request=...)`` in the transaction that moves a planned
    release date, so the apps above keep their own dates in step; twice has no further effect."""
    if hook not in _release_moved_hooks:
        _release_moved_hooks.append(hook)


def notice_is_late(*, planned_release_date: datetime.date, notice_given_on: datetime.date, required_days: int) -> bool:
    """True when fewer than ``required_days`` lie between the notice and the planned release."""
    return (planned_release_date - notice_given_on).days < required_days


def _centre_recipients(notice: ReleaseNotice) -> list[Any]:
    """The lead named on the notice, or the programme admins while none is."""
    return [notice.lead] if notice.lead_id else programme_admins()


def release_notice_deadline_specs(notice: ReleaseNotice) -> list[DeadlineSpec]:
    """The planned public release, while the release is expected or submitted."""
    if notice.status == ReleaseNoticeStatus.CANCELLED:
        return []
    recipients = _centre_recipients(notice)
    return [
        DeadlineSpec(
            kind=DeadlineKind.PLANNED_RELEASE,
            due_at=end_of_day(notice.planned_release_date),
            title=f"Planned release of {notice.model_name} {notice.model_version}".strip()
            + f" ({notice.agreement.organisation.name})",
            recipients=recipients,
            url=notice.get_absolute_url(),
            organisation=notice.organisation,
            escalate_to=[],
        )
    ]


def _tell_late(notice: ReleaseNotice, *, actor: Any) -> None:
    """Late notice goes to the lead (or the programme admins): the window may have to be shorter."""
    recipients = _centre_recipients(notice)
    handoff_notify(
        event_key=f"release-notice:{notice.pk}:late:{notice.planned_release_date.isoformat()}",
        recipients=recipients,
        title=f"Late release notice: {notice.model_name} {notice.model_version}".strip(),
        body=(
            f"{notice.organisation.name} plans the public release on {notice.planned_release_date:%Y-%m-%d}, "
            f"{notice.notice_days_given} days after notice on {notice.notice_given_on:%Y-%m-%d}; "
            f"{notice.agreement.reference} asks for {notice.notice_days_required} days."
        ),
        url=notice.get_absolute_url(),
        organisation=None,
        actor=actor,
    )


def _check_lead(lead: User | None) -> None:
    if lead is not None and lead.role != Role.LEAD_EVALUATOR:
        message = "The lead must be a lead evaluator."
        raise RuleViolation(message, errors={"lead": [message]})


def release_notice_record(
    *,
    actor: Any,
    agreement: Agreement,
    model_name: str,
    planned_release_date: datetime.date,
    notice_given_on: datetime.date,
    model_version: str = "",
    lead: User | None = None,
    notes: str = "",
    request=None,
) -> ReleaseNotice:
    """The centre records an upcoming covered release under an active agreement.

    The notice period required is the agreement's effective release-notice period; notice
    inside it is flagged late and tells the lead. Refused (RuleViolation naming the field)
    for an agreement that is not active or is an amendment, a release before the notice, or
    a notice dated in the future.
    """
    require(actor, "release_notice.record", agreement, message="You may not record release notices.")
    model_name, model_version, notes = (model_name or "").strip(), (model_version or "").strip(), notes or ""
    errors: dict[str, list[str]] = {}
    if agreement.status not in NOTICE_AGREEMENT_STATUSES:
        errors["agreement"] = [
            f"{agreement.reference} is {agreement.get_status_display().lower()}: a release notice is recorded "
            "under an active agreement."
        ]
    elif agreement.kind == AgreementKind.AMENDMENT:
        errors["agreement"] = [f"{agreement.reference} is an amendment: record the notice under what it amends."]
    if not model_name:
        errors["model_name"] = ["Name the model to be released."]
    if planned_release_date is None:
        errors["planned_release_date"] = ["Give the planned public release date."]
    if notice_given_on is None:
        errors["notice_given_on"] = ["Give the date notice was given."]
    elif notice_given_on > timezone.localdate():
        errors["notice_given_on"] = ["Notice cannot be dated in the future."]
    if planned_release_date and notice_given_on and planned_release_date < notice_given_on:
        errors["planned_release_date"] = ["The planned release cannot be before the notice."]
    errors |= bounds.length_errors(
        model_name=(model_name, bounds.TITLE), model_version=(model_version, bounds.VERSION), notes=(notes, bounds.NOTE)
    )
    if errors:
        raise RuleViolation("The release notice is incomplete; see the fields marked.", errors=errors)
    bounds.check_dates(planned_release_date=(planned_release_date, bounds.INTENDED_RELEASE))
    _check_lead(lead)
    with transaction.atomic():
        required = int(effective_terms(agreement)["release_notice_days"])
        notice = save_with_reference(
            ReleaseNotice(
                agreement=agreement,
                organisation_id=agreement.organisation_id,
                model_name=model_name,
                model_version=model_version,
                planned_release_date=planned_release_date,
                notice_given_on=notice_given_on,
                notice_days_required=required,
                is_late=notice_is_late(
                    planned_release_date=planned_release_date, notice_given_on=notice_given_on, required_days=required
                ),
                lead=lead,
                notes=notes,
                recorded_by=actor,
            ),
            "REL",
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=notice,
            request=request,
            summary=f"Recorded notice of the release of {model_name} on {planned_release_date:%Y-%m-%d}"
            + (" (late)" if notice.is_late else ""),
        )
        deadline_sync(owner=notice, specs=release_notice_deadline_specs(notice))
        if notice.is_late:
            _tell_late(notice, actor=actor)
    return notice


def release_notice_move_date(
    *, actor: Any, notice: ReleaseNotice, planned_release_date: datetime.date, reason: str, request=None
) -> ReleaseNotice:
    """The company (or the centre) moves the planned public release date, saying why.

    Audited; the late flag is recomputed against the notice date, the planned-release deadline
    moves, a notice that becomes late tells the lead, and the registered hooks move the linked
    submission's dates. An unchanged date changes nothing.
    """
    require(actor, "release_notice.move_date", notice, message="You may not move this release date.")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the release date moves.", errors={"reason": ["A reason is required."]})
    if planned_release_date is None:
        raise RuleViolation(
            "Give the new planned release date.", errors={"planned_release_date": ["Give the new date."]}
        )
    bounds.check_lengths(reason=(reason, bounds.NOTE))
    bounds.check_dates(planned_release_date=(planned_release_date, bounds.INTENDED_RELEASE))
    with transaction.atomic():
        notice = ReleaseNotice.objects.select_for_update().select_related("agreement", "organisation").get(pk=notice.pk)
        if notice.status == ReleaseNoticeStatus.CANCELLED:
            raise TransitionNotAllowed(f"{notice.reference} is cancelled: its release date no longer moves.")
        if planned_release_date < notice.notice_given_on:
            message = f"The planned release cannot be before the notice ({notice.notice_given_on:%Y-%m-%d})."
            raise RuleViolation(message, errors={"planned_release_date": [message]})
        old = notice.planned_release_date
        if old == planned_release_date:
            return notice
        was_late = notice.is_late
        notice.planned_release_date = planned_release_date
        notice.is_late = notice_is_late(
            planned_release_date=planned_release_date,
            notice_given_on=notice.notice_given_on,
            required_days=notice.notice_days_required,
        )
        notice.save(update_fields=["planned_release_date", "is_late", "updated_at"])
        changes: dict[str, Any] = {
            "planned_release_date": {"from": old.isoformat(), "to": planned_release_date.isoformat()}
        }
        if was_late != notice.is_late:
            changes["is_late"] = {"from": was_late, "to": notice.is_late}
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=notice,
            changes=changes,
            request=request,
            summary=f"Planned release moved from {old:%Y-%m-%d} to {planned_release_date:%Y-%m-%d}: {reason}",
        )
        deadline_sync(owner=notice, specs=release_notice_deadline_specs(notice))
        if notice.is_late and not was_late:
            _tell_late(notice, actor=actor)
        for hook in _release_moved_hooks:
            hook(notice=notice, actor=actor, request=request)
        # The other side hears of the move: the centre when the company moved it, and the reverse.
        handoff_notify(
            event_key=f"release-notice:{notice.pk}:moved:{planned_release_date.isoformat()}",
            recipients=[
                *([notice.lead] if notice.lead_id else programme_admins()),
                *company_liaisons(notice.agreement),
            ],
            title=f"Planned release of {notice.model_name} moved to {planned_release_date:%Y-%m-%d}",
            body=reason,
            url=notice.get_absolute_url(),
            organisation=notice.organisation_id,
            actor=actor,
        )
    return notice


def release_notice_mark_submitted(*, notice: ReleaseNotice) -> None:
    """The company submitted the announced model: called by the submission service in its transaction."""
    ReleaseNotice.objects.filter(pk=notice.pk, status=ReleaseNoticeStatus.EXPECTED).update(
        status=ReleaseNoticeStatus.SUBMITTED
    )


def release_notice_cancel(*, notice: ReleaseNotice, reason: str, actor: Any = SYSTEM_ACTOR) -> None:
    """The announced release will not be assessed (its submission was withdrawn): called by the
    submission service in its transaction; the planned-release deadline closes."""
    notice = ReleaseNotice.objects.select_for_update().get(pk=notice.pk)
    if notice.status == ReleaseNoticeStatus.CANCELLED:
        return
    notice.status = ReleaseNoticeStatus.CANCELLED
    notice.save(update_fields=["status", "updated_at"])
    audit_record(
        actor=actor,
        action=AuditEvent.Action.TRANSITION,
        obj=notice,
        summary=f"Cancelled: {reason}",
        changes={"status": {"from": ReleaseNoticeStatus.SUBMITTED, "to": ReleaseNoticeStatus.CANCELLED}},
    )
    deadline_sync(owner=notice, specs=release_notice_deadline_specs(notice))


def release_notice_url(notice: ReleaseNotice) -> str:
    return reverse("agreements:release_notice", kwargs={"reference": notice.reference})
