from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MaxLengthValidator
from django.db import models
from django.urls import reverse

from core.bounds import NOTE, TITLE, VERSION, length_checks


class Modality(models.TextChoices):
    TEXT = "text", "Text"
    CODE = "code", "Code"
    IMAGE = "image", "Image"
    AUDIO = "audio", "Audio"
    VIDEO = "video", "Video"
    AGENTIC = "agentic", "Agentic / tool use"


class ModelSubmission(models.Model):
    """A covered frontier model a company offers for assessment under an active agreement."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reference = models.CharField(max_length=20, unique=True, editable=False)
    organisation = models.ForeignKey("accounts.Organisation", on_delete=models.PROTECT, related_name="submissions")
    agreement = models.ForeignKey("agreements.Agreement", on_delete=models.PROTECT, related_name="submissions")
    model_name = models.CharField(max_length=TITLE)
    model_version = models.CharField(max_length=VERSION)
    modalities = models.JSONField(default=list, blank=True)
    intended_release_date = models.DateField(null=True, blank=True, db_index=True)
    notes = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    # The centre's record of this release, given before the submission (its late flag shows here).
    release_notice = models.ForeignKey(
        "agreements.ReleaseNotice", null=True, blank=True, on_delete=models.PROTECT, related_name="submissions"
    )
    # The company may take the offer back before its assessment starts (services.submissions).
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    withdrawal_reason = models.TextField(blank=True, max_length=NOTE, validators=[MaxLengthValidator(NOTE)])
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "model_name", "model_version"], name="submission_model_version_unique"
            ),
            *length_checks("modelsubmission", {"notes": NOTE, "withdrawal_reason": NOTE}),
            models.CheckConstraint(
                condition=models.Q(withdrawn_at__isnull=True) | ~models.Q(withdrawal_reason=""),
                name="submission_withdrawn_has_reason",
            ),
        ]
        # The list's sort (newest first).
        indexes = [
            models.Index(fields=["-created_at"], name="submission_created_sort_idx"),
            # The list's sort by model (name, then version, newest first among equals).
            models.Index(fields=["model_name", "model_version", "-created_at"], name="submission_model_sort_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.model_name} {self.model_version}"

    def get_absolute_url(self) -> str:
        return reverse("assessments:submission_detail", kwargs={"reference": self.reference})

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def modality_labels(self) -> list[str]:
        labels = dict(Modality.choices)
        return [labels.get(value, value) for value in self.modalities]
