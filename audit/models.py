"""Append-only audit events.

Nobody edits or deletes an audit event: the model refuses a second save and
any delete, the queryset refuses bulk update and delete, the admin is
read-only, and on PostgreSQL triggers refuse UPDATE, DELETE and TRUNCATE as
well. The actor stays linked: users are deactivated, never deleted, and
deleting one who has audit events is refused (``on_delete=PROTECT``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise PermissionError("Audit events are append-only; they cannot be updated.")

    def delete(self):
        raise PermissionError("Audit events are append-only; they cannot be deleted.")


class AuditEvent(models.Model):
    class Action(models.TextChoices):
        CREATE = "create", "Created"
        CHANGE = "change", "Changed"
        DELETE = "delete", "Deleted"
        TRANSITION = "transition", "State change"
        REVEAL = "reveal", "Credential revealed"
        DOWNLOAD = "download", "File downloaded"
        EXPORT = "export", "Exported"
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Failed login"
        LOGOUT = "logout", "Logged out"
        DENIED = "denied", "Permission refused"
        # Someone tried something that only a prober does (another organisation's record, a
        # forged form, a malformed sign-in, a bad API token); at most one per actor, kind and minute.
        PROBE = "probe", "Probing refused"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    occurred_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # PROTECT: deleting a user who has acted is refused (deactivate them instead), so no event
    # ever loses its actor; null only for anonymous actions (failed sign-ins, probes).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Kept as text too, so the record reads on its own (exports, a renamed account).
    actor_email = models.CharField(max_length=254, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices, db_index=True)
    object_type = models.CharField(max_length=100, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    object_repr = models.CharField(max_length=300, blank=True)
    # The case an event belongs to (e.g. an assessment reference), so a case page can show its history.
    # Indexed with the time (audit_case_recent_idx): a case's history is read newest first, a page at a time.
    case_ref = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=500, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    # The id of the web request (or of the task it enqueued) that wrote the event, as in the logs
    # and the X-Request-ID header (core/request_id.py): one search finds what a request did.
    # Empty for events written outside a request (commands, beat). The default lives in the database
    # too, so an INSERT that does not name the column (the previous release's code, still running
    # while the next one is rolled out after its migration) still succeeds.
    request_id = models.CharField(max_length=64, blank=True, default="", db_default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "occurred_at"]),
            # A case's history newest first (its page shows ten events at a time): read in order off the
            # index and stopped after the page, rather than every event of the case sorted each time.
            models.Index(fields=["case_ref", "-occurred_at", "-id"], name="audit_case_recent_idx"),
            # What one request did: events with a request id only (those without are never looked up so).
            models.Index(fields=["request_id"], condition=~models.Q(request_id=""), name="audit_request_id_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_email or 'system'} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise PermissionError("Audit events are append-only; they cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise PermissionError("Audit events are append-only; they cannot be deleted.")
