"""Reminders through a REAL Celery worker and the REAL Redis: each due reminder is delivered exactly once.

The worker runs in this process (celery.contrib.testing.worker.start_worker,
thread pool, four threads) against the Redis of REDIS_URL and the same test
database, which is why the test uses a transactional database: the worker's
own connections must see committed rows. It needs PostgreSQL (as in CI):
SQLite's shared in-memory test database locks whole tables between threads,
so it cannot host concurrent writers. It then makes life hard:

* the scan runs twice through the queue and twice more directly, all at once;
* one reminder was left "claimed" by a worker that died (the scan must free it);
* the first email send fails (the task releases its claim and retries);

and checks in the database and the outbox that every due reminder went out
once: as many emails and notifications as reminders, no more.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend
from django.db import transaction
from django.utils import timezone

from tests.waiting import wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


class FlakyOnceBackend(EmailBackend):
    """The in-memory backend, except the very first message fails like a dropped SMTP connection."""

    failures = 0
    lock = threading.Lock()

    def send_messages(self, messages):
        with FlakyOnceBackend.lock:
            if FlakyOnceBackend.failures == 0:
                FlakyOnceBackend.failures += 1
                raise ConnectionResetError("SMTP connection dropped (injected by the test)")
        return super().send_messages(messages)


def _close_thread_connections(**kwargs):
    from django.db import connections

    connections.close_all()


@pytest.fixture
def celery_app(redis_url, settings):
    """A Celery app of the project's configuration on a private Redis queue, made current for the test."""
    from celery import Celery
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    import reminders.tasks  # noqa: F401 - registered before the worker builds its task table
    import reviewportal.celery as project

    queue = f"reminders-it-{uuid.uuid4().hex[:10]}"
    app = Celery("reviewportal-integration", set_as_current=False)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.update(
        broker_url=redis_url,
        task_always_eager=False,  # settings_test makes tasks eager; here they must go through Redis
        task_default_queue=queue,
        broker_transport_options={"visibility_timeout": 120, "socket_connect_timeout": 2},
        worker_hijack_root_logger=False,
    )
    settings.EMAIL_BACKEND = f"{__name__}.FlakyOnceBackend"
    settings.REMINDER_CLAIM_TIMEOUT_MINUTES = 10
    FlakyOnceBackend.failures = 0
    app.finalize(auto=True)
    assert "reminders.deliver_reminder" in app.tasks
    app.set_current()
    # Each worker thread has its own database connection: close it after every task, so the
    # test database can be dropped at the end of the run.
    task_postrun.connect(_close_thread_connections)
    try:
        with start_worker(app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10):
            yield app
    finally:
        task_postrun.disconnect(_close_thread_connections)
        project.app.set_current()
        # Leave Redis as we found it: the private queue and kombu's bookkeeping keys for it.
        with app.connection_for_write() as conn:
            client = conn.channel().client
            stale = list(client.scan_iter(match=f"*{queue}*"))
            if stale:
                client.delete(*stale)
        app.close()


class TaskTracker:
    """Counts, per task id, the messages published and the runs finished, in this process.

    The worker runs in this process too, so a retry (a new message with the same id) and
    every delivery a scan enqueues are seen. When every published message has had its run,
    nothing is queued, waiting for a retry or running: the system is quiet.
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.published: Counter[str] = Counter()
        self.finished: Counter[str] = Counter()

    def on_publish(self, sender=None, headers=None, body=None, **kwargs):
        task_id = (headers or {}).get("id") or (body or {}).get("id")
        with self.lock:
            self.published[task_id] += 1

    def on_finish(self, sender=None, task_id=None, **kwargs):
        with self.lock:
            self.finished[task_id] += 1

    def all_ran(self) -> bool:
        with self.lock:
            return bool(self.published) and all(self.finished[i] >= n for i, n in self.published.items())

    def pending(self) -> dict[str, int]:
        with self.lock:
            return {i: n - self.finished[i] for i, n in self.published.items() if self.finished[i] < n}


@pytest.fixture
def task_tracker(celery_app):
    from celery.signals import before_task_publish, task_postrun

    tracker = TaskTracker()
    # Counted before the message leaves, so a run can never be seen before its message.
    before_task_publish.connect(tracker.on_publish, weak=False)
    task_postrun.connect(tracker.on_finish, weak=False)
    try:
        yield tracker
    finally:
        before_task_publish.disconnect(tracker.on_publish)
        task_postrun.disconnect(tracker.on_finish)


def test_each_due_reminder_is_delivered_exactly_once(postgres_required, celery_app, task_tracker, evaluator, liaison_a):
    from reminders import tasks
    from reminders.models import DeliveryStatus, Notification, Reminder
    from reminders.services import reminders_scan
    from reminders.tests.factories import make_deadline

    now = timezone.now()
    with transaction.atomic():
        # Creating a deadline that is due already asks for a scan after commit; the rows below
        # are committed together, so that scan already meets the dead worker's claim.
        deadlines = [
            make_deadline(
                due_at=now + timedelta(days=2, hours=i), recipients=[evaluator, liaison_a], title=f"Due soon {i}"
            )
            for i in range(5)
        ]
        make_deadline(due_at=now + timedelta(days=20), recipients=[evaluator], title="Not due yet")
        # A worker claimed one reminder an hour ago and died before sending it.
        Reminder.objects.create(
            deadline=deadlines[0],
            revision=1,
            offset_days=3,
            recipient=evaluator,
            send_at=now - timedelta(hours=1),
            status=DeliveryStatus.CLAIMED,
            claimed_at=now - timedelta(hours=1),
            attempts=1,
        )
    expected = 10  # 5 due deadlines × 2 people, the "3 days before" stage

    # The scan twice through the queue and twice directly, all at the same time.
    tasks.scan.delay()
    tasks.scan.delay()

    def scan_in_own_thread():
        try:
            reminders_scan()
        finally:
            _close_thread_connections()  # a thread's connection would otherwise outlive the test database

    direct = [threading.Thread(target=scan_in_own_thread) for _ in range(2)]
    for thread in direct:
        thread.start()
    for thread in direct:
        thread.join(timeout=30)

    wait_for(
        lambda: Reminder.objects.filter(status=DeliveryStatus.SENT).count() == expected,
        what=f"{expected} reminders to be sent",
        details=lambda: list(Reminder.objects.values_list("status", "attempts", "last_error")),
    )
    # Late duplicates (messages still queued, retries) must find nothing more to send.
    tasks.scan.delay()
    wait_for(
        task_tracker.all_ran,
        what="the worker to run every task published (the late scan, queued duplicates, retries)",
        details=lambda: f"Published but not yet run (task id: messages): {task_tracker.pending()}",
    )

    assert Reminder.objects.count() == expected
    assert Reminder.objects.filter(status=DeliveryStatus.SENT).count() == expected
    assert Notification.objects.count() == expected
    assert len(mail.outbox) == expected
    assert len({(m.to[0], m.subject) for m in mail.outbox}) == expected
    assert FlakyOnceBackend.failures == 1
    assert Reminder.objects.filter(attempts__gte=2).exists()  # the failed one and the dead worker's were retried
    assert Reminder.objects.get(deadline=deadlines[0], recipient=evaluator).status == DeliveryStatus.SENT
    assert not Reminder.objects.filter(deadline__title="Not due yet").exists()
