"""The policy's rules and scopers for agreements and their negotiation record.

Programme admins and lead evaluators negotiate agreements; evaluators see the agreements behind
the cases they work on; a liaison sees their company's own. Registered with the engine
(``accounts.permissions``) when the app loads (``AgreementsConfig.ready``).

Cases live in a higher app, so this module cannot say which agreements an evaluator's cases
reach: that app registers it with ``agreement_reach``. With nothing registered, evaluators see
no agreement (the policy fails closed).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db.models import Q, QuerySet

from accounts.permissions import Actor, rule, rule_filter, scoper
from agreements.models import Agreement

Reach = Callable[[Actor], QuerySet]

_REACHES: list[Reach] = []


def agreement_reach(fn: Reach) -> Reach:
    """Register ``fn(actor)``: the ids (a ``values()`` queryset) of the agreements an evaluator
    reaches through a higher app's objects, such as the cases they lead or work on."""
    _REACHES.append(fn)
    return fn


def _reached_by_evaluator(actor: Actor) -> Q | None:
    reached = Q()
    for reach in _REACHES:
        reached |= Q(pk__in=reach(actor))
    return reached or None


@scoper("agreements.agreement")
def _agreements(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin or actor.is_lead:
        return qs
    if actor.is_evaluator:
        reached = _reached_by_evaluator(actor)
        return qs.filter(reached) if reached is not None else qs.none()
    if actor.is_liaison:
        return qs.filter(organisation_id=actor.organisation_id)
    return qs.none()


@rule("agreement.create")
def _agreement_create(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead


def _visible_agreements(actor: Actor) -> QuerySet:
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


@rule_filter(
    "agreement.edit_terms",
    "agreement.transition",
    "agreement.signature_due",
    "agreement.meeting",
    model="agreements.agreement",
)
def _agreement_negotiate_where(actor: Actor) -> Q | None:
    return Q() if actor.is_admin or actor.is_lead else None


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


@rule_filter(
    "agreement.propose",
    "agreement.comment",
    "agreement.open_point",
    "agreement.document_upload",
    "agreement.sign",
    model="agreements.agreement",
)
def _agreement_both_sides_where(actor: Actor, prefix: str = "") -> Q | None:
    # Either side: every agreement for the centre's negotiators, the company's own for its liaison.
    if actor.is_admin or actor.is_lead:
        return Q()
    return Q(**{f"{prefix}organisation_id": actor.organisation_id}) if actor.is_liaison else None


@rule("open_point.resolve", "open_point.edit")
def _open_point_manage(actor: Actor, obj: Any) -> bool:
    if obj is None:
        return False
    if actor.is_admin or actor.is_lead:
        return True
    return obj.owner_id == actor.user_id and _own_company(actor, obj.agreement)


@rule_filter("open_point.resolve", "open_point.edit", model="agreements.openpoint")
def _open_point_manage_where(actor: Actor) -> Q | None:
    if actor.is_admin or actor.is_lead:
        return Q()
    company = _agreement_both_sides_where(actor, "agreement__")
    return Q(owner_id=actor.user_id) & company if actor.is_liaison and company is not None else None


# --- Release notices ------------------------------------------------------------------------
# Seen by whoever sees the agreement they fall under; recorded by the centre's negotiators; the
# planned date moved by them or by the company's own liaison.


@scoper("agreements.releasenotice")
def _release_notices(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin or actor.is_lead:
        return qs
    if actor.is_liaison:
        return qs.filter(organisation_id=actor.organisation_id)
    return qs.filter(agreement__in=_visible_agreements(actor).values("pk"))


@rule("release_notice.view")
def _release_notice_view(actor: Actor, obj: Any) -> bool:
    return obj is not None and _sees_agreement(actor, obj.agreement)


@rule("release_notice.record")
def _release_notice_record(actor: Actor, obj: Any) -> bool:
    return actor.is_admin or actor.is_lead


@rule("release_notice.move_date")
def _release_notice_move_date(actor: Actor, obj: Any) -> bool:
    return obj is not None and (actor.is_admin or actor.is_lead or _own_company(actor, obj.agreement))


@rule_filter("release_notice.move_date", model="agreements.releasenotice")
def _release_notice_move_date_where(actor: Actor) -> Q | None:
    if actor.is_admin or actor.is_lead:
        return Q()
    return Q(organisation_id=actor.organisation_id) if actor.is_liaison else None


# Voluntary both ways: the centre's negotiators or the company's own liaison give notice to end.
@rule("agreement.give_notice")
def _agreement_give_notice(actor: Actor, obj: Any) -> bool:
    return obj is not None and (actor.is_admin or actor.is_lead or _own_company(actor, obj))


@rule_filter("agreement.give_notice", model="agreements.agreement")
def _agreement_give_notice_where(actor: Actor) -> Q | None:
    return _agreement_both_sides_where(actor)


# Handling markings of agreement documents (core.markings): whoever may upload one may raise its
# marking (the company for its own agreement); lowering is for the centre's leads and admins.
@rule("agreement_document.mark")
def _document_mark(actor: Actor, document: Any) -> bool:
    return document is not None and (actor.is_admin or actor.is_lead or _own_company(actor, document.agreement))


@rule("agreement_document.mark_lower")
def _document_mark_lower(actor: Actor, document: Any) -> bool:
    return document is not None and (actor.is_admin or actor.is_lead)
