"""Email preferences (immediate, daily digest, off) and the daily overdue digest to leads and admins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail

from reminders.models import DeliveryStatus, Digest, EmailPreference, EmailStatus, Notification, Reminder
from reminders.services import preference_update, reminders_scan
from reminders.tests.factories import make_deadline

DUE = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)


@pytest.fixture
def scan_at(django_capture_on_commit_callbacks, settings):
    settings.REMINDER_DIGEST_HOUR_UTC = 12

    def run(when: datetime):
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            return reminders_scan()

    return run


def test_digest_preference_gets_notifications_at_once_and_one_email_a_day(evaluator, scan_at, settings):
    settings.REMINDER_DIGEST_HOUR_UTC = 20
    preference_update(user=evaluator, email=EmailPreference.DIGEST)
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator], title="Window ends")
        make_deadline(due_at=DUE - timedelta(hours=2), recipients=[evaluator], title="Access expires")

    scan_at(DUE - timedelta(days=7, minutes=-5))  # 17:05, before the digest hour
    assert Notification.objects.filter(recipient=evaluator).count() == 2
    assert mail.outbox == []
    assert set(Reminder.objects.values_list("email_status", flat=True)) == {EmailStatus.AWAITING_DIGEST}

    scan_at((DUE - timedelta(days=7)).replace(hour=20, minute=5))
    scan_at((DUE - timedelta(days=7)).replace(hour=20, minute=10))  # the day's digest goes once
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "Your reminders: 2 deadlines"
    assert "Window ends" in mail.outbox[0].body and "Access expires" in mail.outbox[0].body
    assert set(Reminder.objects.values_list("email_status", flat=True)) == {EmailStatus.IN_DIGEST}
    assert Digest.objects.get().status == DeliveryStatus.SENT


def test_email_off_still_gives_in_app_notifications(evaluator, scan_at):
    preference_update(user=evaluator, email=EmailPreference.OFF)
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
    scan_at(DUE - timedelta(days=7))
    scan_at((DUE - timedelta(days=6)).replace(hour=13))
    assert mail.outbox == []
    assert Notification.objects.filter(recipient=evaluator).count() == 1
    assert Reminder.objects.get().email_status == EmailStatus.OFF


def test_overdue_digest_goes_daily_to_lead_and_admin_even_with_email_off(
    evaluator, lead, admin_user, liaison_a, scan_at
):
    preference_update(user=lead, email=EmailPreference.OFF)
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator, liaison_a], escalate_to=[lead, admin_user], title="Late one")

    day1 = (DUE + timedelta(days=1)).replace(hour=12, minute=30)
    scan_at(day1)
    scan_at(day1 + timedelta(minutes=5))
    overdue = [m for m in mail.outbox if "overdue deadline" in m.subject]
    assert sorted(m.to[0] for m in overdue) == sorted([lead.email, admin_user.email])
    assert overdue[0].subject == "Review Portal: 1 overdue deadline"
    assert "Late one" in overdue[0].body
    assert Notification.objects.filter(recipient=lead, digest__isnull=False).count() == 1

    scan_at(day1 + timedelta(days=1))  # still overdue the next day: one more digest each
    assert Digest.objects.filter(kind=Digest.Kind.OVERDUE, status=DeliveryStatus.SENT).count() == 4
    assert not Digest.objects.filter(recipient__in=[evaluator, liaison_a]).exists()


def test_no_overdue_digest_once_the_deadline_is_resolved(lead, evaluator, scan_at):
    from reminders.services import deadline_sync
    from reminders.tests.factories import owner_object

    owner = owner_object()
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(owner=owner, due_at=DUE, recipients=[evaluator], escalate_to=[lead])
    scan_at((DUE + timedelta(days=1)).replace(hour=13))
    deadline_sync(owner=owner, specs=[])
    mail.outbox.clear()
    scan_at((DUE + timedelta(days=2)).replace(hour=13))
    assert mail.outbox == []


def test_preference_change_is_audited(evaluator):
    from audit.models import AuditEvent

    preference_update(user=evaluator, email=EmailPreference.DIGEST)
    event = AuditEvent.objects.get(object_type="reminders.reminderpreference")
    assert event.action == AuditEvent.Action.CHANGE
    assert event.actor == evaluator
    assert event.changes == {"email": {"from": "immediate", "to": "digest"}}
