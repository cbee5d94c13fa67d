"""Services of the agreements app (writes), split by sub-domain.

* agreements — opening a draft, its terms, the moves of its status, the signature due date
* signatures — each side's signature; the second makes the agreement active
* record — the negotiation record: proposals, comments, meetings, open points, documents
* markings — the handling marking of an agreement document

Each function checks the actor through the permission policy, checks the
current state (``TransitionNotAllowed`` names the states), writes, records the
audit event and recomputes deadlines, all in one transaction. Views, forms,
serializers and the admin call these and nothing else.
"""

from agreements.services.agreements import (
    SYSTEM,
    TRANSITIONS,
    agreement_apply_transition,
    agreement_change_signature_due,
    agreement_create,
    agreement_expire,
    agreement_open_negotiation,
    agreement_submit_for_signature,
    agreement_terminate,
    agreement_update_terms,
    agreement_withdraw,
    agreements_expire_due,
    terms_snapshot,
    utc_today,
)
from agreements.services.markings import agreement_document_set_marking
from agreements.services.record import (
    document_upload,
    meeting_record,
    negotiation_entry_add,
    open_point_add,
    open_point_resolve,
    open_point_update,
)
from agreements.services.signatures import agreement_sign, signature_side_for

__all__ = [
    "SYSTEM",
    "TRANSITIONS",
    "agreement_apply_transition",
    "agreement_change_signature_due",
    "agreement_create",
    "agreement_document_set_marking",
    "agreement_expire",
    "agreement_open_negotiation",
    "agreement_sign",
    "agreement_submit_for_signature",
    "agreement_terminate",
    "agreement_update_terms",
    "agreement_withdraw",
    "agreements_expire_due",
    "document_upload",
    "meeting_record",
    "negotiation_entry_add",
    "open_point_add",
    "open_point_resolve",
    "open_point_update",
    "signature_side_for",
    "terms_snapshot",
    "utc_today",
]
