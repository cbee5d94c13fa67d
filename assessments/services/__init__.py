"""Services of the assessments app (writes), split by sub-domain.

* submissions — models a company offers for assessment
* cases — opening a case, its plan, and the moves of its status
* tickets — model-access requests, decisions, provisioning, revocation, extensions
* ticket_access — revealing a credential, and the clock that starts and ends access

Every state change is one function here: it checks the actor through the
policy, checks the state against ``assessments.states``, writes, records the
audit event and syncs the deadlines in one transaction.
"""

from assessments.services.cases import (
    assessment_advance,
    assessment_await_access,
    assessment_change_lead,
    assessment_close,
    assessment_create,
    assessment_start,
    assessment_start_reporting,
    assessment_update,
    assessment_withdraw,
    validate_window,
    window_limit_days,
)
from assessments.services.outcomes import assessment_outcome_acknowledge
from assessments.services.submissions import submission_create, submission_withdraw
from assessments.services.ticket_access import ticket_credentials_reencrypt, ticket_reveal, tickets_update_due
from assessments.services.tickets import (
    ticket_approve,
    ticket_decide_extension,
    ticket_provision,
    ticket_reject,
    ticket_request,
    ticket_request_extension,
    ticket_revoke,
)

__all__ = [
    "assessment_advance",
    "assessment_outcome_acknowledge",
    "assessment_await_access",
    "assessment_change_lead",
    "assessment_close",
    "assessment_create",
    "assessment_start",
    "assessment_start_reporting",
    "assessment_update",
    "assessment_withdraw",
    "submission_create",
    "submission_withdraw",
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
