from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        # Sign-in events come from Django's auth signals; the account-security module registers
        # its deploy checks and session bookkeeping on the same signals.
        from accounts import security  # noqa: F401
        from audit import checks, signals  # noqa: F401
