"""Prometheus metrics of the portal, and the access-controlled ``/metrics`` view (prometheus_client).

Recorded as things happen (in every web and worker process):

* ``reviewportal_http_request_duration_seconds{view, method, status}``: request latency by the
  route's name (``findings:detail``, ``finding-list``; ``unmatched`` when no route matched) and
  status class (``2xx``), never the raw path, so the number of series stays bounded;
* ``reviewportal_task_duration_seconds{task}``, ``reviewportal_task_failures_total{task}`` and
  ``reviewportal_task_retries_total{task}``: Celery tasks by registered name;
* ``reviewportal_reminders_sent_total``: reminders the workers delivered.

Read when Prometheus scrapes (``ScrapeTimeCollector``), each bounded in time:

* ``reviewportal_celery_queue_length{queue}``: messages waiting in the broker (Redis LLEN);
* ``reviewportal_reminders_due``, ``reviewportal_reminders_in_delivery``, ``reviewportal_reminders_failed``:
  counts from the reminders table (the first two through its partial indexes);
* ``reviewportal_scrape_error{source}``: 1 when one of those could not be read this time.

Several processes (gunicorn workers, Celery's prefork children): with PROMETHEUS_MULTIPROC_DIR set,
prometheus_client keeps each process's values in files there and the view adds them up, so any
web process answers for every process of its machine that shares the folder.
"""

from __future__ import annotations

import hmac
import logging
import os
import threading

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseForbidden
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

# Created without a registry: each scrape builds its own (see ``registry_for_scrape``).
REQUEST_LATENCY = Histogram(
    "reviewportal_http_request_duration_seconds",
    "Time to answer a request, by route name, method and status class.",
    ["view", "method", "status"],
    registry=None,
)
TASK_DURATION = Histogram(
    "reviewportal_task_duration_seconds",
    "Time a Celery task ran, by task name (successes, failures and retries alike).",
    ["task"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600),
    registry=None,
)
TASK_FAILURES = Counter(
    "reviewportal_task_failures", "Celery tasks that ended with an error (after any retries).", ["task"], registry=None
)
TASK_RETRIES = Counter(
    "reviewportal_task_retries", "Celery tasks put back to run again later.", ["task"], registry=None
)
REMINDERS_SENT = Counter("reviewportal_reminders_sent", "Reminders delivered by the workers.", registry=None)

RECORDED = (REQUEST_LATENCY, TASK_DURATION, TASK_FAILURES, TASK_RETRIES, REMINDERS_SENT)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# kombu's Redis transport keeps messages of priority p in the list "<queue>\x06\x16<p>".
_PRIORITY_SEPARATOR = "\x06\x16"
_PRIORITY_STEPS = (3, 6, 9)
# Seconds a scrape may wait for Redis before it reports the queue as unreadable.
_REDIS_TIMEOUT = 1.0


def observe_request(*, view: str, method: str, status: int, seconds: float) -> None:
    REQUEST_LATENCY.labels(
        view=view, method=method if method in _METHODS else "OTHER", status=f"{status // 100}xx"
    ).observe(seconds)


def _celery_queue_names() -> list[str]:
    from celery import current_app as app

    names = [app.conf.task_default_queue]
    for queue in app.conf.task_queues or ():
        if queue.name not in names:
            names.append(queue.name)
    return names


def _queue_lengths(broker_url: str) -> dict[str, int]:
    import redis

    client = redis.Redis.from_url(broker_url, socket_timeout=_REDIS_TIMEOUT, socket_connect_timeout=_REDIS_TIMEOUT)
    try:
        names = _celery_queue_names()
        pipe = client.pipeline(transaction=False)
        for name in names:
            for key in (name, *(f"{name}{_PRIORITY_SEPARATOR}{step}" for step in _PRIORITY_STEPS)):
                pipe.llen(key)
        counts = pipe.execute()
    finally:
        client.close()
    per_queue = 1 + len(_PRIORITY_STEPS)
    return {name: sum(counts[i * per_queue : (i + 1) * per_queue]) for i, name in enumerate(names)}


