"""The finding's state machine: its statuses, the groups of them the code asks about, and its moves.

``draft → in_review → released → company_responded → resolved``, back to
``released`` when the centre asks again, or ``withdrawn`` from any open status.
The services in ``findings.services`` make each move; ``findings.actions``
offers a button for a move only when its service would accept it.
"""

from __future__ import annotations

from django.db import models

from core.states import Move, lifecycle_from


class FindingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    RELEASED = "released", "Released to company"
    COMPANY_RESPONDED = "company_responded", "Company responded"
    RESOLVED = "resolved", "Resolved"
    WITHDRAWN = "withdrawn", "Withdrawn"


# The centre still works on it: its text may change and evidence may be added.
EDITABLE_STATUSES = (FindingStatus.DRAFT, FindingStatus.IN_REVIEW)
# The company may see it (the policy's scoper and the company's report).
RELEASED_STATUSES = (FindingStatus.RELEASED, FindingStatus.COMPANY_RESPONDED, FindingStatus.RESOLVED)
# Not yet settled: it may still be withdrawn.
OPEN_FINDING_STATUSES = (*EDITABLE_STATUSES, FindingStatus.RELEASED, FindingStatus.COMPANY_RESPONDED)

FINDING_MOVES: dict[str, Move] = {
    # The author (or a colleague on the case) asks a lead to review it.
    "submit_for_review": Move(
        "Submit for review", (FindingStatus.DRAFT,), FindingStatus.IN_REVIEW, "finding.submit_for_review"
    ),
    # A lead on the case who is not the author (two-person rule).
    "release": Move("Release to the company", (FindingStatus.IN_REVIEW,), FindingStatus.RELEASED, "finding.release"),
    # The company's liaison answers.
    "respond": Move(
        "Respond to this finding", (FindingStatus.RELEASED,), FindingStatus.COMPANY_RESPONDED, "finding.respond"
    ),
    "resolve": Move(
        "Resolve", (FindingStatus.RELEASED, FindingStatus.COMPANY_RESPONDED), FindingStatus.RESOLVED, "finding.resolve"
    ),
    # The centre asks the company again, saying what it asks.
    "reopen": Move(
        "Ask the company again",
        (FindingStatus.COMPANY_RESPONDED, FindingStatus.RESOLVED),
        FindingStatus.RELEASED,
        "finding.reopen",
        needs_reason=True,
    ),
    "withdraw": Move("Withdraw", OPEN_FINDING_STATUSES, FindingStatus.WITHDRAWN, "finding.withdraw", needs_reason=True),
    # Only the clock: the response due date passed without an answer. The status stays "released"
    # (the company may still answer late); the disposition records that the date was missed.
    "mark_not_answered": Move("Not answered by the due date", (FindingStatus.RELEASED,), FindingStatus.RELEASED, None),
}
# The step indicator of a finding's page: draft → in review → released → responded → resolved.
FINDING_LIFECYCLE = lifecycle_from(
    FINDING_MOVES, ("submit_for_review", "release", "respond", "resolve"), ("withdraw",), FindingStatus
)


# --- The company's disposition ----------------------------------------------------------
# What the company's answer says (chosen when it responds), or that it did not answer in time.
# Kept beside the status: "company responded" says that an answer came, the disposition what it was.


class FindingDisposition(models.TextChoices):
    WILL_MITIGATE = "will_mitigate", "Accepted, will mitigate"
    RISK_ACCEPTED = "risk_accepted", "Accepted, risk accepted"
    DISPUTED = "disputed", "Disputed"
    NEEDS_CLARIFICATION = "needs_clarification", "Needs clarification"
    NOT_ANSWERED = "not_answered", "Not answered by the due date"


# What the company may choose when it answers (not answered is set by the clock only).
COMPANY_DISPOSITIONS = (
    FindingDisposition.WILL_MITIGATE,
    FindingDisposition.RISK_ACCEPTED,
    FindingDisposition.DISPUTED,
    FindingDisposition.NEEDS_CLARIFICATION,
)
COMPANY_DISPOSITION_CHOICES = [(d.value, d.label) for d in COMPANY_DISPOSITIONS]
# What each disposition needs besides the response text: a plan with a target date.
DISPOSITIONS_NEEDING_PLAN = (FindingDisposition.WILL_MITIGATE,)
# The centre escalates a finding the company left unanswered, disputes, or does not understand,
# while the finding is still with the company or its answer is under review, once per round.
ESCALATABLE_DISPOSITIONS = (
    FindingDisposition.NOT_ANSWERED,
    FindingDisposition.DISPUTED,
    FindingDisposition.NEEDS_CLARIFICATION,
)
ESCALATABLE_STATUSES = (FindingStatus.RELEASED, FindingStatus.COMPANY_RESPONDED)
ESCALATE_ACTION = "finding.escalate"
# Escalation as a move for the pages that offer it; its target is empty because the status stays.
ESCALATE = Move("Escalate to the programme", ESCALATABLE_STATUSES, "", ESCALATE_ACTION)


def may_escalate(status: str, disposition: str, escalated: bool) -> bool:
    """The state half of escalation (the policy's ``finding.escalate`` is the other half)."""
    return status in ESCALATABLE_STATUSES and disposition in ESCALATABLE_DISPOSITIONS and not escalated


# --- Recommendations on a finding --------------------------------------------------------
# proposed (the centre drafts it with the finding) → issued with the finding's release →
# acknowledged → accepted or declined (with the reason) → implemented (with the company's evidence)
# → verified or not verified by the centre; not verified goes back to the company to implement again.


