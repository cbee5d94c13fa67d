"""Putting reminder work on the Celery queue without ever failing the caller.

The database row is the source of truth; a broker message is only a nudge to
do it sooner. So publishing happens after the transaction commits (a worker
must find the row), and a broker that is down is logged, not raised: the
page that caused the work still answers quickly, and the next scan enqueues
the row again.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

# The tasks of reminders/tasks.py, published by name: the services that enqueue them never
# import the tasks module (which imports the services).
SCAN = "reminders.scan"
DELIVER_REMINDER = "reminders.deliver_reminder"
DELIVER_DIGEST = "reminders.deliver_digest"
DELIVER_HANDOFF = "reminders.deliver_handoff"


def _publish(name: str, args: tuple[Any, ...]) -> None:
    app = current_app
    if app.conf.task_always_eager:
        # send_task always goes to the broker; in eager mode (tests, a development setup without a
        # worker) the registered task runs here instead, as apply_async would run it.
        app.tasks[name].apply_async(args=args)
    else:
        app.send_task(name, args=list(args))


def enqueue(name: str, *args: Any) -> bool:
    """Publish the task called ``name`` with ``args`` now; False (and a log line) when the broker refused it."""
    try:
        _publish(name, args)
    except Exception:  # noqa: BLE001 - any broker failure must leave the caller unharmed; the scan retries
        logger.warning("Could not enqueue %s%r; the next reminders scan will pick it up.", name, args, exc_info=True)
        return False
    return True


def enqueue_on_commit(name: str, *args: Any) -> None:
    """Publish the task ``name`` with ``args`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(name, *args))


def enqueue_once_on_commit(name: str) -> None:
    """Like ``enqueue_on_commit`` for an argument-less task, but at most once per transaction.

    A service that syncs many deadlines in one transaction asks for one scan, not one per deadline.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, callback, _robust in connection.run_on_commit:
            if getattr(callback, "reminders_task", None) == name:
                return

    def publish() -> None:
        enqueue(name)

    publish.reminders_task = name
    transaction.on_commit(publish)
