from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Deadlines and reminders"

    def ready(self) -> None:
        # Register this app's rules and scopers with the permission policy.
        from reminders import rules  # noqa: F401
