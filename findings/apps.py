from django.apps import AppConfig


class FindingsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        # Register this app's rules and scopers with the permission policy.
        from findings import rules  # noqa: F401
