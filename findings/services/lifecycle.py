"""A finding's life after recording: review, release, the company's answer, resolution, withdrawal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import bounds
from core.errors import RuleViolation
from findings.handoffs import finding_handed_off
from findings.models import EvidenceSide, Finding, FindingComment
from findings.services.base import _attach_files, _future_due, _locked_for, _transition
from findings.states import FINDING_MOVES

# --- Review and release ---------------------------------------------------------------


def finding_submit_for_review(*, actor: Any, finding: Finding, request=None) -> Finding:
    """draft → in_review: the author (or a colleague) asks a lead to review it."""
    move = FINDING_MOVES["submit_for_review"]
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the assessment's team can submit this finding.",
            allowed=move.sources,
            verb="submitted for review",
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Submitted for review",
            extra={"submitted_at": timezone.now()},
        )


def finding_release(*, actor: Any, finding: Finding, response_due_at: datetime | None = None, request=None) -> Finding:
    """in_review → released: a lead other than the author releases it to the company (two-person rule).

    Sets the response due date (default ``FINDING_RESPONSE_DAYS`` from now),
    which becomes a deadline for the company's liaisons.
    """
    move = FINDING_MOVES["release"]
    due = _future_due(response_due_at)
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "A finding is released by a lead evaluator on the assessment who is not its author.",
            allowed=move.sources,
            verb="released",
        )
        finding = _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary=f"Released to the company; response due {due:%Y-%m-%d}",
            extra={"released_by": actor, "released_at": timezone.now(), "response_due_at": due},
        )
        finding_handed_off(finding, event="released", actor=actor)
        return finding


# --- The company's answer and the centre's follow-up ---------------------------------------


def finding_respond(
    *,
    actor: Any,
    finding: Finding,
    response: str,
    planned_mitigation: str = "",
    files: Sequence[Any] = (),
    attested: bool = False,
    request=None,
) -> Finding:
    """released → company_responded: the company's liaison answers, with files if any
    (``attested``: the liaison confirmed they hold no classified information)."""
    if not (response or "").strip():
        raise RuleViolation("Write the company's response.", errors={"company_response": ["Write a response."]})
    bounds.check_lengths(
        company_response=(response.strip(), bounds.BODY),
        planned_mitigation=((planned_mitigation or "").strip(), bounds.BODY),
    )
    move = FINDING_MOVES["respond"]
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the company's liaison can answer this finding.",
            allowed=move.sources,
            verb="answered",
        )
        _attach_files(
            finding=finding,
            files=files,
            side=EvidenceSide.COMPANY,
            actor=actor,
            field="files",
            attested=attested,
            request=request,
        )
        finding = _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="The company responded",
            extra={
                "company_response": response.strip(),
                "planned_mitigation": (planned_mitigation or "").strip(),
                "responded_by": actor,
                "responded_at": timezone.now(),
            },
        )
        finding_handed_off(finding, event="responded", actor=actor)
        return finding


def finding_resolve(*, actor: Any, finding: Finding, note: str = "", request=None) -> Finding:
    """released / company_responded → resolved: the centre accepts the answer (or closes it)."""
    move = FINDING_MOVES["resolve"]
    bounds.check_lengths(note=((note or "").strip(), bounds.NOTE))
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the assessment's team can resolve this finding.",
            allowed=move.sources,
            verb="resolved",
        )
        finding = _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Resolved",
            extra={"resolved_by": actor, "resolved_at": timezone.now(), "resolution_note": (note or "").strip()},
        )
        finding_handed_off(finding, event="resolved", actor=actor)
        return finding


def finding_reopen(
    *, actor: Any, finding: Finding, note: str, response_due_at: datetime | None = None, request=None
) -> Finding:
    """company_responded / resolved → released: the centre asks the company again, with a new due date.

    ``note`` (what the centre asks) is added to the thread as a comment the company sees.
    """
    if not (note or "").strip():
        raise RuleViolation("Say what the company should answer.", errors={"note": ["Say what you ask the company."]})
    bounds.check_lengths(note=(note.strip(), bounds.NOTE))
    move = FINDING_MOVES["reopen"]
    due = _future_due(response_due_at)
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the assessment's team can reopen this finding.",
            allowed=move.sources,
            verb="reopened",
        )
        FindingComment.objects.create(finding=finding, author=actor, body=note.strip(), internal=False)
        finding = _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary=f"Asked the company again; response due {due:%Y-%m-%d}",
            extra={"response_due_at": due, "resolved_by": None, "resolved_at": None},
        )
        finding_handed_off(finding, event="reopened", actor=actor)
        return finding


def finding_withdraw(*, actor: Any, finding: Finding, reason: str, request=None) -> Finding:
    """Any open status → withdrawn, with the reason (the author, a lead on the case or an admin)."""
    if not (reason or "").strip():
        raise RuleViolation("Give the reason for withdrawing.", errors={"reason": ["Give a reason."]})
    move = FINDING_MOVES["withdraw"]
    bounds.check_lengths(reason=(reason.strip(), bounds.NOTE))
    with transaction.atomic():
        finding = _locked_for(
            actor,
            finding,
            move.action,
            "Only the author, a lead on the assessment or an admin can withdraw it.",
            allowed=move.sources,
            verb="withdrawn",
        )
        return _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Withdrawn",
            extra={"withdrawn_reason": reason.strip()},
        )
