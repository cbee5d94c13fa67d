"""A rehearsal of several nodes: two web nodes, two workers, two beats, and one of each killed mid-run.

Starts, on 127.0.0.1, what a multi-machine deployment runs, over one PostgreSQL, one
Redis and one S3-compatible object store (moto's S3 server, started here):

* two web nodes (gunicorn, 2 sync workers each, ``DEBUG=0``, two-factor sign-in on);
* two Celery workers;
* two Celery beats: the first takes the lease in Redis (``reviewportal/beat_lock.py``),
  the second waits as a standby;
* a mail server that only counts what it receives (every reminder email carries a
  Message-ID fixed for its row, so a duplicate is seen as one).

Then it signs in on node A (password, then a TOTP code) and goes on with the same
session on node B, drives a load of page and API requests spread over both nodes as a
load balancer would, and runs scripted journeys: a document uploaded through one node
is listed at once on the agreement's page read through the other (kept pages, shared in
Redis, are made stale by the write), downloads there byte for byte the same, and another
company's liaison gets a 404 for it. Deadlines are made to fall due during the run, so
reminders are scanned for and sent throughout. Half-way through it kills (SIGKILL, no
clean stop) web node A, worker 1 and the active beat.

Afterwards it checks that: every reminder that fell due was sent, none was emailed twice
except one a killed worker had claimed (the window README describes: mail accepted,
row not yet marked sent); every file uploaded through one node downloads through the
other; no request failed except those in flight on the killed node when it died
(requests refused by the dead node are sent to the other, as a load balancer's health
check would); and the standby beat took the lease over and went on scheduling. It prints
its figures and exits non-zero when a check fails.

    .venv/bin/python deploy/rehearsal.py            # about three to four minutes

It creates and drops its own database (``rp_rehearsal``; it refuses a name that does not
start with that) and empties Redis database 3 before and after. Ports 8201 and 8202 for
the web nodes; the object store and mail server take free ports. Logs of every process
are kept in ``var/rehearsal/logs``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import email
import hashlib
import http.client
import io
import os
import re
import secrets
import signal
import socket
import socketserver
import subprocess  # starts the portal's own processes with fixed arguments  # nosec B404
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
VAR = ROOT / "var" / "rehearsal"
LOGS = VAR / "logs"
BUCKET = "rehearsal-files"
LEASE_KEY = "reviewportal:celery-beat:lease"
MOTO_SECRET = "rehearsal-secret"  # noqa: S105 - the local S3 server accepts any key  # nosec B105

LEAD = "lead@caisi.example"
LIAISON_ALPHA = "liaison@alpha-ai.example"
LIAISON_BETA = "liaison@beta-ai.example"
REMINDED = ["lead@caisi.example", "evaluator@caisi.example", "liaison@alpha-ai.example"]
DEVICE_NAME = "Rehearsal authenticator"

# (path, marker) the load asks for with the lead's session; the API with the lead's token.
PAGES = [
    ("/", "Welcome, "),
    ("/agreements/", "Agreements</h1>"),
    ("/assessments/", "Assessments</h1>"),
    ("/findings/", "<h1>Findings</h1>"),
    ("/deadlines/", "<h1>My deadlines</h1>"),
]
API = [("/api/v1/findings/", '"results":'), ("/api/v1/deadlines/", '"results":')]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/rp_rehearsal")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/3")
    parser.add_argument("--ports", default="8201,8202", help="the two web nodes' ports")
    parser.add_argument("--duration", type=float, default=90, help="seconds of load; the kills come half-way")
    parser.add_argument("--load-threads", type=int, default=3)
    parser.add_argument("--deadlines", type=int, default=30, help="deadlines falling due during the run")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards (to look at it)")
    args = parser.parse_args()
    name = urlsplit(args.database_url).path.lstrip("/")
    if not name.startswith("rp_rehearsal"):
        sys.exit(f"The rehearsal drops and recreates its database; {name!r} does not start with rp_rehearsal.")
    ports = [int(p) for p in args.ports.split(",")]
    LOGS.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    ok = False

    recreate_database(args.database_url)
    redis_client = redis_connection(args.redis_url)
    redis_client.flushdb()
    processes = Processes()
    try:
        s3_url = processes.object_store(free_port())
        mail = MailSink.start()
        env = node_environment(args, s3_url, mail.port)
        os.environ.update(env)
        prepare(env)
        import django

        django.setup()
        setup = prepare_accounts()

        nodes = {f"A:{ports[0]}": ports[0], f"B:{ports[1]}": ports[1]}
        web = {label: processes.web(label, port, env) for label, port in nodes.items()}
        workers = [processes.worker(i, env) for i in (1, 2)]
        beat1 = processes.beat(1, env)
        active = wait_for_lease_holder(redis_client, {beat1.pid})
        beat2 = processes.beat(2, env)
        for label, port in nodes.items():
            wait_http(port, label)
        for worker in workers:
            wait_log(worker, "ready.", 90)
        wait_log(beat2, "waits as a standby", 60)
        print(f"ready after {time.monotonic() - started:.0f} s: web {', '.join(nodes)}, 2 workers, 2 beats", flush=True)

        a, b = (nodes[label] for label in nodes)
        balancer = Balancer(list(nodes.items()))
        lead = sign_in(a, LEAD)
        beta = sign_in(b, LIAISON_BETA)
        report = Report()
        report.session_on_other_node = continue_session(b, lead)
        make_deadlines(setup, args.deadlines, duration=args.duration)

        stop = threading.Event()
        load = [
            threading.Thread(target=drive_load, args=(balancer, lead, setup.token, stop, report, i), daemon=True)
            for i in range(args.load_threads)
        ]
        journeys = threading.Thread(
            target=drive_journeys, args=(balancer, setup, lead, beta, stop, report), daemon=True
        )
        for thread in [*load, journeys]:
            thread.start()

        time.sleep(args.duration / 2)
        label_a = next(iter(nodes))
        web[label_a].kill()
        # Requests begun before this moment were in flight on node A when it died.
        killed_at = time.time()
        workers[0].kill()
        # What the dead worker held (with what worker 2 is sending right now): the only reminders
        # that may be emailed twice.
        claimed_at_kill = claimed_reminders()
        beat_active = beat1 if active == beat1.pid else beat2
        beat_active.kill()
        beat_killed_at = time.time()
        standby = beat2 if beat_active is beat1 else beat1
        print(f"killed web {label_a}, worker 1 and the active beat (pid {beat_active.pid})", flush=True)
        report.takeover_seconds = wait_for_lease_holder(redis_client, {standby.pid}, since=beat_killed_at)

        time.sleep(max(0.0, args.duration / 2 - (time.time() - killed_at)))
        stop.set()
        for thread in [*load, journeys]:
            thread.join(timeout=60)

        # The last files and reminders: everything must be there once the work queued has drained.
        surviving = nodes[list(nodes)[1]]
        report.final_downloads = check_all_files(surviving, lead, setup.agreement, report.uploads)
        report.reminders = wait_for_reminders(setup, claimed_at_kill, killed_at, mail, timeout=170)
        report.mail = (len(mail.message_ids), mail.cut)
        report.scans_after_takeover = count_log(standby, "Sending due task reminders-scan")
        report.standby_was = standby.pid
        report.requests = balancer.results
        report.killed_at = killed_at
        report.killed_label = label_a
        report.rerouted = balancer.rerouted
        ok = report.print(time.monotonic() - started)
    finally:
        processes.stop_all()
        if "mail" in locals():
            mail.shutdown()
        with contextlib.suppress(Exception):  # cleaning up after a run that may have failed anyway
            redis_client.flushdb()
        if not args.keep:
            drop_database(args.database_url)
    return 0 if ok else 1


# --- Services ------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _maintenance(url: str):
    import psycopg

    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True), parts.path.lstrip("/")


def recreate_database(url: str) -> None:
    connection, name = _maintenance(url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    with contextlib.suppress(Exception):  # Django is not set up when the run failed early
        from django.db import connections

        connections.close_all()
    connection, name = _maintenance(url)
    with connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def redis_connection(url: str):
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
    client.ping()
    return client


def node_environment(args, s3_url: str, mail_port: int) -> dict[str, str]:
    """Production settings (DEBUG off, two factors), secrets made for this run, plain HTTP on 127.0.0.1."""
    return {
        "DJANGO_SETTINGS_MODULE": "reviewportal.settings",
        "PYTHONPATH": str(ROOT),
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIAL_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "REQUIRE_2FA": "1",
        "ALLOW_SUPERUSER_DB": "1",
        "DATABASE_URL": args.database_url,
        "DB_CONN_MAX_AGE": "60",
        "REDIS_URL": args.redis_url,
        "PAGE_CACHE": "1",  # as a deployment with Redis has it; the journeys check it stays in step
        "VAR_DIR": str(VAR),
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_url,
        "S3_REGION": "us-east-1",
        "S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": "rehearsal",
        "AWS_SECRET_ACCESS_KEY": MOTO_SECRET,
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(mail_port),
        # Short cycles, so a few minutes show what hours would: a scan every 30 s, a dead
        # worker's claims freed after a minute, a dead beat's lease gone after 10 s.
        "REMINDER_SCAN_SECONDS": "30",
        "REMINDER_CLAIM_TIMEOUT_MINUTES": "1",
        "BEAT_LEASE_SECONDS": "10",
        "CELERY_VISIBILITY_TIMEOUT": "60",
        "SESSION_IDLE_MINUTES": "60",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict[str, str], *command: str, wait: bool = True):
    """``manage.py command``; with ``wait=False`` the running process, for ``finish``."""
    log = (LOGS / f"manage-{command[0]}.log").open("w")
    # Fixed arguments, no shell.
    process = subprocess.Popen(  # noqa: S603  # nosec B603
        [sys.executable, str(ROOT / "manage.py"), *command], env={**os.environ, **env}, cwd=ROOT, stdout=log, stderr=log
    )
    process.command = command
    process.log = log
    return finish(process) if wait else process


def finish(process) -> None:
    process.wait()
    process.log.close()
    if process.returncode:
        sys.exit(f"manage.py {' '.join(process.command)} failed; see {process.log.name}")


def prepare(env: dict[str, str]) -> None:
    """Migrate and seed the demo world while the static files a DEBUG=0 server needs are collected (once)."""
    collecting = None
    if not (VAR / "static" / "staticfiles.json").exists():
        collecting = manage(env, "collectstatic", "--noinput", "-v0", wait=False)
    manage(env, "migrate", "--noinput")
    manage(env, "seed_demo", "--force-demo-password")  # a throw-away database
    if collecting is not None:
        finish(collecting)


@dataclass
class Setup:
    token: str
    agreement: str
    deadline_ids: list[int] = field(default_factory=list)


def prepare_accounts() -> Setup:
    """TOTP devices, an API token, the agreement to upload to, and email at once for the reminded people."""
    from django.core.management import call_command
    from django.db import connection
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import User
    from accounts.permissions import can
    from agreements.models import Agreement
    from reminders.models import EmailPreference, ReminderPreference

    for email_address in (LEAD, LIAISON_ALPHA, LIAISON_BETA):
        user = User.objects.get(email=email_address)
        TOTPDevice.objects.get_or_create(user=user, name=DEVICE_NAME, defaults={"confirmed": True})
    out = io.StringIO()
    call_command("create_api_token", LIAISON_ALPHA, name="rehearsal", days=1, stdout=out, stderr=io.StringIO())
    liaison = User.objects.get(email=LIAISON_ALPHA)
    agreement = next(
        a
        for a in Agreement.objects.filter(organisation=liaison.organisation).order_by("pk")
        if can(liaison, "agreement.document_upload", a)
    )
    for person in User.objects.filter(email__in=REMINDED):
        ReminderPreference.objects.update_or_create(user=person, defaults={"email": EmailPreference.IMMEDIATE})
    connection.close()
    return Setup(token=out.getvalue().strip(), agreement=agreement.reference)


def make_deadlines(setup: Setup, count: int, *, duration: float) -> None:
    """Deadlines whose one-day reminders fall due from 10 s after the load starts to 20 s before it ends,
    so some fall due before the kills and some after; each reminds three people."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection
    from django.utils import timezone

    from accounts.models import User
    from reminders.models import Deadline, DeadlineKind

    people = list(User.objects.filter(email__in=REMINDED))
    now = timezone.now()
    owner_type = ContentType.objects.get_for_model(User)
    first, last = 10.0, max(20.0, duration - 20)
    for i in range(count):
        stage = now + timedelta(seconds=first + (last - first) * i / max(1, count - 1))
        deadline = Deadline.objects.create(
            owner_type=owner_type,
            owner_id=900_000 + i,
            kind=DeadlineKind.OPEN_POINT_DUE,
            title=f"Rehearsal deadline {i + 1}",
            url="/deadlines/",
            due_at=stage + timedelta(days=1),
            next_reminder_at=stage,
        )
        deadline.recipients.set(people)
        setup.deadline_ids.append(deadline.pk)
    connection.close()


