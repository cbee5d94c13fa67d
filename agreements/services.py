"""Services of the agreements app: every write to an agreement and its negotiation record.

Each function checks the actor through the permission policy, checks the
current state (``TransitionNotAllowed`` names the states), writes, records the
audit event and recomputes deadlines, all in one transaction. Views, forms,
serializers and the admin call these and nothing else.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, Role
from accounts.permissions import actor_for, require
from agreements.deadlines import agreement_deadline_specs, open_point_deadline_specs
from agreements.models import (
    OPEN_AGREEMENT_STATUSES,
    TERM_FIELDS,
    Agreement,
    AgreementDocument,
    AgreementStatus,
    AgreementVersion,
    DocumentKind,
    EntryKind,
    Meeting,
    NegotiationEntry,
    OpenPoint,
    OpenPointStatus,
    RiskConsequence,
    Signature,
    SignatureSide,
)
from audit.models import AuditEvent
from audit.services import audit_record, diff_fields
from core import bounds
from core.choices import MAX_WINDOW_DAYS, AccessKind, RiskDomain
from core.errors import RuleViolation, TransitionNotAllowed
from core.files import AGREEMENT_DOCUMENT_KINDS, validate_upload
from core.references import save_with_reference
from reminders.services import deadline_sync

# Terms may change only while the agreement is still being drafted or negotiated.
TERMS_EDITABLE_STATUSES = (AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING)


class _System:
    """The portal acting on its own, from a scheduled job: no person, so no policy check applies.

    Only code (never a request) can hold this object; the audit trail records it as no user,
    which is shown as "system".
    """

    is_authenticated = False

    def __str__(self) -> str:
        return "the system"


SYSTEM = _System()


# --- Terms ------------------------------------------------------------------------------


def terms_snapshot(agreement: Agreement) -> dict[str, Any]:
    """The agreement's terms as JSON-ready values (dates as ISO strings), keyed by TERM_FIELDS."""
    snapshot: dict[str, Any] = {}
    for name in TERM_FIELDS:
        value = getattr(agreement, name)
        if isinstance(value, datetime.date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = sorted(value)
        snapshot[name] = value
    return snapshot


def _clean_terms(terms: dict[str, Any], current: Agreement | None = None) -> dict[str, Any]:
    """Check the terms against the framework's rules; RuleViolation names every field at fault.

    Dates are checked against their ranges (``core.bounds``) unless they are the
    ``current`` agreement's own, sent back unchanged.
    """
    errors: dict[str, list[str]] = {}
    cleaned = dict(terms)
    window = terms.get("max_window_days")
    if not isinstance(window, int) or not 1 <= window <= MAX_WINDOW_DAYS:
        errors["max_window_days"] = [f"The maximum assessment window must be between 1 and {MAX_WINDOW_DAYS} days."]
    notice = terms.get("release_notice_days")
    if not isinstance(notice, int) or not 0 <= notice <= bounds.RELEASE_NOTICE_MAX_DAYS:
        errors["release_notice_days"] = [
            f"The release-notice period must be between 0 and {bounds.RELEASE_NOTICE_MAX_DAYS} days."
        ]
    for name, allowed in (("risk_domains", RiskDomain.values), ("access_modalities", AccessKind.values)):
        values = list(terms.get(name) or [])
        unknown = [v for v in values if v not in allowed]
        if unknown:
            errors[name] = [f"Unknown value(s): {', '.join(map(str, unknown))}."]
        cleaned[name] = sorted(set(values))
    if terms.get("risk_consequence") not in RiskConsequence.values:
        errors["risk_consequence"] = ["Choose what happens when a risk is found."]
    effective, expiry = terms.get("effective_date"), terms.get("expiry_date")
    if effective and expiry and expiry <= effective:
        errors["expiry_date"] = ["The expiry date must be after the effective date."]
    errors.update(
        bounds.date_errors(
            effective_date=(
                bounds.changed(effective, getattr(current, "effective_date", None)),
                bounds.AGREEMENT_EFFECTIVE,
            ),
            expiry_date=(bounds.changed(expiry, getattr(current, "expiry_date", None)), bounds.AGREEMENT_EXPIRY),
        )
    )
    cleaned["trade_secret_terms"] = (terms.get("trade_secret_terms") or "").strip()
    errors.update(bounds.length_errors(trade_secret_terms=(cleaned["trade_secret_terms"], bounds.BODY)))
    if errors:
        raise RuleViolation("Some terms are not acceptable; see the fields marked.", errors=errors)
    return cleaned


def _add_version(*, agreement: Agreement, actor: Any, changed: list[str], note: str) -> AgreementVersion:
    last = agreement.versions.order_by("-number").values_list("number", flat=True).first() or 0
    return AgreementVersion.objects.create(
        agreement=agreement,
        number=last + 1,
        terms=terms_snapshot(agreement),
        changed_clauses=changed,
        note=note[:300],
        created_by=actor,
    )


def agreement_create(
    *, actor: Any, organisation: Organisation, title: str, terms: dict[str, Any], request=None
) -> Agreement:
    """Open a draft agreement with a developer company; its terms become version 1."""
    require(actor, "agreement.create")
    if organisation.kind != Organisation.Kind.DEVELOPER:
        raise RuleViolation(
            "Agreements are made with developer companies.",
            errors={"organisation": ["Choose a developer company, not the centre."]},
        )
    if not title.strip():
        raise RuleViolation("A title is required.", errors={"title": ["Give the agreement a title."]})
    bounds.check_lengths(title=(title.strip(), bounds.TITLE))
    cleaned = _clean_terms(terms)
    with transaction.atomic():
        agreement = Agreement(
            organisation=organisation,
            title=title.strip(),
            status=AgreementStatus.DRAFT,
            created_by=actor,
            **{name: cleaned.get(name) for name in TERM_FIELDS},
        )
        save_with_reference(agreement, "AGR")
        _add_version(agreement=agreement, actor=actor, changed=list(TERM_FIELDS), note="First draft.")
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=agreement,
            request=request,
            summary=f"Opened a draft agreement with {organisation.name}",
        )
    return agreement


