"""A finding's life after recording: review, release, the company's answer, resolution, withdrawal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from core import bounds
from core.errors import RuleViolation
from findings.handoffs import finding_handed_off
from findings.models import EvidenceSide, Finding, FindingComment
from findings.services.base import MITIGATION_TARGET, _attach_files, _future_due, _locked_for, _transition
from findings.services.recommendations import recommendations_close_for, recommendations_issue
from findings.states import COMPANY_DISPOSITIONS, DISPOSITIONS_NEEDING_PLAN, FINDING_MOVES, FindingDisposition

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
    which becomes a deadline for the company's liaisons, and issues the finding's
    recommendations (each then due to be acknowledged).
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
        recommendations_issue(actor=actor, finding=finding, request=request)
        finding_handed_off(finding, event="released", actor=actor)
        return finding


# --- The company's answer and the centre's follow-up ---------------------------------------


# What the response text is, for each disposition: the form's label and the message when it is missing.
RESPONSE_TEXT_FOR = {
    FindingDisposition.WILL_MITIGATE: "Say what the company accepts and will change.",
    FindingDisposition.RISK_ACCEPTED: "Give the justification for accepting the risk without action.",
    FindingDisposition.DISPUTED: "Give the reasons the company disputes the finding.",
    FindingDisposition.NEEDS_CLARIFICATION: "Say what the company needs clarified.",
}


def _check_answer(disposition: str, response: str, planned_mitigation: str, mitigation_target: date | None) -> None:
    """The answer fits its disposition: every disposition needs its text; "will mitigate" a plan and a date."""
    if disposition not in COMPANY_DISPOSITIONS:
        choices = ", ".join(f"“{FindingDisposition(d).label}”" for d in COMPANY_DISPOSITIONS)
        raise RuleViolation("Choose the company's disposition.", errors={"disposition": [f"Choose one of {choices}."]})
    errors: dict[str, list[str]] = {}
    if not response:
        errors["company_response"] = [RESPONSE_TEXT_FOR[disposition]]
    if disposition in DISPOSITIONS_NEEDING_PLAN:
        if not planned_mitigation:
            errors["planned_mitigation"] = ["Describe the planned mitigation."]
        if mitigation_target is None:
            errors["mitigation_target"] = ["Give the date the mitigation will be in place."]
        else:
            errors |= bounds.date_errors(mitigation_target=(mitigation_target, MITIGATION_TARGET))
    errors |= bounds.length_errors(
        company_response=(response, bounds.BODY), planned_mitigation=(planned_mitigation, bounds.BODY)
    )
    if errors:
        raise RuleViolation("The response has errors; see the fields.", errors=errors)


def finding_respond(
    *,
    actor: Any,
    finding: Finding,
    disposition: str,
    response: str,
    planned_mitigation: str = "",
    mitigation_target: date | None = None,
    files: Sequence[Any] = (),
    attested: bool = False,
    request=None,
) -> Finding:
    """released → company_responded: the company's liaison answers with a disposition, with files if any.

    ``disposition`` is one of ``COMPANY_DISPOSITIONS``: "accepted, will mitigate" needs the
    ``planned_mitigation`` and its ``mitigation_target`` date; "risk accepted" the justification,
    "disputed" the reasons (files may back them), "needs clarification" the question, each as
    ``response``. Files need ``attested`` (the liaison confirmed they hold no classified
    information). An answer after the due date is accepted (the finding was "not answered" until then).
    """
    response = (response or "").strip()
    planned_mitigation = (planned_mitigation or "").strip()
    _check_answer(disposition, response, planned_mitigation, mitigation_target)
    if disposition not in DISPOSITIONS_NEEDING_PLAN:
        planned_mitigation, mitigation_target = "", None
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
        late = " (after the due date)" if finding.is_not_answered else ""
        finding = _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary=f"The company responded{late}: {FindingDisposition(disposition).label}",
            extra={
                "company_response": response,
                "planned_mitigation": planned_mitigation,
                "mitigation_target": mitigation_target,
                "disposition": disposition,
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
            # A new round: the earlier answer stays on the record (and in the audit trail), but the
            # finding awaits a new disposition, and a new escalation if this round goes wrong too.
            extra={
                "response_due_at": due,
                "resolved_by": None,
                "resolved_at": None,
                "disposition": "",
                "not_answered_at": None,
                "escalated_at": None,
                "escalated_by": None,
                "escalation_note": "",
            },
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
        finding = _transition(
            finding,
            to=move.target,
            actor=actor,
            request=request,
            summary="Withdrawn",
            extra={"withdrawn_reason": reason.strip()},
        )
        recommendations_close_for(finding=finding)
        return finding
