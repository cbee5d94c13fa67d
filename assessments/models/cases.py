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
from core.bounds import BODY, NOTE, length_checks
from core.choices import MAX_WINDOW_DAYS


class AssessmentOutcome(models.TextChoices):
    NO_CONCERNS = "no_concerns", "No concerns"
    MITIGATIONS_RECOMMENDED = "mitigations_recommended", "Mitigations recommended"
    ACCESS_RESTRICTION_RECOMMENDED = "access_restriction_recommended", "Access restriction recommended"
    RELEASE_DELAY_RECOMMENDED = "release_delay_recommended", "Release delay recommended"


# Outcomes that call for the agreement's "when a risk is found" term (access restriction, release hold).
OUTCOMES_UNDER_RISK_TERM = (
    AssessmentOutcome.ACCESS_RESTRICTION_RECOMMENDED,
    AssessmentOutcome.RELEASE_DELAY_RECOMMENDED,
)


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
    # What the company is told of the outcome when the case is completed: written for it, so it may be
    # shorter than the rationale (which stays the centre's record).
    outcome_company_summary = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    # The company's acknowledgement of the outcome, with its comment if any.
    outcome_acknowledged_at = models.DateTimeField(null=True, blank=True)
    outcome_acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    outcome_company_comment = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
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
                {
                    "outcome_rationale": BODY,
                    "internal_notes": BODY,
                    "window_after_release_reason": BODY,
                    "outcome_company_summary": NOTE,
                    "outcome_company_comment": NOTE,
                },
            ),
            # Only a completed case has an outcome to acknowledge.
            models.CheckConstraint(
                condition=models.Q(outcome_acknowledged_at__isnull=True) | models.Q(status=AssessmentStatus.COMPLETED),
                name="assessment_outcome_acknowledged_only_completed",
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
    def outcome_awaits_acknowledgement(self) -> bool:
        return self.status == AssessmentStatus.COMPLETED and self.outcome_acknowledged_at is None

    @property
    def outcome_calls_for_restriction(self) -> bool:
        """The outcome asks for an access restriction or a later release: the agreement's "when a risk
        is found" term says what the company agreed to then."""
        return self.outcome in OUTCOMES_UNDER_RISK_TERM

    @property
    def organisation_id(self) -> int:
        return self.submission.organisation_id

    @property
    def window_days(self) -> float:
        return (self.window_end - self.window_start).total_seconds() / 86400
