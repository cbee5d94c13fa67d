from django.contrib import admin

from audit.models import AuditEvent
from reviewportal.admin_site import ReadOnlyPolicyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyPolicyAdmin):
    list_display = ("occurred_at", "actor_email", "action", "object_type", "object_repr", "source_ip")
    list_filter = ("action", "object_type", "occurred_at")
    search_fields = ("actor_email", "object_repr", "object_id", "case_ref", "summary")
    date_hierarchy = "occurred_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]
