"""Handling markings of findings, their files and comments, and imported evaluation runs (``core.markings``).

Each service changes one item's marking through ``accounts.markings.marking_set``: raising is
for whoever may work on the item, lowering for a lead evaluator on the case or an admin, with a
reason, and both are audited under the assessment's reference.
"""

from __future__ import annotations

from typing import Any

from accounts.markings import marking_set
from core.markings import HandlingMarking
from findings.models import EvaluationRun, Finding, FindingComment, FindingEvidence


def finding_set_marking(
    *, actor: Any, finding: Finding, marking: HandlingMarking, reason: str = "", request=None
) -> Finding:
    """Give a finding another handling marking (raise: its case team; lower: a lead or admin, with a reason)."""
    return marking_set(
        actor=actor,
        obj=finding,
        marking=marking,
        reason=reason,
        raise_action="finding.mark",
        lower_action="finding.mark_lower",
        what=finding.reference,
        case_ref=finding.assessment.reference,
        request=request,
    )


def evidence_set_marking(
    *, actor: Any, evidence: FindingEvidence, marking: HandlingMarking, reason: str = "", request=None
) -> FindingEvidence:
    """Give an evidence or response file another handling marking (raise: the case team, or the company for
    its own response files; lower: a lead or admin, with a reason)."""
    return marking_set(
        actor=actor,
        obj=evidence,
        marking=marking,
        reason=reason,
        raise_action="evidence.mark",
        lower_action="evidence.mark_lower",
        what=f"{evidence.original_name} on {evidence.finding.reference}",
        case_ref=evidence.finding.assessment.reference,
        request=request,
    )


def comment_set_marking(
    *, actor: Any, comment: FindingComment, marking: HandlingMarking, reason: str = "", request=None
) -> FindingComment:
    """Give a comment another handling marking (raise: the case team or its author; lower: a lead or admin)."""
    return marking_set(
        actor=actor,
        obj=comment,
        marking=marking,
        reason=reason,
        raise_action="comment.mark",
        lower_action="comment.mark_lower",
        what=f"a comment on {comment.finding.reference}",
        case_ref=comment.finding.assessment.reference,
        request=request,
    )


def evaluation_run_set_marking(
    *, actor: Any, run: EvaluationRun, marking: HandlingMarking, reason: str = "", request=None
) -> EvaluationRun:
    """Give an imported Inspect log another handling marking (raise: the case team; lower: a lead on the
    case or an admin, with a reason). Audited under the assessment's reference."""
    return marking_set(
        actor=actor,
        obj=run,
        marking=marking,
        reason=reason,
        raise_action="evaluation_run.mark",
        lower_action="evaluation_run.mark_lower",
        what=f"the evaluation run {run.original_name}",
        case_ref=run.assessment.reference,
        request=request,
    )
