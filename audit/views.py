"""The page a form gets when its CSRF check fails (settings.CSRF_FAILURE_VIEW), recorded as a probe."""

from __future__ import annotations

from django.views.csrf import csrf_failure as django_csrf_failure

from audit.services import audit_probe


def csrf_failure(request, reason: str = ""):
    """Django's own 403 page, unchanged; the attempt goes into the audit trail (once a minute per source).

    A failed CSRF check is a form posted from somewhere else or replayed without its token: either
    a forged cross-site request or someone trying one.
    """
    audit_probe(
        request=request,
        kind="csrf",
        reference=request.path[:64],
        summary=f"Form refused: CSRF check failed ({reason})" if reason else "Form refused: CSRF check failed",
    )
    return django_csrf_failure(request, reason=reason)
