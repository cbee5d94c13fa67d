"""Recommendations on a finding: proposed with it, issued with its release, followed to verification.

``recommendation_add`` records one while the centre still works on the finding; the finding's
release issues them all (``recommendations_issue``, called by ``finding_release``). Then the
company acknowledges, accepts (saying by when it will implement) or declines (with the reason),
and reports it implemented (with its evidence files); the centre verifies it or not (with the
reason; not verified goes back to the company). Each move checks the actor (the policy) and the
state (``findings.states.RECOMMENDATION_MOVES``), sets the due date of the next stage, audits,
keeps the stage's deadline in step and tells the other side, in one transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from audit.services import audit_record, diff_fields
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from core.references import save_with_reference
from findings.deadlines import recommendation_deadline_specs
from findings.handoffs import recommendation_handed_off
from findings.models import EvidenceSide, Finding, Recommendation
from findings.services.base import _attach_files, _locked_for
from findings.states import (
    EDITABLE_STATUSES,
    RECOMMENDATION_MOVES,
    RELEASED_STATUSES,
    RecommendationKind,
    RecommendationStatus,
)
from reminders.services import deadline_sync

# Days each stage is given from when it begins (implementation: unless the company names a date).
STAGE_DAYS = {
    RecommendationStatus.ISSUED: 7,
    RecommendationStatus.ACKNOWLEDGED: 14,
    RecommendationStatus.ACCEPTED: 60,
    RecommendationStatus.NOT_VERIFIED: 30,
    RecommendationStatus.IMPLEMENTED: 14,
}
# The company implements within a year of accepting.
IMPLEMENT_BY = bounds.DateRange("The implementation date", ahead_years=1)


def _due(status: str, now: datetime) -> datetime | None:
    days = STAGE_DAYS.get(status)
    return now + timedelta(days=days) if days else None


def _end_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.max.time().replace(microsecond=0)))


def _sync(recommendation: Recommendation) -> None:
    deadline_sync(owner=recommendation, specs=recommendation_deadline_specs(recommendation))


def _audit(recommendation: Recommendation, *, actor: Any, summary: str, changes: dict, request=None) -> None:
    audit_record(
        actor=actor,
        action="transition",
        obj=recommendation,
        request=request,
        case_ref=recommendation.finding.assessment.reference,
        summary=summary,
        changes=changes,
    )
    # The finding's timeline shows its recommendations' steps too.
    audit_record(
        actor=actor,
        action="transition",
        obj=recommendation.finding,
        request=request,
        case_ref=recommendation.finding.assessment.reference,
        summary=f"Recommendation {recommendation.reference}: {summary}",
        changes=changes,
    )


def recommendation_add(*, actor: Any, finding: Finding, kind: str, text: str, request=None) -> Recommendation:
    """Record a recommendation on ``finding`` while its team still works on it (draft or in review).

    It stays with the centre (proposed) until the finding is released.
    """
    text = (text or "").strip()
    errors: dict[str, list[str]] = {}
    if kind not in RecommendationKind.values:
        errors["kind"] = [f"Choose one of: {', '.join(RecommendationKind.values)}."]
    if not text:
        errors["text"] = ["Say what the company should do."]
    errors |= bounds.length_errors(text=(text, bounds.NOTE))
    if errors:
        raise RuleViolation("The recommendation has errors; see the fields.", errors=errors)
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            "finding.edit",
            "Only the assessment's lead and team can add recommendations to this finding.",
            allowed=EDITABLE_STATUSES,
            verb="given new recommendations",
        )
        recommendation = save_with_reference(
            Recommendation(finding=finding, kind=kind, text=text, created_by=actor), "REC"
        )
        audit_record(
            actor=actor,
            action="create",
            obj=recommendation,
            request=request,
            case_ref=finding.assessment.reference,
            summary=f"Recommended on {finding.reference}: {recommendation.get_kind_display()}",
            changes=diff_fields({}, {"kind": kind, "text": text}),
        )
        return recommendation


def recommendations_issue(*, actor: Any, finding: Finding, request=None) -> int:
    """Issue the proposed recommendations of ``finding`` as it is released: each is due to be acknowledged.

    Called by ``finding_release`` inside its transaction, after it checked the actor; the release
    notice tells the company. Returns how many were issued.
    """
    move = RECOMMENDATION_MOVES["issue"]
    now = timezone.now()
    issued = 0
    for recommendation in finding.recommendations.filter(status__in=move.sources).select_for_update():
        recommendation.finding = finding
        recommendation.status = move.target
        recommendation.due_at = _due(move.target, now)
        recommendation.save(update_fields=["status", "due_at", "updated_at"])
        _audit(
            recommendation,
            actor=actor,
            summary="Issued to the company",
            changes={"status": {"from": move.sources[0], "to": move.target}},
            request=request,
        )
        _sync(recommendation)
        issued += 1
    return issued


def _move(
    name: str,
    *,
    actor: Any,
    recommendation: Recommendation,
    summary: str,
    fields: dict[str, Any],
    due_at: datetime | None = None,
    files: Sequence[Any] = (),
    attested: bool = False,
    request=None,
) -> Recommendation:
    """Lock, check the actor and the state, write ``fields``, set the next stage's due date, audit,
    attach ``files`` (the company's evidence, ``attested`` unclassified), sync the deadline and tell
    the other side."""
    move = RECOMMENDATION_MOVES[name]
    with transaction.atomic():
        recommendation = (
            Recommendation.objects.select_for_update()
            .select_related("finding__assessment__submission")
            .get(pk=recommendation.pk)
        )
        require(actor, move.action, recommendation, "You cannot act on this recommendation.")
        if recommendation.finding.status not in RELEASED_STATUSES:
            raise TransitionNotAllowed(
                f"{recommendation.finding.reference} was withdrawn: its recommendations are closed."
            )
        if not move.starts_from(recommendation.status):
            wanted = " or ".join(f"“{RecommendationStatus(s).label.lower()}”" for s in move.sources)
            raise TransitionNotAllowed(
                f"{recommendation.reference} is “{recommendation.get_status_display().lower()}”; "
                f"“{move.label.lower()}” needs it to be {wanted}."
            )
        now = timezone.now()
        before = {"status": recommendation.status, **{k: getattr(recommendation, k) for k in fields}}
        recommendation.status = move.target
        recommendation.due_at = due_at or _due(move.target, now)
        for key, value in fields.items():
            setattr(recommendation, key, value)
        recommendation.save(update_fields=["status", "due_at", "updated_at", *fields])
        _attach_files(
            finding=recommendation.finding,
            files=files,
            side=EvidenceSide.COMPANY,
            actor=actor,
            field="files",
            attested=attested,
            request=request,
            recommendation=recommendation,
        )
        changes = diff_fields(before, {"status": move.target, **fields})
        _audit(recommendation, actor=actor, summary=summary, changes=changes, request=request)
        _sync(recommendation)
        recommendation_handed_off(recommendation, event=name, actor=actor)
        return recommendation


def recommendations_close_for(*, finding: Finding) -> None:
    """Stop the stage deadlines of ``finding``'s recommendations once it is withdrawn (called by
    ``finding_withdraw`` in its transaction): nobody is reminded of a finding that no longer stands."""
    for recommendation in finding.recommendations.all():
        recommendation.finding = finding
        _sync(recommendation)


def _reason(reason: str, field: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation(message, errors={field: [message]})
    bounds.check_lengths(**{field: (reason, bounds.NOTE)})
    return reason


def recommendation_acknowledge(*, actor: Any, recommendation: Recommendation, request=None) -> Recommendation:
    """issued → acknowledged: the company's liaison confirms it has the recommendation."""
    now = timezone.now()
    return _move(
        "acknowledge",
        actor=actor,
        recommendation=recommendation,
        summary="Acknowledged by the company",
        fields={"acknowledged_at": now},
        request=request,
    )


