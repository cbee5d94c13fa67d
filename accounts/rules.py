"""The policy's rules and scopers for accounts: menus, the admin, people, organisations, API tokens,
account security and the audit trail (audit sits below accounts and cannot register its own rules).

Registered with the engine (``accounts.permissions``) when the app loads (``AccountsConfig.ready``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.models import Organisation
from accounts.permissions import Actor, rule, scoper

# --- Menus and the admin -------------------------------------------------------


@rule("admin.access")
def _admin_access(actor: Actor, obj: Any) -> bool:
    return actor.is_admin


@rule("nav.agreements", "nav.submissions", "nav.assessments", "nav.tickets", "nav.findings", "nav.deadlines")
def _nav_any_member(actor: Actor, obj: Any) -> bool:
    return actor.is_centre_staff or actor.is_liaison


# --- The programme view and companies' engagement ------------------------------------------
# Which companies are talking to the centre, and how far, is the centre's own business: the
# programme page and the engagement history are for those who run the programme (programme admins
# and lead evaluators); an evaluator works on the cases they are given and a liaison on their own
# company's record, so neither sees them. Only programme admins change a company's stage.


def _runs_programme(actor: Actor) -> bool:
    return actor.is_admin or actor.is_lead


@rule("programme.view", "nav.programme")
def _programme_view(actor: Actor, obj: Any) -> bool:
    return _runs_programme(actor)


@rule("organisation.engage")
def _organisation_engage(actor: Actor, obj: Any) -> bool:
    # obj is the company; the centre itself has no engagement stage.
    return actor.is_admin and (obj is None or getattr(obj, "kind", None) == Organisation.Kind.DEVELOPER)


@scoper("accounts.engagementchange")
def _engagement_changes(qs: QuerySet, actor: Actor) -> QuerySet:
    return qs if _runs_programme(actor) else qs.none()


# --- People and organisations ----------------------------------------------------


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


@rule("user.manage")
def _manage_people(actor: Actor, obj: Any) -> bool:
    # Deactivating, reactivating and changing someone's role.
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


# --- Audit trail and account security (security section) ---------------------------
# Programme admins export the whole trail (they browse it in the admin); a case's own history
# is shown on the case page to those who may see the case (assessments.selectors.audit_history_for).


@rule("audit.export")
def _audit_export(actor: Actor, obj: Any) -> bool:
    return actor.is_admin


@rule("security.manage_own_2fa")
def _own_second_factor(actor: Actor, obj: Any) -> bool:
    # Anyone with an account manages their own authenticator and backup codes; obj is the user.
    return obj is None or getattr(obj, "pk", None) == actor.user_id
