"""The policy's rules and scopers for findings, their evidence and comments, and assessment reports.

The centre team of an assessment (its lead and evaluators) sees all its findings; programme admins
see every finding; a company liaison sees only findings of their own organisation that were
released to it, never drafts, reviews or withdrawn ones, and never internal comments. Releasing
needs a lead on the case who is not the author (two-person rule). Rules check the actor; services
check the state. Registered with the engine (``accounts.permissions``) when the app loads
(``FindingsConfig.ready``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.permissions import Actor, rule, rule_filter, scoper
from assessments.rules import case_assessments, case_company_q, case_q, of_own_company, on_case
from findings.models import ReportKind
from findings.states import (
    ESCALATE_ACTION,
    ISSUED_RECOMMENDATION_STATUSES,
    RECOMMENDATION_ANSWER,
    RECOMMENDATION_VERIFY,
    RELEASED_STATUSES,
)


def _finding_of_own_company(actor: Actor, finding: Any) -> bool:
    return (
        actor.is_liaison
        and finding is not None
        and finding.status in RELEASED_STATUSES
        and of_own_company(actor, finding.assessment)
    )


def _on_finding_case(actor: Actor, finding: Any) -> bool:
    return (actor.is_lead or actor.is_evaluator) and finding is not None and on_case(actor, finding.assessment)


def _finding_rows(qs: QuerySet, actor: Actor, prefix: str = "", **liaison_filters: Any) -> QuerySet:
    """Rows tied to a finding (reached through ``prefix``): the case team sees its cases' rows,
    a liaison only rows of their company's released findings (plus ``liaison_filters``)."""
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        # A subquery rather than a join, so finding lists need no DISTINCT and counts stay right.
        return qs.filter(**{f"{prefix}assessment_id__in": case_assessments(actor).values("pk")})
    if actor.is_liaison:
        return qs.filter(
            case_company_q(actor, f"{prefix}assessment__"),
            **{f"{prefix}status__in": RELEASED_STATUSES},
            **liaison_filters,
        )
    return qs.none()


@scoper("findings.finding")
def _findings(qs: QuerySet, actor: Actor) -> QuerySet:
    return _finding_rows(qs, actor)


@scoper("findings.findingevidence")
def _finding_evidence(qs: QuerySet, actor: Actor) -> QuerySet:
    return _finding_rows(qs, actor, "finding__")


@scoper("findings.findingcomment")
def _finding_comments(qs: QuerySet, actor: Actor) -> QuerySet:
    # Internal comments never leave the centre.
    return _finding_rows(qs, actor, "finding__", internal=False)


@scoper("findings.recommendation")
def _recommendations(qs: QuerySet, actor: Actor) -> QuerySet:
    # The company sees a recommendation once issued with its released finding, never a proposal.
    return _finding_rows(qs, actor, "finding__", status__in=ISSUED_RECOMMENDATION_STATUSES)


@rule(RECOMMENDATION_ANSWER)
def _recommendation_answer(actor: Actor, recommendation: Any) -> bool:
    # The company's liaison acknowledges, decides and implements.
    return recommendation is not None and _finding_of_own_company(actor, recommendation.finding)


@rule_filter(RECOMMENDATION_ANSWER, model="findings.recommendation")
def _recommendation_answer_where(actor: Actor) -> Q | None:
    if not actor.is_liaison:
        return None
    return case_company_q(actor, "finding__assessment__") & Q(finding__status__in=RELEASED_STATUSES)


@rule(RECOMMENDATION_VERIFY)
def _recommendation_verify(actor: Actor, recommendation: Any) -> bool:
    # The case team checks what the company implemented; a programme admin may record it too.
    if recommendation is None:
        return False
    return actor.is_admin or _on_finding_case(actor, recommendation.finding)


@rule_filter(RECOMMENDATION_VERIFY, model="findings.recommendation")
def _recommendation_verify_where(actor: Actor) -> Q | None:
    if actor.is_admin:
        return Q()
    return case_q(actor, "finding__assessment__") if actor.is_lead or actor.is_evaluator else None


