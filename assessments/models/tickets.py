"""Model-access tickets: an evaluator's request for access to a company's model, and its fulfilment.

Tickets are never deleted. Expired, revoked and rejected tickets stay in the
history with who ended them, when and why. The credential the company
provides is stored only encrypted (see ``assessments.crypto``) and is read
only by ``ticket_reveal`` (``assessments/services/ticket_access.py``), which
records every reveal. Its statuses and moves are defined in
``assessments/states.py`` (and may be imported from here).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse

from assessments.states import (
    ENDED_TICKET_STATUSES,
    GRANTED_TICKET_STATUSES,
    LIVE_TICKET_STATUSES,
    UNGRANTED_TICKET_STATUSES,
    TicketStatus,
)
from core.bounds import CREDENTIAL_CIPHERTEXT, ENDPOINT, NOTE, length_checks
from core.choices import MAX_WINDOW_DAYS, AccessKind


class AccessTicket(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    assessment = models.ForeignKey("assessments.Assessment", on_delete=models.PROTECT, related_name="tickets")
    kind = models.CharField(max_length=24, choices=AccessKind.choices)
    justification = models.TextField(max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    # Indexed by ticket_status_sort_idx, which leads with it.
    status = models.CharField(max_length=16, choices=TicketStatus.choices, default=TicketStatus.REQUESTED)

    # What the evaluator asked for.
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(auto_now_add=True)
    wanted_from = models.DateTimeField()
    wanted_to = models.DateTimeField()

    # The period the lead approved (possibly shorter than wanted).
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])

    # What the company handed over.
    endpoint = models.CharField("endpoint or location", max_length=ENDPOINT, blank=True)
    # Fernet token only, never plaintext; read through ticket_reveal. The credential is limited before
    # encryption (bounds.CREDENTIAL_BYTES); this is room for its token.
    credential_ciphertext = models.TextField(
        blank=True,
        editable=False,
        max_length=CREDENTIAL_CIPHERTEXT,
        validators=[MaxLengthValidator(CREDENTIAL_CIPHERTEXT)],
    )
    instructions = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    provisioned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provisioned_at = models.DateTimeField(null=True, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)

    # An extension asked for by the team; it needs the liaison's consent.
    extension_requested_to = models.DateTimeField(null=True, blank=True)
    extension_reason = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    extension_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    extension_requested_at = models.DateTimeField(null=True, blank=True)

    # How it ended (expired, rejected or revoked). ended_by is empty when time ended it.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in TicketStatus]), name="ticket_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=[k.value for k in AccessKind]), name="ticket_kind_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(wanted_to__gt=models.F("wanted_from")), name="ticket_wanted_positive"
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(
                    ends_at__gt=models.F("starts_at"),
                    ends_at__lte=models.F("starts_at") + timedelta(days=MAX_WINDOW_DAYS),
                ),
                name="ticket_period_within_30_days",
            ),
            # Approved and later states always carry the approved period.
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in UNGRANTED_TICKET_STATUSES])
                | models.Q(starts_at__isnull=False, ends_at__isnull=False),
                name="ticket_approved_has_period",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=[s.value for s in ENDED_TICKET_STATUSES])
                | models.Q(ended_at__isnull=False),
                name="ticket_ended_has_time",
            ),
            *length_checks(
                "accessticket",
                {
                    "justification": NOTE,
                    "decision_note": NOTE,
                    "credential_ciphertext": CREDENTIAL_CIPHERTEXT,
                    "instructions": NOTE,
                    "extension_reason": NOTE,
                    "end_reason": NOTE,
                },
            ),
        ]
        indexes = [
            # The expiry scan: live tickets whose end has passed.
            models.Index(
                fields=["ends_at"],
                condition=models.Q(status__in=[s.value for s in LIVE_TICKET_STATUSES]),
                name="ticket_live_end_idx",
            ),
            # The list's sort (newest request first), alone and under its status filter; with the
            # reference, the API's cursor order (many requests share a second in a bulk load).
            models.Index(fields=["-requested_at", "-reference"], name="ticket_requested_ref_idx"),
            models.Index(fields=["status", "-requested_at"], name="ticket_status_sort_idx"),
            # The list's kind filter, newest request first, and its sort by kind.
            models.Index(fields=["kind", "-requested_at"], name="ticket_kind_sort_idx"),
            # The dashboard's count of a case team's tickets by status, and of the requests a lead
            # must decide (not their own), from this index alone.
            models.Index(fields=["assessment", "status", "requested_by"], name="ticket_case_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.get_kind_display()}"

    def get_absolute_url(self) -> str:
        return reverse("assessments:ticket_detail", kwargs={"reference": self.reference})

    @property
    def access_ends_at(self) -> datetime | None:
        """The earlier of the approved end and the assessment window end: access stops then."""
        if self.ends_at is None:
            return None
        return min(self.ends_at, self.assessment.window_end)

    @property
    def has_credential(self) -> bool:
        return bool(self.credential_ciphertext)

    @property
    def is_ended(self) -> bool:
        return self.status in ENDED_TICKET_STATUSES

    @property
    def is_live(self) -> bool:
        """The company has handed over access (a credential may exist)."""
        return self.status in LIVE_TICKET_STATUSES

    @property
    def is_granted(self) -> bool:
        """Access was granted and has not ended."""
        return self.status in GRANTED_TICKET_STATUSES

    @property
    def has_pending_extension(self) -> bool:
        return self.extension_requested_to is not None


class CredentialReveal(models.Model):
    """One showing of a ticket's credential to one person (append-only)."""

    ticket = models.ForeignKey(AccessTicket, on_delete=models.PROTECT, related_name="reveals")
    revealed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    revealed_at = models.DateTimeField(auto_now_add=True, db_index=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-revealed_at"]

    def __str__(self) -> str:
        return f"{self.ticket.reference} revealed to {self.revealed_by} at {self.revealed_at:%Y-%m-%d %H:%M}"
