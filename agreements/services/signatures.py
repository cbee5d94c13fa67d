"""Signatures: each side signs for itself; the second signature makes the agreement active."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import actor_for, require
from agreements import handoffs
from agreements.deadlines import agreement_deadline_specs
from agreements.models import Agreement, Signature, SignatureSide
from agreements.states import AGREEMENT_MOVES
from audit.models import AuditEvent
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from reminders.services import deadline_sync

SIGN = AGREEMENT_MOVES["sign"]


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
