"""The one way to write an audit event."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from audit.models import AuditEvent

SECRET_MASK = "••••••"  # noqa: S105 - the mask shown instead of a secret, not a secret


def client_ip(request) -> str | None:
    """The client address. X-Forwarded-For is trusted only behind a configured TLS proxy."""
    if request is None:
        return None
    from django.conf import settings

    if settings.SECURE_PROXY_SSL_HEADER and request.META.get("HTTP_X_FORWARDED_FOR"):
        return request.META["HTTP_X_FORWARDED_FOR"].split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


def _object_id(obj: Model) -> str:
    for attr in ("reference", "public_id"):
        value = getattr(obj, attr, None)
        if value:
            return str(value)
    return str(obj.pk)


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: Model | None = None,
    summary: str = "",
    changes: dict[str, Any] | None = None,
    request=None,
    source_ip: str | None = None,
    case_ref: str = "",
    object_repr: str | None = None,
) -> AuditEvent:
    """Append one audit event.

    ``changes`` maps field names to ``{"from": old, "to": new}``; secrets must
    already be masked by the caller (use ``SECRET_MASK``). Call it inside the
    same transaction as the change it records, so both land or neither does.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_email=getattr(user, "email", "") if user else "",
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=_object_id(obj) if obj is not None else "",
        object_repr=(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:300],
        case_ref=case_ref,
        summary=summary[:500],
        changes=changes or {},
        source_ip=source_ip or client_ip(request),
    )


def diff_fields(before: dict[str, Any], after: dict[str, Any], *, secret_fields: set[str] | None = None) -> dict:
    """``{"field": {"from": a, "to": b}}`` for the fields that changed, secrets masked."""
    secret_fields = secret_fields or set()
    changed = {}
    for key, new in after.items():
        old = before.get(key)
        if old != new:
            if key in secret_fields:
                changed[key] = {"from": SECRET_MASK, "to": SECRET_MASK}
            else:
                changed[key] = {"from": _jsonable(old), "to": _jsonable(new)}
    return changed


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)