class RecommendationKind(models.TextChoices):
    SAFEGUARD = "safeguard", "Add or strengthen a safeguard"
    ACCESS_RESTRICTION = "access_restriction", "Restrict an access modality"
    RELEASE_DELAY = "release_delay", "Delay the release"
    OTHER = "other", "Other"


class RecommendationStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ISSUED = "issued", "Awaiting acknowledgement"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    IMPLEMENTED = "implemented", "Implemented"
    VERIFIED = "verified", "Verified"
    NOT_VERIFIED = "not_verified", "Not verified"


# The company sees a recommendation once its finding is released (it is then issued or later).
ISSUED_RECOMMENDATION_STATUSES = tuple(s for s in RecommendationStatus if s != RecommendationStatus.PROPOSED)
# Nothing is asked of anyone any more.
ENDED_RECOMMENDATION_STATUSES = (RecommendationStatus.DECLINED, RecommendationStatus.VERIFIED)
# The company answers (acknowledge, decide, implement) and the centre verifies, each through one action.
RECOMMENDATION_ANSWER = "recommendation.answer"
RECOMMENDATION_VERIFY = "recommendation.verify"

RECOMMENDATION_MOVES: dict[str, Move] = {
    # Made by the finding's release, never on its own.
    "issue": Move("Issue to the company", (RecommendationStatus.PROPOSED,), RecommendationStatus.ISSUED, None),
    "acknowledge": Move(
        "Acknowledge", (RecommendationStatus.ISSUED,), RecommendationStatus.ACKNOWLEDGED, RECOMMENDATION_ANSWER
    ),
    "accept": Move(
        "Accept", (RecommendationStatus.ACKNOWLEDGED,), RecommendationStatus.ACCEPTED, RECOMMENDATION_ANSWER
    ),
    "decline": Move(
        "Decline",
        (RecommendationStatus.ACKNOWLEDGED,),
        RecommendationStatus.DECLINED,
        RECOMMENDATION_ANSWER,
        needs_reason=True,
    ),
    "implement": Move(
        "Report it implemented",
        (RecommendationStatus.ACCEPTED, RecommendationStatus.NOT_VERIFIED),
        RecommendationStatus.IMPLEMENTED,
        RECOMMENDATION_ANSWER,
    ),
    "verify": Move(
        "Verified", (RecommendationStatus.IMPLEMENTED,), RecommendationStatus.VERIFIED, RECOMMENDATION_VERIFY
    ),
    "not_verify": Move(
        "Not verified",
        (RecommendationStatus.IMPLEMENTED,),
        RecommendationStatus.NOT_VERIFIED,
        RECOMMENDATION_VERIFY,
        needs_reason=True,
    ),
}
# Whose turn each open stage is, and what they do by its due date.
RECOMMENDATION_STAGE = {
    RecommendationStatus.ISSUED: ("company", "Acknowledge"),
    RecommendationStatus.ACKNOWLEDGED: ("company", "Accept or decline"),
    RecommendationStatus.ACCEPTED: ("company", "Implement"),
    RecommendationStatus.NOT_VERIFIED: ("company", "Implement again"),
    RecommendationStatus.IMPLEMENTED: ("centre", "Verify"),
}
COMPANY_STAGE_STATUSES = tuple(s for s, (side, _) in RECOMMENDATION_STAGE.items() if side == "company")
CENTRE_STAGE_STATUSES = tuple(s for s, (side, _) in RECOMMENDATION_STAGE.items() if side == "centre")


# --- A report built in the background ------------------------------------------------------


class ReportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Being built"
    DONE = "done", "Ready"
    FAILED = "failed", "Failed"


# Still to be built: the page refreshes itself and a new request for the same report joins it.
REPORT_JOB_PENDING = (ReportJobStatus.QUEUED, ReportJobStatus.RUNNING)

REPORT_JOB_MOVES: dict[str, Move] = {
    # The worker claims a queued job (a conditional UPDATE), so a redelivered message builds nothing twice.
    "start": Move("Start building", (ReportJobStatus.QUEUED,), ReportJobStatus.RUNNING, None),
    "finish": Move("Finish", (ReportJobStatus.RUNNING,), ReportJobStatus.DONE, None),
    # A build that raised, or a message the broker refused.
    "fail": Move("Fail", REPORT_JOB_PENDING, ReportJobStatus.FAILED, None),
}


# --- An imported evaluation log ----------------------------------------------------------------


class EvaluationImportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting to be read"
    READING = "reading", "Being read"
    IMPORTED = "imported", "Imported"
    FAILED = "failed", "Refused"


# Still to be read: its page refreshes itself.
EVALUATION_IMPORT_PENDING = (EvaluationImportStatus.QUEUED, EvaluationImportStatus.READING)

EVALUATION_IMPORT_MOVES: dict[str, Move] = {
    # The worker claims a queued import (a conditional UPDATE), so a redelivered message reads nothing twice.
    "start": Move("Start reading", (EvaluationImportStatus.QUEUED,), EvaluationImportStatus.READING, None),
    "finish": Move("Finish", (EvaluationImportStatus.READING,), EvaluationImportStatus.IMPORTED, None),
    # Not an Inspect log, truncated, a failed run, another model, or a message the broker refused.
    "fail": Move("Refuse", EVALUATION_IMPORT_PENDING, EvaluationImportStatus.FAILED, None),
}
