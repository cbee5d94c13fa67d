"""The demo agreements: several states, a lived-in record, and safe to seed twice."""

from __future__ import annotations

from django.core.management import call_command

from agreements.models import Agreement, AgreementDocument, AgreementStatus, OpenPointStatus
from reminders.models import Deadline, DeadlineKind


def _agreements(company_name):
    return Agreement.objects.filter(organisation__name=company_name)


def test_demo_agreements_are_lived_in_and_seeding_twice_adds_nothing(db, settings):
    settings.DEBUG = True
    call_command("seed_demo")
    counts = (Agreement.objects.count(), AgreementDocument.objects.count())
    call_command("seed_demo")
    assert (Agreement.objects.count(), AgreementDocument.objects.count()) == counts

    alpha = _agreements("Alpha AI").get(status=AgreementStatus.ACTIVE)
    beta = _agreements("Beta AI").get(status=AgreementStatus.ACTIVE)
    gamma = _agreements("Gamma AI").get()
    assert (alpha.max_window_days, beta.max_window_days) == (30, 14)
    assert gamma.status == AgreementStatus.NEGOTIATING
    assert _agreements("Alpha AI").filter(status=AgreementStatus.EXPIRED).exists()
    assert _agreements("Beta AI").filter(status=AgreementStatus.AWAITING_SIGNATURE).exists()

    assert alpha.versions.count() == 3
    assert alpha.entries.filter(kind="counter_proposal").exists()
    assert alpha.meetings.exists()
    assert alpha.signatures.count() == 2
    signed = alpha.documents.get(kind="signed")
    assert signed.file.open("rb").read(5) == b"%PDF-"
    # The trade-secret clause says results "are marked CBI": the term, and the documents, say so too.
    assert alpha.default_marking == "CBI" and "marked CBI" in alpha.trade_secret_terms
    assert signed.marking.code == "CBI" and signed.is_attested and signed.attested_by_id == signed.uploaded_by_id
    assert set(gamma.open_points.values_list("status", flat=True)) == {OpenPointStatus.OPEN, OpenPointStatus.RESOLVED}
    open_point_deadlines = Deadline.objects.filter(kind=DeadlineKind.OPEN_POINT_DUE, is_open=True)
    assert open_point_deadlines.count() == 2
    assert Deadline.objects.filter(kind=DeadlineKind.SIGNATURE_DUE, is_open=True).count() == 1
