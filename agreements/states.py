"""The agreement's state machine: its statuses, the groups of them the code asks about, and its moves.

``draft → negotiating → awaiting_signature → active → expired | terminated``,
or ``withdrawn`` from any open status. The services in ``agreements.services``
make each move; ``agreements.actions`` offers a button for a move only when
its service would accept it.
"""

from __future__ import annotations

from django.db import models

from core.states import Move, lifecycle_from


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEGOTIATING = "negotiating", "Negotiating"
    AWAITING_SIGNATURE = "awaiting_signature", "Awaiting signature"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    WITHDRAWN = "withdrawn", "Withdrawn"


# Still being made: proposals, meetings, open points and withdrawal are possible.
OPEN_AGREEMENT_STATUSES = (AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING, AgreementStatus.AWAITING_SIGNATURE)
# Terms may change only while the agreement is still being drafted or negotiated.
TERMS_EDITABLE_STATUSES = (AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING)
# Both sides sign, and the signature due date may move, only while it awaits signature.
SIGNING_STATUSES = (AgreementStatus.AWAITING_SIGNATURE,)

AGREEMENT_MOVES: dict[str, Move] = {
    "open_negotiation": Move(
        "Open negotiation", (AgreementStatus.DRAFT,), AgreementStatus.NEGOTIATING, "agreement.transition"
    ),
    "submit_for_signature": Move(
        "Send for signature",
        (AgreementStatus.NEGOTIATING,),
        AgreementStatus.AWAITING_SIGNATURE,
        "agreement.transition",
    ),
    # Back from signature to negotiation, to change the terms: a signature of other terms then binds nothing.
    "reopen_negotiation": Move(
        "Back to negotiation",
        SIGNING_STATUSES,
        AgreementStatus.NEGOTIATING,
        "agreement.transition",
        needs_reason=True,
    ),
    "withdraw": Move(
        "Withdraw", OPEN_AGREEMENT_STATUSES, AgreementStatus.WITHDRAWN, "agreement.transition", needs_reason=True
    ),
    # A negotiator, or the expiry job once the expiry date has passed.
    "expire": Move("Mark as expired", (AgreementStatus.ACTIVE,), AgreementStatus.EXPIRED, "agreement.transition"),
    "terminate": Move(
        "Terminate", (AgreementStatus.ACTIVE,), AgreementStatus.TERMINATED, "agreement.terminate", needs_reason=True
    ),
    # Each side signs while the agreement awaits signature; the second signature makes it active.
    "sign": Move("Sign", SIGNING_STATUSES, AgreementStatus.ACTIVE, "agreement.sign"),
}
# The moves picked by name on the status page and through the API's transition endpoint,
# in the order of the buttons. Signing has its own page and endpoint.
STATUS_MOVES = ("open_negotiation", "submit_for_signature", "reopen_negotiation", "withdraw", "expire", "terminate")
# The step indicator of an agreement's page: draft → negotiating → awaiting signature → active → expired.
AGREEMENT_LIFECYCLE = lifecycle_from(
    AGREEMENT_MOVES,
    ("open_negotiation", "submit_for_signature", "sign", "expire"),
    ("withdraw", "terminate"),
    AgreementStatus,
)
