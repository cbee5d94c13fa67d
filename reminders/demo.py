"""Demo reminders: run the scan once so the demo people have notifications to look at.

Runs after the agreements, assessments and findings seeds, whose services
have already created the deadlines through deadline_sync. Idempotent: the
scan creates each reminder once (unique constraint) and delivery claims each
row, so running seed_demo again sends nothing new. Demo emails go nowhere.
"""

from __future__ import annotations

from django.core.mail import get_connection
from django.utils import timezone

from reminders.models import DeliveryStatus, EmailPreference, Notification, Reminder, ReminderPreference
from reminders.services import digest_deliver, reminder_deliver, reminders_scan


def seed(world) -> None:
    # One evaluator prefers a daily digest, one liaison reads reminders in the portal only.
    ReminderPreference.objects.get_or_create(user=world.users["evaluator2"], defaults={"email": EmailPreference.DIGEST})
    ReminderPreference.objects.get_or_create(user=world.users["liaison_gamma"], defaults={"email": EmailPreference.OFF})

    result = reminders_scan()
    connection = get_connection("django.core.mail.backends.dummy.EmailBackend")
    sent = 0
    for reminder_id in Reminder.objects.filter(status=DeliveryStatus.PENDING).values_list("id", flat=True):
        sent += reminder_deliver(reminder_id=reminder_id, connection=connection) == "sent"
    from reminders.models import Digest

    for digest_id in Digest.objects.filter(status=DeliveryStatus.PENDING).values_list("id", flat=True):
        digest_deliver(digest_id=digest_id, connection=connection)

    # The lead has already read their oldest notifications, as a lived-in inbox would show.
    lead = world.users["lead"]
    older = Notification.objects.filter(recipient=lead, read_at__isnull=True).order_by("-created_at")[3:]
    Notification.objects.filter(pk__in=[n.pk for n in older]).update(read_at=timezone.now())
    world.log.append(
        f"Reminders: {result.deadlines} deadlines due for a reminder, {sent} reminders delivered "
        f"(notifications now: {Notification.objects.count()})."
    )
