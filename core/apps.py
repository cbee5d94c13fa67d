from django.apps import AppConfig


class CoreConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.page_cache import install_statement_tracking

        # Every write, from any process, renews the versions that kept pages depend on.
        connection_created.connect(install_statement_tracking, dispatch_uid="core.page_cache")
        install_statement_tracking()
