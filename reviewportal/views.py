"""Project-level views: the health check, the favicon and the site-wide 404."""

from __future__ import annotations

from django.db import connection
from django.http import JsonResponse
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found

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
        from reviewportal.api import error_body

        return JsonResponse(error_body("Not found.", "not_found"), status=404)
    return page_not_found(request, exception)
