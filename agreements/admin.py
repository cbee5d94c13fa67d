"""Agreements in the Django admin: for programme admins, through the one policy.

Agreements and their negotiation record are read here, never edited or
deleted: terms change in the portal (``agreement_update_terms`` makes a new
version). The status moves only by actions that call the transition
services (state check, audit, deadlines); signing and sending for signature
stay in the portal, where their forms ask for what they need.
"""

from django.contrib import admin

from accounts.admin_base import (
    MarkingActionForm,
    NoteActionForm,
    PolicyModelAdmin,
    ReadOnlyPolicyAdmin,
    run_marking_action,
)
from accounts.permissions import can
from agreements import services
from agreements.models import (
    Agreement,
    AgreementDocument,
    AgreementVersion,
    Meeting,
    NegotiationEntry,
    OpenPoint,
    ReleaseNotice,
    Signature,
)
from agreements.services.ending import agreement_give_notice


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
    fields = ("side", "signer_name", "capacity", "signed_at", "version_number", "terms_hash", "voided_at")
    readonly_fields = fields


class VersionInline(ReadOnlyInline):
    model = AgreementVersion
    fields = ("number", "created_at", "created_by", "changed_clauses", "note", "affected_cases", "decision")
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
        "kind",
        "parent",
        "end_notice_given_on",
        "end_notice_side",
        "ends_on",
        "status_changed_at",
        "created_by",
        "created_at",
        "updated_at",
    )
    inlines = [NegotiationEntryInline, MeetingInline, OpenPointInline, SignatureInline, VersionInline]
    action_form = NoteActionForm
    actions = [
        "open_negotiation_selected",
        "withdraw_selected",
        "expire_selected",
        "terminate_selected",
        "give_notice_selected",
    ]

    def has_add_permission(self, request) -> bool:
        # New agreements get their reference and version 1 from agreements.services.agreement_create.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        # Terms change only through the service, which makes a version; the admin reads.
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _transition(self, request, queryset, transition: str, done: str) -> None:
        reason = self.action_note(request)
        self.run_service(
            request,
            queryset,
            lambda agreement: services.agreement_apply_transition(
                actor=request.user, agreement=agreement, transition=transition, reason=reason, request=request
            ),
            done=done,
        )

    @admin.action(description="Open negotiation (draft agreements)")
    def open_negotiation_selected(self, request, queryset):
        self._transition(request, queryset, "open_negotiation", "{count} agreement(s) opened for negotiation.")

    @admin.action(description="Withdraw with the reason typed (agreements not yet in force)")
    def withdraw_selected(self, request, queryset):
        self._transition(request, queryset, "withdraw", "{count} agreement(s) withdrawn.")

    @admin.action(description="Mark as expired (active agreements)")
    def expire_selected(self, request, queryset):
        self._transition(request, queryset, "expire", "{count} agreement(s) marked as expired.")

    @admin.action(description="Terminate with the reason typed (active agreements)")
    def terminate_selected(self, request, queryset):
        self._transition(request, queryset, "terminate", "{count} agreement(s) terminated.")

    @admin.action(description="Give the centre's notice to end, with the reason typed (active agreements)")
    def give_notice_selected(self, request, queryset):
        reason = self.action_note(request)
        self.run_service(
            request,
            queryset,
            lambda agreement: agreement_give_notice(
                actor=request.user, agreement=agreement, reason=reason, request=request
            ),
            done="Notice to end given on {count} agreement(s).",
        )


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
    """Documents are read-only here; their handling marking changes by the action, through the service."""

    list_display = (
        "original_name",
        "agreement",
        "kind",
        "marking",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
        "attested_by",
    )
    list_filter = ("kind", "marking")
    search_fields = ("original_name", "agreement__reference", "sha256")
    list_select_related = ("agreement", "uploaded_by", "marking", "attested_by")
    exclude = ("file",)
    action_form = MarkingActionForm
    actions = ["set_marking_selected"]

    @admin.action(description="Set the handling marking of selected documents (lowering needs the reason typed)")
    def set_marking_selected(self, request, queryset):
        run_marking_action(
            self,
            request,
            queryset.select_related("agreement", "marking"),
            lambda document, marking, reason: services.agreement_document_set_marking(
                actor=request.user, document=document, marking=marking, reason=reason, request=request
            ),
        )


@admin.register(Signature)
class SignatureAdmin(ReadOnlyPolicyAdmin):
    list_display = ("agreement", "side", "signer_name", "capacity", "signed_at")
    list_filter = ("side",)
    search_fields = ("agreement__reference", "signer_name")
    list_select_related = ("agreement",)


@admin.register(ReleaseNotice)
class ReleaseNoticeAdmin(ReadOnlyPolicyAdmin):
    # Recorded and moved in the portal (agreements.services.release_notices), where the late flag is kept.
    list_display = (
        "reference",
        "model_name",
        "organisation",
        "planned_release_date",
        "notice_given_on",
        "is_late",
        "status",
    )
    list_filter = ("is_late", "status")
    search_fields = ("reference", "model_name", "agreement__reference", "organisation__name")
    list_select_related = ("organisation", "agreement")