def recommendation_accept(
    *, actor: Any, recommendation: Recommendation, implement_by: date | None = None, request=None
) -> Recommendation:
    """acknowledged → accepted: the company will implement it, by ``implement_by`` (default 60 days)."""
    if implement_by is not None:
        bounds.check_dates(implement_by=(implement_by, IMPLEMENT_BY))
    due = _end_of(implement_by) if implement_by else None
    return _move(
        "accept",
        actor=actor,
        recommendation=recommendation,
        summary="Accepted by the company" + (f"; to implement by {implement_by:%Y-%m-%d}" if implement_by else ""),
        fields={"decided_at": timezone.now(), "decided_by": actor, "decline_reason": ""},
        due_at=due,
        request=request,
    )


def recommendation_decline(*, actor: Any, recommendation: Recommendation, reason: str, request=None) -> Recommendation:
    """acknowledged → declined: the company will not implement it, and says why."""
    reason = _reason(reason, "reason", "Give the reason for declining.")
    return _move(
        "decline",
        actor=actor,
        recommendation=recommendation,
        summary="Declined by the company",
        fields={"decided_at": timezone.now(), "decided_by": actor, "decline_reason": reason},
        request=request,
    )


def recommendation_implement(
    *,
    actor: Any,
    recommendation: Recommendation,
    note: str,
    files: Sequence[Any] = (),
    attested: bool = False,
    request=None,
) -> Recommendation:
    """accepted / not verified → implemented: the company says what it did, with evidence files if any
    (``attested``: the liaison confirmed they hold no classified information)."""
    note = _reason(note, "note", "Say what was implemented.")
    return _move(
        "implement",
        actor=actor,
        recommendation=recommendation,
        summary="Reported implemented by the company",
        fields={"implemented_at": timezone.now(), "implementation_note": note},
        files=files,
        attested=attested,
        request=request,
    )


def recommendation_verify(
    *, actor: Any, recommendation: Recommendation, note: str = "", request=None
) -> Recommendation:
    """implemented → verified: the case team checked the implementation."""
    note = (note or "").strip()
    bounds.check_lengths(note=(note, bounds.NOTE))
    return _move(
        "verify",
        actor=actor,
        recommendation=recommendation,
        summary="Verified by the centre",
        fields={"verified_at": timezone.now(), "verified_by": actor, "verification_note": note},
        request=request,
    )


def recommendation_not_verify(*, actor: Any, recommendation: Recommendation, note: str, request=None) -> Recommendation:
    """implemented → not verified: the implementation does not do it; the company implements again."""
    note = _reason(note, "note", "Say why the implementation is not verified.")
    return _move(
        "not_verify",
        actor=actor,
        recommendation=recommendation,
        summary="Not verified by the centre",
        fields={"verified_at": timezone.now(), "verified_by": actor, "verification_note": note},
        request=request,
    )