# --- Processes -----------------------------------------------------------------------------------------


class Process:
    def __init__(self, label: str, command: list[str], env: dict[str, str]):
        self.label = label
        self.log = LOGS / f"{label.replace(':', '-')}.log"
        self.handle = self.log.open("w")
        # Fixed arguments, no shell; a process group of its own, so a kill takes its children too.
        self.popen = subprocess.Popen(  # noqa: S603  # nosec B603
            command,
            env={**os.environ, **env},
            cwd=ROOT,
            stdout=self.handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.popen.pid

    def kill(self) -> None:
        """SIGKILL to the whole group: no clean stop, as when a machine dies. Returns once all of it is gone."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.pid, signal.SIGKILL)
        self.popen.wait()
        # The children (gunicorn's workers, Celery's pool) share the listening socket and the group;
        # the node is down only when the last of them is.
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                os.killpg(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.01)

    def stop(self) -> None:
        if self.popen.poll() is None:
            try:
                os.killpg(self.pid, signal.SIGTERM)
                self.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()
            except ProcessLookupError:
                pass
        self.handle.close()

    def text(self) -> str:
        return self.log.read_text(errors="replace")


class Processes:
    def __init__(self):
        self.all: list[Process] = []

    def start(self, label: str, command: list[str], env: dict[str, str]) -> Process:
        process = Process(label, command, env)
        self.all.append(process)
        return process

    def object_store(self, port: int) -> str:
        process = self.start("s3", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], {})
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            if process.popen.poll() is not None:
                sys.exit(f"The S3 server stopped at start; see {process.log}")
            try:
                import boto3

                client = boto3.client(
                    "s3",
                    endpoint_url=url,
                    region_name="us-east-1",
                    aws_access_key_id="rehearsal",
                    aws_secret_access_key=MOTO_SECRET,
                )
                client.create_bucket(Bucket=BUCKET)
                return url
            except Exception:  # noqa: BLE001 - not listening yet
                time.sleep(0.5)
        sys.exit(f"The S3 server did not answer within 60 s; see {process.log}")

    def web(self, label: str, port: int, env: dict[str, str]) -> Process:
        return self.start(
            f"web-{label}",
            [
                str(BIN / "gunicorn"),
                "reviewportal.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "2",
                "--timeout",
                "60",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                "--no-control-socket",  # two nodes on one machine would share its one path
            ],
            env,
        )

    def worker(self, number: int, env: dict[str, str]) -> Process:
        env = {**env, "LOG_LEVEL": "INFO"}  # "ready." and the tasks, in its log
        return self.start(
            f"worker-{number}",
            [
                str(BIN / "celery"),
                "-A",
                "reviewportal",
                "worker",
                "-n",
                f"rehearsal{number}@%h",
                "--concurrency",
                "2",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
            ],
            env,
        )

    def beat(self, number: int, env: dict[str, str]) -> Process:
        env = {**env, "LOG_LEVEL": "INFO"}  # the lease and each task sent, in its log
        return self.start(
            f"beat-{number}",
            [
                str(BIN / "celery"),
                "-A",
                "reviewportal",
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                str(VAR / f"beat-{number}-schedule"),
                "--pidfile",
                str(VAR / f"beat-{number}.pid"),
            ],
            env,
        )

    def stop_all(self) -> None:
        for process in reversed(self.all):
            process.stop()


def wait_http(port: int, label: str) -> None:
    deadline = time.time() + 90
    while time.time() < deadline:
        try:
            status, _, _ = request(port, "GET", "/healthz")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    sys.exit(f"Web node {label} did not answer within 90 s; see {LOGS}")


def wait_log(process: Process, text: str, seconds: float) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if text in process.text():
            return
        if process.popen.poll() is not None:
            sys.exit(f"{process.label} stopped; see {process.log}")
        time.sleep(0.5)
    sys.exit(f"{process.label} did not log {text!r} within {seconds:.0f} s; see {process.log}")


def count_log(process: Process, text: str) -> int:
    return process.text().count(text)


def wait_for_lease_holder(client, pids: set[int], *, since: float | None = None, seconds: float = 90):
    """The pid holding the beat lease once it is one of ``pids``; with ``since``, the seconds it took."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        holder = client.get(LEASE_KEY)
        if holder:
            pid = int(holder.decode().split(":")[1])
            if pid in pids:
                return time.time() - since if since is not None else pid
        time.sleep(0.1)
    sys.exit(f"No beat among {sorted(pids)} took the lease within {seconds:.0f} s; see {LOGS}")


# --- Mail -------------------------------------------------------------------------------------------------


class MailSink(socketserver.ThreadingTCPServer):
    """An SMTP server that accepts everything and keeps each message's Message-ID."""

    allow_reuse_address = True
    daemon_threads = True

    @classmethod
    def start(cls) -> MailSink:
        server = cls(("127.0.0.1", 0), _SmtpHandler)
        server.message_ids: list[str] = []
        server.cut = 0
        server.lock = threading.Lock()
        server.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def received(self) -> Counter:
        with self.lock:
            return Counter(self.message_ids)


class _SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        try:
            self.converse()
        except ConnectionError:
            # A worker killed in the middle of a message: the message was never accepted.
            with self.server.lock:
                self.server.cut += 1

    def converse(self) -> None:
        self.reply("220 rehearsal mail sink")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"DATA":
                self.reply("354 go ahead")
                data = bytearray()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = email.message_from_bytes(bytes(data))
                with self.server.lock:
                    self.server.message_ids.append(str(message.get("Message-ID", "")).strip())
                self.reply("250 accepted")
            elif verb == b"QUIT":
                self.reply("221 bye")
                return
            elif verb in (b"EHLO", b"HELO", b"MAIL", b"RCPT", b"RSET", b"NOOP"):
                self.reply("250 ok")
            else:
                self.reply("502 not here")


# --- HTTP -------------------------------------------------------------------------------------------------


def request(port: int, method: str, path: str, *, headers: dict | None = None, body: bytes | None = None):
    """One request on a new connection (as a load balancer's upstream would open): status, headers, body."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **(headers or {})})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


@dataclass
class Session:
    email: str
    cookies: dict[str, str]

    def header(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}


def _take_cookies(headers, jar: dict[str, str]) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(value)
        for name, morsel in cookie.items():
            jar[name] = morsel.value


def _csrf(body: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not match:
        sys.exit("No CSRF token on the sign-in form.")
    return match.group(1).decode()


def sign_in(port: int, email_address: str) -> Session:
    """Password, then a TOTP code, as production asks of everyone."""
    from django.conf import settings
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    jar: dict[str, str] = {}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, headers, body = request(port, "GET", "/accounts/login/")
    _take_cookies(headers, jar)
    data = {"username": email_address, "password": settings.DEMO_PASSWORD, "csrfmiddlewaretoken": _csrf(body)}
    cookie = Session(email_address, jar).header()
    status, headers, _ = request(
        port, "POST", "/accounts/login/", headers={**form, **cookie}, body=urlencode(data).encode()
    )
    _take_cookies(headers, jar)
    if status != 302:
        sys.exit(f"Signing in as {email_address} failed (HTTP {status}).")
    device = TOTPDevice.objects.get(user__email=email_address, name=DEVICE_NAME)
    for _attempt in range(3):
        status, headers, body = request(port, "GET", "/accounts/2fa/verify/?next=/", headers=Session("", jar).header())
        _take_cookies(headers, jar)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        data = {"token": f"{totp.token():0{device.digits}d}", "csrfmiddlewaretoken": _csrf(body), "next": "/"}
        status, headers, _ = request(
            port,
            "POST",
            "/accounts/2fa/verify/",
            headers={**form, **Session("", jar).header()},
            body=urlencode(data).encode(),
        )
        _take_cookies(headers, jar)
        if status == 302:
            return Session(email_address, {k: v for k, v in jar.items() if "session" in k or "csrf" in k})
        time.sleep(device.step - time.time() % device.step + 1)  # a code is good once per time step
    sys.exit(f"The second factor of {email_address} was refused.")


def continue_session(port: int, session: Session) -> bool:
    status, _, body = request(port, "GET", "/", headers=session.header())
    return status == 200 and b"Welcome, " in body


@dataclass
class Result:
    began: float
    ended: float
    node: str
    path: str
    ok: bool
    error: str = ""


class Balancer:
    """Round-robin over the web nodes, as a load balancer does; a node that refuses connections is taken out.

    A refused connection never reached the node (nothing was in flight), so the request goes to the
    next node, as a load balancer's failed health check or retry would send it; that is counted as
    re-routed, not failed.
    """

    def __init__(self, nodes: list[tuple[str, int]]):
        self.nodes = nodes
        self.down: set[str] = set()
        self.lock = threading.Lock()
        self.turn = 0
        self.results: list[Result] = []
        self.rerouted = 0
        self.killed: tuple[str, float] | None = None

    def pick(self, prefer: str | None = None) -> tuple[str, int]:
        with self.lock:
            alive = [n for n in self.nodes if n[0] not in self.down]
            if prefer is not None:
                for node in alive:
                    if node[0] == prefer:
                        return node
            self.turn += 1
            return alive[self.turn % len(alive)]

    def other(self, label: str) -> tuple[str, int]:
        with self.lock:
            alive = [n for n in self.nodes if n[0] not in self.down]
            return next((n for n in alive if n[0] != label), alive[0])

    def send(self, method: str, path: str, marker: bytes | None, *, prefer: str | None = None, **kwargs):
        for _attempt in range(len(self.nodes)):
            label, port = self.pick(prefer)
            began = time.time()
            try:
                status, headers, body = request(port, method, path, **kwargs)
            except ConnectionRefusedError:
                with self.lock:
                    self.down.add(label)
                    self.rerouted += 1
                prefer = None
                continue
            except (OSError, http.client.HTTPException) as exc:
                self._record(Result(began, time.time(), label, path, False, type(exc).__name__))
                return label, None, None, None
            ok = marker is None or (status == 200 and marker in body)
            self._record(Result(began, time.time(), label, path, ok, "" if ok else f"HTTP {status}"))
            return label, status, headers, body
        raise RuntimeError("no web node is up")

    def _record(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)


def drive_load(balancer: Balancer, lead: Session, token: str, stop: threading.Event, report, number: int) -> None:
    """Pages with the lead's session (signed in on node A) and API lists with a token, on both nodes in turn."""
    api_headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    targets = [(p, m, lead.header()) for p, m in PAGES] + [(p, m, api_headers) for p, m in API]
    i = number
    while not stop.is_set():
        path, marker, headers = targets[i % len(targets)]
        balancer.send("GET", path, marker.encode(), headers=headers)
        i += 1


# --- Journeys: a file uploaded through one node, downloaded through the other --------------------------


@dataclass
class Upload:
    node: str
    document_id: str
    sha256: str
    downloaded_through: list[str] = field(default_factory=list)
    matched: bool = False


def small_pdf(marker: str) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": f"Rehearsal {marker}"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _multipart(fields: dict[str, str], file_name: str, content: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{file_name}"\r\n'
        f"Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def drive_journeys(
    balancer: Balancer, setup: Setup, lead: Session, beta: Session, stop: threading.Event, report
) -> None:
    """Every few seconds: the Alpha liaison uploads a document through one node (API, token); the lead
    reads the agreement's page through the other node, which must list it at once (kept pages are
    shared through Redis and made stale by the write), and downloads it there: the same bytes;
    Beta's liaison gets 404."""
    import json

    turn = 0
    page = f"/agreements/{setup.agreement}/"
    while not stop.wait(2.0):
        turn += 1
        # The lead reads the agreement's page twice through the node that will not take the upload,
        # so that node's kept copy is what a stale cache would send next.
        for _ in range(2):
            _, _, headers, _ = balancer.send(
                "GET", page, None, prefer=balancer.nodes[(turn + 1) % 2][0], headers=lead.header()
            )
        report.kept_before_upload += bool(headers) and headers.get("X-Page-Cache") == "hit"
        content = small_pdf(f"{turn}-{uuid.uuid4().hex}")
        body, content_type = _multipart(
            {"kind": "draft", "description": f"Rehearsal upload {turn}", "no_classified_information": "true"},
            "draft.pdf",
            content,
        )
        prefer = balancer.nodes[turn % 2][0]
        began = time.time()
        node, status, _, answer = balancer.send(
            "POST",
            f"/api/v1/agreements/{setup.agreement}/documents/",
            None,
            prefer=prefer,
            headers={
                "Authorization": f"Bearer {setup.token}",
                "Content-Type": content_type,
                "Accept": "application/json",
            },
            body=body,
        )
        if status != 201:
            report.journey_errors.append(JourneyError("upload", node, status, began))
            continue
        upload = Upload(node, json.loads(answer)["id"], hashlib.sha256(content).hexdigest())
        report.uploads.append(upload)
        other, _ = balancer.other(node)
        began = time.time()
        got, status, _, data = balancer.send("GET", page, None, prefer=other, headers=lead.header())
        if status == 200:
            report.pages_after_upload.append(upload.document_id.encode() in data)
        else:
            report.journey_errors.append(JourneyError("agreement page", got, status, began))
        path = f"/agreements/{setup.agreement}/documents/{upload.document_id}/"
        began = time.time()
        got, status, _, data = balancer.send("GET", path, None, prefer=other, headers=lead.header())
        if status == 200:
            upload.downloaded_through.append(got)
            upload.matched = hashlib.sha256(data).hexdigest() == upload.sha256
        else:
            report.journey_errors.append(JourneyError("download", got, status, began))
        if turn % 3 == 0:
            _, status, _, _ = balancer.send("GET", path, None, prefer=other, headers=beta.header())
            report.other_company.append(status)