def agreement_update_terms(
    *, actor: Any, agreement: Agreement, terms: dict[str, Any], note: str = "", title: str | None = None, request=None
) -> AgreementVersion | None:
    """Change the agreed terms. A real change makes a new version; no change makes none (returns None)."""
    require(actor, "agreement.edit_terms", agreement)
    bounds.check_lengths(title=((title or "").strip(), bounds.TITLE), note=(note, bounds.SHORT_NOTE))
    cleaned = _clean_terms(terms, current=agreement)
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status not in TERMS_EDITABLE_STATUSES:
            raise TransitionNotAllowed(
                f"The terms can change only while the agreement is draft or negotiating; "
                f"{agreement.reference} is {agreement.get_status_display().lower()}."
            )
        before = terms_snapshot(agreement)
        before_title = agreement.title
        for name in TERM_FIELDS:
            setattr(agreement, name, cleaned.get(name))
        if title is not None and title.strip():
            agreement.title = title.strip()
        after = terms_snapshot(agreement)
        changes = diff_fields(before, after)
        if agreement.title != before_title:
            changes["title"] = {"from": before_title, "to": agreement.title}
        if not changes:
            return None
        agreement.save()
        version = None
        changed_terms = [name for name in TERM_FIELDS if name in changes]
        if changed_terms:
            version = _add_version(agreement=agreement, actor=actor, changed=changed_terms, note=note)
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=agreement,
            changes=changes,
            request=request,
            summary=f"Terms changed (version {version.number})" if version else "Title changed",
        )
    return version


# --- Status transitions -----------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """One status transition: where it may start, where it ends, and who may make it."""

    label: str
    allowed_from: tuple[str, ...]
    to: str
    verb: str
    permission: str = "agreement.transition"
    needs_reason: bool = False


