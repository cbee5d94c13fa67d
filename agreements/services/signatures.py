"""Signatures: each side signs for itself; the second signature makes the agreement active.

A signature binds the exact version signed: its number and the SHA-256 of its terms
(``agreements.terms.terms_hash``). Terms changed after one side signed void that signature
(``signatures_void_if_changed``, called by the terms service), so both sides sign again.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import actor_for, require
from agreements import handoffs
from agreements.deadlines import agreement_deadline_specs
from agreements.models import Agreement, Signature, SignatureSide
from agreements.services.running_work import conflicts_text, terms_conflicts
from agreements.states import AGREEMENT_MOVES
from agreements.terms import terms_hash, terms_snapshot
from audit.models import AuditEvent
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.services import deadline_sync

SIGN = AGREEMENT_MOVES["sign"]


def activation_check(agreement: Agreement) -> None:
    """An amendment takes effect only if every running case it leaves outside its terms was named,
    with a decision, on the version signed (``agreement_update_terms``)."""
    if not agreement.is_amending:
        return
    conflicts = terms_conflicts(agreement=agreement, proposed=terms_snapshot(agreement))
    version = agreement.versions.order_by("-number").first()
    decided = set(version.affected_cases if version else [])
    undecided = [(reference, problem) for reference, problem in conflicts if reference not in decided]
    if undecided:
        raise TransitionNotAllowed(
            f"{agreement.reference} would leave running cases outside its terms with no decision recorded: "
            f"{conflicts_text(undecided)}. Take it back to negotiation and record the decision with the terms."
        )


def signature_side_for(user: Any) -> str | None:
    actor = actor_for(user)
    if actor is None:
        return None
    if actor.is_liaison:
        return SignatureSide.COMPANY
    if actor.is_admin or actor.is_lead:
        return SignatureSide.CENTRE
    return None


def signatures_void_if_changed(*, actor: Any, agreement: Agreement, request=None) -> list[Signature]:
    """Void each standing signature of terms other than the agreement's current ones; returns them.

    Called in the transaction that writes a new version of the terms.
    """
    current = terms_hash(terms_snapshot(agreement))
    stale = list(agreement.signatures.filter(voided_at__isnull=True).exclude(terms_hash=current))
    now = timezone.now()
    for signature in stale:
        signature.voided_at = now
        signature.voided_reason = "The terms changed after this signature; both sides sign the new version."
        signature.save(update_fields=["voided_at", "voided_reason"])
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=agreement,
            request=request,
            summary=f"Signature for {signature.get_side_display().lower()} by {signature.signer_name} "
            f"(version {signature.version_number}) no longer binds: the terms changed",
        )
    return stale


def agreement_sign(
    *,
    actor: Any,
    agreement: Agreement,
    signer_name: str,
    capacity: str,
    terms_hash_read: str = "",
    request=None,
) -> Signature:
    """Record the actor's signature for their side; the second signature makes the agreement active.

    The signature records the version signed and the hash of its terms. ``terms_hash_read``, when
    given, is the hash of the terms the signer read: if the terms changed since, nothing is signed.
    The agreement becomes active only when both standing signatures bind the same, current terms.
    """
    require(actor, SIGN.action, agreement, message="You may not sign this agreement.")
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
        if not SIGN.starts_from(agreement.status):
            raise TransitionNotAllowed(
                f"{agreement.reference} is {agreement.get_status_display().lower()}; "
                "only an agreement awaiting signature can be signed."
            )
        current_hash = terms_hash(terms_snapshot(agreement))
        if terms_hash_read and terms_hash_read != current_hash:
            raise TransitionNotAllowed(
                f"The terms of {agreement.reference} changed since you read them; read the current version "
                "before signing."
            )
        existing = agreement.signatures.filter(side=side, voided_at__isnull=True).first()
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
            version_number=agreement.versions.order_by("-number").values_list("number", flat=True).first(),
            terms_hash=current_hash,
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=agreement,
            request=request,
            summary=f"Signed version {signature.version_number} for {SignatureSide(side).label.lower()} by "
            f"{signature.signer_name} ({signature.capacity}); terms SHA-256 {current_hash[:12]}",
        )
        standing = agreement.signatures.filter(voided_at__isnull=True, terms_hash=current_hash)
        if standing.count() == len(SignatureSide.values):
            activation_check(agreement)
            # Both sides have signed: this is the one way an agreement becomes active.
            before = agreement.status
            agreement.status = SIGN.target
            agreement.status_changed_at = timezone.now()
            if agreement.effective_date is None:
                agreement.effective_date = timezone.localdate()
            agreement.save()
            audit_record(
                actor=actor,
                action=AuditEvent.Action.TRANSITION,
                obj=agreement,
                changes={"status": {"from": before, "to": SIGN.target}},
                request=request,
                summary="Awaiting signature → Active: both sides have signed",
            )
        deadline_sync(owner=agreement, specs=agreement_deadline_specs(agreement))
        handoffs.signed(signature, agreement, actor=actor)
    return signature
