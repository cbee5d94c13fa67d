"""Whole pages kept for the person who asked for them, until a table they were read from changes.

A signed-in page costs 10-40 ms of queries and templates, and people reload the same lists,
dashboards and cases all day while the records under them change far less often. When nothing a
page was read from has changed, the same person asking for the same address gets the same bytes,
so they are kept in the cache and sent again.

How a kept page stays right:

1. **Every write is seen.** Every SQL statement of every process (web, worker, commands, the
   admin) passes ``track_statement``, installed on each database connection when the app loads.
   A statement that is not a read gives each table it names a new *version* (a random token in
   the cache): at once, and again when its transaction commits, since a page read in between
   cannot see the change yet. A write that names no known table renews every table's version.
   Watching the statements rather than the services means a change made around them (a
   queryset ``update()``, a worker claiming a row, a bulk load) is seen too.
2. **A page knows what it read.** A page is kept only after it was rendered while recording: the
   versions of every table are read before its view runs, and each table its statements name
   becomes a dependency, with the version read before. What the middleware reads before the view
   (the person with their membership and organisation, their second factor: ``read_before_views``)
   is a dependency of every page; a cached total the page showed (``core.freshness``) adds its
   generation.
3. **Served only while still true.** A kept page is sent when each dependency still has the
   version it was read with and the page is at most ``PAGE_CACHE_MAX_AGE`` seconds old by the
   portal's clock: what changes with time alone ("overdue", "due in 3 days") is at most that
   late. It is looked up by the person, the address with its query, the host and scheme, the
   ``Accept`` header and the time zone.
4. **Only what is the same for every such request is kept:** a 200 HTML or JSON answer to a GET by
   a signed-in person or an API token (``KeptAnswersMixin``), outside the admin and the browsable
   API, rendered without writing anything (a page that marks notifications read, or puts the day's
   first reading of a report on record, is not kept that time), with no message to show, no
   cookie, no ``no-store`` and no download. The CSP nonce and the CSRF token are written fresh into
   every answer. A view whose every reading must still be checked or recorded names that part of
   its work (``kept_after``), and it runs before each kept answer; one that reads outside the
   database (a stored log) is never kept (``never_page_cached``).

It is on only with a cache every process shares (Redis, ``PAGE_CACHE``): with a per-process cache
one worker would not learn of another's writes. A cache that fails means rendering afresh.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone

logger = logging.getLogger(__name__)

VERSION_PREFIX = "table-version:"
PAGE_PREFIX = "page:"
# Stand-ins for the per-answer secrets in a kept page. They hold a NUL, which no stored text can
# (control characters are refused at the door and by every form), so no record can forge one.
NONCE_MARK = "\x00csp-nonce\x00"
CSRF_MARK = "\x00csrf-token\x00"
# What ``{% csrf_token %}`` writes, the only place the token appears in a page.
_CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[A-Za-z0-9]{64}(")')
_WORD = re.compile(r"[a-z_][a-z0-9_]*")
# Statements that change no table. Anything else is taken for a write.
_READ_HEADS = (
    "SELECT",
    "SAVEPOINT",
    "RELEASE",
    "ROLLBACK",
    "SET ",
    "SHOW",
    "EXPLAIN",
    "BEGIN",
    "COMMIT",
    "PRAGMA",
    "VALUES",
)
_CTE_WRITE = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
MAX_BODY = 2 * 1024 * 1024
# After the cache fails, this process neither asks it for kept pages nor renews versions for this long.
CACHE_RETRY_SECONDS = 10

_recording: contextvars.ContextVar[_Recording | None] = contextvars.ContextVar("page_cache_recording", default=None)
_tables: frozenset[str] | None = None
_always: frozenset[str] | None = None
_before_views: set[str] = set()
_down_until = 0.0


@dataclass
class _Recording:
    """What one page's render read and whether it wrote."""

    versions: dict[str, Any]
    read: set[str] = field(default_factory=set)
    extra: dict[str, Any] = field(default_factory=dict)
    wrote: bool = False
    # The earliest moment anything shown was read (a cached total may be older than the render).
    as_of: float | None = None


