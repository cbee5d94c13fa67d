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


class ReadOnlyPolicyAdmin(PolicyModelAdmin):
    """For records nobody may change through the admin (audit events, history)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
