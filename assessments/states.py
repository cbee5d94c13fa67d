"""The state machines of the assessments app: the assessment case and the model-access ticket.

For each: its statuses, the groups of them the code asks about, and its moves.
The services in ``assessments.services`` make each move after checking it here;
``assessments.actions`` offers a button for a move only when its service would
accept it.
"""

from __future__ import annotations

from django.db import models

from core.states import Move, lifecycle_from

# --- The assessment case ----------------------------------------------------------------
# scheduled → access_pending → in_progress → reporting → completed, or withdrawn from any open status.


class AssessmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    ACCESS_PENDING = "access_pending", "Access pending"
    IN_PROGRESS = "in_progress", "In progress"
    REPORTING = "reporting", "Reporting"
    COMPLETED = "completed", "Completed"
    WITHDRAWN = "withdrawn", "Withdrawn"


CLOSED_ASSESSMENT_STATUSES = (AssessmentStatus.COMPLETED, AssessmentStatus.WITHDRAWN)
OPEN_ASSESSMENT_STATUSES = (
    AssessmentStatus.SCHEDULED,
    AssessmentStatus.ACCESS_PENDING,
    AssessmentStatus.IN_PROGRESS,
    AssessmentStatus.REPORTING,
)

ASSESSMENT_MOVES: dict[str, Move] = {
    "await_access": Move(
        "Move to access pending",
        (AssessmentStatus.SCHEDULED,),
        AssessmentStatus.ACCESS_PENDING,
        "assessment.transition",
    ),
    "start": Move(
        "Move to in progress", (AssessmentStatus.ACCESS_PENDING,), AssessmentStatus.IN_PROGRESS, "assessment.transition"
    ),
    "start_reporting": Move(
        "Move to reporting", (AssessmentStatus.IN_PROGRESS,), AssessmentStatus.REPORTING, "assessment.transition"
    ),
    # Completion needs an outcome and a rationale, so it is never a plain step forward.
    "complete": Move(
        "Complete with outcome", (AssessmentStatus.REPORTING,), AssessmentStatus.COMPLETED, "assessment.transition"
    ),
    # Every open ticket of the case ends with it.
    "withdraw": Move(
        "Withdraw", OPEN_ASSESSMENT_STATUSES, AssessmentStatus.WITHDRAWN, "assessment.transition", needs_reason=True
    ),
}
# The company acknowledges the outcome of a completed case (with a comment if it wishes), once.
OUTCOME_ACKNOWLEDGEABLE_STATUSES = (AssessmentStatus.COMPLETED,)
ACKNOWLEDGE_OUTCOME = "assessment.acknowledge_outcome"
# The steps forward that need nothing but the decision (assessment_advance), in order.
ADVANCE_MOVES = ("await_access", "start", "start_reporting")
# The forward path of a case, status → next status (the last step needs an outcome).
ASSESSMENT_FLOW = {
    ASSESSMENT_MOVES[name].sources[0]: ASSESSMENT_MOVES[name].target for name in (*ADVANCE_MOVES, "complete")
}


# --- The model-access ticket ------------------------------------------------------------
# requested → approved → provisioned → active → expired, or rejected (a request)
# or revoked (access that was granted).


class TicketStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    PROVISIONED = "provisioned", "Provisioned"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REJECTED = "rejected", "Rejected"
    REVOKED = "revoked", "Revoked"


# Once in one of these states a ticket never changes again.
ENDED_TICKET_STATUSES = (TicketStatus.EXPIRED, TicketStatus.REJECTED, TicketStatus.REVOKED)
# States in which the company has handed over access (a credential may exist).
LIVE_TICKET_STATUSES = (TicketStatus.PROVISIONED, TicketStatus.ACTIVE)
# Access granted and not yet ended: it can be extended, revoked, and it expires.
GRANTED_TICKET_STATUSES = (TicketStatus.APPROVED, *LIVE_TICKET_STATUSES)
# Never granted: requests and rejections stay inside the centre (the company does not see them).
UNGRANTED_TICKET_STATUSES = (TicketStatus.REQUESTED, TicketStatus.REJECTED)
# Access the company actually gave, whether or not it has ended (the report lists it).
ACCESS_GIVEN_TICKET_STATUSES = (*LIVE_TICKET_STATUSES, TicketStatus.EXPIRED, TicketStatus.REVOKED)

TICKET_MOVES: dict[str, Move] = {
    # The case lead decides, never on their own request.
    "approve": Move("Approve", (TicketStatus.REQUESTED,), TicketStatus.APPROVED, "ticket.approve"),
    "reject": Move("Reject", (TicketStatus.REQUESTED,), TicketStatus.REJECTED, "ticket.approve", needs_reason=True),
    # The company's liaison hands over the endpoint and the credential.
    "provision": Move("Provision", (TicketStatus.APPROVED,), TicketStatus.PROVISIONED, "ticket.provision"),
    # The first reveal, or the start of the approved period, puts provisioned access in use.
    "activate": Move("Activate", (TicketStatus.PROVISIONED,), TicketStatus.ACTIVE, "ticket.reveal"),
    # Only the clock ends access: the approved period or the assessment window is over.
    "expire": Move("Expire", GRANTED_TICKET_STATUSES, TicketStatus.EXPIRED, None),
    # Only what was granted can be revoked; a request was never granted, so the lead rejects it instead.
    "revoke": Move("Revoke", GRANTED_TICKET_STATUSES, TicketStatus.REVOKED, "ticket.revoke", needs_reason=True),
}
# The step indicator of a ticket's page: requested → approved → provisioned → active → expired.
TICKET_LIFECYCLE = lifecycle_from(
    TICKET_MOVES, ("approve", "provision", "activate", "expire"), ("reject", "revoke"), TicketStatus
)
