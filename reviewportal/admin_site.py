"""The admin site and the base ModelAdmin: both ask the permission policy."""

from __future__ import annotations

from django.contrib import admin

from accounts.permissions import can


class PortalAdminSite(admin.AdminSite):
    site_header = "Review Portal administration"
    site_title = "Review Portal admin"
    index_title = "Programme administration"

    def has_permission(self, request) -> bool:
        # Programme admins only, and (like every page) only once the session passed the second factor.
        from accounts.security import is_verified, second_factor_required

        if second_factor_required(request) and not is_verified(request.user):
            return False
        return can(request.user, "admin.access")


class PolicyModelAdmin(admin.ModelAdmin):
    """Programme admins manage everything the admin shows; nobody else reaches it."""

    def has_module_permission(self, request) -> bool:
        return can(request.user, "admin.access")

    def has_view_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def has_add_permission(self, request) -> bool:
        return can(request.user, "admin.access")

    def has_change_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    def has_delete_permission(self, request, obj=None) -> bool:
        return can(request.user, "admin.access")

    # Edits made in the admin reach the audit trail like any other: who, what, before and after
    # (secret-looking fields masked). Admins that save through a service (which audits) override
    # save_model without calling this one.
    def save_model(self, request, obj, form, change) -> None:
        from audit.services import audit_record, diff_fields

        before = {name: form.initial.get(name) for name in form.changed_data}
        super().save_model(request, obj, form, change)
        after = {name: form.cleaned_data.get(name) for name in form.changed_data}
        audit_record(
            actor=request.user,
            action="change" if change else "create",
            obj=obj,
            request=request,
            changes=diff_fields(before, after) if change else {},
            summary="Changed in the admin" if change else "Created in the admin",
        )

    def delete_model(self, request, obj) -> None:
        from audit.services import audit_record

        audit_record(
            actor=request.user, action="delete", obj=obj, request=request, summary=f"Deleted in the admin: {obj}"
        )
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class ReadOnlyPolicyAdmin(PolicyModelAdmin):
    """For records nobody may change through the admin (audit events, history)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyTabularInline(admin.TabularInline):
    """An inline of records kept as history (files, comments, reveals): shown, never added, changed or deleted.

    Subclasses set ``model`` and ``fields``; every field is read-only.
    """

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
