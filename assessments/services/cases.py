"""Assessment cases: opening, scheduling the window, moving through the states, closing with an outcome."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from accounts.permissions import require
from agreements.services import SYSTEM
from agreements.terms import effective_terms
from assessments import deadlines, handoffs
from assessments.models import Assessment, AssessmentOutcome, ModelSubmission
from assessments.services.terms import check_domains_within_agreement, check_window_before_release
from assessments.states import (
    ADVANCE_MOVES,
    ASSESSMENT_MOVES,
    ENDED_TICKET_STATUSES,
    GRANTED_TICKET_STATUSES,
    AssessmentStatus,
)
from audit.services import audit_record, diff_fields
from core import bounds
from core.choices import MAX_WINDOW_DAYS, RiskDomain
from core.errors import RuleViolation, TransitionNotAllowed
from core.references import save_with_reference


def window_limit_days(agreement: Any) -> int:
    """The longest window allowed: the agreement's maximum (as amended), never more than the framework's 30 days."""
    return min(effective_terms(agreement).get("max_window_days") or MAX_WINDOW_DAYS, MAX_WINDOW_DAYS)


def validate_window(*, agreement: Any, start: datetime | None, end: datetime | None) -> None:
    """Raise RuleViolation (on ``window_end``) unless start < end and the length is within the limit."""
    if start is None or end is None:
        missing = {f: ["This field is required."] for f, v in (("window_start", start), ("window_end", end)) if not v}
        raise RuleViolation("Give the start and end of the access window.", errors=missing)
    if end <= start:
        message = "The window must end after it starts."
        raise RuleViolation(message, errors={"window_end": [message]})
    limit = window_limit_days(agreement)
    if end - start > timedelta(days=limit):
        length = (end - start).total_seconds() / 86400
        if limit < MAX_WINDOW_DAYS:
            message = (
                f"The access window can be at most {limit} days under agreement {agreement.reference} "
                f"(never more than {MAX_WINDOW_DAYS}); this one is {length:g} days."
            )
        else:
            message = f"The access window can be at most {MAX_WINDOW_DAYS} days; this one is {length:g} days."
        raise RuleViolation(message, errors={"window_end": [message]})


def _clean_team(team: list[User], lead: User) -> list[User]:
    bad = [u for u in team if u.role not in (Role.EVALUATOR, Role.LEAD_EVALUATOR)]
    if bad:
        message = "The team can only include centre evaluators."
        raise RuleViolation(message, errors={"team": [message]})
    return [u for u in team if u.pk != lead.pk]


def _clean_domains(domains: list[str]) -> list[str]:
    unknown = [d for d in domains if d not in RiskDomain.values]
    if unknown:
        message = f"Unknown risk domains: {', '.join(unknown)}."
        raise RuleViolation(message, errors={"risk_domains": [message]})
    if not domains:
        message = "Choose at least one risk domain."
        raise RuleViolation(message, errors={"risk_domains": [message]})
    return sorted(set(domains), key=RiskDomain.values.index)


def _snapshot(assessment: Assessment) -> dict[str, Any]:
    return {
        "lead": assessment.lead.email,
        "team": sorted(u.email for u in assessment.team.all()),
        "risk_domains": list(assessment.risk_domains),
        "window_start": assessment.window_start.isoformat(),
        "window_end": assessment.window_end.isoformat(),
        "internal_notes": assessment.internal_notes,
        "window_after_release_reason": assessment.window_after_release_reason,
    }


def assessment_create(
    *,
    actor: Any,
    submission: ModelSubmission,
    team: list[User],
    risk_domains: list[str],
    window_start: datetime,
    window_end: datetime,
    lead: User | None = None,
    internal_notes: str = "",
    window_after_release_reason: str = "",
    request=None,
) -> Assessment:
    """A lead evaluator opens a case for a submission, with the team, the risk domains and the window.

    The lead defaults to the actor (a programme admin must name one). The
    window is checked against the agreement's maximum and the 30-day cap, and must
    end by the planned public release unless ``window_after_release_reason`` says why
    not; the risk domains must lie within the agreement's effective domains in scope.
    A submission the company withdrew is refused.
    """
    require(actor, "assessment.create")
    lead = lead or actor
    if lead.role != Role.LEAD_EVALUATOR:
        message = "The lead must be a lead evaluator."
        raise RuleViolation(message, errors={"lead": [message]})
    agreement = submission.agreement
    if not agreement.is_active:
        message = f"Agreement {agreement.reference} is not active: no new assessment can be opened under it."
        raise RuleViolation(message, errors={"submission": [message]})
    bounds.check_dates(
        window_start=(window_start, bounds.ASSESSMENT_WINDOW), window_end=(window_end, bounds.ASSESSMENT_WINDOW)
    )
    if submission.is_withdrawn:
        message = f"{submission.reference} was withdrawn by the company: no assessment can be opened for it."
        raise RuleViolation(message, errors={"submission": [message]})
    validate_window(agreement=agreement, start=window_start, end=window_end)
    bounds.check_lengths(
        internal_notes=(internal_notes, bounds.BODY),
        window_after_release_reason=(window_after_release_reason or "", bounds.BODY),
    )
    team = _clean_team(list(team), lead)
    risk_domains = _clean_domains(list(risk_domains))
    check_domains_within_agreement(agreement=agreement, domains=risk_domains)
    after_release = check_window_before_release(
        submission=submission, window_end=window_end, reason=window_after_release_reason
    )
    with transaction.atomic():
        assessment = save_with_reference(
            Assessment(
                submission=submission,
                lead=lead,
                risk_domains=risk_domains,
                window_start=window_start,
                window_end=window_end,
                internal_notes=internal_notes,
                window_after_release_reason=after_release,
                created_by=actor,
            ),
            "ASM",
        )
        assessment.team.set(team)
        audit_record(
            actor=actor,
            action="create",
            obj=assessment,
            case_ref=assessment.reference,
            summary=f"Opened assessment of {submission} led by {lead.email}",
            changes=diff_fields({}, _snapshot(assessment)),
            request=request,
        )
        deadlines.sync_assessment(assessment)
        handoffs.case_opened_on_late_notice(assessment, actor=actor)
    return assessment


def assessment_update(
    *,
    actor: Any,
    assessment: Assessment,
    team: list[User],
    risk_domains: list[str],
    window_start: datetime,
    window_end: datetime,
    internal_notes: str,
    window_after_release_reason: str | None = None,
    request=None,
) -> Assessment:
    """The lead changes the team, risk domains, window or notes of an open case.

    Domains added must lie within the agreement's effective domains in scope; the window must
    end by the planned public release unless a reason is given (``None`` keeps the case's own).
    """
    require(actor, "assessment.manage", assessment)
    if assessment.is_closed:
        raise TransitionNotAllowed(
            f"{assessment.reference} is {assessment.get_status_display().lower()}: it can no longer be changed."
        )
    # A window sent back unchanged is not checked again, so a case recorded long ago stays editable.
    bounds.check_dates(
        window_start=(bounds.changed(window_start, assessment.window_start), bounds.ASSESSMENT_WINDOW),
        window_end=(bounds.changed(window_end, assessment.window_end), bounds.ASSESSMENT_WINDOW),
    )
    validate_window(agreement=assessment.submission.agreement, start=window_start, end=window_end)
    if window_after_release_reason is None:
        window_after_release_reason = assessment.window_after_release_reason
    bounds.check_lengths(
        internal_notes=(internal_notes, bounds.BODY),
        window_after_release_reason=(window_after_release_reason, bounds.BODY),
    )
    team = _clean_team(list(team), assessment.lead)
    risk_domains = _clean_domains(list(risk_domains))
    check_domains_within_agreement(
        agreement=assessment.submission.agreement, domains=risk_domains, kept=assessment.risk_domains
    )
    after_release = check_window_before_release(
        submission=assessment.submission, window_end=window_end, reason=window_after_release_reason
    )
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        before = _snapshot(assessment)
        assessment.window_after_release_reason = after_release
        assessment.risk_domains = risk_domains
        assessment.window_start = window_start
        assessment.window_end = window_end
        assessment.internal_notes = internal_notes
        assessment.save()
        assessment.team.set(team)
        changes = diff_fields(before, _snapshot(assessment))
        if changes:
            audit_record(
                actor=actor,
                action="change",
                obj=assessment,
                case_ref=assessment.reference,
                summary="Changed the case plan",
                changes=changes,
                request=request,
            )
        deadlines.sync_assessment(assessment)
        # A shorter window shortens the access of every ticket.
        for ticket in assessment.tickets.filter(status__in=GRANTED_TICKET_STATUSES):
            deadlines.sync_ticket(ticket)
    return assessment


def assessment_change_lead(*, actor: Any, assessment: Assessment, lead: User, request=None) -> Assessment:
    """Hand an open case to another lead evaluator; its deadlines go to the new lead.

    The new lead leaves the team list (a lead is never on it twice). The old
    lead is off the case from then on unless they are put on the team.
    """
    require(actor, "assessment.manage", assessment)
    if lead is None or lead.role != Role.LEAD_EVALUATOR:
        message = "The lead must be a lead evaluator."
        raise RuleViolation(message, errors={"lead": [message]})
    if not lead.is_active:
        message = f"{lead.email} is deactivated and cannot lead a case."
        raise RuleViolation(message, errors={"lead": [message]})
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().select_related("lead").get(pk=assessment.pk)
        if assessment.is_closed:
            raise TransitionNotAllowed(
                f"{assessment.reference} is {assessment.get_status_display().lower()}: it can no longer be changed."
            )
        if assessment.lead_id == lead.pk:
            return assessment
        before = assessment.lead.email
        assessment.lead = lead
        assessment.save(update_fields=["lead", "updated_at"])
        assessment.team.remove(lead)
        audit_record(
            actor=actor,
            action="change",
            obj=assessment,
            case_ref=assessment.reference,
            summary=f"Lead changed from {before} to {lead.email}",
            changes={"lead": {"from": before, "to": lead.email}},
            request=request,
        )
        deadlines.sync_after_lead_change(assessment)
    return assessment


def _advance(*, actor: Any, assessment: Assessment, name: str | None, to_status: str, request=None) -> Assessment:
    """Make the forward move ``name`` (one of ADVANCE_MOVES), which ends in ``to_status``.

    ``name`` is None when no step forward ends there; that is refused like a move
    from the wrong status, after the actor is checked.
    """
    require(actor, "assessment.transition", assessment)
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if name is None or not ASSESSMENT_MOVES[name].starts_from(assessment.status):
            raise TransitionNotAllowed(
                f"{assessment.reference} is {assessment.get_status_display().lower()}: it cannot move to "
                f"{AssessmentStatus(to_status).label.lower() if to_status in AssessmentStatus.values else to_status}"
                + (" (closing needs an outcome and a rationale)." if to_status == AssessmentStatus.COMPLETED else ".")
            )
        before = assessment.status
        assessment.status = to_status
        assessment.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="transition",
            obj=assessment,
            case_ref=assessment.reference,
            summary=f"{AssessmentStatus(before).label} → {assessment.get_status_display()}",
            changes={"status": {"from": before, "to": to_status}},
            request=request,
        )
        deadlines.sync_assessment(assessment)
    return assessment


def _step(name: str, *, actor: Any, assessment: Assessment, request=None) -> Assessment:
    return _advance(
        actor=actor, assessment=assessment, name=name, to_status=ASSESSMENT_MOVES[name].target, request=request
    )


def assessment_await_access(*, actor: Any, assessment: Assessment, request=None) -> Assessment:
    """scheduled → access_pending: the team is ready and waits for model access."""
    return _step("await_access", actor=actor, assessment=assessment, request=request)


def assessment_start(*, actor: Any, assessment: Assessment, request=None) -> Assessment:
    """access_pending → in_progress: the team is testing."""
    return _step("start", actor=actor, assessment=assessment, request=request)


def assessment_start_reporting(*, actor: Any, assessment: Assessment, request=None) -> Assessment:
    """in_progress → reporting: testing is over; the team writes up."""
    return _step("start_reporting", actor=actor, assessment=assessment, request=request)


def assessment_advance(*, actor: Any, assessment: Assessment, to_status: str, request=None) -> Assessment:
    """Move a case one step forward to ``to_status``: scheduled → access_pending → in_progress → reporting.

    Dispatches to the step that ends there. Completion goes through
    ``assessment_close`` (it needs an outcome) and withdrawal through
    ``assessment_withdraw``.
    """
    name = next((n for n in ADVANCE_MOVES if ASSESSMENT_MOVES[n].target == to_status), None)
    return _advance(actor=actor, assessment=assessment, name=name, to_status=to_status, request=request)


def _end_open_tickets(*, actor: Any, assessment: Assessment, reason: str, request=None) -> None:
    from assessments.services.tickets import ticket_close_for_case

    for ticket in assessment.tickets.exclude(status__in=ENDED_TICKET_STATUSES):
        ticket_close_for_case(actor=actor, ticket=ticket, reason=reason, request=request)


def _close_case(
    assessment: Assessment, *, actor: Any, status: str, summary: str, changes: dict, request=None
) -> Assessment:
    """Write the end of a locked case (completed or withdrawn), audit it, end its open tickets, recompute deadlines.

    Called inside the caller's transaction, after it checked the actor and the state.
    """
    assessment.status = status
    assessment.closed_at = timezone.now()
    assessment.closed_by = actor if getattr(actor, "is_authenticated", False) else None
    assessment.save()
    audit_record(
        actor=actor,
        action="transition",
        obj=assessment,
        case_ref=assessment.reference,
        summary=summary,
        changes=changes,
        request=request,
    )
    reason = f"The assessment was {AssessmentStatus(status).label.lower()}."
    _end_open_tickets(actor=actor, assessment=assessment, reason=reason, request=request)
    deadlines.sync_assessment(assessment)
    handoffs.assessment_closed(assessment, actor=actor)
    return assessment


def assessment_close(
    *, actor: Any, assessment: Assessment, outcome: str, rationale: str, company_summary: str = "", request=None
) -> Assessment:
    """Complete a case in reporting with an outcome and a written rationale; open access ends with it.

    ``company_summary`` is what the company is told of the outcome (the hand-off and its page show
    it; the rationale stays the centre's record). The company then acknowledges the outcome.
    """
    move = ASSESSMENT_MOVES["complete"]
    require(actor, move.action, assessment)
    errors: dict[str, list[str]] = {}
    if outcome not in AssessmentOutcome.values:
        errors["outcome"] = ["Choose an outcome."]
    if not (rationale or "").strip():
        errors["rationale"] = ["Write the rationale for the outcome."]
    errors |= bounds.length_errors(
        rationale=((rationale or "").strip(), bounds.BODY),
        company_summary=((company_summary or "").strip(), bounds.NOTE),
    )
    if errors:
        raise RuleViolation("The outcome needs a choice and a written rationale.", errors=errors)
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if not move.starts_from(assessment.status):
            raise TransitionNotAllowed(
                f"{assessment.reference} is {assessment.get_status_display().lower()}: only a case in "
                "reporting can be completed."
            )
        assessment.outcome = outcome
        assessment.outcome_rationale = rationale.strip()
        assessment.outcome_company_summary = (company_summary or "").strip()
        return _close_case(
            assessment,
            actor=actor,
            status=move.target,
            summary=f"Completed: {assessment.get_outcome_display()}",
            changes={"status": {"from": assessment.status, "to": move.target}, "outcome": {"from": "", "to": outcome}},
            request=request,
        )


def assessment_withdraw(*, actor: Any, assessment: Assessment, reason: str, request=None) -> Assessment:
    """Withdraw an open case (with a reason); every open ticket ends with it."""
    move = ASSESSMENT_MOVES["withdraw"]
    if actor is not SYSTEM:  # the portal itself, when the company withdrew or the agreement ended
        require(actor, move.action, assessment)
    if not (reason or "").strip():
        raise RuleViolation("Say why the assessment is withdrawn.", errors={"reason": ["Say why it is withdrawn."]})
    bounds.check_lengths(reason=(reason.strip(), bounds.NOTE))
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
        if not move.starts_from(assessment.status):
            raise TransitionNotAllowed(f"{assessment.reference} is already {assessment.get_status_display().lower()}.")
        assessment.outcome_rationale = reason.strip()
        return _close_case(
            assessment,
            actor=actor,
            status=move.target,
            summary=f"Withdrawn: {reason.strip()[:200]}",
            changes={"status": {"from": assessment.status, "to": move.target}},
            request=request,
        )