def tracked_tables() -> frozenset[str]:
    """Every table of the installed models, many-to-many tables included."""
    global _tables
    if _tables is None:
        _tables = frozenset(model._meta.db_table for model in apps.get_models(include_auto_created=True))
    return _tables


def tables_in(sql: str) -> set[str]:
    """The known tables a statement names (quoted or not; a column that shares a table's name counts too)."""
    known = tracked_tables()
    return {word for word in _WORD.findall(sql.lower()) if word in known}


def is_write(sql: str) -> bool:
    head = sql.lstrip()[:10].upper()
    if head.startswith(_READ_HEADS):
        return False
    if head.startswith("WITH"):
        return bool(_CTE_WRITE.search(sql))
    return True


def _version_key(table: str) -> str:
    return VERSION_PREFIX + table


def _cache_down() -> bool:
    return time.monotonic() < _down_until


def _note_cache_down() -> None:
    """After a failure, leave the cache alone for a while: a write must not wait on it statement after statement."""
    global _down_until
    _down_until = time.monotonic() + CACHE_RETRY_SECONDS


def _renew(tables: set[str] | frozenset[str]) -> None:
    if _cache_down():
        return
    try:
        cache.set_many({_version_key(table): secrets.token_hex(8) for table in tables}, timeout=None)
    except Exception:  # noqa: BLE001 - kept pages then live out their max age
        _note_cache_down()
        logger.warning("Could not mark kept pages stale.", exc_info=True)


class _PendingRenewal:
    """The tables a transaction wrote, renewed again once it commits."""

    def __init__(self) -> None:
        self.tables: set[str] = set()

    def __call__(self) -> None:
        _renew(self.tables)


def _changed(connection, tables: set[str] | frozenset[str]) -> None:
    _renew(tables)
    if not connection.in_atomic_block:
        return
    pending = getattr(connection, "_page_cache_pending", None)
    # A savepoint rolled back drops the callbacks registered inside it: register afresh then.
    if pending is None or not any(callback is pending for _, callback, _ in connection.run_on_commit):
        pending = _PendingRenewal()
        connection._page_cache_pending = pending
        connection.on_commit(pending)
    pending.tables |= tables


def track_statement(execute, sql, params, many, context):
    """Execute wrapper on every connection: renew the versions of what a write names; record a page's reads."""
    result = execute(sql, params, many, context)
    if not settings.PAGE_CACHE:
        return result
    if not isinstance(sql, str):  # a composed statement (psycopg's sql.Composed): its text names the tables
        sql = str(sql)
    recording = _recording.get()
    if is_write(sql):
        if recording is not None:
            recording.wrote = True
        _changed(context["connection"], tables_in(sql) or tracked_tables())
    elif recording is not None:
        recording.read |= tables_in(sql)
    return result


def install_statement_tracking(connection=None, **kwargs) -> None:
    """Put ``track_statement`` on a connection (``connection_created``), or on every open one.

    First in the list, so a ``connection.execute_wrapper()`` block opened earlier still pops its own.
    """
    targets = [connection] if connection is not None else connections.all(initialized_only=True)
    for target in targets:
        if track_statement not in target.execute_wrappers:
            target.execute_wrappers.insert(0, track_statement)


def note_dependency(key: str, value: Any, *, as_of: datetime | None = None) -> None:
    """A page being recorded showed something read from the cache under ``key`` at ``value``.

    ``as_of``: when that was computed; the kept page is then as old as it.
    """
    recording = _recording.get()
    if recording is None:
        return
    recording.extra[key] = value
    if as_of is not None:
        moment = as_of.timestamp()
        recording.as_of = moment if recording.as_of is None else min(recording.as_of, moment)


def read_before_views(*models) -> None:
    """Name models that the middleware reads for every request before its view runs.

    The app that reads them registers them when it loads (accounts: the person, with their
    membership and organisation, and their second factor): a kept page depends on them all, since
    what was read before recording began is not seen by it.
    """
    global _always
    _before_views.update(model._meta.db_table for model in models)
    _always = None


