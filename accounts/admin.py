from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.contrib.auth.models import Group

from accounts.models import ApiToken, Membership, Organisation, User
from reviewportal.admin_site import PolicyModelAdmin, ReadOnlyPolicyAdmin


class MembershipInline(admin.StackedInline):
    model = Membership
    extra = 0
    max_num = 1
    can_delete = False
    autocomplete_fields = ["organisation"]


@admin.register(Organisation)
class OrganisationAdmin(PolicyModelAdmin):
    list_display = ("name", "kind", "member_count", "created_at")
    list_filter = ("kind",)
    search_fields = ("name", "email_domains")

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
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Person", {"fields": ("full_name", "time_zone")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "full_name", "password1", "password2")}),)
    filter_horizontal = ()

    @admin.display(description="Organisation", ordering="membership__organisation__name")
    def organisation_name(self, obj) -> str:
        return obj.organisation.name if obj.organisation else "—"

    @admin.display(description="Role", ordering="membership__role")
    def role_name(self, obj) -> str:
        return obj.membership.get_role_display() if obj.membership_or_none else "—"


@admin.register(Membership)
class MembershipAdmin(PolicyModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation")
    search_fields = ("user__email", "user__full_name", "organisation__name")
    autocomplete_fields = ["user", "organisation"]
    list_select_related = ("user", "organisation")


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
        from accounts.services import api_token_revoke

        revoked = 0
        for token in queryset.filter(revoked_at__isnull=True):
            api_token_revoke(actor=request.user, token=token, request=request)
            revoked += 1
        self.message_user(request, f"{revoked} token(s) revoked.")
