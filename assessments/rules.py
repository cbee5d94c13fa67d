"""The policy's rules and scopers for model submissions, assessment cases and access tickets.

A case is run by its lead and team (centre staff "on the case"); programme admins see every case;
a company's liaison sees the submissions and cases of their own company, and its tickets once the
centre has approved them. Registered with the engine (``accounts.permissions``) when the app loads
(``AssessmentsConfig.ready``).

The helpers without a leading underscore (``on_case``, ``case_q``, ``case_assessments``,
``case_company_q``, ``of_own_company``) are the relation paths of a case, for the rules of the
apps above this one (findings) to build on.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.permissions import Actor, liaison_of, rule, rule_filter, scoper
from agreements.rules import agreement_reach
from assessments.models import Assessment
from assessments.states import ACKNOWLEDGE_OUTCOME, UNGRANTED_TICKET_STATUSES

# --- The case team and the company of a case ---------------------------------------


def on_case(actor: Actor, assessment: Any) -> bool:
    """True when the actor leads the assessment or is on its team."""
    if assessment is None:
        return False
    if assessment.lead_id == actor.user_id:
        return True
    prefetched = getattr(assessment, "_prefetched_objects_cache", {}).get("team")
    if prefetched is not None:
        return any(member.pk == actor.user_id for member in prefetched)
    # A page asks this once per button it offers: the answer is kept on the case object for the
    # request (a changed team is saved through a service, and the next request reads the case anew).
    answers = assessment.__dict__.setdefault("_on_case_answers", {})
    if actor.user_id not in answers:
        answers[actor.user_id] = assessment.team.filter(pk=actor.user_id).exists()
    return answers[actor.user_id]


def case_q(actor: Actor, prefix: str = "") -> Q:
    """Rows whose assessment (reached through ``prefix``, a single-valued relation) the actor leads or is on.

    Team membership is an EXISTS subquery, not a join over the team table: a join repeats a row once
    per matching team row (a lead on their own team, beside another member), which inflates counts.
    """
    on_team = Assessment.team.through.objects.filter(assessment_id=OuterRef(f"{prefix}pk"), user_id=actor.user_id)
    return Q(**{f"{prefix}lead_id": actor.user_id}) | Q(Exists(on_team))


def case_assessments(actor: Actor) -> QuerySet:
    """The assessments the actor leads or is on; filter by ``pk__in`` of its values to follow a reverse relation."""
    return Assessment.objects.filter(case_q(actor))


def case_company_q(actor: Actor, prefix: str = "") -> Q:
    """Rows whose assessment (reached through ``prefix``) concerns the actor's organisation."""
    return Q(**{f"{prefix}submission__organisation_id": actor.organisation_id})


def of_own_company(actor: Actor, assessment: Any) -> bool:
    """A liaison of the company the assessment concerns."""
    return assessment is not None and liaison_of(actor, assessment.submission.organisation_id)


def _is_case_lead(actor: Actor, assessment: Any) -> bool:
    return assessment is not None and actor.is_lead and assessment.lead_id == actor.user_id


@agreement_reach
def _agreements_of_cases(actor: Actor) -> QuerySet:
    # An evaluator sees the agreements behind the cases they work on.
    return case_assessments(actor).values("submission__agreement_id")


# --- Submissions and cases ---------------------------------------------------------


