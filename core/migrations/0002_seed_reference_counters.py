"""Seed the reference counters from the references already stored.

Each counter starts at the highest number in use for its prefix and year, read as an
integer (``FND-2026-10000`` is above ``FND-2026-9999``), so the first reference made after
this migration continues the series. Counters that already exist are only ever raised.
"""

from django.db import migrations

# The models whose ``reference`` is made by ``save_with_reference``.
REFERENCED_MODELS = [
    ("agreements", "Agreement"),
    ("assessments", "ModelSubmission"),
    ("assessments", "Assessment"),
    ("assessments", "AccessTicket"),
    ("findings", "Finding"),
]


def seed_counters(apps, schema_editor):
    ReferenceCounter = apps.get_model("core", "ReferenceCounter")
    highest: dict[tuple[str, int], int] = {}
    for app_label, model_name in REFERENCED_MODELS:
        model = apps.get_model(app_label, model_name)
        for reference in model.objects.values_list("reference", flat=True).iterator(chunk_size=2000):
            parts = (reference or "").rsplit("-", 2)
            if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
                continue  # not a PREFIX-YYYY-NNNN reference: nothing to continue from
            key = (parts[0], int(parts[1]))
            highest[key] = max(highest.get(key, 0), int(parts[2]))
    for (prefix, year), number in highest.items():
        if number < 1:
            continue
        counter, created = ReferenceCounter.objects.get_or_create(
            prefix=prefix, year=year, defaults={"last_number": number}
        )
        if not created and counter.last_number < number:
            counter.last_number = number
            counter.save(update_fields=["last_number"])


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_reference_counter"),
        ("agreements", "0003_text_length_limits"),
        ("assessments", "0003_text_length_limits"),
        ("findings", "0002_text_length_limits"),
    ]

    # Going back needs nothing: the counters are dropped with their table.
    operations = [migrations.RunPython(seed_counters, migrations.RunPython.noop)]
