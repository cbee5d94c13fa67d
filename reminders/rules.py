"""The policy's rules and scopers for deadlines, reminder deliveries, notifications and reminder
preferences. Registered with the engine (``accounts.permissions``) when the app loads
(``RemindersConfig.ready``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from accounts.permissions import Actor, rule, rule_filter, scoper
from reminders.models import deadline_involves

# A deadline is seen by the people it reminds and those it escalates to; programme admins see all.


@scoper("reminders.deadline")
def _deadlines(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    return qs.filter(deadline_involves(actor.user_id))


@rule("delivery.retry")
def _delivery_retry(actor: Actor, obj: Any) -> bool:
    # Queuing a failed reminder or digest again is the programme's remedy once the cause is fixed.
    return actor.is_admin


@rule_filter("delivery.retry", model="reminders.reminder")
@rule_filter("delivery.retry", model="reminders.digest")
@rule_filter("delivery.retry", model="reminders.handoff")
def _delivery_retry_where(actor: Actor) -> Q | None:
    return Q() if actor.is_admin else None


# Reminders, digests and hand-offs are one person's deliveries; programme admins see all of them
# (delivery status).
@scoper("reminders.reminder")
@scoper("reminders.digest")
@scoper("reminders.handoff")
def _deliveries(qs: QuerySet, actor: Actor) -> QuerySet:
    if actor.is_admin:
        return qs
    return qs.filter(recipient_id=actor.user_id)


# Notifications and reminder preferences are personal, admins included: nobody reads another's inbox.
@scoper("reminders.notification")
def _notifications(qs: QuerySet, actor: Actor) -> QuerySet:
    return qs.filter(recipient_id=actor.user_id)


@scoper("reminders.reminderpreference")
def _reminder_preferences(qs: QuerySet, actor: Actor) -> QuerySet:
    return qs.filter(user_id=actor.user_id)


@rule("notification.read")
def _notification_read(actor: Actor, obj: Any) -> bool:
    return obj is not None and obj.recipient_id == actor.user_id


@rule("notification.read_all")
def _notification_read_all(actor: Actor, obj: Any) -> bool:
    return True  # only ever the actor's own notifications


@rule("reminder_preference.edit")
def _reminder_preference_edit(actor: Actor, obj: Any) -> bool:
    # obj is the person whose preferences and calendar feed change: only yourself.
    return obj is not None and getattr(obj, "pk", None) == actor.user_id
