"""The negotiation record of an agreement: proposals and comments, meetings, open points, documents.

Either side adds to the record while the agreement is still being made; each
addition is audited under the agreement's reference.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.models import Organisation, Role
from accounts.permissions import actor_for, require
from agreements import handoffs
from agreements.deadlines import open_point_deadline_specs
from agreements.models import (
    Agreement,
    AgreementDocument,
    DocumentKind,
    EntryKind,
    Meeting,
    NegotiationEntry,
    OpenPoint,
    OpenPointStatus,
    SignatureSide,
)
from agreements.states import OPEN_AGREEMENT_STATUSES
from audit.models import AuditEvent
from audit.services import audit_record, diff_fields
from core import bounds
from core.errors import RuleViolation, TransitionNotAllowed
from core.files import AGREEMENT_DOCUMENT_KINDS, validate_upload
from core.markings import attestation_require, marking_for_code
from reminders.services import deadline_sync


def _audit_record_of(*, agreement: Agreement, obj: Any, **event: Any) -> None:
    """Audit a record of an agreement's negotiation, named after it in the trail (``AGR-2026-0001: Logs``)."""
    audit_record(obj=obj, object_repr=f"{agreement.reference}: {obj}", **event)


def _side_of(user: Any) -> str:
    actor = actor_for(user)
    return SignatureSide.COMPANY if actor is not None and actor.is_liaison else SignatureSide.CENTRE


def _require_open(agreement: Agreement, what: str) -> None:
    if agreement.status not in OPEN_AGREEMENT_STATUSES:
        raise TransitionNotAllowed(
            f"{agreement.reference} is {agreement.get_status_display().lower()}; "
            f"{what} can be added only while it is draft, negotiating or awaiting signature."
        )


def negotiation_entry_add(
    *,
    actor: Any,
    agreement: Agreement,
    kind: str,
    clause: str,
    text: str,
    responds_to: NegotiationEntry | None = None,
    request=None,
) -> NegotiationEntry:
    """Put a proposal, counter-proposal or comment on the record, from either side."""
    require(actor, "agreement.comment" if kind == EntryKind.COMMENT else "agreement.propose", agreement)
    if not text.strip():
        raise RuleViolation("Write the proposed text or your comment.", errors={"text": ["This cannot be empty."]})
    bounds.check_lengths(text=(text.strip(), bounds.BODY))
    if responds_to is not None and responds_to.agreement_id != agreement.pk:
        raise RuleViolation(
            "A reply must answer an entry of the same agreement.",
            errors={"responds_to": ["That entry belongs to another agreement."]},
        )
    if kind == EntryKind.COUNTER_PROPOSAL and responds_to is None:
        raise RuleViolation(
            "A counter-proposal answers a proposal.",
            errors={"responds_to": ["Choose the proposal this counters."]},
        )
    with transaction.atomic():
        _require_open(agreement, "proposals and comments")
        entry = NegotiationEntry.objects.create(
            agreement=agreement,
            kind=kind,
            clause=clause,
            text=text.strip(),
            responds_to=responds_to,
            author=actor,
            author_side=_side_of(actor),
        )
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=entry,
            request=request,
            agreement=agreement,
            summary=f"{entry.get_kind_display()} on {entry.get_clause_display().lower()} ({agreement.reference})",
        )
        handoffs.entry_added(entry, actor=actor)
    return entry


def meeting_record(
    *, actor: Any, agreement: Agreement, held_at: datetime.datetime, attendees: str, minutes: str, request=None
) -> Meeting:
    """Record a negotiation meeting with its attendees and minutes."""
    require(actor, "agreement.meeting", agreement)
    errors = {}
    if not attendees.strip():
        errors["attendees"] = ["List who attended, one per line."]
    if not minutes.strip():
        errors["minutes"] = ["Write the minutes."]
    # A record of a meeting that took place: today at the latest (bounds.MEETING_HELD).
    errors |= bounds.date_errors(held_at=(held_at, bounds.MEETING_HELD))
    errors |= bounds.length_errors(attendees=(attendees.strip(), bounds.NOTE), minutes=(minutes.strip(), bounds.BODY))
    if errors:
        raise RuleViolation("The meeting record is incomplete.", errors=errors)
    with transaction.atomic():
        meeting = Meeting.objects.create(
            agreement=agreement,
            held_at=held_at,
            attendees=attendees.strip(),
            minutes=minutes.strip(),
            recorded_by=actor,
        )
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=meeting,
            request=request,
            agreement=agreement,
            summary=f"Recorded the meeting of {held_at:%Y-%m-%d} ({agreement.reference})",
        )
        handoffs.meeting_recorded(meeting, actor=actor)
    return meeting


def _check_owner(agreement: Agreement, owner: Any) -> None:
    membership = getattr(owner, "membership_or_none", None)
    ok = membership is not None and owner.is_active
    if ok and membership.role == Role.LIAISON:
        ok = membership.organisation_id == agreement.organisation_id
    elif ok:
        ok = membership.organisation.kind == Organisation.Kind.AGENCY
    if not ok:
        raise RuleViolation(
            "The owner must be centre staff or a liaison of the company.",
            errors={"owner": ["Choose someone at the centre or at the company."]},
        )


