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


def test_demo_has_a_framework_with_an_addendum_and_a_late_release_notice(db, settings):
    from agreements.models import AgreementKind, ReleaseNotice
    from agreements.terms import effective_terms

    settings.DEBUG = True
    call_command("seed_demo")
    framework = _agreements("Beta AI").get(kind=AgreementKind.FRAMEWORK)
    assert framework.status == AgreementStatus.ACTIVE and framework.covered_releases
    addendum = framework.amendments.get()
    assert addendum.kind == AgreementKind.ADDENDUM and addendum.amended_clauses == ["risk_domains", "access_modalities"]
    assert "autonomy" in effective_terms(addendum)["risk_domains"]
    assert effective_terms(addendum)["max_window_days"] == framework.max_window_days
    late = ReleaseNotice.objects.get(organisation__name="Beta AI")
    assert late.is_late and late.notice_days_given < late.notice_days_required
    assert not ReleaseNotice.objects.get(organisation__name="Alpha AI").is_late
    call_command("seed_demo")
    assert ReleaseNotice.objects.count() == 2
