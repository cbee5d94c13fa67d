"""Create the two PostgreSQL roles the portal runs as, so the application cannot empty its audit trail.

    python manage.py db_roles --owner reviewportal_owner --app reviewportal_app            # print the SQL
    python manage.py db_roles --owner reviewportal_owner --app reviewportal_app --apply    # run it

* The **owner** role owns the portal's tables, sequences and functions and runs the migrations
  (the ``release`` step). It is not a superuser.
* The **app** role is what the web, worker and beat processes connect as: SELECT, INSERT, UPDATE
  and DELETE on every table, now and on tables the owner creates later (default privileges), but
  on the audit table only SELECT and INSERT: no UPDATE, DELETE or TRUNCATE, whatever the
  application is made to do. It cannot create or alter tables.

The SQL is idempotent (run it again after a restore, or to check nothing drifted). ``--apply``
runs it over the configured database connection, which must be a superuser (or the current owner
of the tables with CREATEROLE). Passwords are not handled here: set them with ``ALTER ROLE ...
PASSWORD`` (or use certificate or peer authentication) and put them in the two DATABASE_URLs.
"""

from __future__ import annotations

import re

from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from audit.models import AuditEvent

ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def roles_sql(*, owner: str, app: str, database: str, schema: str, audit_table: str) -> list[str]:
    """The statements, in order. ``owner``, ``app`` and ``schema`` must match ``ROLE_NAME`` (the
    caller checks): they also appear inside the DO blocks as string literals."""
    o, a, d, s, t = (_quoted(name) for name in (owner, app, database, schema, audit_table))
    # Built from names, not from anyone's input: the S608/B608 markers below are for that reason.
    return [
        f"""-- Both roles log in; neither is a superuser (refuse to touch one that is).
DO $$
DECLARE
    name text;
BEGIN
    FOREACH name IN ARRAY ARRAY['{owner}', '{app}'] LOOP
        IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name AND rolsuper) THEN
            RAISE EXCEPTION 'role % is a superuser: choose another name', name;
        END IF;
        IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = name) THEN
            EXECUTE format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE', name);
        END IF;
    END LOOP;
END
$$""",  # noqa: S608  # nosec B608
        f"-- The app role must not inherit the owner's rights.\nREVOKE {o} FROM {a}",
        f"GRANT CONNECT ON DATABASE {d} TO {o}, {a}",
        f"-- Only the owner creates objects in the schema (migrations).\nREVOKE CREATE ON SCHEMA {s} FROM PUBLIC",
        f"GRANT USAGE, CREATE ON SCHEMA {s} TO {o}",
        f"GRANT USAGE ON SCHEMA {s} TO {a}",
        f"""-- The owner owns what is already there (tables made earlier by another role, e.g. postgres).
DO $$
DECLARE
    item record;
BEGIN
    FOR item IN
        SELECT c.oid::regclass AS name,
               CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'
                              WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END AS kind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = '{schema}' AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
          -- sequences of serial and identity columns follow their table
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i', 'e'))
    LOOP
        EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.name, '{owner}');
    END LOOP;
    FOR item IN
        SELECT p.oid::regprocedure AS name
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = '{schema}'
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
    LOOP
        EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.name, '{owner}');
    END LOOP;
END
$$""",  # noqa: S608  # nosec B608
        f"-- The app: ordinary reads and writes everywhere...\n"
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {s} TO {a}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {s} TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {a}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {o} IN SCHEMA {s} GRANT USAGE, SELECT ON SEQUENCES TO {a}",
        f"-- ...except the audit trail, which it may only read and append to.\nREVOKE ALL ON TABLE {s}.{t} FROM {a}",
        f"GRANT SELECT, INSERT ON TABLE {s}.{t} TO {a}",
    ]


class Command(BaseCommand):
    help = "Print (or, with --apply, run) the SQL that sets up the owner and app database roles (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--owner", required=True, help="Role that owns the tables and runs migrations.")
        parser.add_argument("--app", required=True, help="Role the web, worker and beat processes connect as.")
        parser.add_argument("--schema", default="public", help="Schema holding the portal's tables (public).")
        parser.add_argument("--database", default=DEFAULT_DB_ALIAS, help="Django database alias (default).")
        parser.add_argument("--apply", action="store_true", help="Run the SQL now instead of printing it.")

    def handle(self, *args, owner: str, app: str, schema: str, database: str, apply: bool, **options):
        for label, name in (("--owner", owner), ("--app", app), ("--schema", schema)):
            if not ROLE_NAME.fullmatch(name):
                raise CommandError(f"{label} {name!r}: use lower-case letters, digits and _ (at most 63).")
        if owner == app:
            raise CommandError("--owner and --app must be two different roles.")
        connection = connections[database]
        statements = roles_sql(
            owner=owner,
            app=app,
            database=connection.settings_dict["NAME"],
            schema=schema,
            audit_table=AuditEvent._meta.db_table,
        )
        if not apply:
            self.stdout.write(";\n\n".join(statements) + ";\n")
            return
        if connection.vendor != "postgresql":
            raise CommandError(f"--apply needs PostgreSQL; the {database!r} database is {connection.vendor}.")
        with transaction.atomic(using=database), connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)  # no parameters: the "%" of format() is not a placeholder
        self.stdout.write(
            f"Roles {owner} (owner) and {app} (app) are set up on {connection.settings_dict['NAME']}.\n"
            f"Next: give each a password (ALTER ROLE ... PASSWORD), run migrations as {owner} and the "
            f"web, worker and beat processes as {app} (see README, Database roles)."
        )
