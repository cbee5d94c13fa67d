"""The one way to write an audit event, and the audit trail's CSV export."""

from __future__ import annotations

import csv
import io
import ipaddress
import json
import re
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import Model

from audit.models import AuditEvent
from core.control_characters import printable, printable_data
from core.errors import OutOfScope
from core.freshness import records_changed
from core.request_id import current_request_id

# The mask shown instead of a secret; it is not a secret itself.
SECRET_MASK = "••••••"  # noqa: S105  # nosec B105
# Actions that change a record (the rest are reads, sign-ins and refusals): each makes cached totals stale.
RECORD_CHANGES = frozenset(
    {AuditEvent.Action.CREATE, AuditEvent.Action.CHANGE, AuditEvent.Action.DELETE, AuditEvent.Action.TRANSITION}
)


def client_ip(request) -> str | None:
    """The address a request came from: the one function the audit trail, the sign-in lockout
    (django-axes, through ``AXES_CLIENT_IP_CALLABLE``) and the API throttle all use.

    ``TRUSTED_PROXY_COUNT`` proxies stand in front of the portal (0: none, the peer's
    ``REMOTE_ADDR`` is the client). Each proxy appends the address it received the request from
    to ``X-Forwarded-For``, so the client is the entry that many places from the right; entries
    further left were written by the client and may be anything. A request carrying fewer entries
    than there are proxies did not come through them all, and its ``REMOTE_ADDR`` is used.
    """
    if request is None:
        return None
    from django.conf import settings

    meta = request.META
    chosen = meta.get("REMOTE_ADDR") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies > 0:
        entries = [entry.strip() for entry in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if entry.strip()]
        if len(entries) >= proxies:
            chosen = entries[-proxies]
    try:
        return str(ipaddress.ip_address(chosen))
    except ValueError:
        # Not an address (a misconfigured proxy): fall back to the peer rather than store junk.
        remote = meta.get("REMOTE_ADDR") or ""
        try:
            return str(ipaddress.ip_address(remote))
        except ValueError:
            return None


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
    object_type: str | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """Append one audit event.

    ``changes`` maps field names to ``{"from": old, "to": new}``; secrets must
    already be masked by the caller (use ``SECRET_MASK``). Call it inside the
    same transaction as the change it records, so both land or neither does.
    """
    user = actor if getattr(actor, "is_authenticated", False) else None
    if action in RECORD_CHANGES:
        # Cached totals (core/freshness.py) go stale now, and again once this change commits: a total
        # counted by another request in between (without this change) is not kept either.
        records_changed()
        transaction.on_commit(records_changed)
    # What a prober sent is recorded as evidence, so control characters are written out, not refused
    # (a NUL cannot be stored in PostgreSQL, in a text column or in JSON).
    return AuditEvent.objects.create(
        actor=user,
        actor_email=getattr(user, "email", "") if user else "",
        action=action,
        object_type=object_type if object_type is not None else obj._meta.label_lower if obj is not None else "",
        object_id=printable(object_id if object_id is not None else _object_id(obj) if obj is not None else "")[:64],
        object_repr=printable(object_repr if object_repr is not None else str(obj) if obj is not None else "")[:300],
        case_ref=case_ref,
        summary=printable(summary)[:500],
        changes=printable_data(mask_secrets(changes or {})),
        source_ip=source_ip or client_ip(request),
        request_id=current_request_id(),
    )


# Field names whose values never enter the trail, even if a caller forgets to mask them.
_SECRET_NAME = re.compile(
    r"(^|_)(password|secret|credential|credentials|token|api_key|private_key|secret_key|ciphertext|encrypted|hash)$"
)


