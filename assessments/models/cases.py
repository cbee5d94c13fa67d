"""The assessment case: a submission assessed by a team within a time-boxed window.

Its statuses and moves are defined in ``assessments/states.py`` (and may be imported from here).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse

from assessments.states import ASSESSMENT_FLOW, CLOSED_ASSESSMENT_STATUSES, AssessmentStatus
from core.bounds import BODY, length_checks
from core.choices import MAX_WINDOW_DAYS


class AssessmentOutcome(models.TextChoices):
    NO_CONCERNS = "no_concerns", "No concerns"
    MITIGATIONS_RECOMMENDED = "mitigations_recommended", "Mitigations recommended"
    ACCESS_RESTRICTION_RECOMMENDED = "access_restriction_recommended", "Access restriction recommended"
    RELEASE_DELAY_RECOMMENDED = "release_delay_recommended", "Release delay recommended"


class Assessment(models.Model):
    """The case: one submission assessed by a team within a time-boxed access window."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    submission = models.ForeignKey("assessments.ModelSubmission", on_delete=models.PROTECT, related_name="assessments")
    lead = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="led_assessments")
    team = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="assessments", blank=True)
    risk_domains = models.JSONField(default=list, blank=True)
    window_start = models.DateTimeField()
    window_end = models.DateTimeField(db_index=True)
    # Indexed by assessment_status_sort_idx, which leads with it.
    status = models.CharField(max_length=20, choices=AssessmentStatus.choices, default=AssessmentStatus.SCHEDULED)
    outcome = models.CharField(max_length=40, choices=AssessmentOutcome.choices, blank=True)
    outcome_rationale = models.TextField(blank=True, max_length=BODY, validators=[MaxLengthValidator(BODY)])
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    # Why the window runs past the company's planned public release, when the lead lets it.
    window_after_release_reason = models.TextField(blank=True, max_length=BODY, validators=[MaxLengthValidator(BODY)])
    # Centre-only working notes: never shown to the company.
    internal_notes = models.TextField(blank=True, max_length=BODY, validators=[MaxLengthValidator(BODY)])
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-window_start"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_end__gt=models.F("window_start")), name="assessment_window_positive"
            ),
            # The hard cap of the framework; the agreement's own (smaller) cap is checked by the service.
            models.CheckConstraint(
                condition=models.Q(window_end__lte=models.F("window_start") + timedelta(days=MAX_WINDOW_DAYS)),
                name="assessment_window_at_most_30_days",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=[s.value for s in AssessmentStatus]), name="assessment_status_valid"
            ),
            models.CheckConstraint(
                condition=~models.Q(status=AssessmentStatus.COMPLETED) | ~models.Q(outcome=""),
                name="assessment_completed_has_outcome",
            ),
            *length_checks(
                "assessment",
                {"outcome_rationale": BODY, "internal_notes": BODY, "window_after_release_reason": BODY},
            ),
        ]
        indexes = [
            # The list's sort (latest window first), alone and under its status filter.
            models.Index(fields=["-window_start"], name="assessment_window_sort_idx"),
            models.Index(fields=["status", "-window_start"], name="assessment_status_sort_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.reference} — {self.submission}"

    def get_absolute_url(self) -> str:
        return reverse("assessments:detail", kwargs={"reference": self.reference})

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_ASSESSMENT_STATUSES

    @property
    def is_withdrawn(self) -> bool:
        return self.status == AssessmentStatus.WITHDRAWN

    @property
    def next_status(self) -> str | None:
        """The next step on the forward path, or None at the end (completion needs an outcome)."""
        return ASSESSMENT_FLOW.get(self.status)

    @property
    def organisation_id(self) -> int:
        return self.submission.organisation_id

    @property
    def window_days(self) -> float:
        return (self.window_end - self.window_start).total_seconds() / 86400
