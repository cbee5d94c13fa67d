"""Page benchmark: what each key page costs, served as in production, against a named database.

Serves the portal with gunicorn (2 sync workers, DEBUG off, persistent database
connections ``DB_CONN_MAX_AGE=60``, secrets generated for the run, only on
127.0.0.1), signs in over HTTP as the demo programme admin, lead, evaluator and
Alpha AI liaison (password, then the second factor with a TOTP code, as
production requires of everyone), and measures every key page with ``wrk`` at
16 connections: the dashboard, each list with and without filters and search,
each detail page, My deadlines, notifications, the full and released reports,
and the API lists (with a personal API token, as scripts call them). Right
before each page it measures a bare Django view ("hello", behind the same
middleware, served by the same workers; it lives only in ``bench/server_urls.py``)
and reports the page's requests/s as a percentage of it, with p50/p95/p99
latency, as a Markdown table.

Every answer is checked: each page is fetched first and must be a 200 (a
redirect to sign-in is not) holding a marker of the real page (its heading, the
object's reference, ``"results"`` for the API); during the run a Lua hook counts
every answer that is not a 200 with the marker, and the row is flagged when any
is. A page's run lasts about 20 times its single-request time (between
``--duration`` and ``--max-duration`` seconds), and the server is let drain
before the next measurement, so the whole run is bounded.

    nice -n 19 .venv/bin/python bench/pages.py --database-url postgres://postgres@127.0.0.1:5432/rp_scale_1

Needs ``wrk`` (Debian: ``apt-get install -y wrk``) and a database made by
``bench/seed_scale.py`` (the same guard applies: its name starts with
``rp_scale`` or ``scale``, or ``--yes-i-mean-it``). The run adds to that
database what signing in adds (sessions, audit events) plus, once, a TOTP
device for each of the four demo logins and an API token per run.
Options: ``--only REGEX`` (rows whose role/page/path match), ``--output FILE``
(the table also written there), ``--port``, ``--connections``, ``--duration``,
and ``--code DIR`` to serve another checkout of the portal than this one, to
compare before and after a change (the database must be migrated for it):

    git archive COMMIT | tar -x -C /tmp/before
    nice -n 19 .venv/bin/python bench/pages.py --code /tmp/before --label "before (COMMIT)" --database-url …
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess  # nosec B404
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from seed_scale import refuse_unless_scale_database  # noqa: E402

HELLO = "/bench/hello/"
ROLES = {
    "admin": "admin@caisi.example",
    "lead": "lead@caisi.example",
    "evaluator": "evaluator@caisi.example",
    "liaison": "liaison@alpha-ai.example",
}
DEVICE_NAME = "Benchmark authenticator"

# (role, page, path, marker). Paths and markers name the targets chosen in the database:
# {big} the Alpha AI case with the most findings (led by the demo lead, the demo evaluator on it),
# {typical} an open case of the demo evaluator with a middling number of findings,
# {agreement}, {submission}, {ticket}, {finding} objects of the big case.
PAGES = [
    ("admin", "dashboard", "/", "Welcome, "),
    ("admin", "agreements", "/agreements/", "Agreements</h1>"),
    ("admin", "agreements, filtered", "/agreements/?status=active", "Agreements</h1>"),
    ("admin", "agreements, search", "/agreements/?q=Renewed", "Agreements</h1>"),
    ("admin", "submissions", "/submissions/", "Model submissions</h1>"),
    ("admin", "submissions, search", "/submissions/?q=Agent", "Model submissions</h1>"),
    ("admin", "assessments", "/assessments/", "Assessments</h1>"),
    ("admin", "assessments, filtered", "/assessments/?status=in_progress", "Assessments</h1>"),
    ("admin", "assessments, search", "/assessments/?q=Agent", "Assessments</h1>"),
    ("admin", "access tickets", "/access/", "Model-access tickets</h1>"),
    ("admin", "access tickets, filtered", "/access/?status=active", "Model-access tickets</h1>"),
    ("admin", "findings", "/findings/", "<h1>Findings</h1>"),
    ("admin", "findings, filtered", "/findings/?severity=high&status=released", "<h1>Findings</h1>"),
    ("admin", "findings, overdue", "/findings/?overdue=1", "<h1>Findings</h1>"),
    ("admin", "findings, search", "/findings/?q=exploit", "<h1>Findings</h1>"),
    ("admin", "My deadlines", "/deadlines/", "<h1>My deadlines</h1>"),
    ("admin", "My deadlines, overdue", "/deadlines/?show=overdue", "<h1>My deadlines</h1>"),
    ("admin", "notifications", "/deadlines/notifications/", "<h1>Notifications</h1>"),
    ("admin", "API agreements", "/api/v1/agreements/", '"results":'),
    ("admin", "API submissions", "/api/v1/submissions/", '"results":'),
    ("admin", "API assessments", "/api/v1/assessments/", '"results":'),
    ("admin", "API access tickets", "/api/v1/access-tickets/", '"results":'),
    ("admin", "API findings", "/api/v1/findings/", '"results":'),
    ("admin", "API findings, filtered + search", "/api/v1/findings/?severity=high&search=exploit", '"results":'),
    ("admin", "API deadlines", "/api/v1/deadlines/", '"results":'),
    ("admin", "API deadlines, open", "/api/v1/deadlines/?is_open=true", '"results":'),
    ("admin", "API notifications", "/api/v1/notifications/", '"results":'),
    ("lead", "dashboard", "/", "Welcome, "),
    ("lead", "assessments", "/assessments/", "Assessments</h1>"),
    ("lead", "access tickets", "/access/", "Model-access tickets</h1>"),
    ("lead", "findings", "/findings/", "<h1>Findings</h1>"),
    ("lead", "findings, filtered", "/findings/?status=in_review", "<h1>Findings</h1>"),
    ("lead", "My deadlines", "/deadlines/", "<h1>My deadlines</h1>"),
    ("lead", "notifications", "/deadlines/notifications/", "<h1>Notifications</h1>"),
    ("lead", "assessment detail (big case)", "/assessments/{big}/", "<h1>{big}:"),
    ("lead", "finding detail", "/findings/{finding}/", "{finding}"),
    ("lead", "access ticket detail", "/access/{ticket}/", "<h1>{ticket}:"),
    ("lead", "agreement detail", "/agreements/{agreement}/", "{agreement}"),
    ("lead", "submission detail", "/submissions/{submission}/", "{submission_heading}</h1>"),
    ("lead", "full report (big case)", "/findings/assessment/{big}/report/", "Assessment report {big}</h1>"),
    ("lead", "released report (big case)", "/findings/assessment/{big}/report/released/", "Assessment report {big}"),
    ("lead", "API assessments", "/api/v1/assessments/", '"results":'),
    ("lead", "API findings", "/api/v1/findings/", '"results":'),
    ("lead", "API deadlines", "/api/v1/deadlines/", '"results":'),
    ("evaluator", "dashboard", "/", "Welcome, "),
    ("evaluator", "assessments", "/assessments/", "Assessments</h1>"),
    ("evaluator", "findings", "/findings/", "<h1>Findings</h1>"),
    ("evaluator", "findings, search", "/findings/?q=exploit", "<h1>Findings</h1>"),
    ("evaluator", "My deadlines", "/deadlines/", "<h1>My deadlines</h1>"),
    ("evaluator", "notifications", "/deadlines/notifications/", "<h1>Notifications</h1>"),
    ("evaluator", "assessment detail (typical case)", "/assessments/{typical}/", "<h1>{typical}:"),
    ("evaluator", "API findings", "/api/v1/findings/", '"results":'),
    ("evaluator", "API deadlines", "/api/v1/deadlines/", '"results":'),
    ("liaison", "dashboard", "/", "Welcome, "),
    ("liaison", "agreements", "/agreements/", "Agreements</h1>"),
    ("liaison", "agreement detail", "/agreements/{agreement}/", "{agreement}"),
    ("liaison", "submissions", "/submissions/", "Model submissions</h1>"),
    ("liaison", "assessments", "/assessments/", "Assessments</h1>"),
    ("liaison", "assessment detail (big case)", "/assessments/{big}/", "<h1>{big}:"),
    ("liaison", "access tickets", "/access/", "Model-access tickets</h1>"),
    ("liaison", "findings", "/findings/", "<h1>Findings</h1>"),
    ("liaison", "finding detail", "/findings/{finding}/", "{finding}"),
    ("liaison", "released report (big case)", "/findings/assessment/{big}/report/released/", "Assessment report {big}"),
    ("liaison", "My deadlines", "/deadlines/", "<h1>My deadlines</h1>"),
    ("liaison", "notifications", "/deadlines/notifications/", "<h1>Notifications</h1>"),
    ("liaison", "API findings", "/api/v1/findings/", '"results":'),
    ("liaison", "API deadlines", "/api/v1/deadlines/", '"results":'),
]

LUA = """
wrk.method = "GET"
{headers}
local marker = [==[{marker}]==]
local threads = {{}}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; first_bad = "" end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, marker, 1, true) then
    bad = bad + 1
    if first_bad == "" then first_bad = tostring(status) end
  end