# Every transition a person (or the expiry job) can make; signing to active is agreement_sign's.
MOVES: dict[str, Move] = {
    "open_negotiation": Move(
        "Open negotiation", (AgreementStatus.DRAFT,), AgreementStatus.NEGOTIATING, "open negotiation on"
    ),
    "submit_for_signature": Move(
        "Send for signature", (AgreementStatus.NEGOTIATING,), AgreementStatus.AWAITING_SIGNATURE, "send for signature"
    ),
    "withdraw": Move("Withdraw", OPEN_AGREEMENT_STATUSES, AgreementStatus.WITHDRAWN, "withdraw", needs_reason=True),
    "expire": Move("Mark as expired", (AgreementStatus.ACTIVE,), AgreementStatus.EXPIRED, "mark as expired"),
    "terminate": Move(
        "Terminate",
        (AgreementStatus.ACTIVE,),
        AgreementStatus.TERMINATED,
        "terminate",
        permission="agreement.terminate",
        needs_reason=True,
    ),
}
# Transition name → label, for the web form and the API.
TRANSITIONS = {name: move.label for name, move in MOVES.items()}


def _transition(
    *, actor: Any, agreement: Agreement, name: str, reason: str = "", request=None, before_write=None
) -> Agreement:
    """Make the transition ``name`` of MOVES if the agreement is in one of its start states.

    The shared body of each transition service. ``actor`` is a user, checked through the
    policy, or ``SYSTEM`` for a scheduled job.
    """
    move = MOVES[name]
    reason = reason.strip()
    if move.needs_reason and not reason:
        raise RuleViolation(
            f"Say why the agreement is {AgreementStatus(move.to).label.lower()}.",
            errors={"reason": ["A reason is required."]},
        )
    bounds.check_lengths(reason=(reason, bounds.NOTE))
    if actor is not SYSTEM:
        require(actor, move.permission, agreement, message=f"You may not {move.verb} this agreement.")
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status not in move.allowed_from:
            names = " or ".join(AgreementStatus(s).label.lower() for s in move.allowed_from)
            raise TransitionNotAllowed(
                f"Cannot {move.verb} {agreement.reference}: it is {agreement.get_status_display().lower()}, "
                f"and only an agreement that is {names} can be moved to "
                f"{AgreementStatus(move.to).label.lower()}."
            )
        if before_write is not None:
            before_write(agreement)
        old = agreement.status
        agreement.status = move.to
        agreement.status_changed_at = timezone.now()
        if reason:
            agreement.status_reason = reason
        agreement.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=agreement,
            changes={"status": {"from": old, "to": move.to}},
            request=request,
            summary=f"{AgreementStatus(old).label} → {AgreementStatus(move.to).label}"
            + (f": {reason}" if reason else ""),
        )
        _sync_all_deadlines(agreement)
    return agreement


def _sync_all_deadlines(agreement: Agreement) -> None:
    deadline_sync(owner=agreement, specs=agreement_deadline_specs(agreement))
    for point in agreement.open_points.filter(status=OpenPointStatus.OPEN).select_related("owner", "agreement"):
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))


def agreement_open_negotiation(*, actor: Any, agreement: Agreement, request=None) -> Agreement:
    """draft → negotiating: the draft goes to the company for proposals."""
    return _transition(actor=actor, agreement=agreement, name="open_negotiation", request=request)


def _check_signature_due(signature_due: datetime.date | None) -> None:
    if signature_due is None:
        raise RuleViolation(
            "Give the date by which both sides should sign.", errors={"signature_due": ["Give a signature due date."]}
        )
    bounds.check_dates(signature_due=(signature_due, bounds.SIGNATURE_DUE))


def agreement_submit_for_signature(
    *, actor: Any, agreement: Agreement, signature_due: datetime.date, request=None
) -> Agreement:
    """negotiating → awaiting_signature, once every open point is resolved; sets the signature deadline."""
    _check_signature_due(signature_due)

    def check_and_set(agreement: Agreement) -> None:
        still_open = agreement.open_points.filter(status=OpenPointStatus.OPEN).count()
        if still_open:
            raise TransitionNotAllowed(
                f"Resolve the {still_open} open point{'s' if still_open != 1 else ''} "
                f"before sending {agreement.reference} for signature."
            )
        agreement.signature_due = signature_due

    return _transition(
        actor=actor, agreement=agreement, name="submit_for_signature", request=request, before_write=check_and_set
    )


def agreement_withdraw(*, actor: Any, agreement: Agreement, reason: str, request=None) -> Agreement:
    """Any open state → withdrawn: the negotiation ends without an agreement (a reason is required)."""
    return _transition(actor=actor, agreement=agreement, name="withdraw", reason=reason, request=request)


