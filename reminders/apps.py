from django.apps import AppConfig


class RemindersConfig(AppConfig):
    name = "reminders"
    verbose_name = "Deadlines and reminders"

    def ready(self) -> None:
        # Register this app's rules and scopers with the permission policy, and its Celery tasks in
        # every process, not only the worker's: the services publish them by name, and in eager mode
        # (tests, development without a worker) they run in this process.
        from reminders import rules, tasks  # noqa: F401