def open_point_add(
    *,
    actor: Any,
    agreement: Agreement,
    title: str,
    owner: Any,
    due_date: datetime.date,
    description: str = "",
    request=None,
) -> OpenPoint:
    """Raise an open point with an owner and a due date (a deadline while it stays open)."""
    require(actor, "agreement.open_point", agreement)
    if not title.strip():
        raise RuleViolation("Name the open point.", errors={"title": ["A title is required."]})
    if due_date is None:
        raise RuleViolation("A due date is required.", errors={"due_date": ["Give a due date."]})
    bounds.check_lengths(title=(title.strip(), bounds.TITLE), description=(description.strip(), bounds.NOTE))
    bounds.check_dates(due_date=(due_date, bounds.OPEN_POINT_DUE))
    _check_owner(agreement, owner)
    with transaction.atomic():
        _require_open(agreement, "open points")
        point = OpenPoint.objects.create(
            agreement=agreement,
            title=title.strip(),
            description=description.strip(),
            owner=owner,
            due_date=due_date,
            created_by=actor,
        )
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=point,
            request=request,
            agreement=agreement,
            summary=f"Open point for {owner}, due {due_date:%Y-%m-%d}",
        )
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))
        handoffs.open_point_raised(point, actor=actor)
    return point


def open_point_update(*, actor: Any, point: OpenPoint, owner: Any, due_date: datetime.date, request=None) -> OpenPoint:
    """Change who owns an open point or when it is due; the deadline moves with it."""
    require(actor, "open_point.edit", point)
    # An overdue point can change owner with its date unchanged; a new date must lie in the range.
    bounds.check_dates(due_date=(bounds.changed(due_date, point.due_date), bounds.OPEN_POINT_DUE))
    _check_owner(point.agreement, owner)
    with transaction.atomic():
        point = OpenPoint.objects.select_for_update().select_related("agreement").get(pk=point.pk)
        if not point.is_open:
            raise TransitionNotAllowed("This open point is resolved; it can no longer be changed.")
        before = {"owner": str(point.owner), "due_date": point.due_date.isoformat()}
        point.owner = owner
        point.due_date = due_date
        point.save(update_fields=["owner", "due_date"])
        changes = diff_fields(before, {"owner": str(owner), "due_date": due_date.isoformat()})
        if changes:
            _audit_record_of(
                actor=actor,
                action=AuditEvent.Action.CHANGE,
                obj=point,
                changes=changes,
                request=request,
                agreement=point.agreement,
            )
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))
    return point


def open_point_resolve(*, actor: Any, point: OpenPoint, resolution: str, request=None) -> OpenPoint:
    """open → resolved, with how it was settled; closes its deadline."""
    require(actor, "open_point.resolve", point, message="Only the owner or a centre negotiator may resolve this point.")
    if not resolution.strip():
        raise RuleViolation("Say how the point was resolved.", errors={"resolution": ["This cannot be empty."]})
    bounds.check_lengths(resolution=(resolution.strip(), bounds.NOTE))
    with transaction.atomic():
        point = OpenPoint.objects.select_for_update().select_related("agreement").get(pk=point.pk)
        if not point.is_open:
            raise TransitionNotAllowed(f"“{point.title}” is already resolved.")
        point.status = OpenPointStatus.RESOLVED
        point.resolution = resolution.strip()
        point.resolved_at = timezone.now()
        point.resolved_by = actor
        point.save(update_fields=["status", "resolution", "resolved_at", "resolved_by"])
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.TRANSITION,
            obj=point,
            changes={"status": {"from": OpenPointStatus.OPEN, "to": OpenPointStatus.RESOLVED}},
            request=request,
            agreement=point.agreement,
            summary="Open point resolved",
        )
        deadline_sync(owner=point, specs=[])
        handoffs.open_point_resolved(point, actor=actor)
    return point


# --- Documents --------------------------------------------------------------------------


def document_upload(
    *,
    actor: Any,
    agreement: Agreement,
    uploaded,
    kind: str = DocumentKind.DRAFT,
    description: str = "",
    attested: bool = False,
    request=None,
) -> AgreementDocument:
    """Store a draft or signed document after checking its size and type by content.

    The uploader must confirm it holds no classified information (``attested``; the attestation
    is kept with the file); it takes the agreement's default handling marking. A refused file
    raises RuleViolation on the ``file`` (or ``no_classified_information``) field and nothing is stored.
    """
    require(actor, "agreement.document_upload", agreement)
    attestation_require(attested)
    try:
        info = validate_upload(uploaded, allowed=AGREEMENT_DOCUMENT_KINDS)
    except ValidationError as exc:
        raise RuleViolation(exc.messages[0], errors={"file": list(exc.messages)})
    if kind not in DocumentKind.values:
        raise RuleViolation("Unknown document kind.", errors={"kind": ["Choose draft, signed copy or annex."]})
    with transaction.atomic():
        document = AgreementDocument(
            agreement=agreement,
            kind=kind,
            description=description.strip()[:300],
            marking=marking_for_code(agreement.default_marking),
        )
        document.fill_from(uploaded, info, user=actor)
        document.attest(user=actor)
        document.save()
        _audit_record_of(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=document,
            request=request,
            agreement=agreement,
            summary=f"Uploaded {document.get_kind_display().lower()} {info.original_name} "
            f"({info.size} bytes, sha256 {info.sha256[:12]}…)",
        )
    return document
