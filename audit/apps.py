from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Sign-in events come from Django's auth signals; the deploy check on the database role.
        from audit import checks, signals  # noqa: F401
