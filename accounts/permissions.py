"""THE permission policy of Review Portal. Every page, API endpoint, admin page
and file download asks this module, and nothing else, what a user may see
and do.

Two questions, one answer each:

* ``scope(queryset, user)`` — the rows of ``queryset`` the user may see.
  Lists are filtered by it, and single objects are fetched through it, so
  another organisation's object answers 404 (its title never leaks).
* ``can(user, action, obj=None)`` — may the user perform ``action``
  (``"<noun>.<verb>"``, e.g. ``"agreement.sign"``) on ``obj``? Used for
  buttons, for 403 answers and by every service before it writes.

The policy fails closed: an action with no rule, a model with no scoper, an
anonymous or inactive user, or a user without a membership gets nothing.

Rules are grouped by domain below; each is a small function of an ``Actor``
(the user's role and organisation, computed once per request) and the object.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Organisation, Role


@dataclass(frozen=True)
class Actor:
    """What the policy needs to know about a user, computed once per user object."""

    user_id: int
    role: str | None
    organisation_id: int | None
    is_superuser: bool

    @property
    def is_admin(self) -> bool:
        return self.is_superuser or self.role == Role.PROGRAMME_ADMIN

    @property
    def is_lead(self) -> bool:
        return self.role == Role.LEAD_EVALUATOR

    @property
    def is_evaluator(self) -> bool:
        return self.role == Role.EVALUATOR

    @property
    def is_centre_staff(self) -> bool:
        return self.is_admin or self.role in (Role.LEAD_EVALUATOR, Role.EVALUATOR)

    @property
    def is_liaison(self) -> bool:
        return self.role == Role.LIAISON and not self.is_superuser


def actor_for(user: Any) -> Actor | None:
    """The user's Actor, or None for anonymous, inactive or unaffiliated users."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    cached = getattr(user, "_policy_actor", None)
    if cached is not None:
        return cached
    membership = user.membership_or_none
    if membership is None and not user.is_superuser:
        return None
    actor = Actor(
        user_id=user.pk,
        role=membership.role if membership else None,
        organisation_id=membership.organisation_id if membership else None,
        is_superuser=user.is_superuser,
    )
    user._policy_actor = actor
    return actor


Rule = Callable[[Actor, Any], bool]
Scoper = Callable[[QuerySet, Actor], QuerySet]

_RULES: dict[str, Rule] = {}
_SCOPERS: dict[str, Scoper] = {}


def rule(*actions: str) -> Callable[[Rule], Rule]:
    """Register ``fn`` as the rule for each of ``actions``."""

    def register(fn: Rule) -> Rule:
        for action in actions:
            if action in _RULES:
                raise RuntimeError(f"Two rules for {action!r}.")
            _RULES[action] = fn
        return fn

    return register


def scoper(model_label: str) -> Callable[[Scoper], Scoper]:
    """Register ``fn`` as the visibility filter for the model ``app_label.modelname``."""

    def register(fn: Scoper) -> Scoper:
        _SCOPERS[model_label.lower()] = fn
        return fn

    return register


# --- The two questions ---------------------------------------------------------


def can(user: Any, action: str, obj: Any = None) -> bool:
    """True when ``user`` may perform ``action`` on ``obj``.

    Each rule checks ownership itself (a liaison's rule compares the
    object's organisation with theirs), so ``can`` is safe on any object;
    views still fetch objects through ``get_object_for`` so that unseen
    objects answer 404 before any rule is asked.
    """
    actor = actor_for(user)
    if actor is None:
        return False
    check = _RULES.get(action)
    if check is None:
        return False
    return bool(check(actor, obj))


def scope(queryset: QuerySet, user: Any) -> QuerySet:
    """The part of ``queryset`` that ``user`` may see (empty when unknown)."""
    actor = actor_for(user)
    if actor is None:
        return queryset.none()
    filter_fn = _SCOPERS.get(queryset.model._meta.label_lower)
    if filter_fn is None:
        return queryset.none()
    return filter_fn(queryset, actor)


