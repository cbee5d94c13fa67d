"""The agreement itself: opening a draft, changing its terms, and the moves of its status.

Each move of ``agreements.states.AGREEMENT_MOVES`` has one function here
(signing is in ``signatures``); ``agreement_apply_transition`` dispatches a
move picked by name on the status page or through the API.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation
from accounts.permissions import can, require
from agreements import handoffs
from agreements.deadlines import agreement_deadline_specs, open_point_deadline_specs
from agreements.models import (
    AMENDING_KINDS,
    TERM_FIELDS,
    Agreement,
    AgreementKind,
    AgreementVersion,
    OpenPointStatus,
    RiskConsequence,
)
from agreements.services.running_work import conflicts_text, terms_conflicts
from agreements.services.signatures import signatures_void_if_changed
from agreements.states import (
    AGREEMENT_MOVES,
    OPEN_AGREEMENT_STATUSES,
    SIGNING_STATUSES,
    STATUS_MOVES,
    TERMS_EDITABLE_STATUSES,
    AgreementStatus,
)
from agreements.terms import terms_snapshot
from audit.models import AuditEvent
from audit.services import audit_record, diff_fields
from core import bounds
from core.choices import MAX_WINDOW_DAYS, AccessKind, RiskDomain
from core.errors import RuleViolation, TransitionNotAllowed
from core.markings import marking_choices
from core.references import save_with_reference
from reminders.services import deadline_sync


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
    cleaned["default_marking"] = str(terms.get("default_marking") or "").strip()
    if cleaned["default_marking"] and cleaned["default_marking"] not in dict(marking_choices()):
        errors["default_marking"] = ["Choose one of the handling markings."]
    errors.update(bounds.length_errors(trade_secret_terms=(cleaned["trade_secret_terms"], bounds.BODY)))
    errors.update(_framework_term_errors(terms, cleaned, current))
    if errors:
        raise RuleViolation("Some terms are not acceptable; see the fields marked.", errors=errors)
    return cleaned


def _framework_term_errors(terms: dict[str, Any], cleaned: dict[str, Any], current: Agreement | None) -> dict:
    """Check the cover of a framework and the notice to end; terms sent without them keep the current ones."""
    errors: dict[str, list[str]] = {}
    for name, limit in (("covered_releases", bounds.NOTE), ("covered_model_family", bounds.TITLE)):
        value = terms.get(name)
        if value is None:
            value = getattr(current, name, "") if current else ""
        cleaned[name] = value.strip() if isinstance(value, str) else ""
        errors.update(bounds.length_errors(**{name: (cleaned[name], limit)}))
    default = (
        current.termination_notice_days if current else Agreement._meta.get_field("termination_notice_days").default
    )
    days = terms.get("termination_notice_days")
    days = default if days is None else days
    if not isinstance(days, int) or not 0 <= days <= bounds.RELEASE_NOTICE_MAX_DAYS:
        errors["termination_notice_days"] = [
            f"The notice to end must be between 0 and {bounds.RELEASE_NOTICE_MAX_DAYS} days."
        ]
    cleaned["termination_notice_days"] = days
    return errors


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


def _check_kind(
    *, organisation: Organisation, kind: str, parent: Agreement | None, amended_clauses: list[str]
) -> list[str]:
    """Refuse a kind, parent and amended clauses that do not fit together; returns the clauses, sorted."""
    if kind not in AgreementKind.values:
        raise RuleViolation("Choose what kind of agreement this is.", errors={"kind": ["Choose a kind."]})
    if kind not in AMENDING_KINDS:
        if parent is not None or amended_clauses:
            message = "Only an amendment or an addendum names a parent agreement and the clauses it changes."
            raise RuleViolation(message, errors={"parent": [message]})
        return []
    errors: dict[str, list[str]] = {}
    if parent is None:
        errors["parent"] = ["Name the agreement this amends."]
    elif parent.organisation_id != organisation.pk:
        errors["parent"] = [f"{parent.reference} is another company's agreement."]
    elif parent.is_amending:
        errors["parent"] = [f"{parent.reference} is itself an amendment: amend the agreement it changes."]
    elif parent.status not in (AgreementStatus.ACTIVE, *OPEN_AGREEMENT_STATUSES):
        errors["parent"] = [
            f"{parent.reference} is {parent.get_status_display().lower()}: it can no longer be amended."
        ]
    unknown = [c for c in amended_clauses if c not in TERM_FIELDS]
    if unknown or not amended_clauses:
        errors["amended_clauses"] = ["Choose the terms this changes."]
    if errors:
        raise RuleViolation("The amendment is incomplete; see the fields marked.", errors=errors)
    return [name for name in TERM_FIELDS if name in amended_clauses]


def agreement_create(
    *,
    actor: Any,
    organisation: Organisation,
    title: str,
    terms: dict[str, Any],
    kind: str = AgreementKind.STANDARD,
    parent: Agreement | None = None,
    amended_clauses: list[str] | tuple[str, ...] = (),
    request=None,
) -> Agreement:
    """Open a draft agreement with a developer company; its terms become version 1.

    A ``framework`` covers the company's future covered releases (its terms say which). An
    ``amendment`` (for every case under its parent) or a per-model ``addendum`` (for the models
    submitted under it) names its ``parent`` and the ``amended_clauses`` it changes; it is
    negotiated, versioned and signed like any agreement and shown in the parent's timeline.
    """
    require(actor, "agreement.create")
    if parent is not None and not can(actor, "agreement.view", parent):
        raise RuleViolation("Choose an agreement you can see.", errors={"parent": ["Choose an agreement."]})
    if organisation.kind != Organisation.Kind.DEVELOPER:
        raise RuleViolation(
            "Agreements are made with developer companies.",
            errors={"organisation": ["Choose a developer company, not the centre."]},
        )
    if not title.strip():
        raise RuleViolation("A title is required.", errors={"title": ["Give the agreement a title."]})
    bounds.check_lengths(title=(title.strip(), bounds.TITLE))
    amended_clauses = _check_kind(
        organisation=organisation, kind=kind, parent=parent, amended_clauses=list(amended_clauses)
    )
    cleaned = _clean_terms(terms)
    with transaction.atomic():
        agreement = Agreement(
            organisation=organisation,
            title=title.strip(),
            status=AgreementStatus.DRAFT,
            kind=kind,
            parent=parent,
            amended_clauses=amended_clauses,
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
            summary=f"Opened a draft {AgreementKind(kind).label.lower()} with {organisation.name}"
            + (f", amending {parent.reference}" if parent is not None else ""),
        )
        if parent is not None:
            audit_record(
                actor=actor,
                action=AuditEvent.Action.CHANGE,
                obj=parent,
                request=request,
                summary=f"{AgreementKind(kind).label} {agreement.reference} opened: {agreement.title}",
            )
    return agreement


def agreement_update_terms(
    *,
    actor: Any,
    agreement: Agreement,
    terms: dict[str, Any],
    note: str = "",
    title: str | None = None,
    decision: str = "",
    request=None,
) -> AgreementVersion | None:
    """Change the agreed terms. A real change makes a new version; no change makes none (returns None).

    A version that would leave running cases outside the terms (an amendment narrowing its
    parent's scope, say) is refused, listing the cases, unless ``decision`` records why it goes
    ahead: the version keeps the cases and the decision, and the audit event names them. A
    signature of the earlier terms no longer binds: both sides sign the new version.
    """
    require(actor, "agreement.edit_terms", agreement)
    decision = (decision or "").strip()
    bounds.check_lengths(
        title=((title or "").strip(), bounds.TITLE), note=(note, bounds.SHORT_NOTE), decision=(decision, bounds.NOTE)
    )
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
        conflicts = terms_conflicts(agreement=agreement, proposed=after) if changed_terms else []
        if conflicts and not decision:
            message = (
                f"These running cases would fall outside the new terms: {conflicts_text(conflicts)}. "
                "Change the terms, or record your decision to go ahead."
            )
            raise RuleViolation(message, errors={"decision": [message]})
        if changed_terms:
            version = _add_version(agreement=agreement, actor=actor, changed=changed_terms, note=note)
            if conflicts:
                version.affected_cases = [reference for reference, _ in conflicts]
                version.decision = decision
                version.save(update_fields=["affected_cases", "decision"])
                changes["affected_cases"] = {"from": [], "to": version.affected_cases}
                changes["decision"] = {"from": "", "to": decision}
            signatures_void_if_changed(actor=actor, agreement=agreement, request=request)
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

# Transition name → label, for the status page's form and the API's transition endpoint.
TRANSITIONS = {name: AGREEMENT_MOVES[name].label for name in STATUS_MOVES}
# How a refusal names each move ("You may not withdraw this agreement.").
_VERBS = {
    "open_negotiation": "open negotiation on",
    "submit_for_signature": "send for signature",
    "reopen_negotiation": "reopen negotiation on",
    "withdraw": "withdraw",
    "expire": "mark as expired",
    "terminate": "terminate",
}


def _transition(
    *, actor: Any, agreement: Agreement, name: str, reason: str = "", request=None, before_write=None
) -> Agreement:
    """Make the move ``name`` of AGREEMENT_MOVES if the agreement is in one of its start states.

    The shared body of each transition service. ``actor`` is a user, checked through the
    policy, or ``SYSTEM`` for a scheduled job.
    """
    move = AGREEMENT_MOVES[name]
    verb = _VERBS[name]
    reason = reason.strip()
    if move.needs_reason and not reason:
        raise RuleViolation(
            f"Say why the agreement is {AgreementStatus(move.target).label.lower()}.",
            errors={"reason": ["A reason is required."]},
        )
    bounds.check_lengths(reason=(reason, bounds.NOTE))
    if actor is not SYSTEM:
        require(actor, move.action, agreement, message=f"You may not {verb} this agreement.")
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
        if not move.starts_from(agreement.status):
            names = " or ".join(AgreementStatus(s).label.lower() for s in move.sources)
            raise TransitionNotAllowed(
                f"Cannot {verb} {agreement.reference}: it is {agreement.get_status_display().lower()}, "
                f"and only an agreement that is {names} can be moved to "
                f"{AgreementStatus(move.target).label.lower()}."
            )
        if before_write is not None:
            before_write(agreement)
        old = agreement.status
        agreement.status = move.target
        agreement.status_changed_at = timezone.now()
        if reason:
            agreement.status_reason = reason
        agreement.save()
        audit_record(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=agreement,
            changes={"status": {"from": old, "to": move.target}},
            request=request,
            summary=f"{AgreementStatus(old).label} → {AgreementStatus(move.target).label}"
            + (f": {reason}" if reason else ""),
        )
        _sync_all_deadlines(agreement)
        handoffs.status_changed(agreement, actor=actor)
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
    due = Agreement.objects.filter(status__in=AGREEMENT_MOVES["expire"].sources, expiry_date__lt=today)
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
    if transition not in TRANSITIONS:
        raise RuleViolation(
            f"Unknown transition {transition!r}.",
            errors={"transition": [f"Choose one of: {', '.join(TRANSITIONS)}."]},
        )
    if transition == "submit_for_signature":
        return agreement_submit_for_signature(
            actor=actor, agreement=agreement, signature_due=signature_due, request=request
        )
    reason = reason if AGREEMENT_MOVES[transition].needs_reason else ""
    return _transition(actor=actor, agreement=agreement, name=transition, reason=reason, request=request)


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
        if agreement.status not in SIGNING_STATUSES:
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
