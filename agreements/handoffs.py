"""Who is told when an agreement changes hands, and what they read (``reminders.services.handoff_notify``).

The centre's side of an agreement is the person who opened it and the centre staff who put
something on its record (proposals, minutes); with nobody yet, the programme admins. The
company's side is its liaisons. Called by the services in their transactions.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.permissions import actor_for
from agreements.deadlines import company_liaisons, programme_admins
from agreements.models import Agreement, EntryKind, Meeting, NegotiationEntry, OpenPoint, Signature, SignatureSide
from agreements.states import AgreementStatus
from reminders.services import handoff_notify


def _url(agreement: Agreement, anchor: str = "") -> str:
    return reverse("agreements:detail", kwargs={"reference": agreement.reference}) + anchor


def centre_side(agreement: Agreement) -> list[Any]:
    """The centre's negotiators of ``agreement`` (ids or users), as described above."""
    people: set[Any] = {agreement.created_by_id} - {None}
    people |= set(
        agreement.entries.filter(author_side=SignatureSide.CENTRE, author__isnull=False).values_list(
            "author_id", flat=True
        )
    )
    people |= set(agreement.meetings.filter(recorded_by__isnull=False).values_list("recorded_by_id", flat=True))
    return list(people) or programme_admins()


def _other_side(agreement: Agreement, actor: Any) -> list[Any]:
    acting = actor_for(actor)
    if acting is not None and acting.is_liaison:
        return centre_side(agreement)
    return company_liaisons(agreement)


def _both_sides(agreement: Agreement) -> list[Any]:
    return [*centre_side(agreement), *company_liaisons(agreement)]


def _notify(agreement: Agreement, *, key: str, recipients: list[Any], title: str, body: str, actor: Any, anchor=""):
    handoff_notify(
        event_key=key,
        recipients=recipients,
        title=title,
        body=body,
        url=_url(agreement, anchor),
        organisation=agreement.organisation_id,
        actor=actor,
    )


def entry_added(entry: NegotiationEntry, *, actor: Any) -> None:
    """A proposal or counter-proposal goes to the other side (comments do not hand anything over)."""
    agreement = entry.agreement
    if entry.kind not in (EntryKind.PROPOSAL, EntryKind.COUNTER_PROPOSAL):
        return
    _notify(
        agreement,
        key=f"agreement-entry:{entry.pk}",
        recipients=_other_side(agreement, actor),
        title=f"{entry.get_kind_display()} on {agreement.reference}: {entry.get_clause_display().lower()}",
        body=f"{agreement.title}. Put on the record by {actor}; your side can answer it.",
        actor=actor,
        anchor="#timeline",
    )


def meeting_recorded(meeting: Meeting, *, actor: Any) -> None:
    """The minutes of a meeting go to the company."""
    agreement = meeting.agreement
    _notify(
        agreement,
        key=f"agreement-meeting:{meeting.pk}",
        recipients=_other_side(agreement, actor),
        title=f"Minutes of the meeting of {meeting.held_at:%d %b %Y} on {agreement.reference}",
        body=f"{agreement.title}. Recorded by {actor}.",
        actor=actor,
    )


def open_point_raised(point: OpenPoint, *, actor: Any) -> None:
    """A new open point goes to the other side and to its owner."""
    agreement = point.agreement
    _notify(
        agreement,
        key=f"open-point:{point.pk}:raised",
        recipients=[*_other_side(agreement, actor), point.owner_id],
        title=f"Open point raised on {agreement.reference}: {point.title}",
        body=f"Owner: {point.owner}. Due {point.due_date:%d %b %Y}.",
        actor=actor,
        anchor="#open-points",
    )


def open_point_resolved(point: OpenPoint, *, actor: Any) -> None:
    """A resolved open point goes to the other side, its owner and who raised it."""
    agreement = point.agreement
    _notify(
        agreement,
        key=f"open-point:{point.pk}:resolved",
        recipients=[*_other_side(agreement, actor), point.owner_id, point.created_by_id],
        title=f"Open point resolved on {agreement.reference}: {point.title}",
        body=f"Resolved by {actor}.",
        actor=actor,
        anchor="#open-points",
    )


# The status moves that hand the agreement to someone: who is told, and the words.
_STATUS_TELLS = {
    AgreementStatus.AWAITING_SIGNATURE: ("company", "Ready for signature: {ref}", "{title}. Sign by {due}."),
    AgreementStatus.TERMINATED: ("both", "Agreement terminated: {ref}", "{title}. {reason}"),
}


def status_changed(agreement: Agreement, *, actor: Any) -> None:
    """Sent for signature goes to the company; terminated goes to both sides."""
    tell = _STATUS_TELLS.get(agreement.status)
    if tell is None:
        return
    who, title, body = tell
    due = f"{agreement.signature_due:%d %b %Y}" if agreement.signature_due else "the due date"
    words = {"ref": agreement.reference, "title": agreement.title, "due": due, "reason": agreement.status_reason}
    _notify(
        agreement,
        key=f"agreement:{agreement.pk}:{agreement.status}:{agreement.status_changed_at.isoformat()}",
        recipients=company_liaisons(agreement) if who == "company" else _both_sides(agreement),
        title=title.format(**words),
        body=body.format(**words).strip(),
        actor=actor,
    )


def signed(signature: Signature, agreement: Agreement, *, actor: Any) -> None:
    """One side signed: the other side is told it is their turn; the second signature tells both it is active."""
    if agreement.status == AgreementStatus.ACTIVE:
        _notify(
            agreement,
            key=f"agreement:{agreement.pk}:active:{agreement.status_changed_at.isoformat()}",
            recipients=_both_sides(agreement),
            title=f"Agreement active: {agreement.reference}",
            body=f"{agreement.title}. Both sides have signed; it is in force from {agreement.effective_date:%d %b %Y}.",
            actor=actor,
        )
        return
    _notify(
        agreement,
        key=f"agreement-signature:{signature.pk}",
        recipients=_other_side(agreement, actor),
        title=f"Signed by {signature.get_side_display().lower()}: {agreement.reference}, your side's signature is due",
        body=f"{agreement.title}. Signed by {signature.signer_name} ({signature.capacity}).",
        actor=actor,
    )


def notice_given(agreement: Agreement, *, actor: Any) -> None:
    """Notice to end goes to the other side, with the date it takes effect and the reason."""
    _notify(
        agreement,
        key=f"agreement:{agreement.pk}:notice-to-end:{agreement.end_notice_given_on.isoformat()}",
        recipients=_other_side(agreement, actor),
        title=f"Notice to end {agreement.reference}: ends {agreement.ends_on:%d %b %Y}",
        body=f"{agreement.title}. Reason given: {agreement.end_notice_reason}",
        actor=actor,
    )
