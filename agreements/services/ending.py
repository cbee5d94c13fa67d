"""Voluntary in both directions: either side gives notice to end an active agreement.

The agreement ends (is terminated) once the agreed notice period (``termination_notice_days``
of its effective terms) has run: the scheduled job ``agreements_end_on_notice_due`` ends it as
the system, and the apps above follow through the hooks registered with
``agreement_ended_register`` (cases still open under it are withdrawn, so their access ends).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

from django.db import transaction

from accounts.permissions import actor_for, require
from agreements import handoffs
from agreements.models import Agreement, SignatureSide
from agreements.services.agreements import SYSTEM, agreement_terminate, utc_today
from agreements.states import AgreementStatus
from agreements.terms import effective_terms
from audit.models import AuditEvent
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed

AgreementEnded = Callable[..., None]
_ended_hooks: list[AgreementEnded] = []


def agreement_ended_register(hook: AgreementEnded) -> None:
    """Call ``hook(agreement=..., reason=...)`` in the transaction that ends an agreement on notice."""
    if hook not in _ended_hooks:
        _ended_hooks.append(hook)


def agreement_give_notice(*, actor: Any, agreement: Agreement, reason: str, request=None) -> Agreement:
    """Either side gives notice to end an active agreement, saying why; it ends after the agreed notice.

    The end date is today plus the effective notice period. The other side is told; notice once
    given is not given again.
    """
    require(actor, "agreement.give_notice", agreement, message="You may not give notice on this agreement.")
    reason = (reason or "").strip()
    if not reason:
        raise RuleViolation("Say why the agreement is to end.", errors={"reason": ["A reason is required."]})
    bounds.check_lengths(reason=(reason, bounds.NOTE))
    acting = actor_for(actor)
    side = SignatureSide.COMPANY if acting is not None and acting.is_liaison else SignatureSide.CENTRE
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().select_related("organisation").get(pk=agreement.pk)
        if agreement.status != AgreementStatus.ACTIVE:
            raise TransitionNotAllowed(
                f"{agreement.reference} is {agreement.get_status_display().lower()}: notice to end is given "
                "only on an active agreement."
            )
        if agreement.ends_on is not None:
            raise TransitionNotAllowed(
                f"Notice to end {agreement.reference} was already given; it ends on {agreement.ends_on:%d %B %Y}."
            )
        today = utc_today()
        days = int(effective_terms(agreement).get("termination_notice_days") or 0)
        agreement.end_notice_given_on = today
        agreement.end_notice_side = side
        agreement.end_notice_reason = reason
        agreement.ends_on = today + datetime.timedelta(days=days)
        agreement.save(
            update_fields=["end_notice_given_on", "end_notice_side", "end_notice_reason", "ends_on", "updated_at"]
        )
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=agreement,
            changes={"ends_on": {"from": None, "to": agreement.ends_on.isoformat()}, "end_notice_reason": reason},
            request=request,
            summary=f"Notice to end given by {SignatureSide(side).label.lower()}: ends on "
            f"{agreement.ends_on:%Y-%m-%d} ({days} days' notice). {reason[:200]}",
        )
        handoffs.notice_given(agreement, actor=actor)
    return agreement


def agreements_end_on_notice_due(*, today: datetime.date | None = None) -> list[str]:
    """End every active agreement whose notice period has run, with its active amendments and
    addenda; returns the references ended.

    Each goes through ``agreement_terminate`` as ``SYSTEM`` under a row lock, so overlapping or
    repeated runs end nothing twice; the registered hooks withdraw the cases still open under it.
    """
    today = today or utc_today()
    due = Agreement.objects.filter(status=AgreementStatus.ACTIVE, ends_on__isnull=False, ends_on__lte=today)
    ended: list[str] = []
    for agreement in due.order_by("ends_on", "pk"):
        side = "the company" if agreement.end_notice_side == SignatureSide.COMPANY else "the centre"
        reason = (
            f"Ended on notice given by {side} on {agreement.end_notice_given_on:%Y-%m-%d}: "
            f"{agreement.end_notice_reason}"
        )[: bounds.NOTE]
        try:
            with transaction.atomic():
                ending = [(agreement, reason)]
                # Its amendments and addenda change terms that no longer hold: they end with it,
                # and so does the work under them.
                children = Agreement.objects.filter(parent=agreement, status=AgreementStatus.ACTIVE).order_by("pk")
                ending += [
                    (child, f"Ended with {agreement.reference}, which it amends. {reason}"[: bounds.NOTE])
                    for child in children
                ]
                for each, why in ending:
                    agreement_terminate(actor=SYSTEM, agreement=each, reason=why)
                    for hook in _ended_hooks:
                        hook(agreement=each, reason=why)
        except TransitionNotAllowed:
            continue
        ended += [each.reference for each, _ in ending]
    return ended
