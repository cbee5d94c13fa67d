"""Model-access tickets: request, decision, provisioning, revocation, extension.

``requested → approved → provisioned → active → expired``, or ``rejected``
(from requested) or ``revoked`` (by either side); the moves are defined in
``assessments.states.TICKET_MOVES``. Revealing the credential and the clock
that starts and ends access are in ``ticket_access``, which shares the
helpers below.

The credential is sealed with ``assessments.crypto`` as soon as it arrives,
audited only as a mask, and destroyed when access ends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from agreements.terms import effective_terms
from assessments import crypto, deadlines, handoffs
from assessments.models import AccessTicket, Assessment
from assessments.states import GRANTED_TICKET_STATUSES, TICKET_MOVES, TicketStatus
from audit.services import SECRET_MASK, audit_record
from core import bounds
from core.choices import MAX_WINDOW_DAYS, AccessKind
from core.errors import RuleViolation, TransitionNotAllowed
from core.references import save_with_reference
from core.states import Move

APPROVE = TICKET_MOVES["approve"]
REJECT = TICKET_MOVES["reject"]
PROVISION = TICKET_MOVES["provision"]
REVOKE = TICKET_MOVES["revoke"]


def _fmt(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z")


def _locked(ticket: AccessTicket) -> AccessTicket:
    return AccessTicket.objects.select_for_update().select_related("assessment__submission").get(pk=ticket.pk)


def _not_from(ticket: AccessTicket, action: str) -> TransitionNotAllowed:
    return TransitionNotAllowed(
        f"Ticket {ticket.reference} is {ticket.get_status_display().lower()}: it cannot be {action}."
    )


def _audit(ticket: AccessTicket, *, actor: Any, action: str, summary: str, changes=None, request=None) -> None:
    audit_record(
        actor=actor,
        action=action,
        obj=ticket,
        case_ref=ticket.assessment.reference,
        summary=summary,
        changes=changes,
        request=request,
    )


def _status_change(before: str, after: str) -> dict:
    return {"status": {"from": before, "to": after}}


def _end(ticket: AccessTicket, *, status: str, actor: Any, reason: str) -> str:
    """Write the end of a ticket (not saved). Returns the status it had."""
    before = ticket.status
    ticket.status = status
    ticket.ended_at = timezone.now()
    ticket.ended_by = actor if getattr(actor, "is_authenticated", False) else None
    ticket.end_reason = reason
    # Ended access needs no secret: destroy it so it cannot leak later.
    ticket.credential_ciphertext = ""
    ticket.extension_requested_to = None
    return before


def _finish(
    ticket: AccessTicket, *, status: str, actor: Any, reason: str, summary: str, request=None, decides: bool = False
) -> AccessTicket:
    """End a locked ticket: write the end, save, audit the transition and recompute its deadlines.

    ``decides`` also records the actor as the one who decided the request (a rejection).
    """
    before = _end(ticket, status=status, actor=actor, reason=reason)
    if decides:
        ticket.decided_by, ticket.decided_at = actor, ticket.ended_at
    ticket.save()
    _audit(
        ticket,
        actor=actor,
        action="transition",
        summary=summary,
        changes=_status_change(before, ticket.status),
        request=request,
    )
    deadlines.sync_ticket(ticket)
    return ticket


def _end_with_reason(
    ticket: AccessTicket,
    *,
    actor: Any,
    reason: str,
    move: Move,
    refused: str,
    label: str,
    request=None,
    decides: bool = False,
) -> AccessTicket:
    """End a ticket someone chose to end (the ``move`` reject or revoke): lock, check the state, then ``_finish``.

    ``refused`` completes the 409 message.
    """
    with transaction.atomic():
        ticket = _locked(ticket)
        if not move.starts_from(ticket.status):
            raise _not_from(ticket, refused)
        ticket = _finish(
            ticket,
            status=move.target,
            actor=actor,
            reason=reason,
            summary=f"{label}: {reason[:200]}",
            request=request,
            decides=decides,
        )
        handoffs.ticket_handed_off(ticket, event=ticket.status, actor=actor)  # rejected or revoked
        return ticket


def _check_period_fits(
    *, assessment: Assessment, start: datetime, end: datetime, field_start: str, field_end: str
) -> None:
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors[field_end] = ["The end must be after the start."]
    elif end - start > timedelta(days=MAX_WINDOW_DAYS):
        errors[field_end] = [f"Access can last at most {MAX_WINDOW_DAYS} days."]
    elif end > assessment.window_end:
        errors[field_end] = [f"Access cannot go past the end of the assessment window ({_fmt(assessment.window_end)})."]
    if start < assessment.window_start:
        errors[field_start] = [f"Access cannot start before the assessment window ({_fmt(assessment.window_start)})."]
    if errors:
        raise RuleViolation(next(iter(errors.values()))[0], errors=errors)


# --- Request and decision -----------------------------------------------------------


def ticket_request(
    *,
    actor: Any,
    assessment: Assessment,
    kind: str,
    justification: str,
    wanted_from: datetime,
    wanted_to: datetime,
    request=None,
) -> AccessTicket:
    """An evaluator on the team asks for one kind of access for a period within the window."""
    require(actor, "ticket.request", assessment)
    if assessment.is_closed:
        raise TransitionNotAllowed(
            f"{assessment.reference} is {assessment.get_status_display().lower()}: no new access can be requested."
        )
    if kind not in AccessKind.values:
        raise RuleViolation("Choose a kind of access.", errors={"kind": ["Choose a kind of access."]})
    offered = list(effective_terms(assessment.submission.agreement).get("access_modalities") or [])
    if offered and kind not in offered:
        message = (
            f"The agreement does not offer {AccessKind(kind).label.lower()} access "
            f"(it offers: {', '.join(AccessKind(k).label for k in offered if k in AccessKind.values)})."
        )
        raise RuleViolation(message, errors={"kind": [message]})
    if not (justification or "").strip():
        raise RuleViolation(
            "Explain why the access is needed.", errors={"justification": ["Explain why it is needed."]}
        )
    bounds.check_lengths(justification=(justification.strip(), bounds.NOTE))
    bounds.check_dates(wanted_from=(wanted_from, bounds.ACCESS_PERIOD), wanted_to=(wanted_to, bounds.ACCESS_PERIOD))
    _check_period_fits(
        assessment=assessment, start=wanted_from, end=wanted_to, field_start="wanted_from", field_end="wanted_to"
    )
    with transaction.atomic():
        ticket = save_with_reference(
            AccessTicket(
                assessment=assessment,
                kind=kind,
                justification=justification.strip(),
                requested_by=actor,
                wanted_from=wanted_from,
                wanted_to=wanted_to,
            ),
            "TKT",
        )
        _audit(
            ticket,
            actor=actor,
            action="create",
            summary=f"Requested {ticket.get_kind_display()} access from {_fmt(wanted_from)} to {_fmt(wanted_to)}",
            request=request,
        )
        deadlines.sync_ticket(ticket)
        handoffs.ticket_handed_off(ticket, event="requested", actor=actor)
    return ticket


def ticket_approve(
    *,
    actor: Any,
    ticket: AccessTicket,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    note: str = "",
    request=None,
) -> AccessTicket:
    """The case lead approves a request, optionally shortening the period (never lengthening it)."""
    require(actor, APPROVE.action, ticket, message="Only the case lead may decide, and never on their own request.")
    bounds.check_lengths(note=(note.strip(), bounds.NOTE))
    with transaction.atomic():
        ticket = _locked(ticket)
        if not APPROVE.starts_from(ticket.status):
            raise _not_from(ticket, "approved (only a request can be)")
        starts_at = starts_at or ticket.wanted_from
        ends_at = ends_at or ticket.wanted_to
        bounds.check_dates(starts_at=(starts_at, bounds.ACCESS_PERIOD), ends_at=(ends_at, bounds.ACCESS_PERIOD))
        errors: dict[str, list[str]] = {}
        if starts_at < ticket.wanted_from:
            errors["starts_at"] = ["The approved period can only be shorter than the one requested."]
        if ends_at > ticket.wanted_to:
            errors["ends_at"] = ["The approved period can only be shorter than the one requested."]
        if errors:
            raise RuleViolation("The approved period can only be shorter than the one requested.", errors=errors)
        _check_period_fits(
            assessment=ticket.assessment, start=starts_at, end=ends_at, field_start="starts_at", field_end="ends_at"
        )
        if ends_at <= timezone.now():
            raise RuleViolation("That period is already over.", errors={"ends_at": ["That period is already over."]})
        before = ticket.status
        ticket.status = APPROVE.target
        ticket.starts_at, ticket.ends_at = starts_at, ends_at
        ticket.decided_by, ticket.decided_at, ticket.decision_note = actor, timezone.now(), note.strip()
        ticket.save()
        _audit(
            ticket,
            actor=actor,
            action="transition",
            summary=f"Approved from {_fmt(starts_at)} to {_fmt(ends_at)}",
            changes={
                **_status_change(before, ticket.status),
                "starts_at": {"from": None, "to": starts_at.isoformat()},
                "ends_at": {"from": None, "to": ends_at.isoformat()},
            },
            request=request,
        )
        deadlines.sync_ticket(ticket)
        handoffs.ticket_handed_off(ticket, event="approved", actor=actor)
    return ticket


def ticket_reject(*, actor: Any, ticket: AccessTicket, reason: str, request=None) -> AccessTicket:
    """The case lead turns a request down, with a reason kept in the history."""
    require(actor, REJECT.action, ticket, message="Only the case lead may decide, and never on their own request.")
    if not (reason or "").strip():
        raise RuleViolation("Say why the request is rejected.", errors={"reason": ["Say why it is rejected."]})
    bounds.check_lengths(reason=(reason.strip(), bounds.NOTE))
    return _end_with_reason(
        ticket,
        actor=actor,
        reason=reason.strip(),
        move=REJECT,
        refused="rejected (only a request can be)",
        label="Rejected",
        decides=True,
        request=request,
    )


# --- The company hands over access ---------------------------------------------------


def ticket_provision(
    *,
    actor: Any,
    ticket: AccessTicket,
    endpoint: str,
    credential: str,
    instructions: str,
    request=None,
) -> AccessTicket:
    """The company's liaison provides the endpoint or location, the credential and instructions.

    The credential is encrypted before it is stored; the audit trail records
    only that one was given.
    """
    require(actor, PROVISION.action, ticket)
    endpoint, instructions = (endpoint or "").strip(), (instructions or "").strip()
    credential = (credential or "").strip()
    if not endpoint:
        raise RuleViolation(
            "Give the endpoint or location of the access.", errors={"endpoint": ["Give the endpoint or location."]}
        )
    if not credential and ticket.kind != AccessKind.DOCUMENTATION:
        raise RuleViolation(
            "Give the credential (API key or token) the evaluators will use.",
            errors={"credential": ["Give the credential the evaluators will use."]},
        )
    bounds.check_lengths(endpoint=(endpoint, bounds.ENDPOINT), instructions=(instructions, bounds.NOTE))
    bounds.check_credential(credential)
    with transaction.atomic():
        ticket = _locked(ticket)
        if not PROVISION.starts_from(ticket.status):
            raise _not_from(ticket, "provisioned (only an approved ticket can be)")
        if ticket.access_ends_at <= timezone.now():
            raise TransitionNotAllowed(f"The approved period of {ticket.reference} is already over.")
        before = ticket.status
        ticket.status = PROVISION.target
        ticket.endpoint, ticket.instructions = endpoint, instructions
        ticket.credential_ciphertext = crypto.seal(credential)
        ticket.provisioned_by, ticket.provisioned_at = actor, timezone.now()
        ticket.save()
        changes = {**_status_change(before, ticket.status), "endpoint": {"from": "", "to": endpoint}}
        if credential:
            changes["credential"] = {"from": "", "to": SECRET_MASK}
        _audit(ticket, actor=actor, action="transition", summary="Access provisioned", changes=changes, request=request)
        deadlines.sync_ticket(ticket)
        handoffs.ticket_handed_off(ticket, event="provisioned", actor=actor)
    return ticket


# --- Revocation and extension ----------------------------------------------------------


def ticket_revoke_refusal(ticket: AccessTicket) -> str | None:
    """Why ``ticket`` cannot be revoked in its state (None when it can): the revoke page refuses with it."""
    if ticket.status == TicketStatus.REQUESTED:
        return (
            f"Ticket {ticket.reference} is a request: no access was granted, so there is nothing to revoke. "
            "The case lead approves or rejects a request."
        )
    if not REVOKE.starts_from(ticket.status):
        return str(_not_from(ticket, "revoked"))
    return None


def ticket_revoke_consequence(ticket: AccessTicket) -> str:
    """What revoking ``ticket`` does, in words true to its state (an approval has no credential yet)."""
    if ticket.status == TicketStatus.APPROVED:
        what = (
            "The approval is withdrawn: the company will not provide this access. "
            "No credential was given, so there is none to destroy."
        )
    elif ticket.has_credential:
        what = "Access ends now and the stored credential is destroyed."
    else:
        what = "Access ends now."
    return f"{what} The ticket stays in the history with your reason."


def ticket_revoke(*, actor: Any, ticket: AccessTicket, reason: str, request=None) -> AccessTicket:
    """Either side ends access that was granted (approved, provisioned or active), with a reason kept
    in the history. A request is refused: it was never granted, and the case lead rejects it instead."""
    require(actor, REVOKE.action, ticket)
    if not (reason or "").strip():
        raise RuleViolation("Say why access is revoked.", errors={"reason": ["Say why access is revoked."]})
    bounds.check_lengths(reason=(reason.strip(), bounds.NOTE))
    with transaction.atomic():
        # Read the state under the lock: the caller's copy of the ticket may be older than the row.
        refusal = ticket_revoke_refusal(_locked(ticket))
        if refusal:
            raise TransitionNotAllowed(refusal)
        return _end_with_reason(
            ticket,
            actor=actor,
            reason=reason.strip(),
            move=REVOKE,
            refused="revoked",
            label="Revoked",
            request=request,
        )


def ticket_close_for_case(*, actor: Any, ticket: AccessTicket, reason: str, request=None) -> AccessTicket:
    """End a ticket because its case closed (called by the case services, which checked the actor)."""
    ticket = _locked(ticket)
    if ticket.is_ended:
        return ticket
    # A request is rejected; access that was granted is revoked.
    status = REJECT.target if REJECT.starts_from(ticket.status) else REVOKE.target
    return _finish(ticket, status=status, actor=actor, reason=reason, summary=reason, request=request)


def ticket_request_extension(
    *, actor: Any, ticket: AccessTicket, until: datetime, reason: str, request=None
) -> AccessTicket:
    """A team member asks for a later end; it takes effect only when the company's liaison consents."""
    require(actor, "ticket.extend", ticket)
    if not (reason or "").strip():
        raise RuleViolation("Say why more time is needed.", errors={"reason": ["Say why more time is needed."]})
    bounds.check_lengths(reason=(reason.strip(), bounds.NOTE))
    bounds.check_dates(until=(until, bounds.ACCESS_PERIOD))
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in GRANTED_TICKET_STATUSES:
            raise _not_from(ticket, "extended")
        if ticket.has_pending_extension:
            raise TransitionNotAllowed(f"Ticket {ticket.reference} already has an extension waiting for consent.")
        if until <= ticket.ends_at:
            raise RuleViolation(
                "An extension must end later than the current end.",
                errors={"until": [f"Choose a time after {_fmt(ticket.ends_at)}."]},
            )
        _check_period_fits(
            assessment=ticket.assessment, start=ticket.starts_at, end=until, field_start="until", field_end="until"
        )
        ticket.extension_requested_to = until
        ticket.extension_reason = reason.strip()
        ticket.extension_requested_by, ticket.extension_requested_at = actor, timezone.now()
        ticket.save()
        _audit(
            ticket,
            actor=actor,
            action="change",
            summary=f"Asked to extend access to {_fmt(until)}",
            changes={"extension_requested_to": {"from": None, "to": until.isoformat()}},
            request=request,
        )
        handoffs.ticket_handed_off(ticket, event="extension_requested", actor=actor)
    return ticket


