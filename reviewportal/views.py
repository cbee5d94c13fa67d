"""Project-level views: liveness and readiness, the favicon and the site-wide 400, 404 and 500."""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.defaults import page_not_found
from django.views.defaults import server_error as django_server_error

from reviewportal.observability.health import readiness


@never_cache
@require_GET
def healthz(request):
    """Liveness: 200 whenever this process answers HTTP. It asks nothing else.

    A process restart cures a hung process, not a database or broker that is down; so a liveness
    probe that checked those would restart every web process during an outage of either. Whether
    this process can *serve* is the readiness check's question (``readyz``).
    """
    return JsonResponse({"status": "ok"})


@never_cache
@require_GET
def readyz(request):
    """Readiness: 200 when the database, broker, private storage and migrations are all ready, else 503.

    The body names each check's state (``ok`` or what failed, by exception type only): a load
    balancer takes a node that is not ready out of rotation, and the release step's
    ``migrate`` makes nodes of new code ready.
    """
    checks = readiness()
    ready = all(check.ok for check in checks.values())
    return JsonResponse(
        {"status": "ready" if ready else "not ready", **{name: check.state for name, check in checks.items()}},
        status=200 if ready else 503,
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