def check_all_files(port: int, lead: Session, agreement: str, uploads: list[Upload]) -> tuple[int, int]:
    """Every uploaded document, downloaded through the surviving node: (same bytes, all)."""
    same = 0
    for upload in uploads:
        path = f"/agreements/{agreement}/documents/{upload.document_id}/"
        status, _, data = request(port, "GET", path, headers=lead.header())
        same += status == 200 and hashlib.sha256(data).hexdigest() == upload.sha256
    return same, len(uploads)


# --- Reminders --------------------------------------------------------------------------------------------


def claimed_reminders() -> set[int]:
    from django.db import connection

    from reminders.models import DeliveryStatus, Reminder

    ids = set(Reminder.objects.filter(status=DeliveryStatus.CLAIMED).values_list("pk", flat=True))
    connection.close()
    return ids


@dataclass
class ReminderFigures:
    due: int
    sent: int
    lost: int
    emails: int
    duplicated: int
    duplicated_unexplained: int
    left_pending: int
    seconds_to_drain: float
    sent_after_kill: int
    claimed_at_kill: int


def wait_for_reminders(
    setup: Setup, claimed_at_kill: set[int], killed_at: float, mail: MailSink, *, timeout: float
) -> ReminderFigures:
    """Wait until every reminder due in the run is sent (or ``timeout``), then count."""
    from django.db import connection

    from reminders.emails import delivery_message_id
    from reminders.models import Deadline, DeliveryStatus, Reminder

    began = time.time()
    due = (
        len(setup.deadline_ids) * Deadline.recipients.through.objects.filter(deadline_id=setup.deadline_ids[0]).count()
    )
    ours = Reminder.objects.filter(deadline_id__in=setup.deadline_ids)
    unfinished = Reminder.objects.filter(status__in=[DeliveryStatus.PENDING, DeliveryStatus.CLAIMED])
    while time.time() - began < timeout:
        if ours.filter(status=DeliveryStatus.SENT).count() >= due and not unfinished.exists():
            break
        time.sleep(2)
    time.sleep(2)  # the last messages reach the mail sink
    rows = list(ours.values_list("pk", "status"))
    received = mail.received()
    emails = duplicated = unexplained = 0
    for pk, _status in rows:
        copies = received.get(delivery_message_id("reminder", pk), 0)
        emails += min(copies, 1)
        if copies > 1:
            duplicated += 1
            unexplained += pk not in claimed_at_kill
    sent = sum(status == DeliveryStatus.SENT for _, status in rows)
    after = ours.filter(sent_at__gte=datetime.fromtimestamp(killed_at, tz=UTC)).count()
    left = unfinished.count()
    connection.close()
    return ReminderFigures(
        due=due,
        sent=sent,
        lost=due - sent,
        emails=emails,
        duplicated=duplicated,
        duplicated_unexplained=unexplained,
        left_pending=left,
        seconds_to_drain=time.time() - began,
        sent_after_kill=after,
        claimed_at_kill=len(claimed_at_kill & {pk for pk, _ in rows}),
    )


