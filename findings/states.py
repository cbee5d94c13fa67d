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
}
# The step indicator of a finding's page: draft → in review → released → responded → resolved.
FINDING_LIFECYCLE = lifecycle_from(
    FINDING_MOVES, ("submit_for_review", "release", "respond", "resolve"), ("withdraw",), FindingStatus
)


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