end
function done(summary, latency, requests)
  local total_bad, why = 0, ""
  for _, t in ipairs(threads) do
    total_bad = total_bad + t:get("bad")
    if why == "" then why = t:get("first_bad") or "" end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {{"requests": %d, "duration_us": %d, "bad": %d, "first_bad": "%s", "socket_errors": %d, ' ..
    '"timeouts": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d}}\\n',
    summary.requests, summary.duration, total_bad, why, e.connect + e.read + e.write, e.timeout,
    math.floor(latency:percentile(50)), math.floor(latency:percentile(95)), math.floor(latency:percentile(99))))
end
"""


@dataclass
class Run:
    requests: int
    seconds: float
    bad: int
    first_bad: str
    socket_errors: int
    timeouts: int
    p50: float
    p95: float
    p99: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


@dataclass
class Row:
    role: str
    page: str
    path: str
    single: float  # seconds for one request alone
    page_run: Run
    bare_run: Run
    notes: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return 100 * self.page_run.rate / self.bare_run.rate if self.bare_run.rate else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=None, help="postgres://… (default: DATABASE_URL)")
    parser.add_argument("--yes-i-mean-it", action="store_true", help="allow a database not named rp_scale*/scale*")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2, one per core)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--duration", type=float, default=5, help="shortest run of a page, seconds (default 5)")
    parser.add_argument("--max-duration", type=float, default=40, help="longest run of a page, seconds (default 40)")
    parser.add_argument("--bare-duration", type=float, default=2, help="run of the bare view before each page")
    parser.add_argument("--only", default="", help="measure only rows whose 'role page path' matches this regex")
    parser.add_argument("--output", default="", help="also write the Markdown table to this file")
    parser.add_argument(
        "--code",
        default=str(ROOT),
        help="serve the portal from this checkout (default: this one), e.g. an older commit unpacked with "
        "'git archive COMMIT | tar -x -C DIR'; the database must be migrated for that code",
    )
    parser.add_argument("--label", default="", help="what the served code is, for the report (e.g. its commit)")
    parser.add_argument(
        "--redis-url",
        default="",
        help="the cache (and broker) as in production, e.g. redis://127.0.0.1:6379/7; emptied at the start. "
        "Without it, each worker has its own cache and pages are never kept (core/page_cache.py)",
    )
    parser.add_argument(
        "--no-page-cache", action="store_true", help="with --redis-url: keep no page, so every answer is rendered"
    )
    args = parser.parse_args()
    code = Path(args.code).resolve()
    if not (code / "manage.py").is_file() or not (code / "reviewportal").is_dir():
        sys.exit(f"{code} is not a checkout of the portal.")
    if not (code / "node_modules").exists():
        # The static files include the U.S. Web Design System from npm: share this checkout's.
        (code / "node_modules").symlink_to(ROOT / "node_modules")
    label = args.label or describe(code)

    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk (Debian/Ubuntu), or brew install wrk.")
    url = args.database_url or os.environ.get("DATABASE_URL", "")
    name = refuse_unless_scale_database(url, yes=args.yes_i_mean_it)
    env = server_environment(url, code, redis_url=args.redis_url, page_cache=not args.no_page_cache)
    os.environ.update(env)

    import django

    django.setup()
    targets, sizes = prepare_database()
    if args.redis_url:
        from django.core.cache import cache

        cache.clear()  # nothing kept from an earlier run, nor from before the data was loaded
    collect_static(env, code)
    wanted = [p for p in PAGES if re.search(args.only, f"{p[0]} {p[1]} {p[2]}")] if args.only else PAGES
    print(f"database {name}: " + ", ".join(f"{v:,} {k}" for k, v in sizes.items()), flush=True)
    load_before = os.getloadavg()
    started = time.time()
    with gunicorn(env, code, port=args.port, workers=args.workers) as server:
        client = Client(args.port)
        sessions = {role: sign_in(client, email) for role, email in ROLES.items()}
        tokens = targets.pop("tokens")
        rows = []
        for role, page, path_template, marker_template in wanted:
            path = path_template.format(**targets)
            marker = marker_template.format(**targets)
            headers = (
                {"Cookie": sessions[role]}
                if not path.startswith("/api/")
                else {
                    "Authorization": f"Bearer {tokens[role]}",
                    "Accept": "application/json",
                }
            )
            single = check_page(client, path, headers, marker, label=f"{role} {page}")
            duration = min(args.max_duration, max(args.duration, 20 * single))
            timeout = max(10.0, 2 * args.connections / args.workers * single + 10)
            bare = wrk(args, HELLO, {}, "hello", args.bare_duration, 10)
            measured = wrk(args, path, headers, marker, duration, timeout)
            row = Row(role, page, path, single, measured, bare)
            if measured.bad or measured.socket_errors or measured.timeouts:
                row.notes.append(
                    f"{measured.bad} wrong answers (first: {measured.first_bad or '-'}), "
                    f"{measured.socket_errors} socket errors, {measured.timeouts} timeouts"
                )
            rows.append(row)
            print(
                f"  {role:<9} {page:<36} {measured.rate:9.1f} req/s {row.share:6.2f} % of bare "
                f"p50 {fmt_ms(measured.p50)}  ({bare.rate:.0f} bare req/s){'  ! ' + row.notes[0] if row.notes else ''}",
                flush=True,
            )
            client.wait_idle(limit=2 * args.connections / args.workers * single + 5)
        memory = server.worker_memory()
    elapsed = time.time() - started
    table = markdown(rows)
    summary = summarise(rows, memory, elapsed, load_before, os.getloadavg(), name, sizes, args, label)
    print()
    print(summary)
    print(table)
    if args.output:
        Path(args.output).write_text(summary + "\n" + table + "\n")


# --- Environment and database ---------------------------------------------------------------------


def describe(code: Path) -> str:
    """The commit of ``code`` (and whether it has uncommitted changes), or its path."""
    git = shutil.which("git")
    if git is None or not (code / ".git").exists():
        return str(code)
    # Fixed arguments, no shell.
    run = [git, "-C", str(code)]
    head = subprocess.run([*run, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)  # noqa: S603  # nosec B603
    dirty = subprocess.run([*run, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True)  # noqa: S603  # nosec B603
    return f"commit {head.stdout.strip()}" + (" with uncommitted changes" if dirty.stdout.strip() else "")


def server_environment(url: str, code: Path, *, redis_url: str = "", page_cache: bool = True) -> dict[str, str]:
    """Production settings with secrets made for this run; plain HTTP on 127.0.0.1 (no TLS redirect).

    The served code comes first on the path; ``bench`` resolves to both checkouts' folders (a
    namespace package), so the bench's own settings and URLs are found whatever code is served.
    With ``redis_url`` the cache is Redis, as in production, and pages are kept unless ``page_cache``
    is off.
    """
    cache = {"REDIS_URL": redis_url, "PAGE_CACHE": "1" if page_cache else "0"} if redis_url else {}
    return {
        **cache,
        "DJANGO_SETTINGS_MODULE": "bench.server_settings",
        "DATABASE_URL": url,
        "DEBUG": "0",
        "DB_CONN_MAX_AGE": "60",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIAL_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "REQUIRE_2FA": "1",
        # A long run must not outlast the idle limit of the sessions it measures.
        "SESSION_IDLE_MINUTES": "240",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": os.pathsep.join(dict.fromkeys([str(code), str(ROOT)])),
        "BENCH_STATIC_ROOT": str(code / "var" / "bench-static"),
    }


def prepare_database() -> tuple[dict, dict[str, int]]:
    """The objects the pages show, a TOTP device per bench login, an API token per role, and the sizes.

    Only named columns are read, so this checkout's models can differ from the served code's
    (``--code``) in fields the pages do not need here.
    """
    import io

    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from accounts.models import Membership, Organisation, User
    from assessments.models import AccessTicket, Assessment, ModelSubmission
    from findings.models import Finding
    from reminders.models import Deadline, Notification

    users = {role: User.objects.only("id", "email").get(email=email) for role, email in ROLES.items()}
    for user in users.values():
        TOTPDevice.objects.get_or_create(user=user, name=DEVICE_NAME, defaults={"confirmed": True})
    alpha = Membership.objects.filter(user=users["liaison"]).values_list("organisation_id", flat=True).get()
    cases = Assessment.objects.filter(lead=users["lead"], team=users["evaluator"], submission__organisation=alpha)
    big = cases.annotate(n=Count("findings")).order_by("-n").values("id", "reference", "submission_id", "n").first()
    if big is None:
        sys.exit("No Alpha AI case led by the demo lead with the demo evaluator on it: seed with bench/seed_scale.py.")
    open_cases = list(
        Assessment.objects.filter(team=users["evaluator"], status__in=["in_progress", "reporting"])
        .exclude(pk=big["id"])
        .annotate(n=Count("findings"))
        .order_by("n", "pk")
        .values_list("reference", flat=True)
    )
    typical = open_cases[len(open_cases) // 2] if open_cases else big["reference"]
    finding = (
        Finding.objects.filter(assessment_id=big["id"], status__in=["released", "company_responded", "resolved"])
        .order_by("pk")
        .values_list("reference", flat=True)
        .first()
    )
    ticket = AccessTicket.objects.filter(assessment_id=big["id"]).order_by("pk").values_list("reference", flat=True)
    ticket = ticket.first()
    submission = ModelSubmission.objects.filter(pk=big["submission_id"]).values(
        "reference", "model_name", "model_version", "agreement__reference"
    )[0]
    tokens = {}
    for role, email in ROLES.items():
        out = io.StringIO()
        call_command("create_api_token", email, name="page benchmark", days=1, stdout=out, stderr=io.StringIO())
        tokens[role] = out.getvalue().strip()
    sizes = {
        "companies": Organisation.objects.filter(kind="developer").count(),
        "assessments": Assessment.objects.count(),
        "findings": Finding.objects.count(),
        "deadlines": Deadline.objects.count(),
        "open deadlines": Deadline.objects.filter(is_open=True).count(),
        "notifications": Notification.objects.count(),
        f"findings in {big['reference']}": big["n"],
    }
    if finding is None or ticket is None:
        sys.exit(f"{big['reference']} has no released finding or no ticket: seed with bench/seed_scale.py.")
    targets = {
        "big": big["reference"],
        "typical": typical,
        "agreement": submission["agreement__reference"],
        "submission": submission["reference"],
        "submission_heading": f"{submission['model_name']} {submission['model_version']}",
        "ticket": ticket,
        "finding": finding,
        "tokens": tokens,
    }
    connection.close()
    return targets, sizes


def collect_static(env: dict[str, str], code: Path) -> None:
    """Production serves hashed, compressed static files: collect them once into the bench's own folder."""
    static_root = Path(env["BENCH_STATIC_ROOT"])
    if (static_root / "staticfiles.json").exists():
        return
    print(f"collecting static files into {static_root} (once)…", flush=True)
    # Fixed arguments, no shell.
    subprocess.run(  # noqa: S603  # nosec B603
        [sys.executable, str(code / "manage.py"), "collectstatic", "--noinput", "-v0"],
        env={**os.environ, **env},
        check=True,
        cwd=code,
    )