@scoper("assessments.modelsubmission")
def _submissions(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin or actor.is_lead:
        return qs
    if actor.is_evaluator:
        return qs.filter(pk__in=case_assessments(actor).values("submission_id"))
    if actor.is_liaison:
        return qs.filter(organisation_id=actor.organisation_id)
    return qs.none()


@scoper("assessments.assessment")
def _assessments(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(case_q(actor))
    if actor.is_liaison:
        return qs.filter(case_company_q(actor))
    return qs.none()


@rule("submission.create")
def _submission_create(actor: Actor, obj: Any) -> bool:
    # Only a company submits its own models.
    return actor.is_liaison


@rule("assessment.create")
def _assessment_create(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead


@rule("assessment.view_internal")
def _assessment_view_internal(actor: Actor, obj: Any) -> bool:
    # Internal notes and the team's working view: centre staff on the case, and programme admins.
    if actor.is_admin:
        return True
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, obj)


@rule("assessment.manage", "assessment.transition")
def _assessment_manage(actor: Actor, obj: Any) -> bool:
    # The case's own lead runs it; programme admins may step in.
    if obj is None:
        return actor.is_admin or actor.is_lead
    return actor.is_admin or _is_case_lead(actor, obj)


def _case_lead_where(actor: Actor, prefix: str = "") -> Q | None:
    """``_is_case_lead`` or a programme admin, as a filter on rows reaching a case through ``prefix``."""
    if actor.is_admin:
        return Q()
    return Q(**{f"{prefix}lead_id": actor.user_id}) if actor.is_lead else None


@rule_filter("assessment.manage", "assessment.transition", model="assessments.assessment")
def _assessment_manage_where(actor: Actor) -> Q | None:
    return _case_lead_where(actor)


# --- Access tickets ----------------------------------------------------------------


@rule(ACKNOWLEDGE_OUTCOME)
def _acknowledge_outcome(actor: Actor, obj: Any) -> bool:
    # The company the case assessed acknowledges its outcome.
    return obj is not None and of_own_company(actor, obj)


@rule_filter(ACKNOWLEDGE_OUTCOME, model="assessments.assessment")
def _acknowledge_outcome_where(actor: Actor) -> Q | None:
    return case_company_q(actor) if actor.is_liaison else None


@rule("ticket.request", "ticket.extend")
def _ticket_request(actor: Actor, obj: Any) -> bool:
    # obj: the assessment (request) or the ticket (extend). Only centre staff on the case.
    # Without an object (the API's "may this person create tickets at all?") any evaluator qualifies;
    # the service asks again with the assessment.
    if obj is None:
        return actor.is_lead or actor.is_evaluator
    assessment = getattr(obj, "assessment", obj)
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, assessment)


@rule("ticket.approve")
def _ticket_approve(actor: Actor, obj: Any) -> bool:
    # The case's lead (or a programme admin) decides, but never on their own request.
    if obj is None or obj.requested_by_id == actor.user_id:
        return False
    return actor.is_admin or _is_case_lead(actor, obj.assessment)


@rule_filter("ticket.approve", model="assessments.accessticket")
def _ticket_approve_where(actor: Actor) -> Q | None:
    deciders = _case_lead_where(actor, "assessment__")
    return deciders & ~Q(requested_by_id=actor.user_id) if deciders is not None else None


@rule("ticket.provision", "ticket.consent_extension")
def _ticket_company_side(actor: Actor, obj: Any) -> bool:
    return obj is not None and of_own_company(actor, obj.assessment)


@rule_filter("ticket.provision", "ticket.consent_extension", model="assessments.accessticket")
def _ticket_company_side_where(actor: Actor) -> Q | None:
    return case_company_q(actor, "assessment__") if actor.is_liaison else None


@rule("ticket.reveal")
def _ticket_reveal(actor: Actor, obj: Any) -> bool:
    # Only the evaluators who use the access see the secret; admins and the company do not need it here.
    return obj is not None and (actor.is_lead or actor.is_evaluator) and on_case(actor, obj.assessment)


@rule_filter("ticket.reveal", model="assessments.accessticket")
def _ticket_reveal_where(actor: Actor) -> Q | None:
    return case_q(actor, "assessment__") if actor.is_lead or actor.is_evaluator else None


@rule("ticket.revoke")
def _ticket_revoke(actor: Actor, obj: Any) -> bool:
    # Either side may end access: the company's liaison, the case lead, the requester, or an admin.
    if obj is None:
        return False
    if of_own_company(actor, obj.assessment):
        return True
    if actor.is_admin or _is_case_lead(actor, obj.assessment):
        return True
    return obj.requested_by_id == actor.user_id and on_case(actor, obj.assessment)


@scoper("assessments.accessticket")
def _tickets(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(case_q(actor, "assessment__"))
    if actor.is_liaison:
        # The company sees a ticket once the centre has approved it (requests and rejections are internal).
        return qs.filter(case_company_q(actor, "assessment__")).exclude(status__in=UNGRANTED_TICKET_STATUSES)
    return qs.none()


@scoper("assessments.credentialreveal")
def _credential_reveals(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(case_q(actor, "ticket__assessment__"))
    if actor.is_liaison:
        return qs.filter(case_company_q(actor, "ticket__assessment__"))
    return qs.none()


# The company takes back its own offer (the service refuses once work on it has started).
@rule("submission.withdraw")
def _submission_withdraw(actor: Actor, obj: Any) -> bool:
    return (
        obj is not None
        and actor.is_liaison
        and obj.organisation_id == actor.organisation_id
        and obj.withdrawn_at is None
    )


@rule_filter("submission.withdraw", model="assessments.modelsubmission")
def _submission_withdraw_where(actor: Actor) -> Q | None:
    return Q(organisation_id=actor.organisation_id, withdrawn_at__isnull=True) if actor.is_liaison else None
