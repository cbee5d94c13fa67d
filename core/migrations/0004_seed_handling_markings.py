"""Seed the programme's standard handling markings (Public, Company proprietary / CBI, Controlled unclassified).

Markings already present (matched by code) are left as they are; reversing removes nothing, as
items may already carry them.
"""

from django.db import migrations


def seed(apps, schema_editor):
    from core.markings import markings_seed

    markings_seed(apps.get_model("core", "HandlingMarking"))


class Migration(migrations.Migration):
    dependencies = [("core", "0003_handling_markings")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
