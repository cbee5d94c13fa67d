"""Deploy check: the application must not reach PostgreSQL as a superuser.

A superuser can switch the audit table's triggers off or empty it, whatever the code does. In
production the web, worker and beat processes connect as the app role set up by
``manage.py db_roles`` (no UPDATE, DELETE or TRUNCATE on the audit table). ``ALLOW_SUPERUSER_DB=1``
silences the check where a superuser is expected (CI, a throw-away local database).
"""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.db import DatabaseError, connections


@checks.register(checks.Tags.security, deploy=True)
def check_database_role(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    if settings.ALLOW_SUPERUSER_DB:
        return []
    messages: list[checks.CheckMessage] = []
    for alias in connections:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
        except DatabaseError:
            continue  # unreachable: migrate and the health check say so; nothing to judge here
        if row and row[1]:
            messages.append(
                checks.Warning(
                    f"The {alias!r} database is reached as {row[0]!r}, a PostgreSQL superuser: it can switch "
                    "off the audit table's triggers and empty the table.",
                    hint="Connect as the app role made by 'manage.py db_roles' (see README, Database roles); "
                    "set ALLOW_SUPERUSER_DB=1 only where a superuser is expected, such as CI.",
                    id="audit.W001",
                )
            )
    return messages
