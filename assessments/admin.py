"""Admin for submissions, assessments and access tickets (programme admins only, through the policy).

Access credentials are never shown: the encrypted column is left out of
every list and form, and the change page shows only a mask.
"""

from django.contrib import admin

from assessments.models import AccessTicket, Assessment, CredentialReveal, ModelSubmission
from audit.services import SECRET_MASK
from reviewportal.admin_site import PolicyModelAdmin, ReadOnlyPolicyAdmin, ReadOnlyTabularInline


@admin.register(ModelSubmission)
class ModelSubmissionAdmin(PolicyModelAdmin):
    list_display = ("reference", "model_name", "model_version", "organisation", "intended_release_date", "created_at")
    list_filter = ("organisation",)
    search_fields = ("reference", "model_name", "model_version", "organisation__name")
    list_select_related = ("organisation",)
    readonly_fields = ("reference", "public_id", "submitted_by", "created_at")
    autocomplete_fields = ("organisation",)


@admin.register(Assessment)
class AssessmentAdmin(PolicyModelAdmin):
    list_display = ("reference", "submission", "lead", "status", "window_start", "window_end", "outcome")
    list_filter = ("status", "outcome")
    search_fields = ("reference", "submission__model_name", "submission__organisation__name", "lead__email")
    list_select_related = ("submission__organisation", "lead")
    readonly_fields = ("reference", "public_id", "created_by", "created_at", "updated_at", "closed_at", "closed_by")
    filter_horizontal = ("team",)


class CredentialRevealInline(ReadOnlyTabularInline):
    model = CredentialReveal
    fields = ("revealed_by", "revealed_at", "source_ip", "user_agent")


@admin.register(AccessTicket)
class AccessTicketAdmin(PolicyModelAdmin):
    """Tickets are records: they are changed through the portal's services, and never deleted."""

    list_display = ("reference", "assessment", "kind", "status", "requested_by", "starts_at", "ends_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "assessment__reference", "requested_by__email")
    list_select_related = ("assessment__submission", "requested_by")
    exclude = ("credential_ciphertext",)
    readonly_fields = [
        f.name for f in AccessTicket._meta.get_fields() if f.concrete and f.name not in ("credential_ciphertext", "id")
    ] + ["credential"]
    inlines = [CredentialRevealInline]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("credential_ciphertext")

    @admin.display(description="Credential")
    def credential(self, obj) -> str:
        if obj.is_ended:
            return "Destroyed when access ended" if obj.provisioned_at else "—"
        return f"{SECRET_MASK} (encrypted; revealed only in the portal to the case team)" if obj.has_credential else "—"

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CredentialReveal)
class CredentialRevealAdmin(ReadOnlyPolicyAdmin):
    list_display = ("ticket", "revealed_by", "revealed_at", "source_ip")
    list_select_related = ("ticket", "revealed_by")
    search_fields = ("ticket__reference", "revealed_by__email")
