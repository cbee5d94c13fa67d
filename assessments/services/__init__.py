"""Services of the assessments app (writes), split by sub-domain.

Every state change is one function here: it checks the actor through the
policy, checks the state, writes, records the audit event and syncs the
deadlines in one transaction.
"""

from assessments.services.cases import (
    assessment_advance,
    assessment_change_lead,
    assessment_close,
    assessment_create,
    assessment_update,
    assessment_withdraw,
    validate_window,
    window_limit_days,
)
from assessments.services.submissions import submission_create
from assessments.services.tickets import (
    ticket_actions_for,
    ticket_approve,
    ticket_credentials_reencrypt,
    ticket_decide_extension,
    ticket_provision,
    ticket_reject,
    ticket_request,
    ticket_request_extension,
    ticket_reveal,
    ticket_revoke,
    tickets_update_due,
)

__all__ = [
    "assessment_advance",
    "assessment_change_lead",
    "assessment_close",
    "assessment_create",
    "assessment_update",
    "assessment_withdraw",
    "submission_create",
    "ticket_actions_for",
    "ticket_approve",
    "ticket_credentials_reencrypt",
    "ticket_decide_extension",
    "ticket_provision",
    "ticket_reject",
    "ticket_request",
    "ticket_request_extension",
    "ticket_reveal",
    "ticket_revoke",
    "tickets_update_due",
    "validate_window",
    "window_limit_days",
]