# --- The server --------------------------------------------------------------------------------------


class gunicorn:  # noqa: N801 (used as a context manager, like open())
    """gunicorn with ``workers`` sync workers on 127.0.0.1, stopped (with its workers) on exit."""

    def __init__(self, env: dict[str, str], code: Path, *, port: int, workers: int):
        self.env, self.code, self.port, self.workers = env, code, port, workers
        self.log = tempfile.NamedTemporaryFile(prefix="bench-gunicorn-", suffix=".log", delete=False)  # noqa: SIM115

    def __enter__(self):
        binary = Path(sys.executable).with_name("gunicorn")
        # Fixed arguments, no shell.
        self.process = subprocess.Popen(  # noqa: S603  # nosec B603
            [
                str(binary),
                "reviewportal.wsgi:application",
                "--bind",
                f"127.0.0.1:{self.port}",
                "--workers",
                str(self.workers),
                "--timeout",
                "300",
                "--graceful-timeout",
                "5",
                "--log-level",
                "warning",
                "--error-logfile",
                self.log.name,
            ],
            env={**os.environ, **self.env},
            cwd=self.code,
            start_new_session=True,
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"gunicorn stopped at start; see {self.log.name}")
            try:
                status, _, _, _ = Client(self.port).get(HELLO, {})
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        self.stop()
        sys.exit(f"gunicorn did not answer within 60 s; see {self.log.name}")

    def worker_memory(self) -> list[int]:
        """Resident memory of each worker, in MiB."""
        sizes = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == self.process.pid:
                    status = (stat.parent / "status").read_text()
                    kib = int(re.search(r"VmRSS:\s+(\d+)", status).group(1))
                    sizes.append(round(kib / 1024))
            except (OSError, IndexError, AttributeError, ValueError):
                continue
        return sorted(sizes)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()

    def __exit__(self, *exc):
        self.stop()
        return False