def _always_read() -> frozenset[str]:
    """Tables every kept page depends on: those read before views, and the user model's own."""
    global _always
    if _always is None:
        _always = frozenset({apps.get_model(settings.AUTH_USER_MODEL)._meta.db_table, *_before_views})
    return _always


def _page_key(request, user) -> str:
    parts = (
        user.pk,
        "HTTP_AUTHORIZATION" in request.META,
        request.get_host(),
        request.scheme,
        request.get_full_path(),
        request.META.get("HTTP_ACCEPT", ""),
        timezone.get_current_timezone_name(),
    )
    return PAGE_PREFIX + hashlib.sha256(repr(parts).encode()).hexdigest()


def _exempt(view_func) -> bool:
    owner = getattr(view_func, "view_class", None) or getattr(view_func, "cls", None)
    return bool(getattr(view_func, "page_cache_exempt", False) or getattr(owner, "page_cache_exempt", False))


def never_page_cached(view):
    """Mark a view (function or class) whose answers are never kept."""
    view.page_cache_exempt = True
    return view


def kept_after(check):
    """Let a view's answers be kept, provided ``check(request, *args, **kwargs)`` runs before each is sent again.

    For a view each reading of which must still be checked or put on record (a report, whose first
    reading of the day goes in the audit trail): ``check`` does that part of the view's work and
    raises as the view would. When it raises, the view itself answers (and raises the same).
    """

    def mark(view):
        view.page_cache_check = check
        return view

    return mark


def _versions_now() -> dict[str, Any]:
    """The version of every table, starting one for a table that has none yet."""
    keys = [_version_key(table) for table in tracked_tables()]
    versions = cache.get_many(keys)
    missing = [key for key in keys if key not in versions]
    for key in missing:
        cache.add(key, secrets.token_hex(8), timeout=None)
    if missing:
        versions.update(cache.get_many(missing))
    return versions


def _answer(request, kept: dict) -> HttpResponse | None:
    age = time.time() - kept["stored_at"]
    if not 0 <= age <= settings.PAGE_CACHE_MAX_AGE:
        return None
    current = cache.get_many(list(kept["depends_on"]))
    if any(current.get(key) != version for key, version in kept["depends_on"].items()):
        return None
    body = kept["body"]
    if NONCE_MARK in body:
        body = body.replace(NONCE_MARK, str(request.csp_nonce))
    if CSRF_MARK in body:
        body = body.replace(CSRF_MARK, get_token(request))
    response = HttpResponse(body.encode(kept["charset"]), status=200)
    for name, value in kept["headers"]:
        response[name] = value
    response["X-Page-Cache"] = "hit"
    return response


def _answer_or_record(request, user, check=None) -> HttpResponse | None:
    """The kept page for ``user`` at this address when it is still true (and ``check()`` passes);
    else start recording this render."""
    if _cache_down():
        return None
    key = _page_key(request, user)
    try:
        kept = cache.get(key)
        response = _answer(request, kept) if kept is not None else None
    except Exception:  # noqa: BLE001 - render afresh, keep nothing
        _note_cache_down()
        logger.warning("Page cache unavailable.", exc_info=True)
        return None
    if response is not None:
        if check is None:
            return response
        try:
            check()
        except Exception:  # noqa: BLE001 - refused or failed: the view answers, and raises the same
            return None
        return response
    try:
        recording = _Recording(versions=_versions_now())
    except Exception:  # noqa: BLE001 - render afresh, keep nothing
        _note_cache_down()
        logger.warning("Page cache unavailable.", exc_info=True)
        return None
    request._page_cache_key = key
    request._page_cache_recording = recording
    _recording.set(recording)
    return None


