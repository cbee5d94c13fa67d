"""Reading the audit trail."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models import QuerySet

from accounts.permissions import actor_for, scope
from audit.models import AuditEvent


def _case_visible(case_ref: str, user: Any) -> bool:
    from assessments.models import Assessment

    return scope(Assessment.objects.filter(reference=case_ref), user).exists()


def _identifier_field(model) -> str | None:
    names = {f.name for f in model._meta.get_fields()}
    for name in ("reference", "public_id"):
        if name in names:
            return name
    return None


def audit_history_for(case_ref: str, user: Any, *, limit: int | None = None) -> QuerySet[AuditEvent]:
    """The events recorded against case ``case_ref`` that ``user`` may read, newest first.

    Nobody who cannot see the case gets anything. Centre staff on the case
    read its whole history. A company liaison reads only the events about
    objects the policy lets them see (their agreement, submission, tickets and
    released findings), so an internal draft's title never reaches them.
    """
    actor = actor_for(user)
    if actor is None or not case_ref or not _case_visible(case_ref, user):
        return AuditEvent.objects.none()
    events = AuditEvent.objects.filter(case_ref=case_ref).select_related(None)
    if not actor.is_centre_staff:
        events = events.filter(pk__in=_visible_event_ids(events, user))
    events = events.order_by("-occurred_at", "-id")
    return events[:limit] if limit else events


def _visible_event_ids(events: QuerySet[AuditEvent], user: Any) -> list[int]:
    """Ids of ``events`` whose object the user may see (one query per kind of object)."""
    by_type: dict[str, list[tuple[int, str]]] = {}
    for pk, object_type, object_id in events.values_list("pk", "object_type", "object_id"):
        by_type.setdefault(object_type, []).append((pk, object_id))
    visible_ids: list[int] = []
    for object_type, rows in by_type.items():
        try:
            model = apps.get_model(object_type) if object_type else None
        except (LookupError, ValueError):
            model = None
        field = _identifier_field(model) if model is not None else None
        if field is None:
            continue  # events without an identifiable object stay with centre staff
        wanted = {object_id for _pk, object_id in rows}
        seen = {
            str(v)
            for v in scope(model._default_manager.filter(**{f"{field}__in": wanted}), user).values_list(
                field, flat=True
            )
        }
        visible_ids.extend(pk for pk, object_id in rows if object_id in seen)
    return visible_ids