# --- Report -------------------------------------------------------------------------------------------------


@dataclass
class JourneyError:
    """A step of a journey that did not answer as it should: ``status`` is None when the connection
    dropped before an answer (the node died with the request in flight)."""

    step: str
    node: str
    status: int | None
    began: float

    def __str__(self) -> str:
        return f"{self.step} through {self.node}: HTTP {self.status}"


@dataclass
class Report:
    session_on_other_node: bool = False
    uploads: list[Upload] = field(default_factory=list)
    journey_errors: list[JourneyError] = field(default_factory=list)
    other_company: list[int] = field(default_factory=list)
    # For each upload: whether the agreement's page, read next through the other node, listed it.
    pages_after_upload: list[bool] = field(default_factory=list)
    kept_before_upload: int = 0  # how often the page read just before was a kept one
    takeover_seconds: float = 0.0
    final_downloads: tuple[int, int] = (0, 0)
    reminders: ReminderFigures | None = None
    scans_after_takeover: int = 0
    standby_was: int = 0
    requests: list[Result] = field(default_factory=list)
    killed_at: float = 0.0
    killed_label: str = ""
    rerouted: int = 0
    mail: tuple[int, int] = (0, 0)

    def print(self, elapsed: float) -> bool:
        failures = [r for r in self.requests if not r.ok]
        in_flight = [r for r in failures if r.node == self.killed_label and r.began <= self.killed_at]
        unexplained = [r for r in failures if r not in in_flight]
        # A journey's step in flight on the node when it was killed fails as any request does then: the
        # same rule as above. Its file is still checked through the surviving node below.
        journey_in_flight = [
            e
            for e in self.journey_errors
            if e.status is None and e.node == self.killed_label and e.began <= self.killed_at
        ]
        journey_unexplained = [e for e in self.journey_errors if e not in journey_in_flight]
        by_node = Counter(r.node for r in self.requests)
        crossed = [u for u in self.uploads if u.downloaded_through and u.downloaded_through[0] != u.node]
        reminders = self.reminders
        same, total = self.final_downloads
        checks = {
            "session signed in on node A goes on on node B": self.session_on_other_node,
            "no request failed but those in flight on the killed node": not unexplained,
            "files uploaded through one node download through the other, same bytes": bool(crossed)
            and all(u.matched for u in crossed)
            and not journey_unexplained,
            "every uploaded file downloads through the surviving node, same bytes": total > 0 and same == total,
            "a page read through the other node right after an upload lists it, though it was kept": bool(
                self.pages_after_upload
            )
            and all(self.pages_after_upload)
            and self.kept_before_upload > 0,
            "another company's liaison gets 404": bool(self.other_company) and set(self.other_company) == {404},
            "no reminder lost": reminders is not None and reminders.lost == 0 and reminders.emails == reminders.due,
            "no reminder emailed twice beyond the window (a claim of a killed worker)": reminders is not None
            and reminders.duplicated_unexplained == 0,
            "nothing left pending or claimed": reminders is not None and reminders.left_pending == 0,
            "the standby beat took over and scheduled": self.scans_after_takeover > 0,
        }
        print()
        print(f"Rehearsal: 2 web nodes, 2 workers, 2 beats; {elapsed:.0f} s in all.")
        print(
            f"requests: {len(self.requests)} ({', '.join(f'{n} {c}' for n, c in sorted(by_node.items()))}); "
            f"failed: {len(failures)}, of which in flight on the killed node {len(in_flight)}, "
            f"other {len(unexplained)}; "
            f"re-routed after the kill (connection refused): {self.rerouted}"
        )
        for result in unexplained[:10]:
            print(f"  failed: {result.node} {result.path} {result.error} at +{result.began - self.killed_at:.1f} s")
        print(
            f"files: {len(self.uploads)} uploaded, {len(crossed)} downloaded through the other node "
            f"({sum(u.matched for u in crossed)} identical); after the kills {same} of {total} identical through the "
            f"surviving node; another company: {Counter(self.other_company)}; the agreement's page read next "
            f"through the other node listed {sum(self.pages_after_upload)} of {len(self.pages_after_upload)} "
            f"(the page read just before the upload was a kept one {self.kept_before_upload} times)"
        )
        for error in self.journey_errors[:10]:
            print(f"  journey: {error}{' (in flight on the killed node)' if error in journey_in_flight else ''}")
        if reminders:
            print(
                f"reminders: due {reminders.due}, sent {reminders.sent} ({reminders.sent_after_kill} after the kills; "
                f"{reminders.claimed_at_kill} being sent when they came), lost {reminders.lost}, emails received "
                f"{reminders.emails}, duplicated {reminders.duplicated} (beyond the window: "
                f"{reminders.duplicated_unexplained}); left pending {reminders.left_pending}; drained "
                f"{reminders.seconds_to_drain:.0f} s after the load"
            )
        print(
            f"mail: {self.mail[0]} messages accepted in all (reminders and digests), "
            f"{self.mail[1]} connections cut mid-message by the kill"
        )
        print(
            f"beat: the standby (pid {self.standby_was}) held the lease {self.takeover_seconds:.1f} s after the "
            f"active beat was killed and sent {self.scans_after_takeover} scans"
        )
        for name, passed in checks.items():
            print(f"  {'ok  ' if passed else 'FAIL'} {name}")
        if not all(checks.values()):
            print(f"Logs: {LOGS}")
        return all(checks.values())


if __name__ == "__main__":
    sys.exit(main())
