"""Second-factor devices and login-lockout records in the admin, behind the permission policy.

django-otp and django-axes register plain ModelAdmins that use Django's model
permissions; here they are replaced so that, like every other admin page,
only programme admins reach them. An admin may look at and delete a device
(to reset a lost phone: the person enrols again) or a lockout record (to
unlock early), but never create or edit one — an admin must not know
another person's second-factor secret. Each deletion is audited (PolicyModelAdmin).
"""

from __future__ import annotations

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.admin_base import ReadOnlyPolicyAdmin


class _ViewAndDeleteAdmin(ReadOnlyPolicyAdmin):
    def has_delete_permission(self, request, obj=None) -> bool:
        return self.has_view_permission(request, obj)


class TOTPDeviceAdmin(_ViewAndDeleteAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")


class StaticDeviceAdmin(_ViewAndDeleteAdmin):
    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_select_related = ("user",)
    search_fields = ("user__email",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")


class AccessAttemptAdmin(_ViewAndDeleteAdmin):
    list_display = ("attempt_time", "ip_address", "username", "failures_since_start")
    search_fields = ("ip_address", "username")
    exclude = ("post_data", "get_data")  # what was typed, possibly a password, is never shown


class AccessLogAdmin(ReadOnlyPolicyAdmin):
    list_display = ("attempt_time", "logout_time", "ip_address", "username")
    search_fields = ("ip_address", "username")


class AccessFailureLogAdmin(ReadOnlyPolicyAdmin):
    list_display = ("attempt_time", "ip_address", "username", "locked_out")
    search_fields = ("ip_address", "username")


def register(site: admin.AdminSite) -> None:
    for model, model_admin in (
        (TOTPDevice, TOTPDeviceAdmin),
        (StaticDevice, StaticDeviceAdmin),
        (AccessAttempt, AccessAttemptAdmin),
        (AccessLog, AccessLogAdmin),
        (AccessFailureLog, AccessFailureLogAdmin),
    ):
        if site.is_registered(model):
            site.unregister(model)
        site.register(model, model_admin)
