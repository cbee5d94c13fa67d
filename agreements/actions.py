"""What a person may do on an agreement now, for the buttons of its page.

Read from the same state machine (``agreements.states``) and the same policy
actions the services check, so a page offers exactly what would succeed.
The services decide; this only answers "show the button?".
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from accounts.permissions import can
from agreements.models import Agreement, OpenPoint
from agreements.services.signatures import signature_side_for
from agreements.states import (
    AGREEMENT_LIFECYCLE,
    AGREEMENT_MOVES,
    STATUS_MOVES,
    TERMS_EDITABLE_STATUSES,
    AgreementStatus,
)


def available_transitions(user: Any, agreement: Agreement) -> list[tuple[str, str]]:
    """(name, label) of the status moves ``user`` could make now, in the order of the buttons.

    "Mark as expired" is offered only once the expiry date has passed: before that, ending an
    agreement early is a termination, with a reason. (The transition page still takes an early
    expiry, after saying how long the agreement had left to run.)
    """
    moves = [(name, AGREEMENT_MOVES[name]) for name in STATUS_MOVES]
    return [
        (name, move.label)
        for name, move in moves
        if move.starts_from(agreement.status)
        and can(user, move.action, agreement)
        and (name != "expire" or agreement_has_run_its_term(agreement))
    ]


def agreement_has_run_its_term(agreement: Agreement) -> bool:
    """True when the agreement has an expiry date and it is today or past."""
    return agreement.expiry_date is not None and agreement.expiry_date <= timezone.localdate()


def agreement_actions_for(*, user: Any, agreement: Agreement, signed_sides: set[str]) -> dict[str, bool]:
    """Which term, signature and record actions ``user`` may take now, from the same states the
    services accept (``signed_sides``: the sides that have signed, already loaded by the caller)."""
    sign = AGREEMENT_MOVES["sign"]
    awaiting = agreement.awaits_signature
    side = signature_side_for(user)
    is_open = agreement.is_open
    return {
        "can_edit_terms": agreement.status in TERMS_EDITABLE_STATUSES and can(user, "agreement.edit_terms", agreement),
        "can_sign": sign.starts_from(agreement.status)
        and side is not None
        and side not in signed_sides
        and can(user, sign.action, agreement),
        "can_change_signature_due": awaiting and can(user, "agreement.signature_due", agreement),
        "can_propose": is_open and can(user, "agreement.propose", agreement),
        "can_meeting": is_open and can(user, "agreement.meeting", agreement),
        "can_open_point": is_open and can(user, "agreement.open_point", agreement),
        "can_upload": can(user, "agreement.document_upload", agreement),
    }


def open_point_actions_for(*, user: Any, point: OpenPoint) -> dict[str, bool]:
    """Whether ``user`` may resolve or change ``point`` now: only while it is open."""
    return {
        "can_resolve": point.is_open and can(user, "open_point.resolve", point),
        "can_edit": point.is_open and can(user, "open_point.edit", point),
    }


def agreement_lifecycle(agreement: Agreement) -> dict:
    """The step indicator of ``agreement``'s page (``agreements.states.AGREEMENT_LIFECYCLE``). A
    withdrawn agreement that had been sent for signature keeps its signature due date, so it
    shows that far; otherwise it shows as withdrawn after the draft."""
    withdrawn_late = agreement.status == AgreementStatus.WITHDRAWN and agreement.signature_due
    reached = AgreementStatus.AWAITING_SIGNATURE if withdrawn_late else None
    return AGREEMENT_LIFECYCLE.steps(agreement.status, reached=reached)