def mask_secrets(changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` with the values of secret-looking fields replaced by ``SECRET_MASK``."""
    masked = {}
    for key, value in changes.items():
        if _SECRET_NAME.search(str(key).lower()):
            masked[key] = {"from": SECRET_MASK, "to": SECRET_MASK} if isinstance(value, dict) else SECRET_MASK
        else:
            masked[key] = value
    return masked


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


def audit_permission_denied(*, request, message: str = "") -> AuditEvent:
    """Record that the policy refused ``request`` (a 403). The refused object's title is never written."""
    return audit_record(
        actor=getattr(request, "user", None),
        action=AuditEvent.Action.DENIED,
        request=request,
        object_repr=f"{request.method} {request.path}"[:300],
        summary=(message or "Permission refused.")[:500],
    )


def audit_record_once_a_day(
    *, actor: Any, action: str, obj: Model, summary: str, case_ref: str = "", request=None
) -> AuditEvent | None:
    """``audit_record``, unless the same person already has an event today (their own time zone's
    day) with the same action, object and summary; then nothing is written and None is returned.

    For reads that are repeated by the nature of the page, such as viewing a report page after
    page: the trail says who read what on which day without one row per page load, so the case's
    history stays readable. The look-up uses the (object_type, object_id, occurred_at) index. Two
    requests at the same instant may both write; a second row of the same read is harmless.
    """
    from django.utils import timezone

    user = actor if getattr(actor, "is_authenticated", False) else None
    day_start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    summary = printable(summary)[:500]
    already = AuditEvent.objects.filter(
        object_type=obj._meta.label_lower,
        object_id=printable(_object_id(obj))[:64],
        occurred_at__gte=day_start,
        actor=user,
        action=action,
        summary=summary,
    ).exists()
    if already:
        return None
    return audit_record(actor=actor, action=action, obj=obj, summary=summary, case_ref=case_ref, request=request)


# Repeats of one probe (same actor, same kind) within this many seconds are folded into the first.
PROBE_WINDOW_SECONDS = 60


def audit_probe(*, request, kind: str, reference: str = "", summary: str) -> AuditEvent | None:
    """Record an attempt that only probing explains, at most once per actor, kind and minute.

    ``kind`` says what was probed: a model label for another organisation's record
    (``agreements.agreement``), or ``csrf``, ``sign-in`` or ``api-token``; ``reference`` says
    which one (a reference or public id, never a title). The actor is the signed-in user or,
    for an anonymous caller, the source address. The caller's answer does not change.

    A scan must not flood the table, so the first attempt in a 60-second window writes and the
    rest are dropped: Django's cache ``add`` (an atomic "set if absent" with a 60-second lifetime,
    in Redis when ``REDIS_URL`` is set, so every web process shares it) decides which attempt is
    first. A conditional insert would cost every attempt of a scan a query on the audit table and
    still let two processes insert at once. When the cache is unreachable, the audit table is
    asked instead whether the same actor and kind already has an event in the window.
    Returns the event, or None when the attempt was folded into one already written.
    """
    from django.core.cache import cache
    from django.utils import timezone

    user = getattr(request, "user", None)
    user = user if getattr(user, "is_authenticated", False) else None
    address = client_ip(request)
    who = f"user:{user.public_id}" if user is not None else f"ip:{address or 'unknown'}"
    key = f"audit-probe:{who}:{kind}"
    try:
        first = cache.add(key, 1, timeout=PROBE_WINDOW_SECONDS)
    except Exception:  # noqa: BLE001 - the cache (Redis) is down: ask the audit table instead
        since = timezone.now() - timedelta(seconds=PROBE_WINDOW_SECONDS)
        recent = AuditEvent.objects.filter(action=AuditEvent.Action.PROBE, object_type=kind, occurred_at__gte=since)
        recent = recent.filter(actor=user) if user is not None else recent.filter(actor=None, source_ip=address)
        first = not recent.exists()
    if not first:
        return None
    return audit_record(
        actor=user,
        action=AuditEvent.Action.PROBE,
        request=request,
        source_ip=address,
        object_type=kind[:100],
        object_id=reference[:64],
        object_repr=f"{request.method} {request.path}"[:300],
        summary=f"{summary} (repeats within a minute are not recorded again)"[:500],
    )


def audit_out_of_scope(*, request, error: OutOfScope) -> AuditEvent | None:
    """Record a lookup of a record that exists outside the asker's scope as a probe (``audit_probe``)."""
    return audit_probe(
        request=request, kind=error.kind, reference=error.reference, summary="Out-of-scope record asked for"
    )


EXPORT_COLUMNS = (
    "occurred_at",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "case_ref",
    "summary",
    "changes",
    "source_ip",
    "public_id",
)
# A cell that starts with one of these is read as a formula by spreadsheet programs.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> str:
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""
    elif value is None:
        text = ""
    elif hasattr(value, "isoformat"):
        text = value.isoformat()
    else:
        text = str(value)
    if text.startswith(_FORMULA_PREFIXES):
        text = "'" + text
    return text


def audit_export_csv(*, actor: Any, events: Iterable[AuditEvent], request=None, description: str = "") -> str:
    """The ``events`` as CSV text (UTC times, formulas neutralised); the export itself is audited.

    Only programme admins may export: the caller asks the policy for ``audit.export``
    first (this layer sits below the policy) and passes the events it shows them,
    already filtered.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for event in events:
        writer.writerow([_csv_cell(getattr(event, column)) for column in EXPORT_COLUMNS])
        count += 1
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            request=request,
            object_repr="Audit trail",
            summary=f"Exported {count} audit event{'s' if count != 1 else ''} as CSV"
            + (f" ({description})" if description else ""),
        )
    return buffer.getvalue()
