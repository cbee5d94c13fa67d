"""Model access in use: revealing the credential, and the clock that starts and ends access.

Access ends at the earlier of the approved end and the assessment window end:
the periodic ``tickets_update_due`` expires tickets on time, and
``ticket_reveal`` checks the time itself, so a late task never lets an ended
credential be shown. Uses the ticket helpers of ``tickets``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.permissions import require
from assessments import crypto, handoffs
from assessments.models import AccessTicket, CredentialReveal
from assessments.services.tickets import _audit, _finish, _fmt, _locked, _not_from, _status_change
from assessments.states import LIVE_TICKET_STATUSES, TICKET_MOVES
from audit.services import client_ip
from core.errors import RuleViolation, TransitionNotAllowed

ACTIVATE = TICKET_MOVES["activate"]
EXPIRE = TICKET_MOVES["expire"]


# --- Reveal --------------------------------------------------------------------------


def _expire(ticket: AccessTicket, *, now: datetime, request=None) -> None:
    ends = ticket.access_ends_at
    which = "assessment window" if ticket.assessment.window_end <= ticket.ends_at else "approved period"
    _finish(
        ticket,
        status=EXPIRE.target,
        actor=None,
        reason=f"Access ended with the {which} at {_fmt(ends)}.",
        summary=f"Expired: the {which} ended",
        request=request,
    )
    handoffs.ticket_handed_off(ticket, event="expired", actor=None)


def ticket_reveal(*, actor: Any, ticket: AccessTicket, request=None) -> str:
    """Show the credential to a team member, once per call, and record who, when and from where.

    Refused when the ticket is not live, before the period starts, and after
    access has ended: in that last case the ticket is expired on the spot
    (a late expiry task never lets an ended credential be shown).
    """
    require(actor, "ticket.reveal", ticket, message="Only the evaluators on this case may reveal the credential.")
    now = timezone.now()
    ended_late = False
    with transaction.atomic():
        ticket = _locked(ticket)
        if ticket.status in LIVE_TICKET_STATUSES and now >= ticket.access_ends_at:
            _expire(ticket, now=now, request=request)
            ended_late = True
        else:
            if ticket.status not in LIVE_TICKET_STATUSES:
                raise _not_from(ticket, "revealed (only provisioned access can be)")
            if now < ticket.starts_at:
                raise TransitionNotAllowed(f"Access under {ticket.reference} begins at {_fmt(ticket.starts_at)}.")
            if not ticket.credential_ciphertext:
                raise RuleViolation("No credential was provided for this ticket; see the instructions.")
            if ACTIVATE.starts_from(ticket.status):
                before = ticket.status
                ticket.status, ticket.activated_at = ACTIVATE.target, now
                ticket.save(update_fields=["status", "activated_at", "updated_at"])
                _audit(
                    ticket,
                    actor=actor,
                    action="transition",
                    summary="Access in use",
                    changes=_status_change(before, ticket.status),
                    request=request,
                )
            user_agent = request.META.get("HTTP_USER_AGENT", "")[:300] if request is not None else ""
            CredentialReveal.objects.create(
                ticket=ticket, revealed_by=actor, source_ip=client_ip(request), user_agent=user_agent
            )
            _audit(ticket, actor=actor, action="reveal", summary="Credential revealed", request=request)
            secret = crypto.unseal(ticket.credential_ciphertext)
    if ended_late:
        # Raised after the commit, so the expiry stays recorded.
        raise TransitionNotAllowed(f"Access under {ticket.reference} ended at {_fmt(ticket.ended_at)}.")
    return secret


# --- Time -------------------------------------------------------------------------------


def tickets_update_due(*, now: datetime | None = None) -> dict[str, int]:
    """Expire every ticket whose access has ended; mark provisioned tickets active once their period starts.

    Idempotent: each ticket is re-read under a row lock and only changed if it
    is still due, so overlapping runs do nothing twice.
    """
    now = now or timezone.now()
    expired = activated = 0
    candidates = AccessTicket.objects.filter(status__in=EXPIRE.sources).filter(
        Q(ends_at__lte=now) | Q(assessment__window_end__lte=now) | Q(status__in=ACTIVATE.sources, starts_at__lte=now)
    )
    for pk in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            ticket = AccessTicket.objects.select_for_update().select_related("assessment__submission").get(pk=pk)
            if EXPIRE.starts_from(ticket.status) and now >= ticket.access_ends_at:
                _expire(ticket, now=now)
                expired += 1
            elif ACTIVATE.starts_from(ticket.status) and ticket.starts_at <= now:
                before = ticket.status
                ticket.status, ticket.activated_at = ACTIVATE.target, now
                ticket.save(update_fields=["status", "activated_at", "updated_at"])
                _audit(
                    ticket,
                    actor=None,
                    action="transition",
                    summary="Access period began",
                    changes=_status_change(before, ticket.status),
                )
                activated += 1
    return {"expired": expired, "activated": activated}


def ticket_credentials_reencrypt() -> int:
    """Re-seal every stored credential under the newest key (after a key was put in front). Returns the count."""
    count = 0
    for pk in AccessTicket.objects.exclude(credential_ciphertext="").values_list("pk", flat=True):
        with transaction.atomic():
            ticket = AccessTicket.objects.select_for_update().get(pk=pk)
            if not ticket.credential_ciphertext:
                continue
            ticket.credential_ciphertext = crypto.reseal(ticket.credential_ciphertext)
            ticket.save(update_fields=["credential_ciphertext", "updated_at"])
            count += 1
    return count
