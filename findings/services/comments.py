"""Comments on a finding."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.permissions import require
from audit.services import audit_record
from core import bounds
from core.errors import RuleViolation
from findings.models import Finding, FindingComment

# --- Comments ----------------------------------------------------------------------------


def finding_comment_add(*, actor: Any, finding: Finding, body: str, internal: bool, request=None) -> FindingComment:
    """Add a message to the thread. Internal messages are for the centre only."""
    require(actor, "finding.comment", finding, "You cannot comment on this finding.")
    if internal:
        require(actor, "finding.comment_internal", finding, "Only the centre team can write internal comments.")
    if not (body or "").strip():
        raise RuleViolation("Write a comment.", errors={"body": ["Write a comment."]})
    bounds.check_lengths(body=(body.strip(), bounds.NOTE))
    with transaction.atomic():
        # A comment is handled like the finding it is about, unless someone raises it later.
        comment = FindingComment.objects.create(
            finding=finding, author=actor, body=body.strip(), internal=internal, marking_id=finding.marking_id
        )
        audit_record(
            actor=actor,
            action="create",
            obj=comment,
            request=request,
            case_ref=finding.assessment.reference,
            object_repr=f"{'Internal' if internal else 'Shared'} comment on {finding.reference}",
            summary=f"Commented on {finding.reference}{' (internal)' if internal else ''}",
        )
    return comment
