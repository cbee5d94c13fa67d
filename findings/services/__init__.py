"""Writes of the findings app: one function per change, each checking the actor and the state.

Every function checks the actor through the policy (``require``), checks the
current status against its move in ``findings.states.FINDING_MOVES``
(``TransitionNotAllowed`` naming the states), writes, records
an audit event with the assessment's reference as ``case_ref``, and keeps the
response deadline in step (``deadline_sync``), all in one transaction. Forms,
API views and the admin call these and nothing else.

By part: ``base`` (shared limits and helpers), ``recording`` (create, edit, evidence),
``lifecycle`` (review, release, answer, resolution), ``dispositions`` (a missed due date,
escalation), ``recommendations``, ``comments``, ``exports``, ``markings``, ``evaluation``
(imported Inspect logs and citing them), ``rubrics`` (per-domain severity rubrics).
"""

from findings.services.base import EDITABLE_FIELDS, MAX_FILES_PER_UPLOAD, TEXT_LIMITS, default_response_due
from findings.services.comments import finding_comment_add
from findings.services.dispositions import finding_escalate, finding_mark_not_answered, findings_mark_not_answered
from findings.services.evaluation import evaluation_run_import, evaluation_run_upload
from findings.services.exports import assessment_report_export
from findings.services.lifecycle import (
    finding_release,
    finding_reopen,
    finding_resolve,
    finding_respond,
    finding_submit_for_review,
    finding_withdraw,
)
from findings.services.markings import (
    comment_set_marking,
    evaluation_run_set_marking,
    evidence_set_marking,
    finding_set_marking,
)
from findings.services.recommendations import (
    recommendation_accept,
    recommendation_acknowledge,
    recommendation_add,
    recommendation_decline,
    recommendation_implement,
    recommendation_not_verify,
    recommendation_verify,
    recommendations_issue,
)
from findings.services.recording import (
    finding_create,
    finding_details_render_stale,
    finding_evidence_add,
    finding_update,
)
from findings.services.rubrics import severity_rubric_revise
from findings.states import EDITABLE_STATUSES

__all__ = [
    "EDITABLE_FIELDS",
    "EDITABLE_STATUSES",
    "MAX_FILES_PER_UPLOAD",
    "TEXT_LIMITS",
    "assessment_report_export",
    "comment_set_marking",
    "default_response_due",
    "evaluation_run_import",
    "evaluation_run_set_marking",
    "evaluation_run_upload",
    "finding_comment_add",
    "finding_create",
    "finding_details_render_stale",
    "evidence_set_marking",
    "finding_escalate",
    "finding_evidence_add",
    "finding_mark_not_answered",
    "finding_release",
    "finding_reopen",
    "finding_resolve",
    "finding_respond",
    "finding_set_marking",
    "finding_submit_for_review",
    "finding_update",
    "finding_withdraw",
    "findings_mark_not_answered",
    "recommendation_accept",
    "recommendation_acknowledge",
    "recommendation_add",
    "recommendation_decline",
    "recommendation_implement",
    "recommendation_not_verify",
    "recommendation_verify",
    "recommendations_issue",
    "severity_rubric_revise",
]
