from django.contrib.admin.apps import AdminConfig


class PortalAdminConfig(AdminConfig):
    """The Django admin, with access decided by the permission policy."""

    default_site = "reviewportal.admin_site.PortalAdminSite"