@rule("finding.create")
def _finding_create(actor: Actor, assessment: Any) -> bool:
    # Without an assessment (the API's list-level check) any evaluator may try; the service checks the case.
    if not (actor.is_lead or actor.is_evaluator):
        return False
    return assessment is None or on_case(actor, assessment)


@rule_filter("finding.create", model="assessments.assessment")
def _finding_create_where(actor: Actor) -> Q | None:
    # The cases on which a person may record findings (the rule above, for a list of cases).
    return case_q(actor) if actor.is_lead or actor.is_evaluator else None


_TEAM_WORK = (
    "finding.edit",
    "finding.submit_for_review",
    "finding.resolve",
    "finding.reopen",
    "finding.comment_internal",
)


@rule(*_TEAM_WORK)
def _finding_team_work(actor: Actor, finding: Any) -> bool:
    return _on_finding_case(actor, finding)


@rule_filter(*_TEAM_WORK, model="findings.finding")
def _finding_team_work_where(actor: Actor) -> Q | None:
    return case_q(actor, "assessment__") if actor.is_lead or actor.is_evaluator else None


@rule("finding.release")
def _finding_release(actor: Actor, finding: Any) -> bool:
    # Two-person rule: a lead on the case who did not write the finding.
    return (
        actor.is_lead
        and finding is not None
        and finding.author_id != actor.user_id
        and on_case(actor, finding.assessment)
    )


@rule_filter("finding.release", model="findings.finding")
def _finding_release_where(actor: Actor) -> Q | None:
    return case_q(actor, "assessment__") & ~Q(author_id=actor.user_id) if actor.is_lead else None


@rule(ESCALATE_ACTION)
def _finding_escalate(actor: Actor, finding: Any) -> bool:
    # A lead on the case raises it with the programme; a programme admin may too.
    if actor.is_admin:
        return finding is not None
    return actor.is_lead and finding is not None and on_case(actor, finding.assessment)


@rule_filter(ESCALATE_ACTION, model="findings.finding")
def _finding_escalate_where(actor: Actor) -> Q | None:
    if actor.is_admin:
        return Q()
    return case_q(actor, "assessment__") if actor.is_lead else None


@rule("finding.withdraw")
def _finding_withdraw(actor: Actor, finding: Any) -> bool:
    if actor.is_admin:
        return True
    if finding is None or not (actor.is_lead or actor.is_evaluator):
        return False
    # The author may withdraw their own finding; a lead on the case may withdraw any.
    return on_case(actor, finding.assessment) and (actor.is_lead or finding.author_id == actor.user_id)


@rule("finding.respond")
def _finding_respond(actor: Actor, finding: Any) -> bool:
    return _finding_of_own_company(actor, finding)


@rule_filter("finding.respond", model="findings.finding")
def _finding_respond_where(actor: Actor) -> Q | None:
    if not actor.is_liaison:
        return None
    return case_company_q(actor, "assessment__") & Q(status__in=RELEASED_STATUSES)


@rule("finding.comment")
def _finding_comment(actor: Actor, finding: Any) -> bool:
    return _on_finding_case(actor, finding) or _finding_of_own_company(actor, finding)


@rule("finding.evidence_download")
def _finding_evidence_download(actor: Actor, evidence: Any) -> bool:
    if evidence is None:
        return False
    if actor.is_admin:
        return True
    return _on_finding_case(actor, evidence.finding) or _finding_of_own_company(actor, evidence.finding)


# --- Handling markings (core.markings): raising is for whoever works on the item, lowering for a lead --


def _lead_on_case(actor: Actor, finding: Any) -> bool:
    return actor.is_lead and finding is not None and on_case(actor, finding.assessment)


@rule("finding.markings")
def _finding_markings(actor: Actor, finding: Any) -> bool:
    # Who may reach the marking endpoints of a finding and its files and comments at all; the services
    # then ask the precise rule of the item (raise or lower) below.
    return actor.is_admin or _on_finding_case(actor, finding) or _finding_of_own_company(actor, finding)


@rule("finding.mark")
def _finding_mark(actor: Actor, finding: Any) -> bool:
    return actor.is_admin or _on_finding_case(actor, finding)


