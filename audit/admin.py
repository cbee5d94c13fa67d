"""The audit trail in the admin: programme admins browse, filter and export it; nobody edits it."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.urls import path
from django.utils import timezone

from accounts import security_admin
from accounts.admin_base import ReadOnlyPolicyAdmin
from accounts.permissions import can, require
from audit.models import AuditEvent
from audit.services import audit_export_csv


def _csv_response(content: str) -> HttpResponse:
    response = HttpResponse(content, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="audit-events-{stamp}.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyPolicyAdmin):
    list_display = ("occurred_at", "actor_email", "action", "object_type", "object_repr", "case_ref", "source_ip")
    list_filter = ("action", "object_type", "occurred_at")
    search_fields = ("actor_email", "object_repr", "object_id", "case_ref", "summary", "source_ip", "request_id")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
    list_select_related = False
    actions = ["export_selected_csv"]
    change_list_template = "admin/audit/auditevent/change_list.html"

    def get_urls(self):
        export = path(
            "export.csv",
            self.admin_site.admin_view(self.export_view),
            name="audit_auditevent_export",
        )
        return [export, *super().get_urls()]

    def export_view(self, request):
        """Every event the change list shows with the current filters and search, as CSV."""
        if not can(request.user, "audit.export"):
            raise PermissionDenied("Only programme admins export the audit trail.")
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request)
        description = request.GET.urlencode() or "all events"
        return _csv_response(
            audit_export_csv(actor=request.user, events=events.iterator(), request=request, description=description)
        )

    @admin.action(description="Export selected events as CSV", permissions=["view"])
    def export_selected_csv(self, request, queryset):
        require(request.user, "audit.export")
        content = audit_export_csv(
            actor=request.user, events=queryset.iterator(), request=request, description="selected events"
        )
        return _csv_response(content)


# The security records of django-otp and django-axes get policy-checked admins too.
security_admin.register(admin.site)
