"""Findings in the admin: filters, read-only status and history, and edits that go through the services."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from accounts.admin_base import (
    MarkingActionForm,
    NoteActionForm,
    PolicyModelAdmin,
    ReadOnlyPolicyAdmin,
    ReadOnlyTabularInline,
    run_marking_action,
)
from accounts.permissions import can
from audit.models import AuditEvent
from findings import services
from findings.evaluation_models import RUBRIC_SEVERITIES
from findings.models import EvaluationRun, Finding, FindingComment, FindingEvidence, Recommendation, SeverityRubric
from findings.services.rubrics import severity_rubric_revise


class EvidenceInline(ReadOnlyTabularInline):
    model = FindingEvidence
    fields = ("original_name", "side", "marking", "content_type", "size", "sha256", "uploaded_by", "uploaded_at")
    show_change_link = False


class RecommendationInline(ReadOnlyTabularInline):
    model = Recommendation
    fields = ("reference", "kind", "text", "status", "due_at")
    show_change_link = True


class CommentInline(ReadOnlyTabularInline):
    model = FindingComment
    fields = ("created_at", "author", "internal", "marking", "body")


@admin.register(Finding)
class FindingAdmin(PolicyModelAdmin):
    """Findings are read here and withdrawn by an action; status changes only through the services.

    The text is editable only to someone the policy lets edit the finding
    (``finding.edit``: its case team) while it is still a draft or in review,
    and it is saved by ``finding_update``, like the portal's form.
    """

    list_display = (
        "reference",
        "title",
        "assessment",
        "organisation",
        "severity",
        "risk_domain",
        "status",
        "marking",
        "author",
    )
    list_filter = (
        "status",
        "disposition",
        "severity",
        "risk_domain",
        "marking",
        "assessment__submission__organisation",
    )
    search_fields = ("reference", "title", "summary", "assessment__reference")
    list_select_related = ("assessment__submission__organisation", "author", "marking")
    date_hierarchy = "created_at"
    inlines = [RecommendationInline, EvidenceInline, CommentInline]
    action_form = MarkingActionForm
    actions = ["withdraw_selected", "escalate_selected", "set_marking_selected"]
    fieldsets = (
        (None, {"fields": ("reference", "assessment", "status", "author", "marking", "rubric")}),
        ("Finding", {"fields": services.EDITABLE_FIELDS}),
        (
            "Release and response",
            {
                "fields": (
                    "released_by",
                    "released_at",
                    "response_due_at",
                    "disposition",
                    "company_response",
                    "planned_mitigation",
                    "mitigation_target",
                    "responded_by",
                    "responded_at",
                    "not_answered_at",
                    "escalated_by",
                    "escalated_at",
                    "escalation_note",
                    "resolved_by",
                    "resolved_at",
                    "resolution_note",
                    "withdrawn_reason",
                )
            },
        ),
        ("History", {"fields": ("history",)}),
    )

    def _text_editable(self, request, obj) -> bool:
        return obj is not None and obj.status in services.EDITABLE_STATUSES and can(request.user, "finding.edit", obj)

    def get_readonly_fields(self, request, obj=None):
        editable = set(services.EDITABLE_FIELDS) if self._text_editable(request, obj) else set()
        editable -= {"evaluation_run", "cited_samples"}  # cited on the portal's form, which checks them against the log
        every = [f.name for f in Finding._meta.fields] + ["history"]
        return [name for name in every if name not in editable]

    def has_change_permission(self, request, obj=None) -> bool:
        if obj is None:
            return super().has_change_permission(request)
        return self._text_editable(request, obj)

    def has_add_permission(self, request) -> bool:
        return False  # findings are recorded by evaluators on an assessment, in the portal

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # withdraw instead: the record stays

    @admin.display(description="Company", ordering="assessment__submission__organisation__name")
    def organisation(self, obj) -> str:
        return obj.assessment.submission.organisation.name

    @admin.display(description="Audit history")
    def history(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "—"
        events = AuditEvent.objects.filter(object_type="findings.finding", object_id=obj.reference).order_by(
            "occurred_at"
        )
        rows = format_html_join(
            "",
            "<li>{} · {} · {} · {}</li>",
            (
                (e.occurred_at.strftime("%Y-%m-%d %H:%M UTC"), e.actor_email or "system", e.action, e.summary)
                for e in events
            ),
        )
        return format_html("<ul>{}</ul>", rows) if events else "—"

    def save_model(self, request, obj, form, change):
        # Text corrections go through the same service as the portal, so they are audited the same way.
        # A refusal (RuleViolation) rolls the save back and is shown on the form.
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in services.EDITABLE_FIELDS}
        if not data:
            return
        fresh = Finding.objects.get(pk=obj.pk)
        services.finding_update(actor=request.user, finding=fresh, data=data, request=request)

    @admin.action(description="Withdraw selected findings (with the reason typed)")
    def withdraw_selected(self, request, queryset):
        reason = self.action_note(request).strip() or "Withdrawn by a programme admin."
        self.run_service(
            request,
            queryset.select_related("assessment"),
            lambda finding: services.finding_withdraw(
                actor=request.user, finding=finding, reason=reason, request=request
            ),
            done="Withdrew {count} finding(s).",
        )

    @admin.action(description="Set the handling marking of selected findings (lowering needs the reason typed)")
    def set_marking_selected(self, request, queryset):
        run_marking_action(
            self,
            request,
            queryset.select_related("assessment", "marking"),
            lambda finding, marking, reason: services.finding_set_marking(
                actor=request.user, finding=finding, marking=marking, reason=reason, request=request
            ),
        )

    @admin.action(description="Escalate selected findings to the programme (with the reason typed)")
    def escalate_selected(self, request, queryset):
        note = self.action_note(request).strip()
        self.run_service(
            request,
            queryset.select_related("assessment"),
            lambda finding: services.finding_escalate(actor=request.user, finding=finding, note=note, request=request),
            done="Escalated {count} finding(s).",
        )


@admin.register(FindingEvidence)
class FindingEvidenceAdmin(ReadOnlyPolicyAdmin):
    """Files are read-only here; their handling marking changes by the action, through the service."""

    list_display = (
        "original_name",
        "finding",
        "side",
        "marking",
        "size",
        "sha256",
        "uploaded_by",
        "uploaded_at",
        "attested_by",
    )
    list_filter = ("side", "content_type", "marking")
    search_fields = ("original_name", "sha256", "finding__reference")
    list_select_related = ("finding", "uploaded_by", "marking", "attested_by")
    exclude = ("file",)  # downloads go through the permission-checked portal view
    action_form = MarkingActionForm
    actions = ["set_marking_selected"]

    @admin.action(description="Set the handling marking of selected files (lowering needs the reason typed)")
    def set_marking_selected(self, request, queryset):
        run_marking_action(
            self,
            request,
            queryset.select_related("finding__assessment", "marking"),
            lambda evidence, marking, reason: services.evidence_set_marking(
                actor=request.user, evidence=evidence, marking=marking, reason=reason, request=request
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in FindingEvidence._meta.fields if f.name != "file"]


@admin.register(FindingComment)
class FindingCommentAdmin(ReadOnlyPolicyAdmin):
    """Comments are read-only here (their text is the record); their handling marking changes by the action."""

    list_display = ("finding", "author", "internal", "marking", "created_at")
    list_filter = ("internal", "marking")
    search_fields = ("finding__reference", "body")
    list_select_related = ("finding", "author", "marking")
    action_form = MarkingActionForm
    actions = ["set_marking_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in FindingComment._meta.fields]

    @admin.action(description="Set the handling marking of selected comments (lowering needs the reason typed)")
    def set_marking_selected(self, request, queryset):
        run_marking_action(
            self,
            request,
            queryset.select_related("finding__assessment", "marking"),
            lambda comment, marking, reason: services.comment_set_marking(
                actor=request.user, comment=comment, marking=marking, reason=reason, request=request
            ),
        )


@admin.register(Recommendation)
class RecommendationAdmin(ReadOnlyPolicyAdmin):
    """Recommendations are read here; the centre's verification is an action that calls its service.

    The company's steps (acknowledge, accept or decline, implement) are taken in the portal or the API
    by its liaisons; every field is read-only.
    """

    list_display = ("reference", "finding", "kind", "status", "due_at", "organisation")
    list_filter = ("status", "kind", "finding__assessment__submission__organisation")
    search_fields = ("reference", "text", "finding__reference")
    list_select_related = ("finding__assessment__submission__organisation",)
    action_form = NoteActionForm
    actions = ["verify_selected", "not_verify_selected"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in Recommendation._meta.fields]

    @admin.display(description="Company", ordering="finding__assessment__submission__organisation__name")
    def organisation(self, obj) -> str:
        return obj.finding.assessment.submission.organisation.name

    @admin.action(description="Mark selected implementations verified (with the note typed)")
    def verify_selected(self, request, queryset):
        note = self.action_note(request).strip()
        self.run_service(
            request,
            queryset,
            lambda rec: services.recommendation_verify(
                actor=request.user, recommendation=rec, note=note, request=request
            ),
            done="Verified {count} recommendation(s).",
        )

    @admin.action(description="Mark selected implementations not verified (with the reason typed)")
    def not_verify_selected(self, request, queryset):
        note = self.action_note(request).strip()
        self.run_service(
            request,
            queryset,
            lambda rec: services.recommendation_not_verify(
                actor=request.user, recommendation=rec, note=note, request=request
            ),
            done="Marked {count} recommendation(s) not verified.",
        )


@admin.register(EvaluationRun)
class EvaluationRunAdmin(ReadOnlyPolicyAdmin):
    """Imported Inspect logs, read only: imported on an assessment's page, downloaded through the portal;
    their handling marking changes by the action, through the service."""

    list_display = (
        "original_name",
        "assessment",
        "import_status",
        "marking",
        "task_name",
        "model",
        "run_status",
        "sample_count",
        "uploaded_by",
        "uploaded_at",
        "attested_by",
    )
    list_filter = ("import_status", "run_status", "marking")
    search_fields = ("original_name", "sha256", "task_name", "model", "assessment__reference")
    list_select_related = ("assessment", "uploaded_by", "marking", "attested_by")
    exclude = ("file",)  # the log is downloaded only through the permission-checked portal view
    action_form = MarkingActionForm
    actions = ["set_marking_selected"]

    @admin.action(description="Set the handling marking of selected runs (lowering needs the reason typed)")
    def set_marking_selected(self, request, queryset):
        run_marking_action(
            self,
            request,
            queryset.select_related("assessment", "marking"),
            lambda run, marking, reason: services.evaluation_run_set_marking(
                actor=request.user, run=run, marking=marking, reason=reason, request=request
            ),
        )

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in EvaluationRun._meta.fields if f.name != "file"]


@admin.register(SeverityRubric)
class SeverityRubricAdmin(PolicyModelAdmin):
    """Each risk domain's severity rubric. Saving, whether a new one or an edit, writes a new version
    through ``severity_rubric_revise``; the version edited stays as it was, for the findings rated by it."""

    list_display = ("risk_domain", "version", "change_note", "created_by", "created_at")
    list_filter = ("risk_domain",)
    fields = ("risk_domain", "version", *RUBRIC_SEVERITIES, "change_note", "created_by", "created_at")

    def get_readonly_fields(self, request, obj=None):
        fixed = ("version", "created_by", "created_at")
        return ("risk_domain", *fixed) if obj is not None else fixed

    def get_changeform_initial_data(self, request):
        return {"change_note": ""}

    def save_model(self, request, obj, form, change) -> None:
        # A new version from what was typed; a RuleViolation rolls back and shows on the form.
        rubric = severity_rubric_revise(
            actor=request.user,
            risk_domain=obj.risk_domain,
            texts={name: form.cleaned_data.get(name, "") for name in RUBRIC_SEVERITIES},
            change_note=form.cleaned_data.get("change_note", ""),
            request=request,
        )
        obj.pk, obj.version, obj.public_id = rubric.pk, rubric.version, rubric.public_id

    def response_change(self, request, obj):
        self.message_user(request, f"Saved as version {obj.version}; earlier versions are kept as they were.")
        return super().response_change(request, obj)
