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

from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: Any, *args: Any) -> bool:
    """Publish ``task(*args)`` now; False (and a log line) when the broker refused it."""
    try:
        task.apply_async(args=args)
    except Exception:  # noqa: BLE001 - any broker failure must leave the caller unharmed; the scan retries
        logger.warning(
            "Could not enqueue %s%r; the next reminders scan will pick it up.", task.name, args, exc_info=True
        )
        return False
    return True


def enqueue_on_commit(task: Any, *args: Any) -> None:
    """Publish ``task(*args)`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(task, *args))


def enqueue_once_on_commit(task: Any) -> None:
    """Like ``enqueue_on_commit`` for an argument-less task, but at most once per transaction.

    A service that syncs many deadlines in one transaction asks for one scan, not one per deadline.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        for _sids, callback, _robust in connection.run_on_commit:
            if getattr(callback, "reminders_task", None) == task.name:
                return

    def publish() -> None:
        enqueue(task)

    publish.reminders_task = task.name
    transaction.on_commit(publish)
