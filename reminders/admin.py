"""Admin for programme admins: deadlines and the delivery status of every reminder, digest and hand-off.

Everything here is read-only: deadlines are derived from their owners (never
typed), and deliveries are facts. The one thing an admin may need to do —
send a failed reminder again — is an action that calls
``reminders.services.delivery_retry``: it puts the row back to pending for
the next scan (never a direct send) and records it in the audit trail.
"""

from __future__ import annotations

from django.contrib import admin, messages

from accounts.admin_base import ReadOnlyPolicyAdmin
from core.errors import RuleViolation
from reminders.models import Deadline, Digest, Handoff, Notification, Reminder, ReminderPreference
from reminders.services import delivery_retry


class ReminderInline(admin.TabularInline):
    model = Reminder
    fields = ("revision", "stage", "recipient", "status", "email_status", "attempts", "sent_at", "last_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    ordering = ("-revision", "-offset_days")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Stage")
    def stage(self, obj) -> str:
        return obj.stage_label


@admin.register(Deadline)
class DeadlineAdmin(ReadOnlyPolicyAdmin):
    list_display = ("title", "kind", "due_at", "organisation", "is_open", "revision", "next_reminder_at")
    list_filter = ("kind", "is_open", "organisation")
    search_fields = ("title",)
    date_hierarchy = "due_at"
    list_select_related = ("organisation",)
    readonly_fields = (
        "public_id",
        "owner_type",
        "owner_id",
        "kind",
        "title",
        "url",
        "due_at",
        "organisation",
        "revision",
        "next_reminder_at",
        "is_open",
        "closed_at",
        "created_at",
        "updated_at",
    )
    exclude = ("recipients", "escalate_to")
    inlines = [ReminderInline]


@admin.action(description="Deliver again at the next scan (failed deliveries only)")
def retry_delivery(modeladmin, request, queryset):
    try:
        queued = delivery_retry(actor=request.user, deliveries=queryset, request=request)
    except RuleViolation as refusal:
        modeladmin.message_user(request, str(refusal), messages.ERROR)
    else:
        modeladmin.message_user(request, f"{queued} queued for the next scan.", messages.SUCCESS)


class _DeliveryAdmin(ReadOnlyPolicyAdmin):
    actions = [retry_delivery]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]


@admin.register(Reminder)
class ReminderAdmin(_DeliveryAdmin):
    list_display = (
        "deadline",
        "stage",
        "revision",
        "recipient",
        "status",
        "email_status",
        "attempts",
        "send_at",
        "sent_at",
        "last_error",
    )
    list_filter = ("status", "email_status", "offset_days", "deadline__kind")
    search_fields = ("deadline__title", "recipient__email")
    list_select_related = ("deadline", "recipient")
    date_hierarchy = "send_at"

    @admin.display(description="Stage", ordering="offset_days")
    def stage(self, obj) -> str:
        return obj.stage_label


@admin.register(Digest)
class DigestAdmin(_DeliveryAdmin):
    list_display = ("day", "kind", "recipient", "status", "item_count", "attempts", "sent_at", "last_error")
    list_filter = ("kind", "status")
    search_fields = ("recipient__email",)
    list_select_related = ("recipient",)
    date_hierarchy = "day"


@admin.register(Handoff)
class HandoffAdmin(_DeliveryAdmin):
    list_display = ("title", "recipient", "status", "email_status", "attempts", "created_at", "sent_at", "last_error")
    list_filter = ("status", "email_status")
    search_fields = ("title", "event_key", "recipient__email")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"


@admin.register(Notification)
class NotificationAdmin(ReadOnlyPolicyAdmin):
    list_display = ("title", "recipient", "created_at", "read_at")
    list_filter = ("read_at",)
    search_fields = ("title", "recipient__email")
    list_select_related = ("recipient",)
    readonly_fields = (
        "public_id",
        "recipient",
        "reminder",
        "digest",
        "handoff",
        "title",
        "body",
        "url",
        "created_at",
        "read_at",
    )


@admin.register(ReminderPreference)
class ReminderPreferenceAdmin(ReadOnlyPolicyAdmin):
    # The calendar token hash is never shown; whether a feed exists is enough.
    list_display = ("user", "email", "has_calendar_feed", "updated_at")
    list_filter = ("email",)
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "email", "calendar_token_created_at", "updated_at")
    readonly_fields = fields

    @admin.display(boolean=True, description="Calendar feed")
    def has_calendar_feed(self, obj) -> bool:
        return obj.has_calendar_feed
