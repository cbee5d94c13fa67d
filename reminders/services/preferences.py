"""Notifications read, reminder email preferences and the calendar feed address."""

from __future__ import annotations

import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.permissions import require
from audit.models import AuditEvent
from audit.services import audit_record
from reminders.models import Notification, ReminderPreference
from reminders.selectors import hash_calendar_token


def notification_mark_read(*, user: Any, notification: Notification) -> Notification:
    """Mark one of the user's own notifications read (idempotent)."""
    require(user, "notification.read", notification)
    if notification.read_at is None:
        notification.read_at = timezone.now()
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=notification.read_at)
    return notification


def notification_mark_all_read(*, user: Any) -> int:
    """Mark every unread notification of the user read; returns how many changed."""
    require(user, "notification.read_all")
    return Notification.objects.filter(recipient=user, read_at__isnull=True).update(read_at=timezone.now())


def preference_update(*, user: Any, email: str, request: Any = None) -> ReminderPreference:
    """Set how the user gets reminder emails (overdue escalations to leads are always emailed)."""
    require(user, "reminder_preference.edit", user)
    with transaction.atomic():
        preference, _ = ReminderPreference.objects.select_for_update().get_or_create(user=user)
        before = preference.email
        if before != email:
            preference.email = email
            preference.save(update_fields=["email", "updated_at"])
            audit_record(
                actor=user,
                action=AuditEvent.Action.CHANGE,
                obj=preference,
                changes={"email": {"from": before, "to": email}},
                request=request,
                summary=f"Reminder emails: {preference.get_email_display()}",
            )
    return preference


def calendar_token_issue(*, user: Any, request: Any = None) -> str:
    """A new secret calendar feed token for the user (the old one stops working). Shown once; stored hashed."""
    require(user, "reminder_preference.edit", user)
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        preference, _ = ReminderPreference.objects.select_for_update().get_or_create(user=user)
        replaced = preference.has_calendar_feed
        preference.calendar_token_hash = hash_calendar_token(token)
        preference.calendar_token_created_at = timezone.now()
        preference.save(update_fields=["calendar_token_hash", "calendar_token_created_at", "updated_at"])
        audit_record(
            actor=user,
            action=AuditEvent.Action.CREATE,
            obj=preference,
            request=request,
            summary="Calendar feed address replaced" if replaced else "Calendar feed address created",
        )
    return token


def calendar_token_revoke(*, user: Any, request: Any = None) -> bool:
    """Stop the user's calendar feed address from working. False when there was none."""
    require(user, "reminder_preference.edit", user)
    with transaction.atomic():
        preference = ReminderPreference.objects.select_for_update().filter(user=user).first()
        if preference is None or not preference.has_calendar_feed:
            return False
        preference.calendar_token_hash = None
        preference.calendar_token_created_at = None
        preference.save(update_fields=["calendar_token_hash", "calendar_token_created_at", "updated_at"])
        audit_record(
            actor=user,
            action=AuditEvent.Action.CHANGE,
            obj=preference,
            request=request,
            summary="Calendar feed revoked",
        )
    return True
