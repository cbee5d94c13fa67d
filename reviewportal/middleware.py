"""The request id and timing; security middleware: session limits, the second-factor gate, no-store caching,
refusals in the audit trail, control characters in addresses.

Order in settings.MIDDLEWARE: after AuthenticationMiddleware and django-otp's
OTPMiddleware (they provide ``request.user`` and ``user.is_verified()``).
"""

from __future__ import annotations

import logging
import time
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.deprecation import MiddlewareMixin

from accounts.security import (
    SESSION_LAST_SEEN,
    SESSION_STARTED_AT,
    has_second_factor,
    is_verified,
    second_factor_required,
)
from audit.services import audit_permission_denied
from audit.signals import LOGOUT_REASON_ATTR
from core.control_characters import field_errors, has_control_character
from core.request_id import new_request_id, reset_request_id, safe_request_id, set_request_id

API_PREFIX = "/api/"
REQUEST_ID_HEADER = "X-Request-ID"

request_logger = logging.getLogger("reviewportal.request")


class RequestIdMiddleware:
    """Give each request an id, answer it in ``X-Request-ID``, time the request and log one line.

    The id is the incoming ``X-Request-ID`` when TRUST_REQUEST_ID_HEADER is on (a proxy we run
    sets it) and it is a safe short token (core/request_id.py); otherwise a new one. While the
    request runs it is the current id: log lines, audit events and the headers of the Celery
    tasks it enqueues carry it. First in settings.MIDDLEWARE, so every answer has the header,
    refusals by the middleware below included, and the time covers them all.

    The log line and the latency metric name the route (``findings:detail``), never the path,
    which can hold a calendar feed's token.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from reviewportal.observability.metrics import observe_request

        incoming = request.headers.get(REQUEST_ID_HEADER) if settings.TRUST_REQUEST_ID_HEADER else None
        request_id = safe_request_id(incoming) or new_request_id()
        request.request_id = request_id
        token = set_request_id(request_id)
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            seconds = time.perf_counter() - started
            match = getattr(request, "resolver_match", None)
            view = match.view_name if match is not None and match.view_name else "unmatched"
            observe_request(view=view, method=request.method, status=response.status_code, seconds=seconds)
            request_logger.info(
                "%s %s %s %.1fms",
                request.method,
                view,
                response.status_code,
                seconds * 1000,
                extra={"view": view, "status_code": response.status_code, "duration_ms": round(seconds * 1000, 1)},
            )
        finally:
            reset_request_id(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


def _is_api(request) -> bool:
    return request.path_info.startswith(API_PREFIX)


class SessionLimitsMiddleware:
    """End a session after SESSION_IDLE_MINUTES without a request, after SESSION_ABSOLUTE_HOURS in
    all, and at once when its account has been disabled or removed.

    Django's own session expiry (SESSION_COOKIE_AGE, renewed on every request) already drops
    idle sessions; the idle check here is a second line that also holds for session backends
    without server-side expiry. The request then carries on as anonymous, so pages send the
    person to the login page as usual.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = getattr(request, "session", None)
        if session is not None:
            self._enforce(request, session)
        return self.get_response(request)

    def _enforce(self, request, session) -> None:
        user = request.user
        if not user.is_authenticated:
            if "_auth_user_id" in session:
                # The session names a user that no longer authenticates (disabled or deleted): end it.
                session.flush()
            return
        now = time.time()
        started = session.get(SESSION_STARTED_AT)
        last_seen = session.get(SESSION_LAST_SEEN)
        if started is None:
            session[SESSION_STARTED_AT] = started = now
        reason = None
        if now - started > settings.SESSION_ABSOLUTE_HOURS * 3600:
            reason = f"Session ended: longer than {settings.SESSION_ABSOLUTE_HOURS} hours since sign-in"
        elif last_seen is not None and now - last_seen > settings.SESSION_COOKIE_AGE:
            reason = f"Session ended: idle for more than {settings.SESSION_COOKIE_AGE // 60} minutes"
        if reason:
            setattr(request, LOGOUT_REASON_ATTR, reason)
            logout(request)
            messages.info(request, "Your session has ended. Please sign in again.")
            return
        # Written back at most once a SESSION_TOUCH_SECONDS: a changed session costs the page a write
        # (Django saves only a modified session), and the idle limit needs no finer clock than that.
        if last_seen is None or now - last_seen >= settings.SESSION_TOUCH_SECONDS:
            session[SESSION_LAST_SEEN] = now


