"""The findings a person can act on now, for their action queue (``core.action_queue``).

Each kind of work is a move of ``findings.states`` (its statuses: the move's ``sources``) that
the policy lets the person make (``actionable`` with the move's action: the same rule as the
finding page's button, ``findings.actions``). Nothing here decides a rule of its own.

* a company liaison: released findings to answer, soonest due first, and recommendations in a
  stage that is the company's (acknowledge, accept or decline, implement);
* a lead: findings in review written by someone else, to release (the two-person rule), and
  company answers to review on their cases, and findings not answered by the due date;
* leads and evaluators: implementations of recommendations to verify on their cases;
* an evaluator: their own drafts to submit for review, company answers to review and findings not
  answered by the due date on their cases,
  and the cases whose access window closes within ``WINDOW_ENDING_DAYS`` (findings are recorded
  while the case is in progress).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.urls import reverse
from django.utils import timezone

from accounts.permissions import actionable, actor_for
from assessments.models import Assessment
from assessments.states import ASSESSMENT_MOVES, AssessmentStatus
from core.action_queue import QueueItem, QueueSource, first_items, total
from findings.models import Finding, Recommendation
from findings.states import (
    CENTRE_STAGE_STATUSES,
    COMPANY_STAGE_STATUSES,
    FINDING_MOVES,
    RECOMMENDATION_ANSWER,
    RECOMMENDATION_VERIFY,
    RELEASED_STATUSES,
    FindingDisposition,
)

# An access window "ends soon" from this many days before its end.
WINDOW_ENDING_DAYS = 7

RESPOND = FINDING_MOVES["respond"]
RELEASE = FINDING_MOVES["release"]
RESOLVE = FINDING_MOVES["resolve"]
SUBMIT = FINDING_MOVES["submit_for_review"]
# The company has answered: the state the company's move ends in, from which the centre resolves.
ANSWERED = tuple(status for status in RESOLVE.sources if status == RESPOND.target)
# The clock marks released findings "not answered"; the centre then resolves, asks again or escalates.
NOT_ANSWERED_STATUSES = FINDING_MOVES["mark_not_answered"].sources
# A case is tested while in progress: the step to reporting starts from there.
TESTING = ASSESSMENT_MOVES["start_reporting"].sources

_FINDING_FIELDS = ("reference", "title", "severity", "status", "response_due_at", "assessment_id", "author_id")


def _findings(user: Any, move_sources: tuple[str, ...], action: str):
    rows = Finding.objects.filter(status__in=move_sources).only(*_FINDING_FIELDS)
    return actionable(rows, user, action)


def _finding_item(kind: str, verb: str, url_name: str, due_label: str = ""):
    def item(finding: Finding) -> QueueItem:
        return QueueItem(
            kind=kind,
            verb=verb,
            reference=finding.reference,
            title=finding.title,
            url=reverse(url_name, kwargs={"reference": finding.reference}),
            due_at=finding.response_due_at if due_label else None,
            due_label=due_label,
            note=f"{finding.get_severity_display()} severity",
        )

    return item


def _list_url(**filters: str) -> str:
    return reverse("findings:list") + "?" + "&".join(f"{k}={v}" for k, v in filters.items())


def _to_answer(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.respond",
        label="Findings to answer",
        rows=_findings(user, RESPOND.sources, RESPOND.action),
        item=_finding_item("findings.respond", "Answer the finding", "findings:respond", "Response due"),
        more_url=_list_url(status=RESPOND.sources[0]),
        due="response_due_at",
    )


def _to_release(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.release",
        label="Findings to review and release",
        rows=_findings(user, RELEASE.sources, RELEASE.action),
        item=_finding_item("findings.release", "Review and release to the company", "findings:detail"),
        more_url=_list_url(status=RELEASE.sources[0]),
    )


def _answers_to_review(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.resolve",
        label="Company answers to review",
        rows=_findings(user, ANSWERED, RESOLVE.action),
        item=_finding_item("findings.resolve", "Review the company's answer", "findings:detail"),
        more_url=_list_url(status=ANSWERED[0]),
    )


def _not_answered(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.not_answered",
        label="Findings not answered by the due date",
        rows=_findings(user, NOT_ANSWERED_STATUSES, RESOLVE.action).filter(disposition=FindingDisposition.NOT_ANSWERED),
        item=_finding_item(
            "findings.not_answered", "Resolve, ask again or escalate", "findings:detail", "Response was due"
        ),
        more_url=_list_url(disposition=FindingDisposition.NOT_ANSWERED),
        due="response_due_at",
    )


def _recommendation_item(kind: str, verb: str):
    def item(recommendation: Recommendation) -> QueueItem:
        return QueueItem(
            kind=kind,
            verb=f"{verb}: {recommendation.stage[1].lower()}" if recommendation.stage else verb,
            reference=recommendation.reference,
            title=f"{recommendation.get_kind_display()} ({recommendation.finding.reference})",
            url=reverse("findings:detail", kwargs={"reference": recommendation.finding.reference}) + "#recommendations",
            due_at=recommendation.due_at,
            due_label="Stage due",
            note=recommendation.get_status_display(),
        )

    return item


def _recommendations(user: Any, statuses: tuple[str, ...], action: str):
    rows = Recommendation.objects.filter(status__in=statuses, finding__status__in=RELEASED_STATUSES).select_related(
        "finding"
    )
    return actionable(rows, user, action)


def _recommendations_to_answer(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.recommendation_answer",
        label="Recommendations to act on",
        rows=_recommendations(user, COMPANY_STAGE_STATUSES, RECOMMENDATION_ANSWER),
        item=_recommendation_item("findings.recommendation_answer", "Recommendation"),
        more_url=reverse("findings:list"),
        due="due_at",
    )


def _recommendations_to_verify(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.recommendation_verify",
        label="Implementations to verify",
        rows=_recommendations(user, CENTRE_STAGE_STATUSES, RECOMMENDATION_VERIFY),
        item=_recommendation_item("findings.recommendation_verify", "Recommendation"),
        more_url=reverse("findings:list"),
        due="due_at",
    )


def _own_drafts(user: Any) -> QueueSource:
    return QueueSource(
        kind="findings.submit",
        label="Your drafts to submit for review",
        rows=_findings(user, SUBMIT.sources, SUBMIT.action).filter(author_id=user.pk),
        item=_finding_item("findings.submit", "Finish and submit for review", "findings:detail"),
        more_url=_list_url(status=SUBMIT.sources[0]),
    )


def _window_item(case: Assessment) -> QueueItem:
    return QueueItem(
        kind="findings.window",
        verb="Record findings before the access window closes",
        reference=case.reference,
        title=str(case.submission),
        url=reverse("assessments:detail", kwargs={"reference": case.reference}),
        due_at=case.window_end,
        due_label="Window ends",
    )


def _windows_ending(user: Any, now: datetime) -> QueueSource:
    cases = Assessment.objects.filter(
        status__in=TESTING, window_end__gte=now, window_end__lte=now + timedelta(days=WINDOW_ENDING_DAYS)
    ).select_related("submission")
    return QueueSource(
        kind="findings.window",
        label="Access windows closing this week",
        rows=actionable(cases, user, "finding.create"),
        item=_window_item,
        more_url=reverse("assessments:list") + f"?status={AssessmentStatus.IN_PROGRESS}",
        due="window_end",
    )


def queue_sources_for(*, actor: Any, now: datetime | None = None) -> list[QueueSource]:
    """The kinds of findings work ``actor`` (a user) has, by role: see the module's docstring."""
    who = actor_for(actor)
    if who is None:
        return []
    now = now or timezone.now()
    if who.is_liaison:
        return [_to_answer(actor), _recommendations_to_answer(actor)]
    if who.is_lead:
        return [_to_release(actor), _answers_to_review(actor), _not_answered(actor), _recommendations_to_verify(actor)]
    if who.is_evaluator:
        return [
            _own_drafts(actor),
            _answers_to_review(actor),
            _not_answered(actor),
            _recommendations_to_verify(actor),
            _windows_ending(actor, now),
        ]
    return []


def queue_items_for(*, actor: Any, limit: int, now: datetime | None = None) -> list[QueueItem]:
    """The first ``limit`` findings items of ``actor``, soonest due first: one query per kind."""
    return first_items(queue_sources_for(actor=actor, now=now), limit)


def queue_count_for(*, actor: Any, now: datetime | None = None) -> int:
    """How many findings items ``actor`` has: one query."""
    return total(queue_sources_for(actor=actor, now=now), user=actor)