def visible(user: Any, obj: Model) -> bool:
    """True when ``obj`` is in the user's scope (one indexed query)."""
    return scope(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


# --- Helpers for views and services ------------------------------------------


def require(user: Any, action: str, obj: Any = None, message: str | None = None) -> None:
    """Raise PermissionDenied (403) unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        raise PermissionDenied(message or "You do not have permission to do that.")


class OutOfScope(Http404):
    """The object exists but lies outside the user's scope. Answered exactly like a missing one
    (the same 404), and recorded as a probe by the page middleware or the API mixin below."""

    def __init__(self, kind: str, reference: str) -> None:
        super().__init__("Not found.")
        self.kind = kind
        self.reference = reference

    def record(self, request) -> None:
        from audit.services import audit_probe

        audit_probe(request=request, kind=self.kind, reference=self.reference, summary="Out-of-scope record asked for")


def _out_of_scope(user: Any, queryset: QuerySet, lookup: dict[str, Any]) -> OutOfScope | None:
    """An ``OutOfScope`` when ``queryset`` holds the looked-up object but the user's scope does not
    (two queries, asked only on the way to a 404)."""
    try:
        if not queryset.filter(**lookup).exists() or scope(queryset, user).filter(**lookup).exists():
            return None
    except (ValueError, TypeError, ValidationError):
        return None  # a lookup value that cannot exist (say a malformed UUID)
    return OutOfScope(queryset.model._meta.label_lower, ",".join(str(value) for value in lookup.values()))


def get_object_for(user: Any, queryset: QuerySet, action: str | None = None, **lookup: Any) -> Model:
    """Fetch one object through the user's scope: unseen → 404; seen but ``action`` refused → 403.

    An object that exists outside the scope raises ``OutOfScope``, the same 404 to the caller."""
    try:
        obj = scope(queryset, user).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:
        raise _out_of_scope(user, queryset, lookup) or Http404("Not found.") from exc
    if action is not None:
        require(user, action, obj)
    return obj


class ScopedObjectMixin:
    """For API viewsets whose ``get_queryset`` is scoped by the policy: ``get_object`` answers the
    same 404 for another organisation's object as for a missing one, and the attempt (or an
    ``OutOfScope`` from ``get_object_for`` in a nested route) is recorded as a probe."""

    def get_object(self):
        try:
            return super().get_object()
        except OutOfScope:
            raise
        except Http404:
            field = self.lookup_field
            value = self.kwargs.get(self.lookup_url_kwarg or field)
            if value is None:
                raise
            model = self.get_queryset().model
            out_of_scope = _out_of_scope(self.request.user, model._default_manager.all(), {field: value})
            if out_of_scope is None:
                raise
            raise out_of_scope from None

    def handle_exception(self, exc):
        if isinstance(exc, OutOfScope):
            exc.record(self.request)
        return super().handle_exception(exc)


class PolicyPermission(BasePermission):
    """The one DRF permission class: it asks ``can`` with the view's ``policy_actions``.

    A view names the policy action for each DRF action, for example
    ``policy_actions = {"create": "agreement.create", "sign": "agreement.sign"}``.
    Reads need an authenticated, affiliated user (the queryset is scoped by
    the view); a write with no mapped action is refused (fail closed).
    Object-level checks go through ``can`` with the object.
    """

    def has_permission(self, request, view) -> bool:
        if actor_for(request.user) is None:
            return False
        action = self._action_for(request, view)
        if action is None:
            return request.method in SAFE_METHODS
        if getattr(view, "detail", False) or view.kwargs:
            return True  # decided in has_object_permission, with the object
        return can(request.user, action)

    def has_object_permission(self, request, view, obj) -> bool:
        action = self._action_for(request, view)
        if action is None:
            return request.method in SAFE_METHODS and visible(request.user, obj)
        return can(request.user, action, obj)

    @staticmethod
    def _action_for(request, view) -> str | None:
        actions = getattr(view, "policy_actions", {}) or {}
        drf_action = getattr(view, "action", None) or request.method.lower()
        return actions.get(drf_action)


# --- Menus and the admin -------------------------------------------------------


@rule("admin.access")
def _admin_access(actor: Actor, obj: Any) -> bool:
    return actor.is_admin


@rule("nav.agreements", "nav.submissions", "nav.assessments", "nav.tickets", "nav.findings", "nav.deadlines")
def _nav_any_member(actor: Actor, obj: Any) -> bool:
    return actor.is_centre_staff or actor.is_liaison


# --- Accounts -------------------------------------------------------------------


@scoper("accounts.organisation")
def _organisations(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_centre_staff:
        return qs
    # A liaison sees the centre (their counterpart) and their own company, nothing else.
    return qs.filter(Q(pk=actor.organisation_id) | Q(kind=Organisation.Kind.AGENCY))


@scoper("accounts.user")
def _users(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_centre_staff:
        return qs
    return qs.filter(
        Q(membership__organisation_id=actor.organisation_id)
        | Q(membership__organisation__kind=Organisation.Kind.AGENCY)
    )


@rule("organisation.view")
def _organisation_view(actor: Actor, obj: Any) -> bool:
    return True  # visibility is decided by the scoper


@rule("organisation.manage", "user.manage")
def _manage_people(actor: Actor, obj: Any) -> bool:
    return actor.is_admin


# Personal API tokens: every member may hold tokens for themselves; a token acts
# exactly as its user does, so it grants nothing the portal would not.
@scoper("accounts.apitoken")
def _api_tokens(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    return qs.filter(user_id=actor.user_id)


@rule("apitoken.create")
def _api_token_create(actor: Actor, obj: Any) -> bool:
    # obj is the user who will hold the token: only yourself.
    return obj is None or getattr(obj, "pk", None) == actor.user_id


@rule("apitoken.revoke")
def _api_token_revoke(actor: Actor, obj: Any) -> bool:
    return obj is not None and (obj.user_id == actor.user_id or actor.is_admin)


# --- Agreements -----------------------------------------------------------------
# Programme admins and lead evaluators negotiate agreements; evaluators see the
# agreements behind the cases they work on; a liaison sees their company's own.


@scoper("agreements.agreement")
def _agreements(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin or actor.is_lead:
        return qs
    if actor.is_evaluator:
        return qs.filter(pk__in=_case_assessments(actor).values("submission__agreement_id"))
    if actor.is_liaison:
        return qs.filter(organisation_id=actor.organisation_id)
    return qs.none()


@rule("agreement.create")
def _agreement_create(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead


def _visible_agreements(actor: Actor) -> QuerySet:
    from agreements.models import Agreement

    return _agreements(Agreement.objects.all(), actor)


# The negotiation record is seen by whoever sees its agreement.
@scoper("agreements.agreementversion")
@scoper("agreements.negotiationentry")
@scoper("agreements.meeting")
@scoper("agreements.openpoint")
@scoper("agreements.agreementdocument")
@scoper("agreements.signature")
def _agreement_children(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin or actor.is_lead:
        return qs
    return qs.filter(agreement__in=_visible_agreements(actor).values("pk"))


def _own_company(actor: Actor, agreement: Any) -> bool:
    """A liaison acting on their own organisation's agreement."""
    return actor.is_liaison and agreement is not None and agreement.organisation_id == actor.organisation_id


