"""What operators watch: readiness, the request id (answer, audit trail, tasks, logs) and /metrics."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import FileSystemStorage
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounts.tests.factories import TEST_PASSWORD
from audit.models import AuditEvent
from core.request_id import reset_request_id, set_request_id
from reviewportal.observability.logging import JsonFormatter, RequestIdFilter

ROOT = Path(__file__).resolve().parents[2]
METRICS_TOKEN = "metrics-token-for-the-tests-0123456789"  # noqa: S105  # nosec B105 - a test value


def _ready(client):
    response = client.get(reverse("readyz"))
    return response.status_code, response.json()


@pytest.fixture
def dead_broker():
    """The project's Celery app pointed at a port where nothing listens (the discard port)."""
    from reviewportal.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://:broker-password@127.0.0.1:9/0"
    yield
    app.conf.broker_url = original


# --- Readiness ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_readyz_is_200_when_database_broker_storage_and_migrations_are_ready(client):
    status, body = _ready(client)
    assert status == 200
    assert body == {"status": "ready", "database": "ok", "broker": "ok", "storage": "ok", "migrations": "ok"}


@pytest.mark.django_db
def test_readyz_is_503_naming_a_dead_broker_without_its_address_or_password(client, dead_broker):
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["broker"].startswith("unavailable (")
    assert {body["database"], body["storage"], body["migrations"]} == {"ok"}
    text = response.content.decode()
    assert "broker-password" not in text and "127.0.0.1" not in text


@pytest.mark.django_db
def test_readyz_is_503_while_a_migration_of_this_code_is_not_applied(client):
    # As on a node of the new release before the release step's migrate has run: the newest
    # migration of an app is not recorded yet.
    newest = max(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "audit")
    MigrationRecorder.Migration.objects.filter(app="audit", name=newest).delete()
    status, body = _ready(client)
    assert status == 503
    assert body["migrations"] == f"pending: audit.{newest}"
    assert body["database"] == "ok"


@pytest.mark.django_db
def test_readyz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    from django.db import OperationalError, connection

    def refused(*args, **kwargs):
        raise OperationalError("connection to server at db.internal failed: password authentication failed")

    monkeypatch.setattr(connection, "cursor", refused)
    status, body = _ready(client)
    assert status == 503
    assert body["database"] == "unavailable (OperationalError)"
    assert body["migrations"] == "unknown (database unavailable)"
    assert "db.internal" not in json.dumps(body)


@pytest.mark.django_db
def test_readyz_is_503_when_the_private_storage_folder_cannot_be_made(client, monkeypatch, tmp_path):
    import core.files

    in_the_way = tmp_path / "uploads"
    in_the_way.write_text("a file where the uploads folder should be")
    monkeypatch.setattr(core.files, "private_storage", lambda: FileSystemStorage(location=in_the_way))
    status, body = _ready(client)
    assert status == 503
    assert body["storage"] == "unavailable (FileExistsError)"


@pytest.mark.django_db
def test_a_fresh_install_without_the_uploads_folder_is_ready_and_the_folder_made(client, monkeypatch, tmp_path):
    import core.files

    fresh = tmp_path / "var" / "uploads"
    monkeypatch.setattr(core.files, "private_storage", lambda: FileSystemStorage(location=fresh))
    status, body = _ready(client)
    assert status == 200 and body["storage"] == "ok"
    assert fresh.is_dir()


@pytest.mark.django_db
def test_readyz_is_503_when_the_storage_refuses_the_probe(client, monkeypatch):
    import core.files

    class RefusingStorage(FileSystemStorage):
        def exists(self, name):  # as an S3 bucket answers a key without rights: an error, not False
            raise PermissionError("AccessDenied for bucket reviewportal-private")

    monkeypatch.setattr(core.files, "private_storage", lambda: RefusingStorage(location="/nonexistent"))
    status, body = _ready(client)
    assert status == 503
    assert body["storage"] == "unavailable (PermissionError)"


# --- The request id ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_every_answer_carries_a_fresh_request_id(client):
    first = client.get(reverse("login"))["X-Request-ID"]
    second = client.get("/no-such-page/")["X-Request-ID"]
    assert first != second
    for value in (first, second):
        assert len(value) == 32 and int(value, 16) >= 0