def agreement_expire(*, actor: Any, agreement: Agreement, reason: str = "", request=None) -> Agreement:
    """active → expired: the agreement ran its term (a negotiator, or ``SYSTEM`` once the expiry date passed)."""
    return _transition(actor=actor, agreement=agreement, name="expire", reason=reason, request=request)


def utc_today() -> datetime.date:
    return timezone.now().astimezone(datetime.UTC).date()


def agreements_expire_due(*, today: datetime.date | None = None) -> list[str]:
    """Expire every active agreement whose expiry date has passed; returns the references expired.

    The expiry date is the last day the agreement is in force, so it expires from the next
    day (UTC). Each one goes through ``agreement_expire`` as ``SYSTEM``, which re-reads it
    under a row lock: an agreement expired or terminated meanwhile is left alone, so runs
    that overlap or repeat change nothing twice.
    """
    today = today or utc_today()
    due = Agreement.objects.filter(status=AgreementStatus.ACTIVE, expiry_date__lt=today)
    expired: list[str] = []
    for agreement in due.order_by("expiry_date", "pk"):
        try:
            agreement_expire(
                actor=SYSTEM,
                agreement=agreement,
                reason=f"Expired automatically: the expiry date ({agreement.expiry_date:%Y-%m-%d}) has passed.",
            )
        except TransitionNotAllowed:
            continue  # another run or a person changed it first
        expired.append(agreement.reference)
    return expired


def agreement_terminate(*, actor: Any, agreement: Agreement, reason: str, request=None) -> Agreement:
    """active → terminated, by a programme admin only, with the reason on the record."""
    return _transition(actor=actor, agreement=agreement, name="terminate", reason=reason, request=request)


def agreement_apply_transition(
    *, actor: Any, agreement: Agreement, transition: str, reason: str = "", signature_due=None, request=None
) -> Agreement:
    """Dispatch a named transition (from a form or the API); a reason is kept only where one is asked for."""
    move = MOVES.get(transition)
    if move is None:
        raise RuleViolation(
            f"Unknown transition {transition!r}.",
            errors={"transition": [f"Choose one of: {', '.join(TRANSITIONS)}."]},
        )
    if transition == "submit_for_signature":
        return agreement_submit_for_signature(
            actor=actor, agreement=agreement, signature_due=signature_due, request=request
        )
    reason = reason if move.needs_reason else ""
    return _transition(actor=actor, agreement=agreement, name=transition, reason=reason, request=request)


def available_transitions(user: Any, agreement: Agreement) -> list[tuple[str, str]]:
    """(name, label) of the transitions this user could apply now; for buttons only, services decide."""
    from accounts.permissions import can

    return [
        (name, move.label)
        for name, move in MOVES.items()
        if agreement.status in move.allowed_from and can(user, move.permission, agreement)
    ]


def agreement_actions_for(*, user: Any, agreement: Agreement, signed_sides: set[str]) -> dict[str, bool]:
    """Which term, signature and record actions ``user`` may take now, from the same states the
    services accept (``signed_sides``: the sides that have signed, already loaded by the caller)."""
    from accounts.permissions import can

    awaiting = agreement.status == AgreementStatus.AWAITING_SIGNATURE
    side = signature_side_for(user)
    is_open = agreement.is_open
    return {
        "can_edit_terms": agreement.status in TERMS_EDITABLE_STATUSES and can(user, "agreement.edit_terms", agreement),
        "can_sign": awaiting
        and side is not None
        and side not in signed_sides
        and can(user, "agreement.sign", agreement),
        "can_change_signature_due": awaiting and can(user, "agreement.signature_due", agreement),
        "can_propose": is_open and can(user, "agreement.propose", agreement),
        "can_meeting": is_open and can(user, "agreement.meeting", agreement),
        "can_open_point": is_open and can(user, "agreement.open_point", agreement),
        "can_upload": can(user, "agreement.document_upload", agreement),
    }