def _sees_agreement(actor: Actor, agreement: Any) -> bool:
    if agreement is None:
        return False
    if actor.is_admin or actor.is_lead:
        return True
    if actor.is_liaison:
        return _own_company(actor, agreement)
    if actor.is_evaluator:
        return _visible_agreements(actor).filter(pk=agreement.pk).exists()
    return False


@rule("agreement.view", "agreement.document_download")
def _agreement_view(actor: Actor, obj: Any) -> bool:
    return _sees_agreement(actor, obj)


# Only centre negotiators change the agreed terms, move the status and the signature due date,
# and keep the minutes.
@rule("agreement.edit_terms", "agreement.transition", "agreement.signature_due", "agreement.meeting")
def _agreement_negotiate(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead


@rule("agreement.terminate")
def _agreement_terminate(actor: Actor, obj: Any) -> bool:
    return actor.is_admin


# Both sides put proposals, comments, open points and drafts on the record.
@rule("agreement.propose", "agreement.comment", "agreement.open_point", "agreement.document_upload")
def _agreement_both_sides(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead or _own_company(actor, obj)


@rule("agreement.sign")
def _agreement_sign(actor: Actor, obj: Any) -> bool:
    # The centre signs through a programme admin or lead; the company through its own liaison.
    return actor.is_admin or actor.is_lead or _own_company(actor, obj)


@rule("open_point.resolve", "open_point.edit")
def _open_point_manage(actor: Actor, obj: Any) -> bool:
    if obj is None:
        return False
    if actor.is_admin or actor.is_lead:
        return True
    return obj.owner_id == actor.user_id and _own_company(actor, obj.agreement)


# --- Model submissions and assessments --------------------------------------------


def on_case(actor: Actor, assessment: Any) -> bool:
    """True when the actor leads the assessment or is on its team."""
    if assessment is None:
        return False
    if assessment.lead_id == actor.user_id:
        return True
    return assessment.team.filter(pk=actor.user_id).exists()


def _case_q(actor: Actor, prefix: str = "") -> Q:
    """Rows whose assessment (reached through ``prefix``, a single-valued relation) the actor leads or is on.

    Team membership is an EXISTS subquery, not a join over the team table: a join repeats a row once
    per matching team row (a lead on their own team, beside another member), which inflates counts.
    """
    from assessments.models import Assessment

    on_team = Assessment.team.through.objects.filter(assessment_id=OuterRef(f"{prefix}pk"), user_id=actor.user_id)
    return Q(**{f"{prefix}lead_id": actor.user_id}) | Q(Exists(on_team))


def _case_assessments(actor: Actor) -> QuerySet:
    """The assessments the actor leads or is on; filter by ``pk__in`` of its values to follow a reverse relation."""
    from assessments.models import Assessment

    return Assessment.objects.filter(_case_q(actor))


@scoper("assessments.modelsubmission")
def _submissions(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin or actor.is_lead:
        return qs
    if actor.is_evaluator:
        return qs.filter(pk__in=_case_assessments(actor).values("submission_id"))
    if actor.is_liaison:
        return qs.filter(organisation_id=actor.organisation_id)
    return qs.none()


@scoper("assessments.assessment")
def _assessments(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(_case_q(actor))
    if actor.is_liaison:
        return qs.filter(submission__organisation_id=actor.organisation_id)
    return qs.none()


@rule("submission.create")
def _submission_create(actor: Actor, obj: Any) -> bool:
    # Only a company submits its own models.
    return actor.is_liaison


@rule("assessment.create")
def _assessment_create(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead


def _is_case_lead(actor: Actor, assessment: Any) -> bool:
    return assessment is not None and actor.is_lead and assessment.lead_id == actor.user_id


def _liaison_of(actor: Actor, organisation_id: int | None) -> bool:
    return actor.is_liaison and organisation_id is not None and organisation_id == actor.organisation_id


@rule("submission.view")
def _submission_view(actor: Actor, obj: Any) -> bool:
    return True  # visibility is decided by the scoper


@rule("assessment.view")
def _assessment_view(actor: Actor, obj: Any) -> bool:
    return True  # visibility is decided by the scoper


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


@rule("ticket.provision", "ticket.consent_extension")
def _ticket_company_side(actor: Actor, obj: Any) -> bool:
    return obj is not None and _liaison_of(actor, obj.assessment.submission.organisation_id)


@rule("ticket.reveal")
def _ticket_reveal(actor: Actor, obj: Any) -> bool:
    # Only the evaluators who use the access see the secret; admins and the company do not need it here.
    return obj is not None and (actor.is_lead or actor.is_evaluator) and on_case(actor, obj.assessment)


@rule("ticket.revoke")
def _ticket_revoke(actor: Actor, obj: Any) -> bool:
    # Either side may end access: the company's liaison, the case lead, the requester, or an admin.
    if obj is None:
        return False
    if _liaison_of(actor, obj.assessment.submission.organisation_id):
        return True
    if actor.is_admin or _is_case_lead(actor, obj.assessment):
        return True
    return obj.requested_by_id == actor.user_id and on_case(actor, obj.assessment)


@scoper("assessments.accessticket")
def _tickets(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(_case_q(actor, "assessment__"))
    if actor.is_liaison:
        # The company sees a ticket once the centre has approved it (requests and rejections are internal).
        return qs.filter(assessment__submission__organisation_id=actor.organisation_id).exclude(
            status__in=["requested", "rejected"]
        )
    return qs.none()


@scoper("assessments.credentialreveal")
def _credential_reveals(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(_case_q(actor, "ticket__assessment__"))
    if actor.is_liaison:
        return qs.filter(ticket__assessment__submission__organisation_id=actor.organisation_id)
    return qs.none()


# --- Deadlines --------------------------------------------------------------------


@scoper("reminders.deadline")
def _deadlines(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    return qs.filter(Q(recipients__id=actor.user_id) | Q(escalate_to__id=actor.user_id)).distinct()


@rule("deadline.view")
def _deadline_view(actor: Actor, obj: Any) -> bool:
    return True  # visibility is decided by the scoper


@rule("delivery.retry")
def _delivery_retry(actor: Actor, obj: Any) -> bool:
    # Queuing a failed reminder or digest again is the programme's remedy once the cause is fixed.
    return actor.is_admin


# Reminders and digests are one person's deliveries; programme admins see all of them (delivery status).
@scoper("reminders.reminder")
@scoper("reminders.digest")
def _deliveries(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    return qs.filter(recipient_id=actor.user_id)


# Notifications and reminder preferences are personal, admins included: nobody reads another's inbox.
@scoper("reminders.notification")
def _notifications(qs: QuerySet, actor: Actor) -> QuerySet:
    return qs.filter(recipient_id=actor.user_id)


@scoper("reminders.reminderpreference")
def _reminder_preferences(qs: QuerySet, actor: Actor) -> QuerySet:
    return qs.filter(user_id=actor.user_id)


@rule("notification.read")
def _notification_read(actor: Actor, obj: Any) -> bool:
    return obj is not None and obj.recipient_id == actor.user_id


@rule("notification.read_all")
def _notification_read_all(actor: Actor, obj: Any) -> bool:
    return True  # only ever the actor's own notifications


@rule("reminder_preference.edit")
def _reminder_preference_edit(actor: Actor, obj: Any) -> bool:
    # obj is the person whose preferences and calendar feed change: only yourself.
    return obj is not None and getattr(obj, "pk", None) == actor.user_id


# --- Findings -----------------------------------------------------------------------
# The centre team of an assessment (its lead and evaluators) sees all its findings;
# programme admins see every finding; a company liaison sees only findings of their
# own organisation that were released to it, never drafts, reviews or withdrawn ones,
# and never internal comments. Releasing needs a lead on the case who is not the
# author (two-person rule). Rules check the actor; services check the state.

_FINDING_RELEASED = ("released", "company_responded", "resolved")


def _case_assessment_ids(actor: Actor):
    from assessments.models import Assessment

    # A subquery rather than a join, so finding lists need no DISTINCT and counts stay right.
    return Assessment.objects.filter(_case_q(actor)).values("pk")


def _finding_of_own_company(actor: Actor, finding: Any) -> bool:
    return (
        actor.is_liaison
        and finding is not None
        and finding.status in _FINDING_RELEASED
        and finding.assessment.submission.organisation_id == actor.organisation_id
    )


def _on_finding_case(actor: Actor, finding: Any) -> bool:
    return (actor.is_lead or actor.is_evaluator) and finding is not None and on_case(actor, finding.assessment)


def _finding_rows(qs: QuerySet, actor: Actor, prefix: str = "", **liaison_filters: Any) -> QuerySet:
    """Rows tied to a finding (reached through ``prefix``): the case team sees its cases' rows,
    a liaison only rows of their company's released findings (plus ``liaison_filters``)."""
    if actor.is_admin:
        return qs
    if actor.is_lead or actor.is_evaluator:
        return qs.filter(**{f"{prefix}assessment_id__in": _case_assessment_ids(actor)})
    if actor.is_liaison:
        return qs.filter(
            **{
                f"{prefix}assessment__submission__organisation_id": actor.organisation_id,
                f"{prefix}status__in": _FINDING_RELEASED,
            },
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


@rule("finding.create")
def _finding_create(actor: Actor, assessment: Any) -> bool:
    # Without an assessment (the API's list-level check) any evaluator may try; the service checks the case.
    if not (actor.is_lead or actor.is_evaluator):
        return False
    return assessment is None or on_case(actor, assessment)


@rule("finding.edit", "finding.submit_for_review", "finding.resolve", "finding.reopen", "finding.comment_internal")
def _finding_team_work(actor: Actor, finding: Any) -> bool:
    return _on_finding_case(actor, finding)


@rule("finding.release")
def _finding_release(actor: Actor, finding: Any) -> bool:
    # Two-person rule: a lead on the case who did not write the finding.
    return (
        actor.is_lead
        and finding is not None
        and finding.author_id != actor.user_id
        and on_case(actor, finding.assessment)
    )


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


@rule("assessment.report")
def _assessment_report(actor: Actor, assessment: Any) -> bool:
    if actor.is_admin:
        return True
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, assessment)


@rule("assessment.report_company")
def _assessment_report_company(actor: Actor, assessment: Any) -> bool:
    # The "released findings only" report: the centre team, and the company the assessment concerns.
    if actor.is_admin:
        return True
    if actor.is_liaison:
        return assessment is not None and assessment.submission.organisation_id == actor.organisation_id
    return (actor.is_lead or actor.is_evaluator) and on_case(actor, assessment)


# --- Audit trail and account security (security section) ---------------------------
# Programme admins read and export the whole trail; a case's own history is shown on the
# case page to those who may see the case (audit.selectors.audit_history_for).


@rule("audit.view", "audit.export")
def _audit_read(actor: Actor, obj: Any) -> bool:
    return actor.is_admin


@rule("security.manage_own_2fa")
def _own_second_factor(actor: Actor, obj: Any) -> bool:
    # Anyone with an account manages their own authenticator and backup codes; obj is the user.
    return obj is None or getattr(obj, "pk", None) == actor.user_id
