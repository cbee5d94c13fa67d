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

For lists of what a person may act on now, ``actionable(queryset, user, action)``
asks ``can`` of every row at once, in SQL: a rule such a list needs also has a
filter form (``rule_filter``), registered beside it and tested against it.

The policy fails closed: an action with no rule, a model with no scoper, an
anonymous or inactive user, or a user without a membership gets nothing.

This module is the engine only and knows no domain app. Each app keeps its own
rules and scopers in ``<app>/rules.py`` (accounts' in ``accounts/rules.py``, which
also holds the audit trail's, since audit sits below accounts) and registers
them with ``rule`` and ``scoper`` when it loads: its ``AppConfig.ready()``
imports the module. A rule is a small function of an ``Actor`` (the user's role
and organisation, computed once per request) and the object; a scoper filters a
queryset for an ``Actor``. Where a lower app's rule depends on a higher app's
objects (which agreements an evaluator's cases reach), the higher app registers
that part with a hook the lower app offers.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.models import Role
from audit.services import audit_out_of_scope
from core.errors import OutOfScope
from core.page_cache import KeptAnswersMixin


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


def liaison_of(actor: Actor, organisation_id: int | None) -> bool:
    """A company liaison of the organisation ``organisation_id``."""
    return actor.is_liaison and organisation_id is not None and organisation_id == actor.organisation_id


Rule = Callable[[Actor, Any], bool]
Scoper = Callable[[QuerySet, Actor], QuerySet]
# A rule written as a filter: the rows on which the actor may act (None: on none of them).
RuleFilter = Callable[[Actor], Q | None]

_RULES: dict[str, Rule] = {}
_SCOPERS: dict[str, Scoper] = {}
_RULE_FILTERS: dict[tuple[str, str], RuleFilter] = {}


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


def rule_filter(*actions: str, model: str) -> Callable[[RuleFilter], RuleFilter]:
    """Register ``fn`` as the rule of each of ``actions`` written as a filter on ``model``
    (``app_label.modelname``), beside the rule itself in ``<app>/rules.py``.

    ``fn(actor)`` answers, as a ``Q`` over the model's rows, what the action's rule answers for
    one row: a list of "what may this person do now" runs in SQL instead of asking ``can`` row by
    row. ``tests/test_rule_filters.py`` checks every filter against its rule on every row of the
    demo world, so the two cannot drift apart.
    """

    def register(fn: RuleFilter) -> RuleFilter:
        for action in actions:
            key = (action, model.lower())
            if key in _RULE_FILTERS:
                raise RuntimeError(f"Two filters for {action!r} on {model}.")
            _RULE_FILTERS[key] = fn
        return fn

    return register


def rule_filters() -> dict[tuple[str, str], RuleFilter]:
    """Every registered rule filter, by (action, model label): for the test that checks them."""
    return dict(_RULE_FILTERS)


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


def actionable(queryset: QuerySet, user: Any, action: str) -> QuerySet:
    """The rows of ``queryset`` that ``user`` may see and may perform ``action`` on, in SQL.

    Row for row the answer of ``scope`` and then ``can(user, action, row)``, for lists of what a
    person may act on now (the action queue); the caller adds the state the move starts from.
    Fails closed: an action with no filter on the model, or an actor its filter gives nothing,
    gets no rows.
    """
    actor = actor_for(user)
    build = _RULE_FILTERS.get((action, queryset.model._meta.label_lower))
    where = build(actor) if actor is not None and build is not None else None
    if where is None:
        return queryset.none()
    return scope(queryset, user).filter(where)


def visible(user: Any, obj: Model) -> bool:
    """True when ``obj`` is in the user's scope (one indexed query)."""
    return scope(type(obj)._default_manager.filter(pk=obj.pk), user).exists()


# --- Helpers for views and services ------------------------------------------


def require(user: Any, action: str, obj: Any = None, message: str | None = None) -> None:
    """Raise PermissionDenied (403) unless ``can(user, action, obj)``."""
    if not can(user, action, obj):
        raise PermissionDenied(message or "You do not have permission to do that.")


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


class ScopedObjectMixin(KeptAnswersMixin):
    """For API viewsets whose ``get_queryset`` is scoped by the policy: ``get_object`` answers the
    same 404 for another organisation's object as for a missing one, and the attempt (or an
    ``OutOfScope`` from ``get_object_for`` in a nested route) is recorded as a probe. Every such
    viewset is one of the API's, so a call with a bearer token may be answered from a kept page
    (``core.page_cache.KeptAnswersMixin``), after the token, the permission and the throttles."""

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
            audit_out_of_scope(request=self.request, error=exc)
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