@rule("evidence.mark")
def _evidence_mark(actor: Actor, evidence: Any) -> bool:
    if evidence is None:
        return False
    # The company may raise the marking of the files it attached to its own answer.
    own_file = evidence.side == "company" and _finding_of_own_company(actor, evidence.finding)
    return actor.is_admin or _on_finding_case(actor, evidence.finding) or own_file


@rule("comment.mark")
def _comment_mark(actor: Actor, comment: Any) -> bool:
    if comment is None:
        return False
    own_comment = comment.author_id == actor.user_id and _finding_of_own_company(actor, comment.finding)
    return actor.is_admin or _on_finding_case(actor, comment.finding) or own_comment


@rule("finding.mark_lower")
def _finding_mark_lower(actor: Actor, finding: Any) -> bool:
    return actor.is_admin or _lead_on_case(actor, finding)


@rule("evidence.mark_lower", "comment.mark_lower")
def _item_mark_lower(actor: Actor, item: Any) -> bool:
    return item is not None and (actor.is_admin or _lead_on_case(actor, item.finding))


# --- Assessment reports -------------------------------------------------------------


@rule("assessment.report")
def _assessment_report(actor: Actor, assessment: Any) -> bool:
    if actor.is_admin:
        return True
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, assessment)


@scoper("findings.reportjob")
def _report_jobs(qs: QuerySet, actor: Actor) -> QuerySet:
    # The same people as the report itself: the case team and admins see both kinds, the company
    # only the released-findings report of its own cases (the full one does not exist for it: 404).
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(assessment_id__in=case_assessments(actor).values("pk"))
    if actor.is_liaison:
        return qs.filter(case_company_q(actor, "assessment__"), kind=ReportKind.RELEASED)
    return qs.none()


@rule("assessment.report_company")
def _assessment_report_company(actor: Actor, assessment: Any) -> bool:
    # The "released findings only" report: the centre team, and the company the assessment concerns.
    if actor.is_admin:
        return True
    if actor.is_liaison:
        return of_own_company(actor, assessment)
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, assessment)


# --- Evaluation runs (imported Inspect logs) and severity rubrics ----------------------------


@scoper("findings.evaluationrun")
def _evaluation_runs(qs: QuerySet, actor: Actor) -> QuerySet:
    # The centre's working record: the case team and admins. A company sees a cited run's summary
    # on its released finding only, never the run's own pages, log or samples (404).
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(assessment_id__in=case_assessments(actor).values("pk"))
    return qs.none()


@rule("evaluation_run.import")
def _evaluation_run_import(actor: Actor, assessment: Any) -> bool:
    # Without an assessment (the API's list-level check) any evaluator may try; the service checks the case.
    if not (actor.is_lead or actor.is_evaluator):
        return False
    return assessment is None or on_case(actor, assessment)


@rule("evaluation_run.read")
def _evaluation_run_read(actor: Actor, run: Any) -> bool:
    # The log itself and its samples' inputs and outputs: the case team and admins.
    if run is None:
        return False
    if actor.is_admin:
        return True
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, run.assessment)


@rule("evaluation_run.mark")
def _evaluation_run_mark(actor: Actor, run: Any) -> bool:
    # Raising a run's handling marking: whoever reads it (the case team and admins), as for evidence.
    return _evaluation_run_read(actor, run)


@rule("evaluation_run.mark_lower")
def _evaluation_run_mark_lower(actor: Actor, run: Any) -> bool:
    # Lowering: a lead evaluator on the case or an admin (the service asks for a reason).
    return run is not None and (actor.is_admin or (actor.is_lead and on_case(actor, run.assessment)))


@scoper("findings.severityrubric")
def _severity_rubrics(qs: QuerySet, actor: Actor) -> QuerySet:
    # The centre's rating guidance: every centre member reads it; companies do not.
    return qs if actor.is_admin or actor.is_lead or actor.is_evaluator else qs.none()


@rule("severity_rubric.revise")
def _severity_rubric_revise(actor: Actor, rubric: Any) -> bool:
    return actor.is_admin
