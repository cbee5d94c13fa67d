"""The scan and delivery: offsets, overdue, moved and closed deadlines, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail

from reminders.models import Deadline, DeliveryStatus, EmailStatus, Notification, Reminder
from reminders.services import deadline_sync, reminder_deliver, reminders_scan
from reminders.tests.factories import make_deadline, owner_object, spec

DUE = datetime(2026, 3, 20, 17, 0, tzinfo=UTC)  # a Friday, 17:00 UTC


@pytest.fixture
def scan_and_deliver(django_capture_on_commit_callbacks):
    """Run one scan at ``when`` and let its enqueued deliveries run (Celery is eager in tests)."""

    def run(when: datetime):
        with time_machine.travel(when, tick=False), django_capture_on_commit_callbacks(execute=True):
            return reminders_scan()

    return run


def stages_sent(user) -> list[int]:
    return list(
        Reminder.objects.filter(recipient=user, status=DeliveryStatus.SENT)
        .order_by("sent_at", "id")
        .values_list("offset_days", flat=True)
    )


def test_reminders_go_out_7_3_1_days_before_and_once_overdue(evaluator, scan_and_deliver):
    with time_machine.travel(DUE - timedelta(days=20), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])

    scan_and_deliver(DUE - timedelta(days=8))
    assert stages_sent(evaluator) == []

    for when, expected in [
        (DUE - timedelta(days=7), [7]),
        (DUE - timedelta(days=6, hours=23), [7]),  # the next scan finds nothing new
        (DUE - timedelta(days=3), [7, 3]),
        (DUE - timedelta(days=1), [7, 3, 1]),
        (DUE + timedelta(minutes=5), [7, 3, 1, 0]),
        (DUE + timedelta(days=3), [7, 3, 1, 0]),  # overdue is said once, not every day
    ]:
        scan_and_deliver(when)
        assert stages_sent(evaluator) == expected, when

    assert [m.subject for m in mail.outbox] == [
        "Due in 7 days: Access window of ASM-2026-0001 ends",
        "Due in 3 days: Access window of ASM-2026-0001 ends",
        "Due in 1 day: Access window of ASM-2026-0001 ends",
        "Overdue: Access window of ASM-2026-0001 ends",
    ]
    assert all(m.to == [evaluator.email] for m in mail.outbox)
    assert Notification.objects.filter(recipient=evaluator).count() == 4


def test_deadline_created_two_days_before_gets_one_reminder_not_the_missed_ones(evaluator, scan_and_deliver):
    with time_machine.travel(DUE - timedelta(days=2), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
    scan_and_deliver(DUE - timedelta(days=2) + timedelta(minutes=5))
    assert stages_sent(evaluator) == [3]
    assert mail.outbox[0].subject.startswith("Due in 2 days:")


def test_every_recipient_gets_their_own_reminder(evaluator, lead, liaison_a, scan_and_deliver):
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator, liaison_a], escalate_to=[lead])
    scan_and_deliver(DUE - timedelta(days=7))
    assert sorted(m.to[0] for m in mail.outbox) == sorted([evaluator.email, liaison_a.email])
    assert not Reminder.objects.filter(recipient=lead).exists()  # the lead is told when it is overdue


def test_moving_a_deadline_re_arms_its_reminders(evaluator, scan_and_deliver):
    owner = owner_object()
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(owner=owner, due_at=DUE, recipients=[evaluator])
    scan_and_deliver(DUE - timedelta(days=7))
    assert stages_sent(evaluator) == [7]

    new_due = DUE + timedelta(days=5)
    with time_machine.travel(DUE - timedelta(days=6), tick=False):
        (deadline,) = deadline_sync(owner=owner, specs=[spec(due_at=new_due, recipients=[evaluator])])
    assert deadline.revision == 2

    scan_and_deliver(DUE - timedelta(days=3))  # the old date's 3-day reminder no longer applies
    assert stages_sent(evaluator) == [7]
    scan_and_deliver(new_due - timedelta(days=7))
    assert list(Reminder.objects.filter(status=DeliveryStatus.SENT).values_list("revision", "offset_days")) == [
        (2, 7),
        (1, 7),
    ]


def test_moving_a_deadline_cancels_reminders_of_the_old_date_not_yet_sent(evaluator):
    owner = owner_object()
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(owner=owner, due_at=DUE, recipients=[evaluator])
        reminders_scan()  # created, but its delivery never ran
        deadline_sync(owner=owner, specs=[spec(due_at=DUE + timedelta(days=14), recipients=[evaluator])])
    reminder = Reminder.objects.get()
    assert reminder.status == DeliveryStatus.CANCELLED
    assert reminder_deliver(reminder_id=reminder.pk) == "not_claimed"
    assert mail.outbox == []


def test_resolved_item_cancels_its_reminders(evaluator, scan_and_deliver):
    owner = owner_object()
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(owner=owner, due_at=DUE, recipients=[evaluator])
        reminders_scan()
        deadline_sync(owner=owner, specs=[])  # e.g. the finding was answered
    deadline = Deadline.objects.get()
    assert not deadline.is_open and deadline.next_reminder_at is None
    assert Reminder.objects.get().status == DeliveryStatus.CANCELLED
    scan_and_deliver(DUE + timedelta(days=1))
    assert mail.outbox == []
    assert not Notification.objects.exists()


def test_a_reminder_claimed_before_its_deadline_closed_is_not_sent(evaluator):
    owner = owner_object()
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(owner=owner, due_at=DUE, recipients=[evaluator])
        reminders_scan()
    reminder = Reminder.objects.get()
    # Close the deadline behind the scan's back, as if it happened between claim and send.
    Deadline.objects.update(is_open=False, next_reminder_at=None)
    assert reminder_deliver(reminder_id=reminder.pk) == "cancelled"
    assert mail.outbox == []


def test_delivering_the_same_reminder_twice_sends_once(evaluator):
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
        reminders_scan()
        reminder = Reminder.objects.get()
        assert reminder_deliver(reminder_id=reminder.pk) == "sent"
        assert reminder_deliver(reminder_id=reminder.pk) == "not_claimed"
    assert len(mail.outbox) == 1
    assert Notification.objects.filter(reminder=reminder).count() == 1


def test_scanning_twice_creates_each_reminder_once(evaluator, lead):
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator, lead])
        first = reminders_scan()
        Deadline.objects.update(next_reminder_at=DUE - timedelta(days=7))  # as if a second scan raced the first
        second = reminders_scan()
    assert first.reminders_created == 2
    assert second.reminders_created == 0
    assert Reminder.objects.count() == 2


def test_a_failed_send_releases_the_claim_and_the_retry_sends_once(evaluator):
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
        reminders_scan()
    reminder = Reminder.objects.get()
    smtp_down = ConnectionRefusedError("SMTP down")
    with mock.patch("reminders.services.delivery.send_templated_email", side_effect=smtp_down):
        with pytest.raises(ConnectionRefusedError):
            reminder_deliver(reminder_id=reminder.pk)
    reminder.refresh_from_db()
    assert reminder.status == DeliveryStatus.PENDING
    assert "SMTP down" in reminder.last_error
    assert not Notification.objects.exists()

    assert reminder_deliver(reminder_id=reminder.pk) == "sent"
    reminder.refresh_from_db()
    assert (reminder.status, reminder.attempts, reminder.email_status) == (DeliveryStatus.SENT, 2, EmailStatus.SENT)
    assert len(mail.outbox) == 1


def test_the_celery_task_retries_a_transient_failure_and_delivers_once(evaluator, settings):
    from reminders.tasks import deliver_reminder

    settings.CELERY_TASK_EAGER_PROPAGATES = True
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
        reminders_scan()
    reminder = Reminder.objects.get()
    real_send = __import__("reminders.emails", fromlist=["send_templated_email"]).send_templated_email
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionResetError("connection reset")
        return real_send(**kwargs)

    with mock.patch("reminders.services.delivery.send_templated_email", side_effect=flaky):
        deliver_reminder.apply(args=[reminder.pk], throw=False)  # eager: the retry runs in-process
    reminder.refresh_from_db()
    assert reminder.status == DeliveryStatus.SENT
    assert calls["n"] == 2
    assert len(mail.outbox) == 1


def test_a_claim_left_by_a_dead_worker_is_freed_by_the_scan_after_the_timeout(evaluator, settings, scan_and_deliver):
    settings.REMINDER_CLAIM_TIMEOUT_MINUTES = 10
    start = DUE - timedelta(days=7)
    with time_machine.travel(start, tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
        reminders_scan()
        Reminder.objects.update(status=DeliveryStatus.CLAIMED, claimed_at=start, attempts=1)  # the worker died

    scan_and_deliver(start + timedelta(minutes=5))  # too early: another worker may still be on it
    assert Reminder.objects.get().status == DeliveryStatus.CLAIMED
    assert mail.outbox == []

    result = scan_and_deliver(start + timedelta(minutes=11))
    assert result.stale_claims_freed == 1
    assert Reminder.objects.get().status == DeliveryStatus.SENT
    assert len(mail.outbox) == 1


def test_a_broker_outage_does_not_fail_the_change_and_the_next_scan_delivers(
    evaluator, caplog, django_capture_on_commit_callbacks, scan_and_deliver
):
    from kombu.exceptions import OperationalError

    from reminders import tasks

    when = DUE - timedelta(days=2)
    with (
        time_machine.travel(when, tick=False),
        mock.patch.object(tasks.scan, "apply_async", side_effect=OperationalError("Redis is down")),
        django_capture_on_commit_callbacks(execute=True),
    ):
        deadline = make_deadline(due_at=DUE, recipients=[evaluator])  # due now: wants an immediate scan
    assert deadline.pk
    assert "Could not enqueue reminders.scan" in caplog.text
    assert mail.outbox == []

    scan_and_deliver(when + timedelta(minutes=5))
    assert len(mail.outbox) == 1


def test_a_new_recipient_after_the_overdue_reminder_still_gets_theirs(evaluator, lead, scan_and_deliver):
    owner = owner_object()
    with time_machine.travel(DUE - timedelta(days=1), tick=False):
        make_deadline(owner=owner, due_at=DUE, recipients=[evaluator])
    scan_and_deliver(DUE + timedelta(hours=1))
    with time_machine.travel(DUE + timedelta(hours=2), tick=False):
        deadline_sync(owner=owner, specs=[spec(due_at=DUE, recipients=[evaluator, lead])])
    scan_and_deliver(DUE + timedelta(hours=3))
    assert stages_sent(evaluator) == [0]
    assert stages_sent(lead) == [0]


def test_inactive_people_are_not_reminded(evaluator, lead, scan_and_deliver):
    with time_machine.travel(DUE - timedelta(days=10), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator, lead])
    lead.is_active = False
    lead.save()
    scan_and_deliver(DUE - timedelta(days=7))
    assert [m.to for m in mail.outbox] == [[evaluator.email]]


def test_offsets_come_from_the_setting(evaluator, settings, scan_and_deliver):
    settings.REMINDER_OFFSETS_DAYS = [14, 2]
    with time_machine.travel(DUE - timedelta(days=20), tick=False):
        make_deadline(due_at=DUE, recipients=[evaluator])
    for days in (14, 7, 3, 2):
        scan_and_deliver(DUE - timedelta(days=days))
    assert stages_sent(evaluator) == [14, 2]


def test_the_scan_reads_only_due_deadlines(evaluator, django_assert_max_num_queries):
    with time_machine.travel(DUE - timedelta(days=30), tick=False):
        for i in range(30):
            make_deadline(due_at=DUE + timedelta(days=i), recipients=[evaluator])
    with time_machine.travel(DUE - timedelta(days=7), tick=False):
        with django_assert_max_num_queries(19):  # fixed, whatever the table holds (3 for hand-offs)
            result = reminders_scan()
    assert result.deadlines == 1
    assert result.reminders_created == 1


def test_syncing_many_due_deadlines_in_one_transaction_asks_for_one_scan(evaluator, django_capture_on_commit_callbacks):
    from django.db import transaction

    with time_machine.travel(DUE - timedelta(days=2), tick=False):
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            for _ in range(5):
                make_deadline(due_at=DUE, recipients=[evaluator])
    assert len(callbacks) == 1


def test_reminder_text_names_the_date_in_the_recipients_zone(evaluator, liaison_a, scan_and_deliver):
    liaison_a.time_zone = "Europe/London"
    liaison_a.save()
    make_deadline(due_at=DUE, recipients=[evaluator, liaison_a], title="Access window of ASM-2026-0001 ends")
    scan_and_deliver(DUE - timedelta(days=3))
    scan_and_deliver(DUE + timedelta(hours=2))
    texts = {(n.recipient.email, n.title): n.body for n in Notification.objects.select_related("recipient")}
    assert texts[(evaluator.email, "Due in 3 days: Access window of ASM-2026-0001 ends")] == (
        "Assessment window ends: 20 Mar 2026, 13:00 EDT."
    )
    assert texts[(liaison_a.email, "Overdue: Access window of ASM-2026-0001 ends")] == (
        "Assessment window ends: 20 Mar 2026, 17:00 GMT, now past."
    )


def test_a_resent_reminder_email_keeps_its_message_id(evaluator, scan_and_deliver):
    """Should a worker die after the mail server took a message, the resend carries the same
    Message-ID, which mail systems treat as the same message; other reminders get their own."""
    make_deadline(due_at=DUE, recipients=[evaluator], title="First")
    make_deadline(due_at=DUE, recipients=[evaluator], title="Second")
    scan_and_deliver(DUE - timedelta(days=3))
    first, second = sorted(mail.outbox, key=lambda m: m.subject)
    assert first.extra_headers["Message-ID"] != second.extra_headers["Message-ID"]
    reminder = Reminder.objects.get(deadline__title="First")
    Reminder.objects.filter(pk=reminder.pk).update(status=DeliveryStatus.PENDING)  # as if never marked sent
    reminder_deliver(reminder_id=reminder.pk)
    assert mail.outbox[-1].extra_headers["Message-ID"] == first.extra_headers["Message-ID"]
