"""On PostgreSQL, also refuse TRUNCATE of the audit table, and no longer let an event lose its actor.

0002 refused UPDATE and DELETE row by row but let one UPDATE through: the
actor_id set to NULL when a user was deleted. Users are deactivated, never
deleted (the foreign key is now PROTECT, so Django refuses the delete before
any SQL runs), and the trigger refuses that UPDATE too. TRUNCATE fires no
row triggers, so it gets its own statement trigger; it also fires when the
table is emptied by a TRUNCATE ... CASCADE of another table.

A superuser can still get past a trigger (drop it, or switch triggers off
with session_replication_role): the application must not connect as one
(see the db_roles command and the deploy check audit.W001).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.actor_id IS NULL AND OLD.actor_id IS NOT NULL THEN
        RAISE EXCEPTION 'audit events are append-only: unlinking the actor refused (deactivate the user instead of deleting it)'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
CREATE TRIGGER audit_event_no_truncate
    BEFORE TRUNCATE ON audit_auditevent
    FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
"""

# Back to 0002: the row trigger lets the actor be unlinked, and TRUNCATE is not refused.
DROP = """
DROP TRIGGER IF EXISTS audit_event_no_truncate ON audit_auditevent;
CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND NEW.actor_id IS NULL
       AND (to_jsonb(NEW) - 'actor_id') = (to_jsonb(OLD) - 'actor_id') THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'audit events are append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def _run(schema_editor, sql: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # Without parameters, so the "%" of RAISE is not taken for a placeholder.
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(sql)


def refuse(apps, schema_editor):
    _run(schema_editor, CREATE)


def allow_again(apps, schema_editor):
    _run(schema_editor, DROP)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_probe_action_and_protected_actor")]

    operations = [migrations.RunPython(refuse, allow_again)]
