"""Admin for submissions, assessments and access tickets (programme admins only, through the policy).

The admin changes a case only through the case services, as the portal does:
the plan (lead, team, risk domains, window, notes) is saved by
``assessment_change_lead`` and ``assessment_update``, and the status moves by
actions that call ``assessment_advance``, ``assessment_close`` and
``assessment_withdraw``. Status, outcome, the submission a case belongs to,
and a submission's organisation and agreement are read-only. Tickets are
ended by ``ticket_revoke``. Nothing here is deleted.

Access credentials are never shown: the encrypted column is left out of
every list and form, and the change page shows only a mask.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.html import format_html

from accounts.admin_base import NoteActionForm, PolicyModelAdmin, ReadOnlyPolicyAdmin, ReadOnlyTabularInline
from accounts.models import Organisation, User
from accounts.permissions import can
from assessments import services
from assessments.models import (
    AccessTicket,
    Assessment,
    AssessmentOutcome,
    CredentialReveal,
    ModelSubmission,
)
from assessments.selectors import team_candidates
from audit.services import SECRET_MASK
from core.choices import RiskDomain


@admin.register(ModelSubmission)
class ModelSubmissionAdmin(ReadOnlyPolicyAdmin):
    """A submission is what the company gave: its organisation, agreement and model stay as submitted."""

    list_display = ("reference", "model_name", "model_version", "organisation", "intended_release_date", "created_at")
    list_filter = ("organisation",)
    search_fields = ("reference", "model_name", "model_version", "organisation__name")
    list_select_related = ("organisation",)


# Fields of the case plan; each is saved by a case service, never written directly.
PLAN_FIELDS = (
    "lead",
    "team",
    "risk_domains",
    "window_start",
    "window_end",
    "window_after_release_reason",
    "internal_notes",
)


class AssessmentAdminForm(forms.ModelForm):
    risk_domains = forms.MultipleChoiceField(
        choices=RiskDomain.choices, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = Assessment
        fields = PLAN_FIELDS


class CaseActionForm(NoteActionForm):
    outcome = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "Outcome (to complete)"), *AssessmentOutcome.choices]
    )


def _centre_staff():
    return User.objects.filter(is_active=True, membership__organisation__kind=Organisation.Kind.AGENCY)


@admin.register(Assessment)
class AssessmentAdmin(PolicyModelAdmin):
    list_display = ("reference", "submission", "lead", "status", "window_start", "window_end", "outcome")
    list_filter = ("status", "outcome")
    search_fields = ("reference", "submission__model_name", "submission__organisation__name", "lead__email")
    list_select_related = ("submission__organisation", "lead")
    form = AssessmentAdminForm
    action_form = CaseActionForm
    filter_horizontal = ("team",)
    actions = ["advance_selected", "complete_selected", "withdraw_selected"]
    fieldsets = (
        (None, {"fields": ("reference", "submission", "status", "in_the_portal")}),
        ("Case plan", {"fields": PLAN_FIELDS}),
        (
            "Outcome",
            {
                "fields": (
                    "outcome",
                    "outcome_rationale",
                    "outcome_company_summary",
                    "closed_at",
                    "closed_by",
                    "outcome_acknowledged_at",
                    "outcome_acknowledged_by",
                    "outcome_company_comment",
                )
            },
        ),
        ("Record", {"fields": ("public_id", "created_by", "created_at", "updated_at")}),
    )
    _record_fields = (
        "reference",
        "submission",
        "status",
        "in_the_portal",
        "outcome",
        "outcome_rationale",
        "outcome_company_summary",
        "closed_at",
        "closed_by",
        "outcome_acknowledged_at",
        "outcome_acknowledged_by",
        "outcome_company_comment",
        "public_id",
        "created_by",
        "created_at",
        "updated_at",
    )

    def get_readonly_fields(self, request, obj=None):
        return self._record_fields

    def has_add_permission(self, request) -> bool:
        return False  # a case is opened in the portal (assessment_create), from its submission

    def has_change_permission(self, request, obj=None) -> bool:
        # The plan of an open case, for whoever the policy lets manage it; a closed case is a record.
        if obj is None:
            return super().has_change_permission(request)
        return not obj.is_closed and can(request.user, "assessment.manage", obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "lead":
            kwargs["queryset"] = _centre_staff().order_by("full_name")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "team":
            kwargs["queryset"] = team_candidates()
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="In the portal")
    def in_the_portal(self, obj) -> str:
        return format_html('<a href="{}">Open {} in the portal</a>', obj.get_absolute_url(), obj.reference)

    def save_model(self, request, obj, form, change) -> None:
        # The plan goes through the case services, which check the rules, audit and move the deadlines.
        # A refusal (RuleViolation) rolls the whole save back and is shown on the form.
        changed = set(form.changed_data)
        data = form.cleaned_data
        assessment = Assessment.objects.select_related("lead", "submission__agreement").get(pk=obj.pk)
        if "lead" in changed:
            assessment = services.assessment_change_lead(
                actor=request.user, assessment=assessment, lead=data["lead"], request=request
            )
        if changed & {
            "team",
            "risk_domains",
            "window_start",
            "window_end",
            "window_after_release_reason",
            "internal_notes",
        }:
            services.assessment_update(
                actor=request.user,
                assessment=assessment,
                team=list(data["team"]),
                risk_domains=list(data["risk_domains"]),
                window_start=data["window_start"],
                window_end=data["window_end"],
                internal_notes=data["internal_notes"],
                window_after_release_reason=data.get("window_after_release_reason") or "",
                request=request,
            )

    def save_related(self, request, form, formsets, change) -> None:
        pass  # the team was saved by assessment_update; the form writes no relation itself

    @admin.action(description="Move to the next step (completion needs the Complete action)")
    def advance_selected(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda case: services.assessment_advance(
                actor=request.user, assessment=case, to_status=case.next_status or case.status, request=request
            ),
            done="{count} assessment(s) moved on.",
        )

    @admin.action(description="Complete with the outcome and the rationale typed as the reason")
    def complete_selected(self, request, queryset):
        outcome, rationale = request.POST.get("outcome", ""), self.action_note(request)
        self.run_service(
            request,
            queryset,
            lambda case: services.assessment_close(
                actor=request.user, assessment=case, outcome=outcome, rationale=rationale, request=request
            ),
            done="{count} assessment(s) completed.",
        )

    @admin.action(description="Withdraw with the reason typed")
    def withdraw_selected(self, request, queryset):
        reason = self.action_note(request)
        self.run_service(
            request,
            queryset,
            lambda case: services.assessment_withdraw(
                actor=request.user, assessment=case, reason=reason, request=request
            ),
            done="{count} assessment(s) withdrawn.",
        )


class CredentialRevealInline(ReadOnlyTabularInline):
    model = CredentialReveal
    fields = ("revealed_by", "revealed_at", "source_ip", "user_agent")


@admin.register(AccessTicket)
class AccessTicketAdmin(ReadOnlyPolicyAdmin):
    """Tickets are records: read here, ended by the revoke action (ticket_revoke), never edited or deleted."""

    list_display = ("reference", "assessment", "kind", "status", "requested_by", "starts_at", "ends_at")
    list_filter = ("status", "kind")
    search_fields = ("reference", "assessment__reference", "requested_by__email")
    list_select_related = ("assessment__submission", "requested_by")
    exclude = ("credential_ciphertext",)
    readonly_fields = [
        f.name for f in AccessTicket._meta.get_fields() if f.concrete and f.name not in ("credential_ciphertext", "id")
    ] + ["credential"]
    inlines = [CredentialRevealInline]
    action_form = NoteActionForm
    actions = ["revoke_selected"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("credential_ciphertext")

    @admin.display(description="Credential")
    def credential(self, obj) -> str:
        if obj.is_ended:
            return "Destroyed when access ended" if obj.provisioned_at else "—"
        return f"{SECRET_MASK} (encrypted; revealed only in the portal to the case team)" if obj.has_credential else "—"

    @admin.action(description="Revoke access with the reason typed")
    def revoke_selected(self, request, queryset):
        reason = self.action_note(request)
        self.run_service(
            request,
            queryset,
            lambda ticket: services.ticket_revoke(actor=request.user, ticket=ticket, reason=reason, request=request),
            done="{count} ticket(s) revoked.",
        )


@admin.register(CredentialReveal)
class CredentialRevealAdmin(ReadOnlyPolicyAdmin):
    list_display = ("ticket", "revealed_by", "revealed_at", "source_ip")
    list_select_related = ("ticket", "revealed_by")
    search_fields = ("ticket__reference", "revealed_by__email")