def agreement_change_signature_due(
    *, actor: Any, agreement: Agreement, signature_due: datetime.date, request=None
) -> Agreement:
    """Move the date by which both sides should sign, while the agreement awaits signature.

    The signature deadline moves with it; an unchanged date changes nothing.
    """
    require(actor, "agreement.signature_due", agreement, message="You may not change the signature due date.")
    _check_signature_due(signature_due)
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status != AgreementStatus.AWAITING_SIGNATURE:
            raise TransitionNotAllowed(
                f"{agreement.reference} is {agreement.get_status_display().lower()}; the signature due date "
                "can change only while it is awaiting signature."
            )
        old = agreement.signature_due
        if old == signature_due:
            return agreement
        agreement.signature_due = signature_due
        agreement.save(update_fields=["signature_due", "updated_at"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=agreement,
            changes={"signature_due": {"from": old.isoformat() if old else None, "to": signature_due.isoformat()}},
            request=request,
            summary=f"Signature due date moved to {signature_due:%Y-%m-%d}",
        )
        deadline_sync(owner=agreement, specs=agreement_deadline_specs(agreement))
    return agreement


# --- Signatures -------------------------------------------------------------------------


def signature_side_for(user: Any) -> str | None:
    actor = actor_for(user)
    if actor is None:
        return None
    if actor.is_liaison:
        return SignatureSide.COMPANY
    if actor.is_admin or actor.is_lead:
        return SignatureSide.CENTRE
    return None


def agreement_sign(*, actor: Any, agreement: Agreement, signer_name: str, capacity: str, request=None) -> Signature:
    """Record the actor's signature for their side; the second signature makes the agreement active."""
    require(actor, "agreement.sign", agreement, message="You may not sign this agreement.")
    side = signature_side_for(actor)
    errors = {}
    if not signer_name.strip():
        errors["signer_name"] = ["Give the name as signed."]
    if not capacity.strip():
        errors["capacity"] = ["Give the capacity in which you sign, e.g. Chief Legal Officer."]
    errors |= bounds.length_errors(
        signer_name=(signer_name.strip(), bounds.TITLE), capacity=(capacity.strip(), bounds.TITLE)
    )
    if errors:
        raise RuleViolation("The signature is incomplete.", errors=errors)
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if agreement.status != AgreementStatus.AWAITING_SIGNATURE:
            raise TransitionNotAllowed(
                f"{agreement.reference} is {agreement.get_status_display().lower()}; "
                "only an agreement awaiting signature can be signed."
            )
        existing = agreement.signatures.filter(side=side).first()
        if existing is not None:
            raise TransitionNotAllowed(
                f"{SignatureSide(side).label} has already signed {agreement.reference} "
                f"({existing.signer_name}, {existing.signed_at:%Y-%m-%d})."
            )
        signature = Signature.objects.create(
            agreement=agreement,
            side=side,
            signer=actor,
            signer_name=signer_name.strip(),
            capacity=capacity.strip(),
            signed_at=timezone.now(),
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=agreement,
            request=request,
            summary=f"Signed for {SignatureSide(side).label.lower()} by {signature.signer_name} ({signature.capacity})",
        )
        if agreement.signatures.count() == len(SignatureSide.values):
            # Both sides have signed: this is the one way an agreement becomes active.
            agreement.status = AgreementStatus.ACTIVE
            agreement.status_changed_at = timezone.now()
            if agreement.effective_date is None:
                agreement.effective_date = timezone.localdate()
            agreement.save()
            audit_record(
                actor=actor,
                action=AuditEvent.Action.TRANSITION,
                obj=agreement,
                changes={"status": {"from": AgreementStatus.AWAITING_SIGNATURE, "to": AgreementStatus.ACTIVE}},
                request=request,
                summary="Awaiting signature → Active: both sides have signed",
            )
        deadline_sync(owner=agreement, specs=agreement_deadline_specs(agreement))
    return signature


# --- Negotiation log --------------------------------------------------------------------


def _audit_record_of(*, agreement: Agreement, obj: Any, **event: Any) -> None:
    """Audit a record of an agreement's negotiation, named after it in the trail (``AGR-2026-0001: Logs``)."""
    audit_record(obj=obj, object_repr=f"{agreement.reference}: {obj}", **event)


def _side_of(user: Any) -> str:
    actor = actor_for(user)
    return "company" if actor is not None and actor.is_liaison else "centre"


def _require_open(agreement: Agreement, what: str) -> None:
    if agreement.status not in OPEN_AGREEMENT_STATUSES:
        raise TransitionNotAllowed(
            f"{agreement.reference} is {agreement.get_status_display().lower()}; "
            f"{what} can be added only while it is draft, negotiating or awaiting signature."
        )


def negotiation_entry_add(
    *,
    actor: Any,
    agreement: Agreement,
    kind: str,
    clause: str,
    text: str,
    responds_to: NegotiationEntry | None = None,
    request=None,
) -> NegotiationEntry:
    """Put a proposal, counter-proposal or comment on the record, from either side."""
    require(actor, "agreement.comment" if kind == EntryKind.COMMENT else "agreement.propose", agreement)
    if not text.strip():
        raise RuleViolation("Write the proposed text or your comment.", errors={"text": ["This cannot be empty."]})
    bounds.check_lengths(text=(text.strip(), bounds.BODY))
    if responds_to is not None and responds_to.agreement_id != agreement.pk:
        raise RuleViolation(
            "A reply must answer an entry of the same agreement.",
            errors={"responds_to": ["That entry belongs to another agreement."]},
        )
    if kind == EntryKind.COUNTER_PROPOSAL and responds_to is None:
        raise RuleViolation(
            "A counter-proposal answers a proposal.",
            errors={"responds_to": ["Choose the proposal this counters."]},
        )
    with transaction.atomic():
        _require_open(agreement, "proposals and comments")
        entry = NegotiationEntry.objects.create(
            agreement=agreement,
            kind=kind,
            clause=clause,
            text=text.strip(),
            responds_to=responds_to,
            author=actor,
            author_side=_side_of(actor),
        )
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=entry,
            request=request,
            agreement=agreement,
            summary=f"{entry.get_kind_display()} on {entry.get_clause_display().lower()} ({agreement.reference})",
        )
    return entry


