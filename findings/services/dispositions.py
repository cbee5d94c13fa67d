"""The centre's follow-up of a company's disposition: a missed due date, and escalation.

A released finding whose response due date passes without an answer is marked "not answered
by the due date" by the clock (``findings_mark_not_answered``, run by the Celery task
``findings.mark_not_answered``); the company may still answer late. The centre then resolves it,
asks again with a new due date (``finding_resolve`` / ``finding_reopen``) or escalates it to the
programme (``finding_escalate``). Each step is audited on the finding, so its timeline shows it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from audit.services import audit_record, diff_fields
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from findings.handoffs import finding_handed_off
from findings.models import Finding
from findings.services.base import _locked
from findings.states import (
    ESCALATABLE_DISPOSITIONS,
    ESCALATE_ACTION,
    FINDING_MOVES,
    FindingDisposition,
    FindingStatus,
    may_escalate,
)

# Findings marked per transaction by the clock: each batch holds its row locks briefly.
MARK_BATCH = 200


def _unanswered_past_due(now: datetime):
    move = FINDING_MOVES["mark_not_answered"]
    return Finding.objects.filter(status__in=move.sources, response_due_at__lt=now).exclude(
        disposition=FindingDisposition.NOT_ANSWERED
    )


def finding_mark_not_answered(*, finding: Finding, now: datetime | None = None) -> bool:
    """Mark one released finding "not answered by the due date" if its due date has passed.

    Made by the clock, not a person (audited as the system). Idempotent: a finding already
    marked, answered meanwhile, or whose date was moved is left alone and False is returned.
    The case team is told once.
    """
    now = now or timezone.now()
    move = FINDING_MOVES["mark_not_answered"]
    with transaction.atomic():
        finding = _locked(finding)
        if (
            not move.starts_from(finding.status)
            or finding.response_due_at is None
            or finding.response_due_at >= now
            or finding.is_not_answered
        ):
            return False
        before = {"disposition": finding.disposition}
        finding.disposition = FindingDisposition.NOT_ANSWERED
        finding.not_answered_at = now
        finding.save(update_fields=["disposition", "not_answered_at", "updated_at"])
        audit_record(
            actor=None,
            action="transition",
            obj=finding,
            case_ref=finding.assessment.reference,
            summary=f"Not answered by the due date ({timezone.localtime(finding.response_due_at):%Y-%m-%d})",
            changes=diff_fields(before, {"disposition": finding.disposition}),
        )
        finding_handed_off(finding, event="not_answered", actor=None)
        return True


def findings_mark_not_answered(*, now: datetime | None = None, batch_size: int = MARK_BATCH) -> int:
    """Mark every released finding past its due date without an answer (the task's work).

    Reads only those still to mark, by the (status, response_due_at) index; running it twice
    marks nothing twice. Returns how many were marked.
    """
    now = now or timezone.now()
    marked = 0
    last_pk = 0
    while True:
        batch = list(_unanswered_past_due(now).filter(pk__gt=last_pk).order_by("pk").only("pk")[:batch_size])
        if not batch:
            return marked
        for finding in batch:
            marked += finding_mark_not_answered(finding=finding, now=now)
        last_pk = batch[-1].pk


def finding_escalate(*, actor: Any, finding: Finding, note: str, request=None) -> Finding:
    """Escalate a finding the company left unanswered, disputes or asks to clarify, to the programme.

    A lead on the case (or a programme admin) says why; the programme admins and the case lead are
    told. Centre only: the company's view and report do not show it. Once per round of asking
    (``finding_reopen`` starts a new round). The status does not change.
    """
    note = (note or "").strip()
    if not note:
        raise RuleViolation("Say why the finding is escalated.", errors={"note": ["Say why you escalate it."]})
    bounds.check_lengths(note=(note, bounds.NOTE))
    with transaction.atomic():
        finding = _locked(finding)
        require(actor, ESCALATE_ACTION, finding, "Only a lead on the assessment or an admin can escalate a finding.")
        if not may_escalate(finding.status, finding.disposition, finding.is_escalated):
            wanted = " or ".join(f"“{FindingDisposition(d).label.lower()}”" for d in ESCALATABLE_DISPOSITIONS)
            already = " It was already escalated in this round." if finding.is_escalated else ""
            label = FindingStatus(finding.status).label.lower()
            raise TransitionNotAllowed(
                f"{finding.reference} is “{label}”; a finding can be escalated while it is with the company or "
                f"its answer is under review, and only when its disposition is {wanted}.{already}"
            )
        finding.escalated_at = timezone.now()
        finding.escalated_by = actor
        finding.escalation_note = note
        finding.save(update_fields=["escalated_at", "escalated_by", "escalation_note", "updated_at"])
        audit_record(
            actor=actor,
            action="change",
            obj=finding,
            request=request,
            case_ref=finding.assessment.reference,
            summary=f"Escalated to the programme ({finding.get_disposition_display().lower()})",
            changes={"escalated_at": {"from": None, "to": finding.escalated_at.isoformat()}},
        )
        finding_handed_off(finding, event="escalated", actor=actor)
        return finding