def ticket_decide_extension(
    *, actor: Any, ticket: AccessTicket, consent: bool, note: str = "", request=None
) -> AccessTicket:
    """The liaison consents to (or declines) a pending extension; consent moves the end within the cap."""
    require(actor, "ticket.consent_extension", ticket)
    bounds.check_lengths(note=(note.strip(), bounds.NOTE))
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status not in GRANTED_TICKET_STATUSES or not ticket.has_pending_extension:
            raise TransitionNotAllowed(f"Ticket {ticket.reference} has no extension waiting for consent.")
        until = ticket.extension_requested_to
        changes: dict[str, Any] = {"extension_requested_to": {"from": until.isoformat(), "to": None}}
        if consent:
            # The window may have shrunk since the request: check the cap again.
            _check_period_fits(
                assessment=ticket.assessment, start=ticket.starts_at, end=until, field_start="until", field_end="until"
            )
            changes["ends_at"] = {"from": ticket.ends_at.isoformat(), "to": until.isoformat()}
            ticket.ends_at = until
        ticket.extension_requested_to = None
        ticket.save()
        verdict = "Consented to" if consent else "Declined"
        _audit(
            ticket,
            actor=actor,
            action="change",
            summary=f"{verdict} the extension to {_fmt(until)}" + (f": {note.strip()[:200]}" if note.strip() else ""),
            changes=changes,
            request=request,
        )
        deadlines.sync_ticket(ticket)
        event = "extension_consented" if consent else "extension_declined"
        handoffs.ticket_handed_off(ticket, event=event, actor=actor)
    return ticket
