"""Celery signal hooks: the request id travels with each task, and each task is timed.

* ``before_task_publish`` (in the process that enqueues, a web request say) writes the current
  request id into the message's headers;
* ``task_prerun`` (in the worker) makes that id the current one while the task runs, so its log
  lines and the audit events it writes carry it; a task enqueued outside any request (beat's
  schedule) runs under its own task id instead;
* ``task_postrun``, ``task_failure`` and ``task_retry`` feed the task metrics;
* ``worker_ready`` starts the worker's own metrics listener when WORKER_METRICS_LISTEN is set.

Connected once, when reviewportal/celery.py is imported (by the web process, the worker and beat).
"""

from __future__ import annotations

import logging
import threading
import time

from celery.signals import before_task_publish, task_failure, task_postrun, task_prerun, task_retry, worker_ready

from core.request_id import current_request_id, reset_request_id, safe_request_id, set_request_id
from reviewportal.observability import metrics

logger = logging.getLogger(__name__)

HEADER = "request_id"
# reminders/queue.py's name for the delivery task; its "sent" outcome counts as a reminder sent.
_DELIVER_REMINDER = "reminders.deliver_reminder"

# Per task id: when it started and the context token to restore. Worker pools run tasks in
# threads or child processes; a lock keeps the thread pool's concurrent starts apart.
_running: dict[str, tuple[float, object]] = {}
_lock = threading.Lock()


def _header_of(task) -> str | None:
    request = getattr(task, "request", None)
    if request is None:
        return None
    # Custom message headers appear as attributes of the task's request (protocol 2).
    value = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    return safe_request_id(value)


@before_task_publish.connect(weak=False)
def _add_request_id_header(headers=None, **kwargs) -> None:
    request_id = current_request_id()
    if headers is not None and request_id:
        headers.setdefault(HEADER, request_id)


@task_prerun.connect(weak=False)
def _start(task_id=None, task=None, **kwargs) -> None:
    # An eager task (tests, a development setup) runs inside the request: it keeps the request's id.
    request_id = _header_of(task) or current_request_id() or safe_request_id(task_id) or ""
    token = set_request_id(request_id)
    with _lock:
        _running[task_id] = (time.perf_counter(), token)


@task_postrun.connect(weak=False)
def _finish(task_id=None, task=None, retval=None, state=None, **kwargs) -> None:
    with _lock:
        started, token = _running.pop(task_id, (None, None))
    name = getattr(task, "name", "unknown")
    if started is not None:
        metrics.TASK_DURATION.labels(task=name).observe(time.perf_counter() - started)
    if name == _DELIVER_REMINDER and state == "SUCCESS" and retval == "sent":
        metrics.REMINDERS_SENT.inc()
    if token is not None:
        try:
            reset_request_id(token)
        except ValueError:
            pass  # set in another context (a pool that ran prerun elsewhere): nothing to restore


@task_failure.connect(weak=False)
def _failed(sender=None, **kwargs) -> None:
    metrics.TASK_FAILURES.labels(task=getattr(sender, "name", "unknown")).inc()


@task_retry.connect(weak=False)
def _retried(sender=None, **kwargs) -> None:
    metrics.TASK_RETRIES.labels(task=getattr(sender, "name", "unknown")).inc()


@worker_ready.connect(weak=False)
def _serve_metrics(sender=None, **kwargs) -> None:
    """WORKER_METRICS_LISTEN set: this worker serves its task metrics itself (a machine without web)."""
    from django.conf import settings

    listen = getattr(settings, "WORKER_METRICS_LISTEN", "")
    if not listen:
        return
    if not settings.METRICS_TOKEN:
        logger.warning("WORKER_METRICS_LISTEN is set but METRICS_TOKEN is not: worker metrics are not served.")
        return
    metrics.serve_worker_metrics(listen, settings.METRICS_TOKEN)
    logger.info("Worker metrics served on %s", listen)
