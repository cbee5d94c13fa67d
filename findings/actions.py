"""What a person may do on a finding now, for the buttons of its page.

Read from the same state machine (``findings.states``) and the same policy
actions the services check, so a page offers exactly what would succeed.
The services decide; this only answers "show the button?".
"""

from __future__ import annotations

from typing import Any

from accounts.permissions import can
from core.states import Move
from findings.models import Finding, Recommendation
from findings.states import (
    EDITABLE_STATUSES,
    ESCALATE_ACTION,
    FINDING_LIFECYCLE,
    FINDING_MOVES,
    RECOMMENDATION_MOVES,
    FindingStatus,
    may_escalate,
)


def _may(user: Any, move: Move, finding: Finding) -> bool:
    return move.starts_from(finding.status) and can(user, move.action, finding)


def finding_actions_for(*, user: Any, finding: Finding) -> dict[str, bool]:
    """Which buttons to show on ``finding``: the policy allows it and the status permits it."""
    return {
        "can_edit": finding.status in EDITABLE_STATUSES and can(user, "finding.edit", finding),
        "can_submit": _may(user, FINDING_MOVES["submit_for_review"], finding),
        "can_release": _may(user, FINDING_MOVES["release"], finding),
        "can_respond": _may(user, FINDING_MOVES["respond"], finding),
        "can_resolve": _may(user, FINDING_MOVES["resolve"], finding),
        "can_reopen": _may(user, FINDING_MOVES["reopen"], finding),
        "can_withdraw": _may(user, FINDING_MOVES["withdraw"], finding),
        "can_escalate": may_escalate(finding.status, finding.disposition, finding.is_escalated)
        and can(user, ESCALATE_ACTION, finding),
        "can_comment": not finding.is_withdrawn and can(user, "finding.comment", finding),
        "can_comment_internal": can(user, "finding.comment_internal", finding),
        # Raising or lowering the handling marking (the service decides which the chosen marking is).
        "can_mark": can(user, "finding.mark", finding) or can(user, "finding.mark_lower", finding),
    }


def recommendation_steps_allowed(*, user: Any, recommendation: Recommendation) -> dict[str, bool]:
    """Step name → whether the policy lets ``user`` take it on ``recommendation``, whatever its status.

    The rules read only the recommendation's finding, so a finding's panel asks once for all its rows.
    """
    answers: dict[str, bool] = {}
    for name, move in RECOMMENDATION_MOVES.items():
        if move.action is not None:
            answers[name] = can(user, move.action, recommendation)
    return answers


def recommendation_actions_for(*, user: Any, recommendation: Recommendation) -> dict[str, bool]:
    """Which steps of ``recommendation`` to offer: the policy allows it and its status permits it."""
    allowed = recommendation_steps_allowed(user=user, recommendation=recommendation)
    return {
        f"can_{name}": ok and RECOMMENDATION_MOVES[name].starts_from(recommendation.status)
        for name, ok in allowed.items()
    }


def finding_lifecycle(finding: Finding) -> dict:
    """The step indicator of ``finding``'s page (``findings.states.FINDING_LIFECYCLE``): a withdrawn
    finding shows how far it had come, read from the dates it keeps."""
    reached = None
    if finding.responded_at:
        reached = FindingStatus.COMPANY_RESPONDED
    elif finding.released_at:
        reached = FindingStatus.RELEASED
    return FINDING_LIFECYCLE.steps(finding.status, reached=reached)
