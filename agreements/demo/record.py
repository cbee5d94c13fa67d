"""Builders of a negotiation record in the past: entries, open points, meetings, versions, signatures.

Each goes through the same service as the pages, then dates the row it made on the day it
happened in the story (the services stamp rows with today).
"""

from __future__ import annotations

import datetime

from django.utils import timezone

from agreements import services
from agreements.deadlines import open_point_deadline_specs
from agreements.models import Agreement, AgreementVersion, Meeting, NegotiationEntry, OpenPoint, Signature
from reminders.services import deadline_sync

TRADE_SECRETS = (
    "Model weights, system prompts and training-data descriptions are confidential business information. "
    "Evaluators access them only inside the company's secure enclave or through the hosted API; nothing is "
    "copied off company infrastructure. Evaluation results that quote model outputs are marked CBI and shared "
    "outside the centre only with the company's written consent."
)


def ago(days: int, hour: int = 15) -> datetime.datetime:
    """``days`` ago, at ``hour`` o'clock sharp."""
    moment = timezone.now() - datetime.timedelta(days=days)
    return moment.replace(hour=hour, minute=0, second=0, microsecond=0)


def in_days(days_from_today: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days_from_today)


def terms_with(**overrides) -> dict:
    """The usual terms of a demo agreement, with ``overrides`` changed."""
    terms = {
        "max_window_days": 14,
        "risk_domains": ["cyber", "biological", "chemical"],
        "access_modalities": ["hosted_api", "documentation"],
        "trade_secret_terms": TRADE_SECRETS,
        # The clause says results "are marked CBI": the company's material is marked so by default.
        "default_marking": "CBI",
        "release_notice_days": 14,
        "risk_consequence": "consultation",
        "effective_date": None,
        "expiry_date": None,
    }
    return terms | overrides


def add_entry(actor, agreement, kind, clause, text, when, responds_to=None) -> NegotiationEntry:
    entry = services.negotiation_entry_add(
        actor=actor, agreement=agreement, kind=kind, clause=clause, text=text, responds_to=responds_to
    )
    NegotiationEntry.objects.filter(pk=entry.pk).update(created_at=when)
    return entry


def add_open_point(actor, agreement, title, owner, due, created, description="", resolved=None) -> OpenPoint:
    """An open point raised on ``created`` and due on ``due``.

    A point raised in the past was due on a day that has passed: it is raised through the service
    with today's date (a new point cannot be due in the past), then given its own date.
    """
    point = services.open_point_add(
        actor=actor,
        agreement=agreement,
        title=title,
        owner=owner,
        due_date=max(due, timezone.localdate()),
        description=description,
    )
    if point.due_date != due:
        OpenPoint.objects.filter(pk=point.pk).update(due_date=due)
        point.refresh_from_db()
        deadline_sync(owner=point, specs=open_point_deadline_specs(point))
    if resolved is not None:
        resolver, resolution, when = resolved
        services.open_point_resolve(actor=resolver, point=point, resolution=resolution)
        OpenPoint.objects.filter(pk=point.pk).update(resolved_at=when)
    OpenPoint.objects.filter(pk=point.pk).update(created_at=created)
    return point


def add_meeting(actor, agreement, when, attendees: list[str], minutes: str) -> None:
    meeting = services.meeting_record(
        actor=actor, agreement=agreement, held_at=when, attendees="\n".join(attendees), minutes=minutes
    )
    Meeting.objects.filter(pk=meeting.pk).update(created_at=when)


def _version_at(agreement: Agreement, number: int, when) -> None:
    AgreementVersion.objects.filter(agreement=agreement, number=number).update(created_at=when)


def open_negotiation(actor, company, title: str, terms: dict, created, **kind) -> Agreement:
    """A draft with its first version dated ``created``, sent straight into negotiation.

    ``kind`` passes ``kind``, ``parent`` and ``amended_clauses`` on for a framework or an addendum."""
    agreement = services.agreement_create(actor=actor, organisation=company, title=title, terms=terms, **kind)
    _version_at(agreement, 1, created)
    services.agreement_open_negotiation(actor=actor, agreement=agreement)
    return agreement


def add_version(actor, agreement: Agreement, number: int, when, note: str, **terms) -> None:
    """Version ``number`` of the terms (``terms_with`` with ``terms`` changed), dated ``when``."""
    services.agreement_update_terms(actor=actor, agreement=agreement, terms=terms_with(**terms), note=note)
    _version_at(agreement, number, when)


def sign_both(agreement, company_signer, company_capacity, centre_signer, centre_capacity, when) -> None:
    for actor, capacity, offset in ((company_signer, company_capacity, 0), (centre_signer, centre_capacity, 1)):
        signature = services.agreement_sign(
            actor=actor, agreement=agreement, signer_name=actor.full_name, capacity=capacity
        )
        Signature.objects.filter(pk=signature.pk).update(signed_at=when + datetime.timedelta(days=offset))


def backdate(agreement: Agreement, created, status_changed=None, signature_due=None) -> None:
    fields = {"created_at": created}
    if status_changed is not None:
        fields["status_changed_at"] = status_changed
    if signature_due is not None:
        fields["signature_due"] = signature_due
    Agreement.objects.filter(pk=agreement.pk).update(**fields)
