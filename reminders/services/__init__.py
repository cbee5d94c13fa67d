"""Services of the reminders app: keeping deadlines in step, the scan, delivery, preferences.

Split by stage of a reminder's journey (stages, sync, scan, delivery, preferences); import
them from here.

How a reminder travels:

1. ``deadline_sync`` (called by the owning app's service, in its transaction)
   stores the deadline and sets ``next_reminder_at`` to its first reminder time.
2. ``reminders_scan`` (Celery beat, every few minutes) reads only deadlines whose
   ``next_reminder_at`` has passed, inserts one ``Reminder`` row per person for
   the current stage (the unique constraint drops duplicates), moves
   ``next_reminder_at`` to the next stage, and after commit enqueues one
   delivery task per pending reminder.
3. ``reminder_deliver`` (a worker) claims the row with
   ``UPDATE ... WHERE status='pending'`` and goes on only if it changed exactly
   one row, sends, and marks it sent. A failure releases the claim for a retry;
   a worker that dies leaves a claim that the scan frees after a timeout.

Hand-offs (a finding released, a ticket approved...) travel the same way from
``handoff_notify``, called by the owning app's service; see ``handoffs``.
"""

from reminders.selectors import hash_calendar_token
from reminders.services.delivery import (
    MAX_ATTEMPTS,
    delivery_retry,
    digest_deliver,
    email_preference_for,
    reminder_deliver,
    reminder_text,
)
from reminders.services.handoffs import (
    handoff_deliver,
    handoff_notify,
    notifications_mark_read_for,
    notifications_open_page,
)
from reminders.services.preferences import (
    calendar_token_issue,
    calendar_token_revoke,
    notification_mark_all_read,
    notification_mark_read,
    preference_update,
)
from reminders.services.scan import ScanResult, due_deadlines_query, reminders_scan
from reminders.services.stages import (
    current_stage,
    first_stage_time,
    next_stage_time,
    reminder_stages,
    stage_time,
)
from reminders.services.sync import deadline_sync

__all__ = [
    "MAX_ATTEMPTS",
    "ScanResult",
    "calendar_token_issue",
    "calendar_token_revoke",
    "current_stage",
    "deadline_sync",
    "delivery_retry",
    "digest_deliver",
    "due_deadlines_query",
    "email_preference_for",
    "first_stage_time",
    "handoff_deliver",
    "handoff_notify",
    "hash_calendar_token",
    "next_stage_time",
    "notification_mark_all_read",
    "notification_mark_read",
    "notifications_mark_read_for",
    "notifications_open_page",
    "preference_update",
    "reminder_deliver",
    "reminder_stages",
    "reminder_text",
    "reminders_scan",
    "stage_time",
]
