"""Probing of pages in the audit trail: a lookup of another organisation's record.

The policy's ``get_object_for`` raises ``OutOfScope`` (a 404) when the object exists but the user
may not see it; the page answers the same 404 as for a missing object, and this middleware records
the attempt (at most once per person, kind and minute: ``audit.services.audit_probe``). The API
records its own through ``accounts.permissions.ScopedObjectMixin``.
"""

from __future__ import annotations

from django.utils.deprecation import MiddlewareMixin

from audit.services import audit_out_of_scope
from core.errors import OutOfScope


class AuditProbeMiddleware(MiddlewareMixin):
    def process_exception(self, request, exception):
        if isinstance(exception, OutOfScope):
            audit_out_of_scope(request=request, error=exception)
        return None
