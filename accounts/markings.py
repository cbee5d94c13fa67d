"""Changing the handling marking of any marked row (``core.markings.Marked``), for every app's services.

``marking_set`` is the shared body of each ``<entity>_set_marking`` service (``finding_set_marking``,
``agreement_document_set_marking``, ...): the entity's service passes its two policy actions (the
one to raise, the one to lower) and the case or agreement reference its audit events file under.
It lives here, beside the policy engine, because it needs the policy and the audit trail, and
both the agreements and the findings apps use it.
"""

from __future__ import annotations

from typing import Any

from django.db import models, transaction

from accounts.permissions import can, require
from audit.models import AuditEvent
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation
from core.markings import HandlingMarking, MarkingChange, marking_change_kind


def marking_set(
    *,
    actor: Any,
    obj: models.Model,
    marking: HandlingMarking,
    reason: str = "",
    raise_action: str,
    lower_action: str,
    what: str,
    case_ref: str = "",
    request=None,
) -> models.Model:
    """Give ``obj`` the handling marking ``marking``; returns the row as saved.

    Raising (a more restrictive marking) needs ``raise_action``: whoever may edit the item.
    Lowering needs ``lower_action`` (a lead evaluator or an admin) and a ``reason``; both are
    refused with PermissionDenied (403) otherwise, a missing reason with RuleViolation (400).
    The row is re-read under a lock; the change is audited (``what`` names the item in the
    summary, e.g. "FND-2026-0001"). Setting the marking it already has changes nothing and
    records nothing. Call outside or inside a transaction; it opens its own.
    """
    if not isinstance(marking, HandlingMarking):
        raise RuleViolation("Choose a handling marking.", errors={"marking": ["Choose a handling marking."]})
    reason = (reason or "").strip()
    bounds.check_lengths(reason=(reason, bounds.NOTE))
    with transaction.atomic():
        locked = type(obj).objects.select_for_update().select_related("marking").get(pk=obj.pk)
        old = locked.marking
        change = marking_change_kind(old, marking)
        if change == MarkingChange.SAME:
            # Nothing to change, but only to someone who could have changed it.
            if not (can(actor, raise_action, locked) or can(actor, lower_action, locked)):
                require(actor, raise_action, locked, "You cannot change the handling marking of this item.")
            return locked
        if change == MarkingChange.LOWER:
            require(actor, lower_action, locked, "Only a lead evaluator or an admin can lower a handling marking.")
            if not reason:
                raise RuleViolation(
                    "Say why the marking can be lowered.",
                    errors={"reason": ["A reason is required to lower a marking."]},
                )
        else:
            require(actor, raise_action, locked, "You cannot change the handling marking of this item.")
        locked.marking = marking
        locked.save(update_fields=["marking"])
        verb = "Lowered" if change == MarkingChange.LOWER else "Raised"
        audit_record(
            actor=actor,
            action=AuditEvent.Action.CHANGE,
            obj=locked,
            request=request,
            case_ref=case_ref,
            summary=f"{verb} the handling marking of {what} from {old.name} to {marking.name}"
            + (f": {reason}" if reason else ""),
            changes={"marking": {"from": old.code, "to": marking.code}},
        )
    obj.marking = marking
    return locked
