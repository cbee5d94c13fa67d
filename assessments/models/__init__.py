"""Models of the assessments app, split by sub-domain.

* submissions — models a company offers for assessment
* cases — the assessment itself (team, window, status, outcome)
* tickets — model-access tickets and credential reveals
"""

from assessments.models.cases import CLOSED_ASSESSMENT_STATUSES, Assessment, AssessmentOutcome, AssessmentStatus
from assessments.models.submissions import Modality, ModelSubmission
from assessments.models.tickets import (
    ENDED_TICKET_STATUSES,
    LIVE_TICKET_STATUSES,
    AccessTicket,
    CredentialReveal,
    TicketStatus,
)

__all__ = [
    "CLOSED_ASSESSMENT_STATUSES",
    "ENDED_TICKET_STATUSES",
    "LIVE_TICKET_STATUSES",
    "AccessTicket",
    "Assessment",
    "AssessmentOutcome",
    "AssessmentStatus",
    "CredentialReveal",
    "Modality",
    "ModelSubmission",
    "TicketStatus",
]
