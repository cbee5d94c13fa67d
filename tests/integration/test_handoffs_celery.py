"""Hand-offs through a REAL Celery worker and the REAL Redis: each person is told of each event once.

The same worker as the reminders' integration test (in this process, thread pool, four threads,
a private Redis queue, the flaky mail backend whose first message fails), on PostgreSQL. The test
makes life hard for delivery:

* a finding is released and its ticket approved in one transaction: the deliveries are published
  when it commits;
* the same events are announced again (as a retried request would), and every delivery task is
  published twice more by hand, while two scans (which publish what is still pending) run at once;
* the first email fails (the task releases its claim and retries);
* one liaison takes the daily digest, so is told in the app but not emailed at once;

and checks that the database holds one row, one notification and (when the person wants it)
one email per person and event, no more.
"""

from __future__ import annotations

import threading

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from tests.integration.test_reminders_celery import (  # noqa: F401 - the fixtures of the same worker
    FlakyOnceBackend,
    _close_thread_connections,
    celery_app,
    task_tracker,
)
from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


@pytest.mark.usefixtures("postgres_required", "celery_app")
def test_each_handoff_is_delivered_exactly_once(
    request, settings, case, evaluator, lead, liaison_a, liaison_b, company_a
):
    from accounts.models import Role
    from accounts.tests.factories import UserFactory
    from assessments import services as assessments
    from findings import services as findings
    from findings.models import FindingStatus
    from findings.tests.factories import FindingFactory
    from reminders.models import DeliveryStatus, EmailPreference, EmailStatus, Handoff, Notification
    from reminders.queue import DELIVER_HANDOFF, enqueue
    from reminders.services import handoff_notify, preference_update, reminders_scan

    tracker = request.getfixturevalue("task_tracker")
    digest_liaison = UserFactory(
        email="digest.liaison@a.test", full_name="Digest Liaison", role=Role.LIAISON, organisation=company_a
    )
    preference_update(user=digest_liaison, email=EmailPreference.DIGEST)
    finding = FindingFactory(assessment=case, author=evaluator, status=FindingStatus.IN_REVIEW)
    ticket = assessments.ticket_request(
        actor=evaluator,
        assessment=case,
        kind="hosted_api",
        justification="Probe cyber uplift.",
        wanted_from=case.window_start,
        wanted_to=case.window_end,
    )  # tells the lead (1), published on its own commit

    with transaction.atomic():
        finding = findings.finding_release(actor=lead, finding=finding)
        ticket = assessments.ticket_approve(actor=lead, ticket=ticket)
        # The release announced again, as a retried request would: the constraint keeps one row each.
        handoff_notify(
            event_key=f"finding:{finding.pk}:released:{finding.updated_at.isoformat()}",
            recipients=[liaison_a, digest_liaison, liaison_b],
            title="Announced twice",
            url="/findings/x/",
            organisation=company_a,
        )
    # Released: both liaisons of A (2). Approved: both liaisons and the evaluator (3). Requested: the lead (1).
    expected = 6
    assert Handoff.objects.count() == expected
    ids = list(Handoff.objects.values_list("pk", flat=True))

    for _ in range(2):
        for handoff_id in ids:
            enqueue(DELIVER_HANDOFF, handoff_id)

    # The scans run before the day's digest hour, whatever the hour of the test: the digest liaison's
    # email waits for tomorrow's digest (at or after that hour a scan would compile it now).
    settings.REMINDER_DIGEST_HOUR_UTC = 12
    before_the_digest = timezone.now().replace(hour=11, minute=0, second=0, microsecond=0)

    def scan_in_own_thread():
        try:
            reminders_scan(now=before_the_digest)
        finally:
            _close_thread_connections()

    scans = [threading.Thread(target=scan_in_own_thread) for _ in range(2)]
    for thread in scans:
        thread.start()
    for thread in scans:
        thread.join(timeout=30)

    wait_for(
        lambda: Handoff.objects.filter(status=DeliveryStatus.SENT).count() == expected,
        what=f"{expected} hand-offs to be delivered",
        details=lambda: list(Handoff.objects.values_list("event_key", "status", "attempts", "last_error")),
    )
    wait_for(
        tracker.all_ran,
        what="the worker to run every task published (duplicates, the scans' deliveries, retries)",
        details=lambda: f"Published but not yet run (task id: messages): {tracker.pending()}",
    )

    assert Handoff.objects.filter(status=DeliveryStatus.SENT).count() == expected
    assert Notification.objects.filter(handoff__isnull=False).count() == expected
    assert not Handoff.objects.filter(recipient=liaison_b).exists()
    emailed = expected - 2  # the digest liaison is told of two events in the app, by email tomorrow
    assert Handoff.objects.filter(recipient=digest_liaison, email_status=EmailStatus.AWAITING_DIGEST).count() == 2
    assert len(mail.outbox) == emailed
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == emailed
    assert FlakyOnceBackend.failures == 1
    assert Handoff.objects.filter(attempts__gte=2).exists()  # the failed email was retried
    assert {m.to[0] for m in mail.outbox} == {liaison_a.email, evaluator.email, lead.email}
