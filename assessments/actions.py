"""What a person may do on a case or a ticket now, for the buttons of their pages.

Read from the same state machines (``assessments.states``) and the same policy
actions the services check, so a page offers exactly what would succeed.
The services decide; this only answers "show the button?".
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import can
from assessments.models import AccessTicket, Assessment
from assessments.states import (
    ACKNOWLEDGE_OUTCOME,
    ADVANCE_MOVES,
    ASSESSMENT_MOVES,
    GRANTED_TICKET_STATUSES,
    LIVE_TICKET_STATUSES,
    TICKET_LIFECYCLE,
    TICKET_MOVES,
    TicketStatus,
)
from core.states import Move


def _may(user: Any, move: Move, obj: Any) -> bool:
    return move.starts_from(obj.status) and can(user, move.action, obj)


def next_step(assessment: Assessment) -> Move | None:
    """The plain step forward from the case's status (None in reporting: completion needs an outcome)."""
    steps = [ASSESSMENT_MOVES[name] for name in ADVANCE_MOVES]
    return next((move for move in steps if move.starts_from(assessment.status)), None)


def assessment_actions_for(*, user: Any, assessment: Assessment) -> dict[str, bool]:
    """Which plan, status and ticket actions ``user`` may take on ``assessment`` now."""
    step = next_step(assessment)
    is_open = not assessment.is_closed
    return {
        "can_view_internal": can(user, "assessment.view_internal", assessment),
        "can_manage": is_open and can(user, "assessment.manage", assessment),
        "can_advance": step is not None and can(user, step.action, assessment),
        "can_complete": _may(user, ASSESSMENT_MOVES["complete"], assessment),
        "can_withdraw": _may(user, ASSESSMENT_MOVES["withdraw"], assessment),
        "can_request_ticket": is_open and can(user, "ticket.request", assessment),
        "can_acknowledge_outcome": assessment.outcome_awaits_acknowledgement
        and can(user, ACKNOWLEDGE_OUTCOME, assessment),
    }


def ticket_actions_for(*, user: Any, ticket: AccessTicket) -> dict[str, bool]:
    """Which ticket services ``user`` may call on ``ticket`` now."""
    pending = ticket.has_pending_extension
    granted = ticket.status in GRANTED_TICKET_STATUSES
    return {
        # Approve and reject are one decision, on one page.
        "can_decide": _may(user, TICKET_MOVES["approve"], ticket),
        "can_provision": _may(user, TICKET_MOVES["provision"], ticket),
        "can_reveal": ticket.status in LIVE_TICKET_STATUSES and can(user, "ticket.reveal", ticket),
        "can_revoke": _may(user, TICKET_MOVES["revoke"], ticket),
        # Whether revoking ends access the company gave, or only withdraws an approval (the button's words).
        "access_given": ticket.is_live,
        "can_extend": granted and not pending and can(user, "ticket.extend", ticket),
        "can_consent": granted and pending and can(user, "ticket.consent_extension", ticket),
    }


def ticket_lifecycle(ticket: AccessTicket) -> dict:
    """The step indicator of ``ticket``'s page (``assessments.states.TICKET_LIFECYCLE``): how far
    the access had come before it ended, read from the dates the ticket keeps."""
    if ticket.activated_at:
        reached = TicketStatus.ACTIVE
    elif ticket.provisioned_at:
        reached = TicketStatus.PROVISIONED
    elif ticket.decided_at and ticket.status != TicketStatus.REJECTED:
        reached = TicketStatus.APPROVED
    else:
        reached = TicketStatus.REQUESTED
    return TICKET_LIFECYCLE.steps(ticket.status, reached=reached)
