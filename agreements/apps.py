from django.apps import AppConfig


class AgreementsConfig(AppConfig):
    name = "agreements"
    verbose_name = "Agreements"

    def ready(self) -> None:
        # Register this app's rules and scopers with the permission policy.
        from agreements import rules  # noqa: F401
