"""The voluntary agreement between a developer company and the centre.

This module holds the agreement and its structured terms; the negotiation
record (proposals, meetings, open points, versions, documents, signatures)
lives beside it. Rules about who may change what, and when, live in
``agreements/services.py`` and ``accounts/permissions.py``.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from reviewportal.choices import MAX_WINDOW_DAYS


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    NEGOTIATING = "negotiating", "Negotiating"
    AWAITING_SIGNATURE = "awaiting_signature", "Awaiting signature"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    TERMINATED = "terminated", "Terminated"
    WITHDRAWN = "withdrawn", "Withdrawn"


OPEN_AGREEMENT_STATUSES = (AgreementStatus.DRAFT, AgreementStatus.NEGOTIATING, AgreementStatus.AWAITING_SIGNATURE)


class RiskConsequence(models.TextChoices):
    CONSULTATION = "consultation", "Consultation only"
    ACCESS_RESTRICTION = "access_restriction", "Access restriction"
    RELEASE_HOLD = "release_hold", "Release hold"


class Agreement(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        related_name="agreements",
        limit_choices_to={"kind": "developer"},
    )
    title = models.CharField(max_length=200)
    status = models.CharField(
        max_length=24, choices=AgreementStatus.choices, default=AgreementStatus.DRAFT, db_index=True
    )

    # Structured terms. Every change of these makes a new version (see agreements.services).
    max_window_days = models.PositiveSmallIntegerField(
        "maximum assessment window (days)",
        default=MAX_WINDOW_DAYS,
        validators=[MinValueValidator(1), MaxValueValidator(MAX_WINDOW_DAYS)],
    )
    risk_domains = models.JSONField("risk domains in scope", default=list, blank=True)
    access_modalities = models.JSONField("access modalities offered", default=list, blank=True)
    trade_secret_terms = models.TextField("trade-secret handling", blank=True)
    release_notice_days = models.PositiveSmallIntegerField(
        "release-notice period (days)", default=14, validators=[MaxValueValidator(365)]
    )
    risk_consequence = models.CharField(
        "when a risk is found", max_length=24, choices=RiskConsequence.choices, default=RiskConsequence.CONSULTATION
    )
    effective_date = models.DateField(null=True, blank=True)
    expiry_date = models.DateField(null=True, blank=True)
    signature_due = models.DateField(null=True, blank=True, help_text="Date by which both sides should have signed.")

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(max_window_days__gte=1, max_window_days__lte=MAX_WINDOW_DAYS),
                name="agreement_window_days_1_to_30",
            ),
            models.CheckConstraint(
                condition=models.Q(expiry_date__isnull=True)
                | models.Q(effective_date__isnull=True)
                | models.Q(expiry_date__gt=models.F("effective_date")),
                name="agreement_expiry_after_effective",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in AgreementStatus]), name="agreement_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.title}"

    @property
    def is_active(self) -> bool:
        return self.status == AgreementStatus.ACTIVE