class PageCacheMiddleware:
    """Send a kept page when it is still true; otherwise record the render and keep it if it may be."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            response = self.get_response(request)
            recording = getattr(request, "_page_cache_recording", None)
            if recording is not None:
                _recording.set(None)
                self._keep(request, response, recording)
            return response
        finally:
            if getattr(request, "_page_cache_recording", None) is not None:
                _recording.set(None)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if "HTTP_AUTHORIZATION" in request.META:  # a bearer token: the API's views look after it
            return None
        if not self._eligible(request, view_func):
            return None
        check = getattr(view_func, "page_cache_check", None)
        if check is not None:
            return _answer_or_record(request, request.user, lambda: check(request, *view_args, **view_kwargs))
        return _answer_or_record(request, request.user)

    @staticmethod
    def _eligible(request, view_func) -> bool:
        if not settings.PAGE_CACHE or request.method != "GET":
            return False
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _exempt(view_func):
            return False
        match = request.resolver_match
        if match is not None and "admin" in match.namespaces:
            return False
        return len(messages.get_messages(request)) == 0

    @staticmethod
    def _keepable(request, response, recording: _Recording) -> bool:
        if recording.wrote or response.status_code != 200 or response.streaming or response.cookies:
            return False
        if "no-store" in response.get("Cache-Control", "") or response.has_header("Content-Disposition"):
            return False
        content_type = response.get("Content-Type", "")
        renderer = getattr(response, "accepted_renderer", None)
        if renderer is not None:  # the REST framework: JSON only, not the browsable pages
            if not content_type.startswith("application/json"):
                return False
        elif not content_type.startswith("text/html"):
            return False
        if len(response.content) > MAX_BODY:
            return False
        return len(messages.get_messages(request)) == 0

    def _keep(self, request, response, recording: _Recording) -> None:
        if not self._keepable(request, response, recording):
            return
        charset = response.charset
        try:
            body = response.content.decode(charset)
        except (UnicodeDecodeError, LookupError):
            return
        if "\x00" in body:
            return
        nonce = getattr(request, "_csp_nonce", None)
        if isinstance(nonce, str):
            body = body.replace(nonce, NONCE_MARK)
        body = _CSRF_INPUT.sub(rf"\g<1>{CSRF_MARK}\g<2>", body)
        depends_on = {
            _version_key(table): recording.versions.get(_version_key(table))
            for table in recording.read | _always_read()
        }
        depends_on.update(recording.extra)
        if any(version is None for version in depends_on.values()):
            return
        now = time.time()
        kept = {
            "stored_at": now if recording.as_of is None else min(now, recording.as_of),
            "depends_on": depends_on,
            "charset": charset,
            "headers": [(name, value) for name, value in response.items() if name.lower() != "content-length"],
            "body": body,
        }
        try:
            cache.set(request._page_cache_key, kept, timeout=settings.PAGE_CACHE_MAX_AGE)
        except Exception:  # noqa: BLE001 - the answer is right; only the next visit renders again
            _note_cache_down()
            logger.warning("Could not keep a page.", exc_info=True)
            return
        response["X-Page-Cache"] = "miss"


class _KeptAnswer(Exception):  # noqa: N818 - not an error: carries the answer out of ``initial``
    def __init__(self, response: HttpResponse) -> None:
        super().__init__("kept answer")
        self.response = response


class KeptAnswersMixin:
    """For REST framework views: a call with a bearer token is answered from a kept page too.

    The middleware looks after calls made with the portal's session; a token is known only once
    the framework has authenticated it (and checked the permission and throttles), so the lookup
    runs at the end of ``initial``. A kept answer leaves the view through ``handle_exception``.
    """

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        django_request = request._request
        if (
            settings.PAGE_CACHE
            and request.method == "GET"
            and request.auth is not None
            and "HTTP_AUTHORIZATION" in django_request.META
            and request.user.is_authenticated
            and not getattr(self, "page_cache_exempt", False)
        ):
            response = _answer_or_record(django_request, request.user)
            if response is not None:
                raise _KeptAnswer(response)

    def handle_exception(self, exc):
        if isinstance(exc, _KeptAnswer):
            return exc.response
        return super().handle_exception(exc)
