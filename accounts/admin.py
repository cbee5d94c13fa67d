"""People in the admin: organisations, accounts, memberships and API tokens, through the policy.

Access is governed here as in the rest of the portal. Accounts are
deactivated and reactivated by actions that call ``user_deactivate`` and
``user_reactivate`` (never deleted); the superuser and staff flags are
read-only (superusers are made on the server with ``createsuperuser``). A
membership is chosen when the account is made; afterwards its organisation
is fixed and its role changes only through ``membership_change_role``. An
organisation's kind is fixed once it has been created. A company's engagement
stage and its public-disclosure flag are read-only on its page and change
only through the actions that call ``organisation_engagement_change``; their
history is shown beneath. Names, e-mail addresses and time zones are plain
descriptions and stay editable; every edit is audited.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group
from django.db import transaction

from accounts import services
from accounts.admin_base import NoteActionForm, PolicyModelAdmin, ReadOnlyPolicyAdmin, ReadOnlyTabularInline
from accounts.models import ApiToken, EngagementChange, Membership, Organisation, User
from accounts.permissions import can
from accounts.states import EngagementStage
from audit.models import AuditEvent
from audit.services import SECRET_MASK, audit_record
from core.markings import HandlingMarking


class MembershipInline(admin.StackedInline):
    """The membership of a new account; once it exists it is shown read-only (roles change on its own page)."""

    model = Membership
    extra = 1
    max_num = 1
    can_delete = False
    fields = ("organisation", "role")
    autocomplete_fields = ["organisation"]

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def has_add_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access") and (obj is None or obj.membership_or_none is None)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class EngagementActionForm(NoteActionForm):
    """The actions bar of organisations: the stage to record, beside the reason box."""

    stage = forms.ChoiceField(
        label="Engagement stage",
        required=False,
        choices=[("", "Engagement stage (to record)"), *EngagementStage.choices],
    )


class EngagementChangeInline(ReadOnlyTabularInline):
    """A company's engagement history, newest first: kept as it was written."""

    model = EngagementChange
    fk_name = "organisation"
    fields = ("changed_at", "changed_by", "stage_from", "stage_to", "disclosure_from", "disclosure_to", "note")
    verbose_name = "engagement change"
    verbose_name_plural = "engagement history"


_ENGAGEMENT_FIELDS = ("engagement_stage", "engagement_changed_at", "engagement_changed_by", "disclosure_permitted")


@admin.register(Organisation)
class OrganisationAdmin(PolicyModelAdmin):
    list_display = ("name", "kind", "engagement_stage", "disclosure_permitted", "member_count", "created_at")
    list_filter = ("kind", "engagement_stage", "disclosure_permitted")
    search_fields = ("name", "email_domains")
    action_form = EngagementActionForm
    actions = ["record_engagement_stage", "permit_disclosure", "withhold_disclosure"]
    inlines = [EngagementChangeInline]

    def get_readonly_fields(self, request, obj=None):
        # Members' roles depend on the kind (centre roles at the centre, liaisons at companies): fixed once made.
        # The engagement fields are governed: the actions below change them through the service.
        return ("kind", "created_at", *_ENGAGEMENT_FIELDS) if obj is not None else ("created_at", *_ENGAGEMENT_FIELDS)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None and obj.kind == Organisation.Kind.DEVELOPER else []

    def _engage(self, request, queryset, *, done: str, **change) -> None:
        companies = queryset.filter(kind=Organisation.Kind.DEVELOPER)
        if companies.count() != queryset.count():
            self.message_user(request, "The centre has no engagement stage; it was left as it is.", messages.WARNING)
        self.run_service(
            request,
            companies,
            lambda company: services.organisation_engagement_change(
                actor=request.user, organisation=company, note=self.action_note(request), request=request, **change
            ),
            done=done,
        )

    @admin.action(description="Record the chosen engagement stage for the selected companies")
    def record_engagement_stage(self, request, queryset):
        stage = request.POST.get("stage", "")
        if stage not in EngagementStage.values:
            self.message_user(request, "Choose the engagement stage to record.", messages.ERROR)
            return
        self._engage(
            request,
            queryset,
            stage=stage,
            done=f"Recorded as {EngagementStage(stage).label.lower()}: {{count}} of the selected companies.",
        )

    @admin.action(description="Allow public disclosure of the selected companies' participation")
    def permit_disclosure(self, request, queryset):
        self._engage(
            request,
            queryset,
            disclosure_permitted=True,
            done="Participation may now be disclosed: {count} of the selected companies.",
        )

    @admin.action(description="Withhold public disclosure of the selected companies' participation")
    def withhold_disclosure(self, request, queryset):
        self._engage(
            request,
            queryset,
            disclosure_permitted=False,
            done="Participation no longer to be disclosed: {count} of the selected companies.",
        )

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj) -> int:
        return obj._members


class PortalUserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "full_name")


class PortalUserChangeForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(PolicyModelAdmin, DjangoUserAdmin):
    add_form = PortalUserCreationForm
    form = PortalUserChangeForm
    inlines = [MembershipInline]
    ordering = ("email",)
    list_display = ("email", "full_name", "organisation_name", "role_name", "is_active", "last_login")
    list_filter = ("is_active", "is_staff", "membership__role", "membership__organisation")
    search_fields = ("email", "full_name", "membership__organisation__name")
    list_select_related = ("membership__organisation",)
    readonly_fields = ("is_active", "is_staff", "is_superuser", "last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "time_zone")}),
        ("Access (use the Deactivate and Reactivate actions)", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    filter_horizontal = ()
    actions = ["deactivate_selected", "reactivate_selected"]

    @admin.display(description="Organisation", ordering="membership__organisation__name")
    def organisation_name(self, obj) -> str:
        return obj.organisation.name if obj.organisation else "—"

    @admin.display(description="Role", ordering="membership__role")
    def role_name(self, obj) -> str:
        return obj.membership.get_role_display() if obj.membership_or_none else "—"

    def save_formset(self, request, form, formset, change) -> None:
        # The membership of a new account is recorded like any other creation.
        for membership in formset.save():
            audit_record(
                actor=request.user,
                action=AuditEvent.Action.CREATE,
                obj=membership.user,
                summary=f"Joined {membership.organisation} as {membership.get_role_display()} (in the admin)",
                changes={
                    "organisation": {"from": None, "to": membership.organisation.name},
                    "role": {"from": None, "to": membership.role},
                },
                request=request,
            )

    def user_change_password(self, request, id, form_url=""):
        # Django's view saves the new password itself; the audit trail records that it happened.
        with transaction.atomic():
            response = super().user_change_password(request, id, form_url)
            if request.method == "POST" and response.status_code == 302 and response.url != request.get_full_path():
                user = User.objects.get(pk=id)
                audit_record(
                    actor=request.user,
                    action=AuditEvent.Action.CHANGE,
                    obj=user,
                    summary="Password set in the admin",
                    changes={"password": {"from": SECRET_MASK, "to": SECRET_MASK}},
                    request=request,
                )
        return response

    @admin.action(description="Deactivate the selected accounts (they can no longer sign in)")
    def deactivate_selected(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda user: services.user_deactivate(actor=request.user, user=user, request=request),
            done="{count} account(s) deactivated.",
        )

    @admin.action(description="Reactivate the selected accounts")
    def reactivate_selected(self, request, queryset):
        self.run_service(
            request,
            queryset,
            lambda user: services.user_reactivate(actor=request.user, user=user, request=request),
            done="{count} account(s) reactivated.",
        )


@admin.register(Membership)
class MembershipAdmin(PolicyModelAdmin):
    """A person's organisation and role: the organisation is fixed; the role changes through the service."""

    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation")
    search_fields = ("user__email", "user__full_name", "organisation__name")
    autocomplete_fields = ["organisation"]
    list_select_related = ("user", "organisation")
    fields = ("user", "organisation", "role", "created_at")

    def get_readonly_fields(self, request, obj=None):
        return ("user", "organisation", "created_at") if obj is not None else ("created_at",)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = User.objects.filter(membership__isnull=True)  # one membership per person
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change) -> None:
        if not change:
            super().save_model(request, obj, form, change)  # a first membership: audited as created
        elif "role" in form.changed_data:
            # A refusal (RuleViolation) rolls the save back and is shown on the form.
            services.membership_change_role(
                actor=request.user, membership=obj, role=form.cleaned_data["role"], request=request
            )


# Roles come from memberships, not Django groups; the groups page would only mislead.
admin.site.unregister(Group)


@admin.register(ApiToken)
class ApiTokenAdmin(ReadOnlyPolicyAdmin):
    """Personal API tokens: admins see who holds which and revoke them; nobody can read a secret here."""

    list_display = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__email", "prefix")
    fields = ("name", "user", "prefix", "created_at", "created_by", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ["revoke_selected"]

    @admin.action(description="Revoke the selected tokens")
    def revoke_selected(self, request, queryset):
        revoked = self.run_service(
            request,
            queryset.filter(revoked_at__isnull=True),
            lambda token: services.api_token_revoke(actor=request.user, token=token, request=request),
            done="{count} token(s) revoked.",
        )
        if not revoked:
            self.message_user(request, "0 token(s) revoked.")


@admin.register(HandlingMarking)
class HandlingMarkingAdmin(PolicyModelAdmin):
    """The programme's list of handling markings (``core.markings``), edited by programme admins.

    A marking's code is fixed once made (agreements name their default marking by it); markings
    are never deleted (items keep theirs). Changes are audited like every admin edit.
    """

    list_display = ("name", "code", "rank", "banner_text", "colour", "is_default")
    ordering = ("rank",)
    search_fields = ("name", "code")

    def get_readonly_fields(self, request, obj=None):
        return ("code",) if obj is not None else ()
