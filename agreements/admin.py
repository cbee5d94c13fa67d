"""Agreements in the Django admin: for programme admins, through the one policy.

Status changes are not edited here: the status field is read-only so every
transition still goes through its service (state check, audit, deadlines).
"""

from django.contrib import admin

from accounts.permissions import can
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementVersion,
    Meeting,
    NegotiationEntry,
    OpenPoint,
    Signature,
)
from reviewportal.admin_site import PolicyModelAdmin, ReadOnlyPolicyAdmin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class NegotiationEntryInline(ReadOnlyInline):
    model = NegotiationEntry
    fields = ("created_at", "kind", "clause", "author", "author_side", "text")
    readonly_fields = fields


class OpenPointInline(ReadOnlyInline):
    model = OpenPoint
    fields = ("title", "owner", "due_date", "status", "resolution")
    readonly_fields = fields


class MeetingInline(ReadOnlyInline):
    model = Meeting
    fields = ("held_at", "attendees", "minutes")
    readonly_fields = fields


class SignatureInline(ReadOnlyInline):
    model = Signature
    fields = ("side", "signer_name", "capacity", "signed_at")
    readonly_fields = fields


class VersionInline(ReadOnlyInline):
    model = AgreementVersion
    fields = ("number", "created_at", "created_by", "changed_clauses", "note")
    readonly_fields = fields


@admin.register(Agreement)
class AgreementAdmin(PolicyModelAdmin):
    list_display = ("reference", "title", "organisation", "status", "max_window_days", "effective_date", "expiry_date")
    list_filter = ("status", "organisation", "risk_consequence")
    search_fields = ("reference", "title", "organisation__name")
    list_select_related = ("organisation",)
    readonly_fields = (
        "reference",
        "public_id",
        "status",
        "status_reason",
        "status_changed_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    inlines = [NegotiationEntryInline, MeetingInline, OpenPointInline, SignatureInline, VersionInline]

    def has_add_permission(self, request) -> bool:
        # New agreements get their reference and version 1 from agreements.services.agreement_create.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Terms change only through the service, which makes a version; the admin reads.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AgreementVersion)
class AgreementVersionAdmin(ReadOnlyPolicyAdmin):
    list_display = ("agreement", "number", "created_at", "created_by", "note")
    list_filter = ("agreement__organisation",)
    search_fields = ("agreement__reference", "agreement__title", "note")
    list_select_related = ("agreement", "created_by")


@admin.register(NegotiationEntry)
class NegotiationEntryAdmin(ReadOnlyPolicyAdmin):
    list_display = ("agreement", "kind", "clause", "author", "author_side", "created_at")
    list_filter = ("kind", "clause", "author_side")
    search_fields = ("agreement__reference", "text")
    list_select_related = ("agreement", "author")


@admin.register(OpenPoint)
class OpenPointAdmin(ReadOnlyPolicyAdmin):
    list_display = ("title", "agreement", "owner", "due_date", "status")
    list_filter = ("status",)
    search_fields = ("title", "agreement__reference")
    list_select_related = ("agreement", "owner")


@admin.register(AgreementDocument)
class AgreementDocumentAdmin(ReadOnlyPolicyAdmin):
    list_display = ("original_name", "agreement", "kind", "size", "sha256", "uploaded_by", "uploaded_at")
    list_filter = ("kind",)
    search_fields = ("original_name", "agreement__reference", "sha256")
    list_select_related = ("agreement", "uploaded_by")
    exclude = ("file",)


@admin.register(Signature)
class SignatureAdmin(ReadOnlyPolicyAdmin):
    list_display = ("agreement", "side", "signer_name", "capacity", "signed_at")
    list_filter = ("side",)
    search_fields = ("agreement__reference", "signer_name")
    list_select_related = ("agreement",)
