"""Settings for Review Portal, read from the environment only.

Every variable is documented in README.md and .env.example. With DEBUG off
(production) the secrets and hosts have no defaults: start-up stops with a
message naming the missing variable.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from dotenv import load_dotenv

from core.env import env_bool, env_int, env_list, env_required, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
# A developer checkout may keep its variables in .env (make install writes DEBUG=1 there);
# variables already set in the environment always win, and deployments need no file at all.
load_dotenv(BASE_DIR / ".env", override=False)
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

# Development gets a fixed, clearly marked key; production must bring its own.
SECRET_KEY = (
    env_required(
        "SECRET_KEY",
        when=not DEBUG,
        hint="Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'",
    )
    or "dev-only-insecure-key-never-use-in-production"
)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    env_required("ALLOWED_HOSTS", when=True, hint="A comma-separated list such as portal.example.gov.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
# Django's 403 page for a failed CSRF check, with the attempt recorded in the audit trail.
CSRF_FAILURE_VIEW = "audit.views.csrf_failure"

INSTALLED_APPS = [
    "reviewportal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI files served from here, not a CDN
    # Security: second factor (TOTP apps and single-use backup codes), login lockout, CSP.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "core",
    "accounts",
    "audit",
    "agreements",
    "assessments",
    "findings",
    "reminders",
]

MIDDLEWARE = [
    # First: every answer carries X-Request-ID, and the request's time covers all the rest.
    "reviewportal.middleware.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before the session is read and before every view: no control character reaches a lookup.
    "reviewportal.middleware.RejectControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "reviewportal.middleware.SessionLimitsMiddleware",
    "reviewportal.middleware.TwoFactorRequiredMiddleware",
    "reviewportal.middleware.NoStoreMiddleware",
    "reviewportal.middleware.AuditPermissionDeniedMiddleware",
    "audit.middleware.AuditProbeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "accounts.middleware.UserTimezoneMiddleware",
    # After the gates above (second factor, session limits) and the time zone: sends a kept page or keeps one.
    "core.page_cache.PageCacheMiddleware",
    # Last, so it sees the outcome of the login view (django-axes requires this position).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reviewportal.urls"
WSGI_APPLICATION = "reviewportal.wsgi.application"
ASGI_APPLICATION = "reviewportal.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "reviewportal.context_processors.navigation",
            ],
            # Every page shows dates: the portal's date filters need no {% load %} (core/templatetags/portal_dates.py).
            "builtins": ["core.templatetags.portal_dates"],
        },
    },
]
# Forms render with U.S. Web Design System markup (see core/forms.py).
FORM_RENDERER = "core.forms.USWDSFormRenderer"

# --- Database -------------------------------------------------------------
# SQLite is the embedded default; DATABASE_URL switches to PostgreSQL.
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 0, minimum=0))}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Let the web process and the Celery worker share the file without "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 20, "transaction_mode": "IMMEDIATE"})
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: a page's queries each read a few thousand rows at most, and PostgreSQL's JIT,
    # switched on by the planner's cost estimate alone, spent 50 ms compiling a 30 ms count.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("options", "-c jit=off")
# `check --deploy` warns (audit.W001) when the app reaches PostgreSQL as a superuser, which could
# empty the audit trail; 1 silences it where a superuser is expected (CI, a throw-away database).
ALLOW_SUPERUSER_DB = env_bool("ALLOW_SUPERUSER_DB", False)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Users and passwords ----------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"
# django-axes counts failed logins and refuses a locked-out login before the password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend, reading the membership and organisation with the user (one query a page, not three).
    "accounts.backends.PortalModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# The one demo password. seed_demo refuses it when DEBUG is off unless forced.
DEMO_PASSWORD = env_str("DEMO_PASSWORD", "review-portal-demo")

# --- Sessions ---------------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
# The idle timer restarts on every request, but the session row is written at most once a minute
# (SessionLimitsMiddleware, SESSION_TOUCH_SECONDS): writing it on every request cost each page a
# transaction. A session may so end up to a minute before the idle limit, never after it.
SESSION_SAVE_EVERY_REQUEST = False
SESSION_TOUCH_SECONDS = 60
SESSION_ABSOLUTE_HOURS = env_int("SESSION_ABSOLUTE_HOURS", 12, minimum=1)
SESSION_COOKIE_HTTPONLY = True
# __Host- cookies are sent only over HTTPS, to this exact host, for the whole site: no subdomain can set them.
SESSION_COOKIE_NAME = "__Host-sessionid" if not DEBUG else "sessionid"
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_NAME = "__Host-csrftoken" if not DEBUG else "csrftoken"

# --- Time -------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")  # default display zone; storage is UTC
# The portal speaks English only: with translation off, every label, choice and message is the
# English text it already is, and no page pays for looking up the active language and its catalog
# (about 6 % of a page's time in one process: choices, form labels and formats ask on every use).
USE_I18N = False
USE_TZ = True

# --- Static and uploaded files ---------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
# The U.S. Web Design System comes from npm (package.json); nothing is copied by hand.
STATICFILES_DIRS = [BASE_DIR / "static", ("uswds", BASE_DIR / "node_modules" / "@uswds" / "uswds" / "dist")]
# Uploads live outside any web root and are served only by permission-checked views.
PRIVATE_UPLOAD_ROOT = Path(env_str("PRIVATE_UPLOAD_ROOT", str(VAR_DIR / "uploads")))
# Documents, evidence, response files and generated reports: the "private" storage (core/files.py).
# With S3_BUCKET set they go to that S3-compatible bucket, which every web node and worker shares;
# otherwise to PRIVATE_UPLOAD_ROOT on this machine. Credentials come from AWS_ACCESS_KEY_ID and
# AWS_SECRET_ACCESS_KEY (or the machine's role), read by boto3 itself. The bucket must block public
# access: files are only ever streamed by the audited download views, never linked to.
S3_BUCKET = env_str("S3_BUCKET")
S3_ADDRESSING_STYLE = env_str("S3_ADDRESSING_STYLE")
if S3_ADDRESSING_STYLE not in ("", "auto", "path", "virtual"):
    raise ImproperlyConfigured(f"S3_ADDRESSING_STYLE must be auto, path or virtual; got {S3_ADDRESSING_STYLE!r}.")
_PRIVATE_STORAGE = (
    {
        "BACKEND": "core.s3.PrivateS3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL") or None,  # MinIO, Ceph, a GovCloud endpoint…
            "region_name": env_str("S3_REGION") or None,
            "addressing_style": S3_ADDRESSING_STYLE or None,  # "path" for most non-AWS servers
            "location": env_str("S3_PREFIX").strip("/"),  # a folder in a shared bucket
            "default_acl": None,  # the bucket's own (private) policy; no object is ever public
            "file_overwrite": True,  # names are random UUIDs: no existence check before each upload
            "max_memory_size": 2 * 1024 * 1024,  # a download larger than this is spooled to disk
        },
    }
    if S3_BUCKET
    else {"BACKEND": "core.files.PrivateFileSystemStorage"}
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": _PRIVATE_STORAGE,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
UPLOAD_MAX_BYTES = env_int("UPLOAD_MAX_MB", 20, minimum=1) * 1024 * 1024
# An Inspect evaluation log may be far larger than other evidence; its import reads the header only.
EVAL_LOG_MAX_BYTES = env_int("EVAL_LOG_MAX_MB", 200, minimum=1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_PERMISSIONS = 0o640

# --- Findings ----------------------------------------------------------------
# Days the company has to answer a released finding (the release may set another date).
FINDING_RESPONSE_DAYS = env_int("FINDING_RESPONSE_DAYS", 10, minimum=1, maximum=90)

# --- Email --------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Review Portal <no-reply@caisi.example>")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000")


# --- Credential encryption --------------------------------------------------
def _dev_credential_key() -> str:
    digest = hashlib.sha256(("credential-key:" + SECRET_KEY).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


# Fernet keys, newest first; older keys stay listed until every credential is re-encrypted.
CREDENTIAL_KEYS = env_list("CREDENTIAL_KEYS") or (
    [_dev_credential_key()] if DEBUG else [env_required("CREDENTIAL_KEYS", when=True)]
)

# --- Celery -----------------------------------------------------------------
# Redis when REDIS_URL is set; otherwise kombu's filesystem transport, which needs no server.
REDIS_URL = env_str("REDIS_URL")
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", REDIS_URL or "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS: dict = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_dir = VAR_DIR / "celery-broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(VAR_DIR / "celery-control"),
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Longer than any task runs; reminders are never scheduled as ETAs, so nothing waits this long.
        "visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600, minimum=60),
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "max_retries": 1,
    }
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True  # a worker that dies mid-task leaves the message for another
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_TIMEOUT = 2
# The worker and beat log through LOGGING above (request ids, JSON), not Celery's own set-up.
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# A page that enqueues work must not hang when the broker is down: the database row is the
# source of truth and the next scan picks the work up.
CELERY_TASK_PUBLISH_RETRY = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Lifetime of the lease a beat must hold in Redis to schedule (reviewportal/beat_lock.py): a standby
# beat takes over at most this long after the active one died without a clean stop.
BEAT_LEASE_SECONDS = env_int("BEAT_LEASE_SECONDS", 60, minimum=6, maximum=600)
# Schedules live here, in code, rather than in django-celery-beat's database tables: they change
# only with a release, are reviewed like any code, need no extra app or migrations, and every
# environment runs the same schedule. Each entry says why it runs when it does.
CELERY_BEAT_SCHEDULE: dict = {
    # Reminders: the scan finds what is due in the database and enqueues one delivery per reminder.
    # A short interval bounds how late a reminder can be; a run costs what is due, not the table size.
    "reminders-scan": {
        "task": "reminders.scan",
        "schedule": env_int("REMINDER_SCAN_SECONDS", 300, minimum=30, maximum=3600),
        "options": {"expires": 600},  # a scan left in a dead queue is worthless: the next one replaces it
    },
    # Model access: ends tickets whose period (or the assessment window) is over. Every minute, so
    # access stops within a minute of its end; revealing a credential also checks the time itself,
    # so a late or missed run can never let an expired credential be shown.
    "assessments-expire-access": {
        "task": "assessments.expire_access_tickets",
        "schedule": 60,
        "options": {"expires": 55},  # the next run does the same work
    },
    # Agreements: an active agreement whose expiry date has passed becomes expired (from the next
    # UTC day), audited as the system. Hourly is enough for a date-only term and keeps it within an
    # hour of midnight; each run re-checks every agreement under a lock, so a missed run costs nothing.
    "agreements-expire-due": {
        "task": "agreements.expire_due",
        "schedule": 3600,
        "options": {"expires": 3000},  # the next run does the same work
    },
    # Reports: built PDFs are copies that can be made again; removing old and replaced ones daily keeps
    # storage to what people may still download (REPORT_KEEP_DAYS). Any hour will do.
    # Findings: a released finding whose response due date has passed without an answer becomes
    # "not answered by the due date" and the case team is told. Every 15 minutes keeps the state
    # within a quarter hour of the date; a run marks only what is still unmarked, so overlaps are harmless.
    "findings-mark-not-answered": {
        "task": "findings.mark_not_answered",
        "schedule": 900,
        "options": {"expires": 850},  # the next run does the same work
    },
    "findings-purge-report-jobs": {
        "task": "findings.purge_report_jobs",
        "schedule": 24 * 3600,
        "options": {"expires": 3600},
    },
}

# --- Reminders ------------------------------------------------------------------
# Days before a deadline when the people who must act are reminded; one more reminder goes
# out once it is overdue, then the lead and programme admin get a daily overdue digest.
_offsets = env_list("REMINDER_OFFSETS_DAYS", ["7", "3", "1"])
if not _offsets or not all(d.isdigit() and 1 <= int(d) <= 60 for d in _offsets):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(f"REMINDER_OFFSETS_DAYS must list whole days from 1 to 60, e.g. 7,3,1; got {_offsets}.")
REMINDER_OFFSETS_DAYS = sorted({int(d) for d in _offsets}, reverse=True)
# A claimed reminder not sent within this many minutes (its worker died) is claimed again by the scan.
REMINDER_CLAIM_TIMEOUT_MINUTES = env_int("REMINDER_CLAIM_TIMEOUT_MINUTES", 10, minimum=1)
# UTC hour from which the day's digests (overdue escalation, daily reminder digest) are sent.
REMINDER_DIGEST_HOUR_UTC = env_int("REMINDER_DIGEST_HOUR_UTC", 12, minimum=0, maximum=23)

# --- Reports --------------------------------------------------------------------
# Days a PDF report built in the background is kept after it was built (findings.reports.report_jobs_purge).
REPORT_KEEP_DAYS = env_int("REPORT_KEEP_DAYS", 7, minimum=1, maximum=365)

# --- REST API -----------------------------------------------------------------
# Personal API tokens (Authorization: Bearer) first, so unauthenticated calls get 401 naming the
# scheme; the session (with CSRF on writes) keeps the browsable API and the docs working.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["accounts.permissions.PolicyPermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
        "rest_framework.filters.SearchFilter",
    ],
    # The stock parsers plus a JSON nesting limit and no control characters in any field.
    "DEFAULT_PARSER_CLASSES": [
        "core.api_defaults.PortalJSONParser",
        "core.api_defaults.PortalFormParser",
        "core.api_defaults.PortalMultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api_defaults.PortalPagination",
    "PAGE_SIZE": 25,
    "DEFAULT_THROTTLE_CLASSES": ["reviewportal.throttles.WriteRateThrottle"],
    "DEFAULT_SCHEMA_CLASS": "reviewportal.api_schema.PortalAutoSchema",
    "EXCEPTION_HANDLER": "reviewportal.api.exception_handler",
}
# Writes (POST/PUT/PATCH/DELETE) allowed per API token (or per signed-in user), e.g. 60/min, 1000/hour.
API_WRITE_RATE = env_str("API_WRITE_RATE", "60/min")
if not re.fullmatch(r"[1-9][0-9]*/(s|sec|second|m|min|minute|h|hour|d|day)", API_WRITE_RATE):
    raise ImproperlyConfigured(f"API_WRITE_RATE={API_WRITE_RATE!r}: use <number>/<s|min|hour|day>, e.g. 60/min.")
# The write throttle counts in the cache: Redis when there is one, so every web process shares the
# count; otherwise the per-process memory cache (one process in development).
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "reviewportal",
            # A Redis that stops answering costs a request a second at most, never the OS's
            # connect timeout: every write renews kept pages' versions there (core/page_cache.py).
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
# Whole pages kept per person until a table they were read from changes (core/page_cache.py), and at
# most PAGE_CACHE_MAX_AGE seconds for what changes with time alone. Only with Redis: every process
# must share the cache to learn of the others' writes.
PAGE_CACHE = env_bool("PAGE_CACHE", bool(REDIS_URL))
PAGE_CACHE_MAX_AGE = env_int("PAGE_CACHE_MAX_AGE", 60, minimum=1, maximum=600)
if PAGE_CACHE and not REDIS_URL:
    raise ImproperlyConfigured("PAGE_CACHE=1 needs REDIS_URL: every process must share the cache of kept pages.")
# Longest lifetime a personal API token may be given, in days.
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365, minimum=1, maximum=3650)
SPECTACULAR_SETTINGS = {
    "TITLE": "Review Portal API",
    "DESCRIPTION": (
        "Agreements, model submissions, assessments, access tickets, findings, deadlines and notifications. "
        "Authenticate with `Authorization: Bearer <token>` (a personal API token) or a portal session. "
        'Every error answers `{"detail": str, "code": str, "errors": {field: [str]}}`; '
        "see the README section 'REST API' for pagination, filtering and lookups by reference."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Shared vocabularies get one schema name each, whatever the field is called.
    "ENUM_NAME_OVERRIDES": {
        "AccessKindEnum": "core.choices.AccessKind",
        "RiskDomainEnum": "core.choices.RiskDomain",
        "NegotiationEntryKindEnum": "agreements.models.EntryKind",
        "AgreementDocumentKindEnum": "agreements.models.DocumentKind",
        "AgreementKindEnum": "agreements.models.AgreementKind",
        "FindingStatusEnum": "findings.models.FindingStatus",
        "FindingDispositionEnum": "findings.states.FindingDisposition",
        "CompanyDispositionEnum": "findings.states.COMPANY_DISPOSITION_CHOICES",
        "RecommendationKindEnum": "findings.states.RecommendationKind",
    },
}

# --- Production hardening ---------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Probes and Prometheus reach a node directly, inside the private network, without the proxy's
# X-Forwarded-Proto: they get their answer, not a redirect to https.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_TLS_PROXY else None
# How many proxies stand between the client and the portal, each appending to X-Forwarded-For.
# The client address is the entry this many places from the right (0: REMOTE_ADDR, the header is
# ignored); entries further left come from the client and are never trusted (audit.services.client_ip).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0, minimum=0, maximum=10)

# --- Two-factor authentication, login lockout, Content Security Policy -----------------
# A second factor (TOTP app, with single-use backup codes) is required of every role in
# production. REQUIRE_2FA=0 relaxes it for the local demo only; `check --deploy` warns then.
REQUIRE_2FA = env_bool("REQUIRE_2FA", not DEBUG)
OTP_TOTP_ISSUER = env_str("OTP_TOTP_ISSUER", "Review Portal")

# After AXES_FAILURE_LIMIT failed logins for one account, logins to it are refused (HTTP 429)
# until the cool-off has passed, whatever address they come from. Failures during the lockout do
# not restart the cool-off, so nobody can keep an account locked for ever by hammering it.
# Failures are counted per account and per account + address, never per address alone: one
# company's people often share one address, and one person's failures must not lock out the rest.
# The address is the one the audit trail records (audit.services.client_ip).
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", ["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "audit.services.client_ip"
AXES_LOCKOUT_TEMPLATE = "security/locked_out.html"
AXES_HTTP_RESPONSE_CODE = 429
AXES_VERBOSE = False

# Scripts only from this site, and only with the per-response nonce; no inline scripts or styles.
# Downloads carry their own stricter policy (audit/downloads.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", csp_constants.NONCE],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],  # the 2FA enrolment QR code is a data: image
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

# --- Logging: credentials never reach a log (see assessments credential handling) ---
# Every line carries the id of the request (or task) it belongs to (reviewportal/observability).
# LOG_FORMAT=json writes one JSON object per line for a log collector; text is for people.
LOG_FORMAT = env_str("LOG_FORMAT", "text")
if LOG_FORMAT not in ("text", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be text or json; got {LOG_FORMAT!r}.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "reviewportal.observability.logging.RequestIdFilter"}},
    "formatters": {
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "reviewportal.observability.logging.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
# The request id: an incoming X-Request-ID is used only when a proxy we run sets it (and only when
# it is a short token of letters, digits and . _ -); otherwise each request gets a new one.
TRUST_REQUEST_ID_HEADER = env_bool("TRUST_REQUEST_ID_HEADER", False)

# --- Metrics ------------------------------------------------------------------
# /metrics (Prometheus text format) answers only "Authorization: Bearer <METRICS_TOKEN>"; without a
# token configured it is a 404. Several processes per machine share their values through the folder
# PROMETHEUS_MULTIPROC_DIR, read by prometheus_client itself (README, Deployment).
METRICS_TOKEN = env_str("METRICS_TOKEN")
# A machine running workers but no web process serves their task metrics on this "host:port"
# (same token); empty: not served (a web process on the machine exposes them through the folder).
WORKER_METRICS_LISTEN = env_str("WORKER_METRICS_LISTEN")
if WORKER_METRICS_LISTEN and not re.fullmatch(r"[^:\s]*:[0-9]{1,5}", WORKER_METRICS_LISTEN):
    raise ImproperlyConfigured(
        f"WORKER_METRICS_LISTEN must be host:port, e.g. 0.0.0.0:9808; got {WORKER_METRICS_LISTEN!r}."
    )
PROMETHEUS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR")
if PROMETHEUS_MULTIPROC_DIR and not Path(PROMETHEUS_MULTIPROC_DIR).is_dir():
    # Otherwise every request would fail when it records its latency there.
    raise ImproperlyConfigured(
        f"PROMETHEUS_MULTIPROC_DIR={PROMETHEUS_MULTIPROC_DIR!r} is not a folder: create it, empty, before starting."
    )

# Services a test run must reach (CI sets REQUIRE_SERVICES=1): an unreachable one fails the run.
REQUIRE_SERVICES = env_bool("REQUIRE_SERVICES", False)
