"""Who may reach each reminders URL (see tests/authz.py)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from reminders.models import Notification
from tests.authz import ANY_MEMBER, API_ANONYMOUS, LOGIN_REDIRECT, Row, admin_action_row, admin_change_row, expect


def build(w):
    from reminders.services import calendar_token_issue
    from reminders.tests.factories import make_deadline

    # Company A's deadline: the case team and company A's liaison act, the admin is told when overdue.
    w.deadline_a = make_deadline(
        due_at=timezone.now() + timedelta(days=2),
        recipients=[w.lead, w.evaluator, w.liaison_a],
        escalate_to=[w.admin_user],
        organisation=w.company_a,
    )
    w.notification_a = Notification.objects.create(recipient=w.liaison_a, title="Due in 2 days", url="/deadlines/")
    w.calendar_token_a = calendar_token_issue(user=w.liaison_a)


# Only the notification's own recipient may touch it; to anyone else it does not exist.
OWN_NOTIFICATION = expect(404, anonymous=LOGIN_REDIRECT, liaison_a=302)
OWN_NOTIFICATION_API = expect(404, anonymous=API_ANONYMOUS, liaison_a=200)
SIGNED_IN_POST = expect(302)  # members are sent back to the page; anonymous people to the login

ROWS = [
    Row("reminders:my_deadlines", expect=ANY_MEMBER),
    Row("reminders:my_deadlines", query="show=overdue", expect=ANY_MEMBER, note="overdue filter"),
    Row("reminders:notifications", expect=ANY_MEMBER),
    Row("reminders:notifications_export", expect=ANY_MEMBER, note="the person's own, as CSV"),
    Row("reminders:my_deadlines_export", expect=ANY_MEMBER, note="the person's own, as CSV"),
    Row("reminders:notifications_read_all", method="post", expect=SIGNED_IN_POST),
    Row(
        "reminders:notification_read",
        method="post",
        kwargs=lambda w: {"public_id": w.notification_a.public_id},
        expect=OWN_NOTIFICATION,
    ),
    Row("reminders:preferences", expect=ANY_MEMBER),
    Row(
        "reminders:preferences",
        method="post",
        data={"email": "digest"},
        expect=expect(302),
        note="everyone edits only their own",
    ),
    Row("reminders:calendar_token_create", method="post", expect=expect(200, anonymous=LOGIN_REDIRECT)),
    Row("reminders:calendar_token_revoke", method="post", expect=SIGNED_IN_POST),
    Row(
        "reminders:calendar_feed",
        kwargs=lambda w: {"token": w.calendar_token_a},
        expect=expect(200),
        note="the secret token is the key, whoever asks",
    ),
    Row(
        "reminders:calendar_feed",
        kwargs={"token": "not-a-real-token"},
        expect=expect(404),
        note="unknown token",
    ),
    Row("deadline-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row(
        "deadline-detail",
        kwargs=lambda w: {"public_id": w.deadline_a.public_id},
        expect=expect(200, anonymous=API_ANONYMOUS, liaison_b=404, evaluator_other=404),
    ),
    Row("notification-list", expect=expect(200, anonymous=API_ANONYMOUS)),
    Row(
        "notification-detail",
        kwargs=lambda w: {"public_id": w.notification_a.public_id},
        expect=OWN_NOTIFICATION_API,
    ),
    Row(
        "notification-read",
        method="post",
        kwargs=lambda w: {"public_id": w.notification_a.public_id},
        expect=OWN_NOTIFICATION_API,
    ),
    Row("notification-read-all", method="post", expect=expect(200, anonymous=API_ANONYMOUS)),
]


def _failed_reminder(w):
    """A reminder that gave up, and a failed digest (made on first use, for the admin rows)."""
    if not hasattr(w, "reminder_failed"):
        from reminders.models import DeliveryStatus, Digest, Reminder

        w.reminder_failed = Reminder.objects.create(
            deadline=w.deadline_a,
            revision=w.deadline_a.revision,
            offset_days=1,
            recipient=w.evaluator,
            send_at=timezone.now(),
            status=DeliveryStatus.FAILED,
            attempts=8,
            last_error="SMTP down",
        )
        w.digest_failed = Digest.objects.create(
            recipient=w.lead, kind=Digest.Kind.values[0], day=timezone.localdate(), status=DeliveryStatus.FAILED
        )
    return w.reminder_failed


def _failed_digest(w):
    _failed_reminder(w)
    return w.digest_failed


def _failed_handoff(w):
    """A hand-off message to the evaluator that gave up (made on first use, for the admin rows)."""
    if not hasattr(w, "handoff_failed"):
        from reminders.models import DeliveryStatus, Handoff

        w.handoff_failed = Handoff.objects.create(
            event_key="test:handoff-failed",
            recipient=w.evaluator,
            title="A finding was released",
            url="/findings/",
            status=DeliveryStatus.FAILED,
            attempts=8,
            last_error="SMTP down",
        )
    return w.handoff_failed


# The Django admin (see tests/authz.py): every model's change page and every action.
ADMIN_ROWS = [
    admin_change_row("reminders.deadline", lambda w: w.deadline_a),
    admin_change_row("reminders.reminder", _failed_reminder),
    admin_action_row("reminders.reminder", "retry_delivery", lambda w: [_failed_reminder(w)]),
    admin_change_row("reminders.digest", _failed_digest),
    admin_action_row("reminders.digest", "retry_delivery", lambda w: [_failed_digest(w)]),
    admin_change_row("reminders.handoff", _failed_handoff),
    admin_action_row("reminders.handoff", "retry_delivery", lambda w: [_failed_handoff(w)]),
    admin_change_row("reminders.notification", lambda w: w.notification_a),
    admin_change_row("reminders.reminderpreference", lambda w: w.liaison_a.reminder_preference),
]
