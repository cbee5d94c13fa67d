from __future__ import annotations

import pytest
from django.core.management import call_command

from assessments.models import AccessTicket, Assessment, ModelSubmission, TicketStatus

pytestmark = pytest.mark.django_db


def test_demo_has_tickets_in_every_state_and_is_idempotent(settings, tmp_path):
    settings.DEBUG = True
    call_command("seed_demo", stdout=open(tmp_path / "out.txt", "w"))  # noqa: SIM115
    counts = (ModelSubmission.objects.count(), Assessment.objects.count(), AccessTicket.objects.count())
    assert set(AccessTicket.objects.values_list("status", flat=True)) >= set(TicketStatus.values)
    assert set(Assessment.objects.values_list("status", flat=True)) >= {
        "in_progress",
        "completed",
        "withdrawn",
        "scheduled",
    }
    withdrawn = ModelSubmission.objects.get(model_name="Beta-Lite")
    assert withdrawn.is_withdrawn and "cancelled" in withdrawn.withdrawal_reason
    assert withdrawn.assessments.get().status == "withdrawn"
    # The completed case's outcome reached the company, which acknowledged it.
    completed = Assessment.objects.get(status="completed")
    assert completed.outcome_company_summary and completed.outcome_acknowledged_at is not None
    assert completed.outcome_company_comment.startswith("Received.")
    call_command("seed_demo", stdout=open(tmp_path / "out2.txt", "w"))  # noqa: SIM115
    assert (ModelSubmission.objects.count(), Assessment.objects.count(), AccessTicket.objects.count()) == counts