# --- HTTP ---------------------------------------------------------------------------------------------


class Client:
    """One keep-alive connection to the bench server."""

    def __init__(self, port: int):
        self.port = port
        self.connection: http.client.HTTPConnection | None = None

    def request(self, method: str, path: str, headers: dict, body: str | None = None):
        for attempt in (1, 2):
            if self.connection is None:
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
            try:
                self.connection.request(method, path, body=body, headers={"Host": "127.0.0.1", **headers})
                response = self.connection.getresponse()
                return response.status, response.getheader("Location", ""), response.headers, response.read()
            except (http.client.HTTPException, OSError):
                self.connection.close()
                self.connection = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str, headers: dict):
        return self.request("GET", path, headers)

    def wait_idle(self, *, limit: float) -> None:
        """Wait until the workers have finished what wrk left queued (the bare view answers at once again)."""
        stop = time.time() + limit
        quick = 0
        while time.time() < stop and quick < 3:
            began = time.perf_counter()
            self.get(HELLO, {})
            quick = quick + 1 if time.perf_counter() - began < 0.02 else 0
            time.sleep(0.05)


def cookies_from(headers, jar: dict[str, str]) -> None:
    for value in headers.get_all("Set-Cookie") or []:
        cookie = SimpleCookie()
        cookie.load(value)
        for name, morsel in cookie.items():
            jar[name] = morsel.value


def cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def csrf_token(body: bytes) -> str:
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if not match:
        sys.exit("No CSRF token on the sign-in form.")
    return match.group(1).decode()


def sign_in(client: Client, email: str) -> str:
    """Sign in over HTTP with the demo password and a TOTP code; return the session's Cookie header."""
    from django.conf import settings
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    jar: dict[str, str] = {}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    status, _, headers, body = client.get("/accounts/login/", {})
    cookies_from(headers, jar)
    data = {"username": email, "password": settings.DEMO_PASSWORD, "csrfmiddlewaretoken": csrf_token(body)}
    status, location, headers, _ = client.request(
        "POST", "/accounts/login/", {**form, "Cookie": cookie_header(jar)}, urlencode(data)
    )
    cookies_from(headers, jar)
    if status != 302:
        sys.exit(f"Signing in as {email} failed (HTTP {status}).")
    for _attempt in range(3):
        status, _, headers, body = client.get("/accounts/2fa/verify/?next=/", {"Cookie": cookie_header(jar)})
        cookies_from(headers, jar)
        device = TOTPDevice.objects.get(user__email=email, name=DEVICE_NAME)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()
        data = {"token": f"{totp.token():0{device.digits}d}", "csrfmiddlewaretoken": csrf_token(body), "next": "/"}
        status, location, headers, _ = client.request(
            "POST", "/accounts/2fa/verify/", {**form, "Cookie": cookie_header(jar)}, urlencode(data)
        )
        cookies_from(headers, jar)
        if status == 302:
            break
        # A code is accepted once per time step: wait for the next one.
        time.sleep(device.step - time.time() % device.step + 1)
    else:
        sys.exit(f"The second factor of {email} was refused.")
    status, location, _, body = client.get("/", {"Cookie": cookie_header(jar)})
    if status != 200 or b"Welcome, " not in body:
        sys.exit(f"After signing in, {email} does not reach the dashboard (HTTP {status} {location}).")
    from django.db import connection

    connection.close()
    session = {k: v for k, v in jar.items() if "session" in k}
    return cookie_header(session)


