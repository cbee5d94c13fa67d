"""Deadlines: every date someone must act by, derived from the object that owns it.

Deadlines are never typed: services of the owning apps describe them with
``DeadlineSpec`` and call ``reminders.services.deadline_sync`` in the same
transaction as the change that moved them.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class DeadlineKind(models.TextChoices):
    WINDOW_END = "window_end", "Assessment window ends"
    TICKET_EXPIRY = "ticket_expiry", "Model access expires"
    OPEN_POINT_DUE = "open_point_due", "Open point due"
    SIGNATURE_DUE = "signature_due", "Signature due"
    FINDING_RESPONSE_DUE = "finding_response_due", "Finding response due"
    PLANNED_RELEASE = "planned_release", "Planned model release"


class Deadline(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    owner_type = models.ForeignKey(ContentType, on_delete=models.CASCADE, related_name="+")
    owner_id = models.PositiveBigIntegerField()
    owner = GenericForeignKey("owner_type", "owner_id")
    kind = models.CharField(max_length=32, choices=DeadlineKind.choices)
    title = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True, help_text="Portal path of the object to act on.")
    due_at = models.DateTimeField()
    organisation = models.ForeignKey(
        "accounts.Organisation", null=True, blank=True, on_delete=models.CASCADE, related_name="deadlines"
    )
    # The people who must act, and those told when it is overdue.
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="deadlines", blank=True)
    escalate_to = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="escalated_deadlines", blank=True)
    # Bumped whenever due_at moves, so reminders of the old date do not block those of the new one.
    revision = models.PositiveIntegerField(default=1)
    is_open = models.BooleanField(default=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.UniqueConstraint(fields=["owner_type", "owner_id", "kind"], name="deadline_one_per_owner_kind")
        ]
        indexes = [
            # The scan asks "open deadlines due before X": this index keeps it proportional to what is due.
            models.Index(fields=["due_at"], condition=models.Q(is_open=True), name="deadline_open_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title} ({self.due_at:%Y-%m-%d})"