# URL names a signed-in person may reach before passing the second factor.
TWO_FACTOR_OPEN = frozenset(
    {
        "twofactor:setup",
        "twofactor:verify",
        "logout",
        "login",
        "healthz",
        "readyz",
        "metrics",
        "admin:logout",
        "password_reset",
        "password_reset_done",
        "password_reset_confirm",
        "password_reset_complete",
    }
)


class TwoFactorRequiredMiddleware(MiddlewareMixin):
    """Until the session has passed the second factor, send pages to the code form (or enrolment)
    and answer session-authenticated API calls with 403.

    API calls authenticated by a bearer token carry no session user here, so they pass; the
    token stands in for the interactive login.
    """

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = request.user
        if not user.is_authenticated or not second_factor_required(request) or is_verified(user):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in TWO_FACTOR_OPEN:
            return None
        if _is_api(request):
            from core.api import error_body

            message = "Two-factor verification is required for this session."
            audit_permission_denied(request=request, message=message)
            return JsonResponse(error_body(message, "permission_denied"), status=403)
        target = "twofactor:verify" if has_second_factor(user) else "twofactor:setup"
        return redirect(f"{reverse(target)}?next={quote(request.get_full_path())}")


class NoStoreMiddleware:
    """Nothing a signed-in person (or an API token) receives is kept by browsers or proxies."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        authenticated = bool(user is not None and user.is_authenticated)
        if (authenticated or "HTTP_AUTHORIZATION" in request.META) and "no-store" not in response.get(
            "Cache-Control", ""
        ):
            add_never_cache_headers(response)
        return response


class AuditPermissionDeniedMiddleware(MiddlewareMixin):
    """Record every refusal the policy raises on a page (the API records its own in reviewportal/api.py)."""

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            audit_permission_denied(request=request, message=str(exception))
        return None


class RejectControlCharactersMiddleware:
    """Refuse control characters in the address and headers before any view, lookup or query sees them.

    A path with one names nothing that can exist: 404. A query parameter with one (a filter, a
    search, a page number) or an Authorization header with one: 400 naming what is wrong. Both
    answer JSON in the API's error shape under /api/ and the portal's page elsewhere
    (reviewportal/views.py). A cookie with one is dropped, so a forged session cookie reads as no
    session. On PostgreSQL a NUL would otherwise reach a lookup and fail with a DataError.

    It runs before SessionMiddleware (which reads the session cookie), so its pages show the
    signed-out header. Submitted text is checked by the forms (core/forms.py) and the
    API's parsers (core/api_defaults.py), where the message can sit beside the field.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from reviewportal.views import bad_request, not_found

        for name, value in list(request.COOKIES.items()):
            if has_control_character(name) or has_control_character(value):
                del request.COOKIES[name]
        if has_control_character(request.path):
            return self._refused(not_found(request))
        errors = field_errors(request.GET.lists(), text=False)
        if has_control_character(request.headers.get("Authorization", "")):
            errors.setdefault("non_field_errors", []).append(
                "The Authorization header contains an invisible control character; send 'Bearer <token>'."
            )
        if errors:
            return self._refused(bad_request(request, errors=errors))
        return self.get_response(request)

    @staticmethod
    def _refused(response):
        # The clickjacking middleware further down never sees this answer; same header as it sets.
        response.setdefault("X-Frame-Options", getattr(settings, "X_FRAME_OPTIONS", "DENY").upper())
        return response