def meeting_record(
    *, actor: Any, agreement: Agreement, held_at: datetime.datetime, attendees: str, minutes: str, request=None
) -> Meeting:
    """Record a negotiation meeting with its attendees and minutes."""
    require(actor, "agreement.meeting", agreement)
    errors = {}
    if not attendees.strip():
        errors["attendees"] = ["List who attended, one per line."]
    if not minutes.strip():
        errors["minutes"] = ["Write the minutes."]
    # A record of a meeting that took place: today at the latest (bounds.MEETING_HELD).
    errors |= bounds.date_errors(held_at=(held_at, bounds.MEETING_HELD))
    errors |= bounds.length_errors(attendees=(attendees.strip(), bounds.NOTE), minutes=(minutes.strip(), bounds.BODY))
    if errors:
        raise RuleViolation("The meeting record is incomplete.", errors=errors)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            agreement=agreement,
            held_at=held_at,
            attendees=attendees.strip(),
            minutes=minutes.strip(),
            recorded_by=actor,
        )
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=meeting,
            request=request,
            agreement=agreement,
            summary=f"Recorded the meeting of {held_at:%Y-%m-%d} ({agreement.reference})",
        )
    return meeting


def _check_owner(agreement: Agreement, owner: Any) -> None:
    membership = getattr(owner, "membership_or_none", None)
    ok = membership is not None and owner.is_active
    if ok and membership.role == Role.LIAISON:
        ok = membership.organisation_id == agreement.organisation_id
    elif ok:
        ok = membership.organisation.kind == Organisation.Kind.AGENCY
    if not ok:
        raise RuleViolation(
            "The owner must be centre staff or a liaison of the company.",
            errors={"owner": ["Choose someone at the centre or at the company."]},
        )


def open_point_add(
    *,
    actor: Any,
    agreement: Agreement,
    title: str,
    owner: Any,
    due_date: datetime.date,
    description: str = "",
    request=None,
) -> OpenPoint:
    """Raise an open point with an owner and a due date (a deadline while it stays open)."""
    require(actor, "agreement.open_point", agreement)
    if not title.strip():
        raise RuleViolation("Name the open point.", errors={"title": ["A title is required."]})
    if due_date is None:
        raise RuleViolation("A due date is required.", errors={"due_date": ["Give a due date."]})
    bounds.check_lengths(title=(title.strip(), bounds.TITLE), description=(description.strip(), bounds.NOTE))
    bounds.check_dates(due_date=(due_date, bounds.OPEN_POINT_DUE))
    _check_owner(agreement, owner)
    with transaction.atomic():
        _require_open(agreement, "open points")
        point = OpenPoint.objects.create(
            agreement=agreement,
            title=title.strip(),
            description=description.strip(),
            owner=owner,
            due_date=due_date,
            created_by=actor,
        )
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=point,
            request=request,
            agreement=agreement,
            summary=f"Open point for {owner}, due {due_date:%Y-%m-%d}",
        )
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))
    return point


