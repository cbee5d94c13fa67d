"""Audit events record the id of the request that wrote them (core/request_id.py).

Adding the column writes no row: PostgreSQL (11 and later) keeps the default of a new column
in the catalogue instead of rewriting the table, so the append-only triggers, which refuse
UPDATE, are not fired and the events written before keep an empty request id.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("audit", "0005_refuse_truncate_and_unlinking_the_actor")]

    operations = [
        migrations.AddField(
            model_name="auditevent",
            name="request_id",
            field=models.CharField(blank=True, db_index=True, default="", max_length=64),
        ),
    ]