def _reminder_counts() -> dict[str, int]:
    from django.utils import timezone

    from reminders.models import DeliveryStatus, Reminder

    return {
        # Partial index reminder_pending_idx (status = pending) on send_at.
        "due": Reminder.objects.filter(status=DeliveryStatus.PENDING, send_at__lte=timezone.now()).count(),
        # Partial index reminder_claimed_idx (status = claimed).
        "in_delivery": Reminder.objects.filter(status=DeliveryStatus.CLAIMED).count(),
        "failed": Reminder.objects.filter(status=DeliveryStatus.FAILED).count(),
    }


class ScrapeTimeCollector:
    """Values read from Redis and the database when Prometheus asks, not kept in any process."""

    def collect(self):
        errors = GaugeMetricFamily(
            "reviewportal_scrape_error", "1 when a scrape-time value could not be read.", labels=["source"]
        )
        broker_url = settings.CELERY_BROKER_URL
        if broker_url.startswith(("redis://", "rediss://")):
            try:
                lengths = _queue_lengths(broker_url)
            except Exception as exc:  # noqa: BLE001 - a scrape must answer; the failure is a metric
                logger.warning("Queue length unreadable: %s", type(exc).__name__)
                errors.add_metric(["queue"], 1)
            else:
                errors.add_metric(["queue"], 0)
                queue = GaugeMetricFamily(
                    "reviewportal_celery_queue_length", "Celery messages waiting in the broker.", labels=["queue"]
                )
                for name, length in lengths.items():
                    queue.add_metric([name], length)
                yield queue
        try:
            counts = _reminder_counts()
        except Exception as exc:  # noqa: BLE001 - a scrape must answer; the failure is a metric
            logger.warning("Reminder counts unreadable: %s", type(exc).__name__)
            errors.add_metric(["database"], 1)
        else:
            errors.add_metric(["database"], 0)
            yield GaugeMetricFamily(
                "reviewportal_reminders_due", "Reminders due and not yet claimed by a worker.", value=counts["due"]
            )
            yield GaugeMetricFamily(
                "reviewportal_reminders_in_delivery", "Reminders claimed by a worker.", value=counts["in_delivery"]
            )
            yield GaugeMetricFamily(
                "reviewportal_reminders_failed", "Reminders given up after repeated errors.", value=counts["failed"]
            )
        yield errors


def registry_for_scrape() -> CollectorRegistry:
    """A registry for one scrape: every process's recorded values (multiprocess mode) or this
    process's, plus the scrape-time values."""
    registry = _recorded_registry()
    registry.register(ScrapeTimeCollector())
    return registry


def _token_matches(authorization: str, expected: str) -> bool:
    """Whether an Authorization header is ``Bearer <expected>``, compared in constant time."""
    scheme, _, given = authorization.partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""
    return bool(expected and given) and hmac.compare_digest(given.encode(), expected.encode())


def _recorded_registry() -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=True)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        for metric in RECORDED:
            registry.register(metric)
    return registry


def serve_worker_metrics(listen: str, token: str):
    """For a machine that runs workers but no web process: its recorded metrics (task durations,
    failures, retries, reminders sent) on ``listen`` ("host:port"), behind the same bearer token.

    Started by the worker's main process (reviewportal/observability/tasks.py); with the prefork pool
    the children's values reach it through PROMETHEUS_MULTIPROC_DIR. Scrape-time values (queue,
    reminder counts) are the web nodes' to give. Returns the server (tests shut it down).
    """
    from wsgiref.simple_server import make_server

    from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler, make_wsgi_app

    host, _, port = listen.rpartition(":")
    exporter = make_wsgi_app(_recorded_registry())

    def guarded(environ, start_response):
        if not _token_matches(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"A valid metrics token is required."]
        return exporter(environ, start_response)

    server = make_server(host, int(port), guarded, ThreadingWSGIServer, handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


@never_cache
@require_GET
def metrics(request):
    """The metrics in Prometheus's text format, for ``Authorization: Bearer <METRICS_TOKEN>``.

    No METRICS_TOKEN configured: 404, as if there were no such page. A missing or wrong token: 403.
    The token is compared in constant time. A signed-in session is no substitute.
    """
    expected = settings.METRICS_TOKEN
    if not expected:
        raise Http404
    if not _token_matches(request.headers.get("Authorization", ""), expected):
        return HttpResponseForbidden("A valid metrics token is required.", content_type="text/plain")
    # The text format the scraper asks for in Accept (OpenMetrics, or Prometheus text 0.0.4 by default).
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(registry_for_scrape()), content_type=content_type)
