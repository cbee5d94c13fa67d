"""Audit events record the id of the request that wrote them (core/request_id.py).

Adding the column writes no row: PostgreSQL (11 and later) keeps the default of a new column
in the catalogue instead of rewriting the table, so the append-only triggers, which refuse
UPDATE, are not fired and the events written before keep an empty request id. The default stays
in the database (``db_default``): the previous release's code, which does not name the column,
keeps appending events while the new release rolls out after this migration. The index holds
only events that have a request id: a small one, for finding what one request did.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_refuse_truncate_and_unlinking_the_actor")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, db_default="", default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="auditevent",
            index=models.Index(
                condition=models.Q(("request_id", ""), _negated=True), fields=["request_id"], name="audit_request_id_idx"
            ),
        ),
    ]