def open_point_update(*, actor: Any, point: OpenPoint, owner: Any, due_date: datetime.date, request=None) -> OpenPoint:
    """Change who owns an open point or when it is due; the deadline moves with it."""
    require(actor, "open_point.edit", point)
    # An overdue point can change owner with its date unchanged; a new date must lie in the range.
    bounds.check_dates(due_date=(bounds.changed(due_date, point.due_date), bounds.OPEN_POINT_DUE))
    _check_owner(point.agreement, owner)
    with transaction.atomic():
        point = OpenPoint.objects.select_for_update().select_related("agreement").get(pk=point.pk)
        if not point.is_open:
            raise TransitionNotAllowed("This open point is resolved; it can no longer be changed.")
        before = {"owner": str(point.owner), "due_date": point.due_date.isoformat()}
        point.owner = owner
        point.due_date = due_date
        point.save(update_fields=["owner", "due_date"])
        changes = diff_fields(before, {"owner": str(owner), "due_date": due_date.isoformat()})
        if changes:
            _audit_record_of(
                actor=actor,
                action=AuditEvent.Action.CHANGE,
                obj=point,
                changes=changes,
                request=request,
                agreement=point.agreement,
            )
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))
    return point


def open_point_resolve(*, actor: Any, point: OpenPoint, resolution: str, request=None) -> OpenPoint:
    """open → resolved, with how it was settled; closes its deadline."""
    require(actor, "open_point.resolve", point, message="Only the owner or a centre negotiator may resolve this point.")
    if not resolution.strip():
        raise RuleViolation("Say how the point was resolved.", errors={"resolution": ["This cannot be empty."]})
    bounds.check_lengths(resolution=(resolution.strip(), bounds.NOTE))
    with transaction.atomic():
        point = OpenPoint.objects.select_for_update().select_related("agreement").get(pk=point.pk)
        if not point.is_open:
            raise TransitionNotAllowed(f"“{point.title}” is already resolved.")
        point.status = OpenPointStatus.RESOLVED
        point.resolution = resolution.strip()
        point.resolved_at = timezone.now()
        point.resolved_by = actor
        point.save(update_fields=["status", "resolution", "resolved_at", "resolved_by"])
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=point,
            changes={"status": {"from": "open", "to": "resolved"}},
            request=request,
            agreement=point.agreement,
            summary="Open point resolved",
        )
        deadline_sync(owner=point, specs=[])
    return point


# --- Documents --------------------------------------------------------------------------


def document_upload(
    *, actor: Any, agreement: Agreement, uploaded, kind: str = DocumentKind.DRAFT, description: str = "", request=None
) -> AgreementDocument:
    """Store a draft or signed document after checking its size and type by content.

    A refused file raises RuleViolation on the ``file`` field and nothing is stored.
    """
    require(actor, "agreement.document_upload", agreement)
    try:
        info = validate_upload(uploaded, allowed=AGREEMENT_DOCUMENT_KINDS)
    except ValidationError as exc:
        raise RuleViolation(exc.messages[0], errors={"file": list(exc.messages)})
    if kind not in DocumentKind.values:
        raise RuleViolation("Unknown document kind.", errors={"kind": ["Choose draft, signed copy or annex."]})
    with transaction.atomic():
        document = AgreementDocument(agreement=agreement, kind=kind, description=description.strip()[:300])
        document.fill_from(uploaded, info, user=actor)
        document.save()
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=document,
            request=request,
            agreement=agreement,
            summary=f"Uploaded {document.get_kind_display().lower()} {info.original_name} "
            f"({info.size} bytes, sha256 {info.sha256[:12]}…)",
        )
    return document
