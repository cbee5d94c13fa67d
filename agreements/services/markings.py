"""Handling markings of agreement documents (``core.markings``)."""

from __future__ import annotations

from typing import Any

from accounts.markings import marking_set
from agreements.models import AgreementDocument
from core.markings import HandlingMarking


def agreement_document_set_marking(
    *, actor: Any, document: AgreementDocument, marking: HandlingMarking, reason: str = "", request=None
) -> AgreementDocument:
    """Give an agreement document another handling marking.

    Raising: whoever may upload documents to the agreement (the centre's negotiators, the company's
    liaison for its own). Lowering: a lead evaluator or an admin, with a reason. Audited under the
    agreement's reference.
    """
    return marking_set(
        actor=actor,
        obj=document,
        marking=marking,
        reason=reason,
        raise_action="agreement_document.mark",
        lower_action="agreement_document.mark_lower",
        what=f"{document.original_name} of {document.agreement.reference}",
        request=request,
    )