def check_page(client: Client, path: str, headers: dict, marker: str, *, label: str) -> float:
    """Fetch the page three times; each answer must be the real page. Returns the fastest of the last two."""
    times = []
    for _ in range(3):
        began = time.perf_counter()
        status, location, _, body = client.get(path, headers)
        times.append(time.perf_counter() - began)
        if status != 200:
            sys.exit(f"{label}: {path} answered HTTP {status} {location}, not the page.")
        if marker.encode() not in body:
            sys.exit(f"{label}: {path} answered 200 without {marker!r}: not the page expected.")
    return min(times[1:])


def wrk(args, path: str, headers: dict, marker: str, duration: float, timeout: float) -> Run:
    lines = [f'wrk.headers["{k}"] = [==[{v}]==]' for k, v in {"Host": "127.0.0.1", **headers}.items()]
    script = LUA.format(headers="\n".join(lines), marker=marker)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as handle:
        handle.write(script)
    try:
        # wrk found on PATH at start, fixed arguments, no shell.
        result = subprocess.run(  # noqa: S603  # nosec B603
            [
                shutil.which("wrk") or "wrk",
                "-t",
                str(args.threads),
                "-c",
                str(args.connections),
                "-d",
                f"{max(1, round(duration))}s",
                "--timeout",
                f"{max(1, round(timeout))}s",
                "-s",
                handle.name,
                f"http://127.0.0.1:{args.port}{path}",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    finally:
        os.unlink(handle.name)
    line = next((x for x in result.stdout.splitlines() if x.startswith("BENCH-JSON ")), None)
    if line is None:
        sys.exit(f"wrk printed no result for {path}:\n{result.stdout}\n{result.stderr}")
    data = json.loads(line.removeprefix("BENCH-JSON "))
    return Run(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        bad=data["bad"],
        first_bad=data["first_bad"],
        socket_errors=data["socket_errors"],
        timeouts=data["timeouts"],
        p50=data["p50_us"] / 1e6,
        p95=data["p95_us"] / 1e6,
        p99=data["p99_us"] / 1e6,
    )


# --- Report -------------------------------------------------------------------------------------------


def fmt_ms(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.01:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds * 1000:.1f} ms"


def fmt_rate(rate: float) -> str:
    return f"{rate:.1f}" if rate < 100 else f"{rate:.0f}"


def markdown(rows: list[Row]) -> str:
    lines = [
        "| role | page | path | requests/s | % of bare | p50 | p95 | p99 | bare view requests/s |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        run = row.page_run
        flag = " ⚠" if row.notes else ""
        lines.append(
            f"| {row.role} | {row.page}{flag} | `{row.path}` | {fmt_rate(run.rate)} | {row.share:.2f} % | "
            f"{fmt_ms(run.p50)} | {fmt_ms(run.p95)} | {fmt_ms(run.p99)} | {fmt_rate(row.bare_run.rate)} |"
        )
    return "\n".join(lines)


def summarise(rows, memory, elapsed, load_before, load_after, name, sizes, args, label) -> str:
    if not rows:
        return "No page matched."
    shares = sorted(row.share for row in rows)
    bare = [row.bare_run.rate for row in rows]
    slowest = sorted(rows, key=lambda r: r.share)[:5]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), database {name}: "
        + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
        + ".",
        f"Code served: {label}. Command: {' '.join(['bench/pages.py', *sys.argv[1:]])}",
        "Cache: "
        + (
            f"Redis, pages {'not ' if args.no_page_cache else ''}kept (PAGE_CACHE={0 if args.no_page_cache else 1})."
            if args.redis_url
            else "each worker's own memory; no page kept."
        ),
        f"gunicorn {args.workers} sync workers, wrk {args.threads} threads × {args.connections} connections; "
        f"{len(rows)} pages in {elapsed / 60:.1f} min; load average {load_before[0]:.1f} before, "
        f"{load_after[0]:.1f} after.",
        f"Bare view: median {statistics.median(bare):,.0f} requests/s (from {min(bare):,.0f} to {max(bare):,.0f}).",
        f"Median page: {statistics.median(shares):.2f} % of the bare view; "
        f"{sum(s < 5 for s in shares)} of {len(shares)} pages below 5 %.",
        "Slowest: " + "; ".join(f"{r.role} {r.page} ({r.share:.2f} %, p50 {fmt_ms(r.page_run.p50)})" for r in slowest),
        f"Web worker memory after the run: {', '.join(f'{m} MiB' for m in memory) or 'unknown'}.",
    ]
    flagged = [r for r in rows if r.notes]
    for r in flagged:
        lines.append(f"⚠ {r.role} {r.page}: {r.notes[0]}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