@pytest.mark.django_db
def test_a_trusted_safe_incoming_request_id_is_kept(client, settings):
    settings.TRUST_REQUEST_ID_HEADER = True
    response = client.get(reverse("login"), headers={"X-Request-ID": "lb-7f3a9c21-0001"})
    assert response["X-Request-ID"] == "lb-7f3a9c21-0001"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "hostile", ["short", "x" * 65, "a b c d e f g h", "<script>alert(1)</script>", "-leading-dash"]
)
def test_an_unsafe_incoming_request_id_is_replaced(client, settings, hostile):
    settings.TRUST_REQUEST_ID_HEADER = True
    response = client.get(reverse("login"), headers={"X-Request-ID": hostile})
    assert response["X-Request-ID"] != hostile
    assert len(response["X-Request-ID"]) == 32


@pytest.mark.django_db
def test_an_incoming_request_id_is_ignored_unless_the_proxy_is_trusted(client, settings):
    settings.TRUST_REQUEST_ID_HEADER = False
    response = client.get(reverse("login"), headers={"X-Request-ID": "client-chosen-id-0001"})
    assert response["X-Request-ID"] != "client-chosen-id-0001"


@pytest.mark.django_db
def test_the_audit_event_of_a_request_carries_its_request_id(client, evaluator):
    response = client.post(reverse("login"), {"username": evaluator.email, "password": TEST_PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN, actor=evaluator)
    assert event.request_id == response["X-Request-ID"]


@pytest.mark.django_db
def test_events_outside_a_request_have_no_request_id(evaluator):
    from audit.services import audit_record

    event = audit_record(actor=evaluator, action=AuditEvent.Action.EXPORT, summary="From a command")
    assert event.request_id == ""


@pytest.mark.django_db
def test_request_log_line_in_json_names_the_route_and_the_request_id(client):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    request_logger = logging.getLogger("reviewportal.request")
    request_logger.addHandler(handler)
    try:
        response = client.get(reverse("healthz"))
    finally:
        request_logger.removeHandler(handler)
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["request_id"] == response["X-Request-ID"]
    assert record["view"] == "healthz" and record["status_code"] == 200
    assert record["level"] == "INFO" and record["logger"] == "reviewportal.request"
    assert "time" in record


def test_log_format_json_makes_every_line_json_with_the_request_id():
    """The real settings with LOG_FORMAT=json: a line logged while a request id is current."""
    script = (
        "import django, logging; django.setup();"
        "from core.request_id import set_request_id; set_request_id('req-0123456789abcdef');"
        "logging.getLogger('reminders.services').warning('Could not enqueue %s', 'reminders.scan')"
    )
    result = subprocess.run(  # noqa: S603 - this interpreter and a fixed script
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "LOG_FORMAT": "json",
            "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    mine = [r for r in records if r["logger"] == "reminders.services"]
    assert mine == [
        {
            "level": "WARNING",
            "logger": "reminders.services",
            "message": "Could not enqueue reminders.scan",
            "request_id": "req-0123456789abcdef",
            "time": mine[0]["time"],
        }
    ]


def test_an_unknown_log_format_stops_start_up_naming_the_variable():
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "LOG_FORMAT": "xml",
            "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
        },
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "LOG_FORMAT must be text or json" in result.stderr


# --- The request id in Celery tasks ------------------------------------------------------------------


@pytest.fixture(scope="module")
def _memory_worker():
    """A Celery app on kombu's in-memory broker with a real worker in a thread, made current
    (reminders/queue.py publishes through the current app). The worker thread starts with an
    empty context: a request id it sees came in the message's headers."""
    from celery import Celery
    from celery.contrib.testing.worker import start_worker

    from reviewportal.celery import app as project_app

    app = Celery("operations-test", broker="memory://", backend="cache+memory://", set_as_current=False)
    app.conf.update(task_always_eager=False, worker_hijack_root_logger=False, accept_content=["json"])
    seen: dict[str, object] = {}
    done = threading.Event()
    task_logger = logging.getLogger("tests.operations.task")

    @app.task(name="tests.operations.record_request_id")
    def record_request_id(value):
        from core.request_id import current_request_id

        seen["request_id"] = current_request_id()
        seen["value"] = value
        task_logger.warning("Task ran with %s", value)
        done.set()

    app.set_current()
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
            yield app, seen, done
    finally:
        project_app.set_current()


@pytest.fixture
def memory_worker(_memory_worker):
    """The module's worker, with what its task saw forgotten (one worker: a task name is registered once)."""
    from reviewportal.celery import app as project_app

    app, seen, done = _memory_worker
    seen.clear()
    done.clear()
    app.set_current()
    yield app, seen, done
    project_app.set_current()


def test_a_task_enqueued_during_a_request_carries_its_id_into_the_worker_and_its_log(memory_worker):
    from celery.signals import before_task_publish

    from reminders.queue import enqueue

    app, seen, done = memory_worker
    published: list[dict] = []

    def capture(headers=None, **kwargs):
        published.append(dict(headers or {}))

    before_task_publish.connect(capture, weak=False)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    task_logger = logging.getLogger("tests.operations.task")
    task_logger.addHandler(handler)
    token = set_request_id("req-5d1c7e0f9a2b4c68")
    try:
        assert enqueue("tests.operations.record_request_id", 42) is True
    finally:
        reset_request_id(token)
        before_task_publish.disconnect(capture)
    try:
        assert done.wait(20), "the worker did not run the task"
    finally:
        task_logger.removeHandler(handler)
    assert published[0]["request_id"] == "req-5d1c7e0f9a2b4c68"
    assert seen == {"request_id": "req-5d1c7e0f9a2b4c68", "value": 42}
    (line,) = stream.getvalue().splitlines()
    assert json.loads(line)["request_id"] == "req-5d1c7e0f9a2b4c68"


def test_a_task_enqueued_outside_any_request_runs_under_its_own_task_id(memory_worker):
    app, seen, done = memory_worker
    result = app.send_task("tests.operations.record_request_id", args=[7])
    assert done.wait(20), "the worker did not run the task"
    assert seen["request_id"] == result.id


# --- /metrics ------------------------------------------------------------------------------------------


def _scrape(client, token: str | None = METRICS_TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return client.get(reverse("metrics"), headers=headers)


def _samples(response) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    values = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return values


@pytest.mark.django_db
def test_metrics_is_404_when_no_token_is_configured(client, settings):
    settings.METRICS_TOKEN = ""
    assert _scrape(client).status_code == 404
    assert _scrape(client, token="").status_code == 404


@pytest.mark.django_db
def test_metrics_refuses_a_wrong_or_missing_token_and_a_signed_in_session(client, settings, admin_user):
    settings.METRICS_TOKEN = METRICS_TOKEN
    assert _scrape(client, token=None).status_code == 403
    assert _scrape(client, token=METRICS_TOKEN + "x").status_code == 403
    assert _scrape(client, token=METRICS_TOKEN[:-1]).status_code == 403
    client.force_login(admin_user)
    response = _scrape(client, token=None)
    assert response.status_code == 403
    assert b"reviewportal_" not in response.content


@pytest.mark.django_db
def test_metrics_with_the_token_exposes_latency_by_route_name_tasks_and_reminders(
    client, settings, evaluator, django_capture_on_commit_callbacks
):
    from reminders.models import DeliveryStatus, Reminder
    from reminders.tests.factories import make_deadline

    settings.METRICS_TOKEN = METRICS_TOKEN
    before = _samples(_scrape(client))
    # Due in two days: the 3-day reminder is due now; once committed, the scan and its delivery
    # run (eagerly, as tasks).
    with django_capture_on_commit_callbacks(execute=True):
        make_deadline(due_at=timezone.now() + timedelta(days=2), recipients=[evaluator])
    sent = Reminder.objects.filter(status=DeliveryStatus.SENT).count()
    assert sent == 1
    client.get(reverse("login"))
    client.get(reverse("login"))
    response = _scrape(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    after = _samples(response)

    login_count = (
        "reviewportal_http_request_duration_seconds_count",
        (("method", "GET"), ("status", "2xx"), ("view", "login")),
    )
    assert after[login_count] - before.get(login_count, 0) == 2
    # Routes by name, never by path: no label value is an address.
    paths = [
        labels
        for (name, labels) in after
        if name.startswith("reviewportal_http")
        for k, v in labels
        if v.startswith("/")
    ]
    assert paths == []
    delivery = ("reviewportal_task_duration_seconds_count", (("task", "reminders.deliver_reminder"),))
    assert after[delivery] - before.get(delivery, 0) >= 1
    assert (
        after[("reviewportal_reminders_sent_total", ())] - before.get(("reviewportal_reminders_sent_total", ()), 0) == 1
    )
    assert (
        after[("reviewportal_reminders_due", ())]
        == Reminder.objects.filter(status=DeliveryStatus.PENDING, send_at__lte=timezone.now()).count()
    )
    assert after[("reviewportal_reminders_failed", ())] == 0
    assert after[("reviewportal_reminders_in_delivery", ())] == 0
    assert after[("reviewportal_scrape_error", (("source", "database"),))] == 0


@pytest.mark.django_db
def test_metrics_count_reminders_given_up_and_failed_tasks(
    client, settings, evaluator, django_capture_on_commit_callbacks
):
    from celery import Celery

    from reminders.models import DeliveryStatus, Reminder
    from reminders.tests.factories import make_deadline

    settings.METRICS_TOKEN = METRICS_TOKEN
    with django_capture_on_commit_callbacks(execute=True):
        make_deadline(due_at=timezone.now() + timedelta(days=2), recipients=[evaluator])
    assert Reminder.objects.count() == 1
    # As a worker leaves it after its last attempt failed (reminders.services.delivery._release).
    Reminder.objects.update(status=DeliveryStatus.FAILED, last_error="SMTPServerDisconnected: gone")

    app = Celery("operations-failing", set_as_current=False)
    app.conf.update(task_always_eager=True, task_eager_propagates=False)

    @app.task(name="tests.operations.always_fails")
    def always_fails():
        raise RuntimeError("the mail server said no")

    failures = ("reviewportal_task_failures_total", (("task", "tests.operations.always_fails"),))
    before = _samples(_scrape(client)).get(failures, 0)
    always_fails.apply()
    after = _samples(_scrape(client))
    assert after[failures] - before == 1
    assert after[("reviewportal_reminders_failed", ())] == 1


@pytest.mark.django_db
def test_metrics_report_the_celery_queue_length_read_from_redis(client, settings, redis_url):
    import redis

    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.CELERY_BROKER_URL = redis_url
    connection = redis.Redis.from_url(redis_url)
    connection.delete("celery", "celery\x06\x163")
    connection.rpush("celery", "a", "b")
    connection.rpush("celery\x06\x163", "c")  # kombu's list for priority 3
    try:
        samples = _samples(_scrape(client))
    finally:
        connection.delete("celery", "celery\x06\x163")
    assert samples[("reviewportal_celery_queue_length", (("queue", "celery"),))] == 3
    assert samples[("reviewportal_scrape_error", (("source", "queue"),))] == 0


@pytest.mark.django_db
def test_metrics_still_answer_when_redis_is_down(client, settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"
    samples = _samples(_scrape(client))
    assert samples[("reviewportal_scrape_error", (("source", "queue"),))] == 1
    assert not any(name == "reviewportal_celery_queue_length" for name, _ in samples)


def _run_django(script: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - this interpreter and a fixed script
        [sys.executable, "-c", "import django; django.setup();" + script],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "reviewportal.settings", **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_in_multiprocess_mode_a_scrape_adds_up_what_every_process_recorded(tmp_path):
    """As under gunicorn: two processes record a request each; a third answers the scrape for both."""
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = {"PROMETHEUS_MULTIPROC_DIR": str(shared), "VAR_DIR": str(tmp_path / "var")}
    record = (
        "from reviewportal.observability.metrics import observe_request;"
        "observe_request(view='dashboard', method='GET', status=200, seconds=0.2)"
    )
    for _ in range(2):
        assert _run_django(record, env).returncode == 0
    scrape = _run_django(
        "from prometheus_client import generate_latest;"
        "from reviewportal.observability.metrics import registry_for_scrape;"
        "print(generate_latest(registry_for_scrape()).decode())",
        env,
    )
    assert scrape.returncode == 0, scrape.stderr
    samples = {}
    for family in text_string_to_metric_families(scrape.stdout):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    key = (
        "reviewportal_http_request_duration_seconds_count",
        (("method", "GET"), ("status", "2xx"), ("view", "dashboard")),
    )
    assert samples[key] == 2


def test_a_missing_multiprocess_folder_stops_start_up_naming_it(tmp_path):
    result = _run_django("", {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "not-made")})
    assert result.returncode != 0
    assert "PROMETHEUS_MULTIPROC_DIR=" in result.stderr and "is not a folder" in result.stderr


def test_a_worker_only_machine_serves_its_task_metrics_behind_the_token():
    import urllib.error
    import urllib.request

    from reviewportal.observability.metrics import TASK_DURATION, serve_worker_metrics

    TASK_DURATION.labels(task="reminders.scan").observe(0.3)
    server = serve_worker_metrics("127.0.0.1:0", METRICS_TOKEN)
    url = f"http://127.0.0.1:{server.server_port}/metrics"
    try:
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=5)  # noqa: S310 - a local http:// address of the test
        wrong = urllib.request.Request(url, headers={"Authorization": "Bearer not-the-token"})
        with pytest.raises(urllib.error.HTTPError) as refused_wrong:
            urllib.request.urlopen(wrong, timeout=5)  # noqa: S310
        right = urllib.request.Request(url, headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        with urllib.request.urlopen(right, timeout=5) as answer:  # noqa: S310
            body = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert refused.value.code == 403 and refused_wrong.value.code == 403
    assert 'reviewportal_task_duration_seconds_count{task="reminders.scan"}' in body
    # The web nodes give the scrape-time values; a worker machine has no database query to make.
    assert "reviewportal_reminders_due" not in body
