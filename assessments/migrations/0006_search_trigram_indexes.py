"""Trigram indexes for the text search of the submissions and assessments lists (PostgreSQL only).

The submissions list matches its search against the model's name, its version and the reference;
the assessments list against the case's reference and (through the submissions) the model's name.
See core/trigram.py.
"""

from django.db import migrations

from core.trigram import trigram_indexes, upper_text


class Migration(migrations.Migration):
    dependencies = [("assessments", "0005_ticket_count_index")]

    operations = [
        trigram_indexes(
            "assessments_modelsubmission",
            {
                "submission_model_name_trgm_idx": upper_text("model_name"),
                "submission_model_version_trgm_idx": upper_text("model_version"),
                "submission_reference_trgm_idx": upper_text("reference"),
            },
        ),
        trigram_indexes("assessments_assessment", {"assessment_reference_trgm_idx": upper_text("reference")}),
    ]
