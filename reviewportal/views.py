"""Project-level views: the health check, the favicon and the site-wide 400, 404 and 500."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from reviewportal.celery import app as celery_app


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
        return False, f"unavailable ({type(exc).__name__})"


def _broker_ok() -> tuple[bool, str]:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
        return True, "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the type is reported
        return False, f"unavailable ({type(exc).__name__})"


@never_cache
@require_GET
def healthz(request):
    """Database and broker status as JSON: 200 when both answer, 503 otherwise."""
    db_ok, db_state = _database_ok()
    broker_ok, broker_state = _broker_ok()
    healthy = db_ok and broker_ok
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": db_state, "broker": broker_state},
        status=200 if healthy else 503,
    )


@require_GET
def favicon(request):
    """The USWDS icon, resolved at request time (the static manifest may not exist at import)."""
    return redirect(static("uswds/img/favicons/favicon.ico"), permanent=True)


def not_found(request, exception=None):
    """404 for the whole site: JSON in the API's error shape under /api/, the portal page elsewhere.

    An address under /api/ that matches no route (say a reference with a dot in it) must answer
    the same body as a missing object, not an HTML page an API client cannot read.
    """
    if request.path.startswith("/api/"):
        from core.api import error_body

        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    return page_not_found(request, exception)


def bad_request(request, exception=None, *, errors: dict[str, list[str]] | None = None):
    """400 for the whole site: JSON in the API's error shape under /api/, the portal page elsewhere.

    Django calls it for a request it refuses to read (a body over DATA_UPLOAD_MAX_MEMORY_SIZE,
    too many fields); ``RejectControlCharactersMiddleware`` calls it with ``errors`` naming each
    query parameter at fault. A body that is too large answers 413 under /api/.
    """
    errors = errors or {}
    problems = [message for messages in errors.values() for message in messages]
    too_large = isinstance(exception, RequestDataTooBig)
    if request.path.startswith("/api/"):
        from core.api import error_body, request_too_large_body

        if too_large:
            return JsonResponse(request_too_large_body(), status=413)
        detail = problems[0] if problems else "The request could not be read."
        return JsonResponse(error_body(detail, "invalid" if errors else "bad_request", errors), status=400)
    if too_large:
        problems = ["What was sent is larger than the portal accepts in one request. Attach large files one by one."]
    return render(request, "400.html", {"problems": problems}, status=400)


def server_error(request):
    """500: JSON in the API's error shape under /api/ (clients parse every error alike), the plain page elsewhere."""
    if request.path.startswith("/api/"):
        from core.api import error_body

        detail = "Something went wrong on our side. The error was recorded; please try again in a moment."
        return JsonResponse(error_body(detail, "server_error"), status=500)
    return django_server_error(request)
