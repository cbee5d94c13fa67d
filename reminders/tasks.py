"""Celery tasks of the reminders app: thin wrappers that take ids and call one service.

The services publish them by name through reminders/queue.py and never import
this module. Every task is idempotent (the services claim rows before acting), so a
redelivered message (late acknowledgement) or a duplicate enqueue does no harm.
Only transient transport errors are retried, with exponential backoff; the
row stays in the database either way, so the next scan would find it too.
"""

from __future__ import annotations

import smtplib

from celery import shared_task

from reminders import services
from reminders.queue import DELIVER_DIGEST, DELIVER_HANDOFF, DELIVER_REMINDER, SCAN

# Network and mail-server hiccups are worth retrying; a template bug is not.
TRANSIENT_ERRORS = (OSError, smtplib.SMTPException)
RETRY = {
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 5,  # 5 s, 10 s, 20 s ... capped below
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 5,
}


@shared_task(name=SCAN, ignore_result=True)
def scan() -> dict:
    """Beat runs this every few minutes: find what is due and enqueue deliveries."""
    return services.reminders_scan().__dict__


@shared_task(name=DELIVER_REMINDER, ignore_result=True, **RETRY)
def deliver_reminder(reminder_id: int) -> str:
    return services.reminder_deliver(reminder_id=reminder_id)


@shared_task(name=DELIVER_DIGEST, ignore_result=True, **RETRY)
def deliver_digest(digest_id: int) -> str:
    return services.digest_deliver(digest_id=digest_id)


@shared_task(name=DELIVER_HANDOFF, ignore_result=True, **RETRY)
def deliver_handoff(handoff_id: int) -> str:
    return services.handoff_deliver(handoff_id=handoff_id)
