"""The admin site: only programme admins reach it, and only once past the second factor.

The ModelAdmin base classes the apps build on are in ``accounts/admin_base.py``.
"""

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
