"""Frameworks, amendments and signatures that bind one version of the terms."""

from __future__ import annotations

import datetime

import pytest

from agreements import selectors, services
from agreements.models import AgreementKind, AgreementStatus, Signature
from agreements.terms import effective_terms, terms_hash, terms_snapshot
from agreements.tests.factories import AgreementFactory, AgreementVersionFactory
from assessments.tests.factories import AssessmentFactory, ModelSubmissionFactory
from core.errors import RuleViolation, TransitionNotAllowed

pytestmark = pytest.mark.django_db

SIGN_BY = datetime.date.today() + datetime.timedelta(days=7)


def _terms(**overrides):
    terms = {
        "max_window_days": 30,
        "risk_domains": ["cyber", "biological", "chemical"],
        "access_modalities": ["hosted_api"],
        "trade_secret_terms": "",
        "release_notice_days": 30,
        "risk_consequence": "consultation",
        "effective_date": None,
        "expiry_date": None,
    }
    return terms | overrides


@pytest.fixture
def framework(company_a):
    return AgreementFactory(
        organisation=company_a,
        kind=AgreementKind.FRAMEWORK,
        risk_domains=["cyber", "biological", "chemical"],
        covered_model_family="Alpha-Frontier",
        covered_releases="Every Alpha-Frontier release above the compute threshold.",
    )


def test_an_amendment_links_to_its_parent_and_shows_in_its_timeline(framework, lead):
    amendment = services.agreement_create(
        actor=lead,
        organisation=framework.organisation,
        title="Amendment 1: autonomy",
        terms=_terms(risk_domains=["cyber", "biological", "chemical", "autonomy"]),
        kind=AgreementKind.AMENDMENT,
        parent=framework,
        amended_clauses=["risk_domains"],
    )
    assert amendment.parent == framework and amendment.amended_clauses == ["risk_domains"]
    titles = [item.title for item in selectors.agreement_timeline(framework)]
    assert any(amendment.reference in title and "Amendment 1" in title for title in titles)
    # Not in force yet: the framework's terms still govern.
    assert "autonomy" not in effective_terms(framework)["risk_domains"]
    amendment.status = AgreementStatus.ACTIVE
    amendment.save()
    assert "autonomy" in effective_terms(framework)["risk_domains"]


def test_an_amendment_needs_a_parent_of_the_same_company(framework, lead, company_b):
    with pytest.raises(RuleViolation) as refused:
        services.agreement_create(
            actor=lead,
            organisation=company_b,
            title="Wrong company",
            terms=_terms(),
            kind=AgreementKind.AMENDMENT,
            parent=framework,
            amended_clauses=["risk_domains"],
        )
    assert "parent" in refused.value.errors
    with pytest.raises(RuleViolation) as refused:
        services.agreement_create(
            actor=lead, organisation=framework.organisation, title="No parent", terms=_terms(), kind="amendment"
        )
    assert "parent" in refused.value.errors


def test_an_addendum_applies_to_its_own_models_only(framework):
    addendum = AgreementFactory(
        organisation=framework.organisation,
        kind=AgreementKind.ADDENDUM,
        parent=framework,
        max_window_days=14,
        amended_clauses=["max_window_days"],
    )
    assert effective_terms(addendum)["max_window_days"] == 14
    assert effective_terms(addendum)["risk_domains"] == ["biological", "chemical", "cyber"]
    assert effective_terms(framework)["max_window_days"] == 30


def test_the_case_page_shows_the_window_the_agreement_allows_as_amended(framework, lead, client_for):
    from django.urls import reverse

    AgreementFactory(
        organisation=framework.organisation,
        kind=AgreementKind.AMENDMENT,
        parent=framework,
        status=AgreementStatus.ACTIVE,
        max_window_days=14,
        amended_clauses=["max_window_days"],
    )
    case = AssessmentFactory(submission=ModelSubmissionFactory(agreement=framework), lead=lead, risk_domains=["cyber"])
    page = client_for(lead).get(reverse("assessments:detail", args=[case.reference])).content.decode()
    assert framework.max_window_days == 30 and "the agreement allows 14)" in page


def test_narrowing_terms_under_running_work_is_refused_then_recorded_with_a_decision(framework, lead):
    submission = ModelSubmissionFactory(agreement=framework)
    case = AssessmentFactory(submission=submission, lead=lead, risk_domains=["cyber", "chemical"])
    amendment = AgreementFactory(
        organisation=framework.organisation,
        kind=AgreementKind.AMENDMENT,
        parent=framework,
        status=AgreementStatus.NEGOTIATING,
        amended_clauses=["risk_domains"],
        risk_domains=["cyber", "biological", "chemical"],
    )
    narrower = _terms(risk_domains=["cyber", "biological"])
    with pytest.raises(RuleViolation) as refused:
        services.agreement_update_terms(actor=lead, agreement=amendment, terms=narrower)
    assert case.reference in refused.value.errors["decision"][0] and "Chemical" in refused.value.errors["decision"][0]
    version = services.agreement_update_terms(
        actor=lead, agreement=amendment, terms=narrower, decision="The chemical work ends with this case."
    )
    assert version.affected_cases == [case.reference]
    assert version.decision == "The chemical work ends with this case."


def test_a_signature_records_the_version_and_the_hash_of_its_terms(awaiting, liaison_a):
    AgreementVersionFactory(agreement=awaiting, number=1)
    AgreementVersionFactory(agreement=awaiting, number=2)
    signature = services.agreement_sign(actor=liaison_a, agreement=awaiting, signer_name="Lia", capacity="CLO")
    assert signature.version_number == 2
    assert signature.terms_hash == terms_hash(terms_snapshot(awaiting))


def test_signing_terms_that_changed_since_they_were_read_is_refused(awaiting, liaison_a):
    with pytest.raises(TransitionNotAllowed, match="changed since you read them"):
        services.agreement_sign(
            actor=liaison_a, agreement=awaiting, signer_name="Lia", capacity="CLO", terms_hash_read="0" * 64
        )
    assert not Signature.objects.filter(agreement=awaiting).exists()


def test_terms_changed_after_one_side_signed_need_both_signatures_again(awaiting, liaison_a, lead):
    services.agreement_sign(actor=liaison_a, agreement=awaiting, signer_name="Lia", capacity="CLO")
    services.agreement_apply_transition(
        actor=lead, agreement=awaiting, transition="reopen_negotiation", reason="Window to shorten."
    )
    services.agreement_update_terms(
        actor=lead, agreement=awaiting, terms=terms_snapshot(awaiting) | {"max_window_days": 21}
    )
    old = Signature.objects.get(agreement=awaiting)
    assert old.voided_at is not None
    services.agreement_submit_for_signature(actor=lead, agreement=awaiting, signature_due=SIGN_BY)
    services.agreement_sign(actor=lead, agreement=awaiting, signer_name="Lee", capacity="Director")
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.AWAITING_SIGNATURE  # the company has not signed version 2
    services.agreement_sign(actor=liaison_a, agreement=awaiting, signer_name="Lia", capacity="CLO")
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.ACTIVE
    assert Signature.objects.filter(agreement=awaiting, voided_at__isnull=True).count() == 2


def test_api_shows_the_terms_hash_and_refuses_a_stale_one(api, awaiting, liaison_a):
    url = f"/api/v1/agreements/{awaiting.reference}/"
    shown = api(liaison_a).get(url).json()
    assert shown["terms_hash"] == terms_hash(terms_snapshot(awaiting))
    response = api(liaison_a).post(
        url + "sign/", {"signer_name": "Lia", "capacity": "CLO", "terms_hash_read": "f" * 64}, format="json"
    )
    assert response.status_code == 409
    response = api(liaison_a).post(
        url + "sign/", {"signer_name": "Lia", "capacity": "CLO", "terms_hash_read": shown["terms_hash"]}, format="json"
    )
    assert response.status_code == 200 and response.json()["signatures"][0]["terms_hash"] == shown["terms_hash"]


def test_form_creates_an_amendment_of_a_visible_agreement(client_for, lead, framework):
    response = client_for(lead).post(
        "/agreements/new/",
        {
            "organisation": str(framework.organisation.public_id),
            "title": "Addendum for Alpha-Frontier 3",
            "kind": "addendum",
            "parent": framework.reference,
            "amended_clauses": ["max_window_days"],
            "max_window_days": 14,
            "risk_domains": ["cyber"],
            "release_notice_days": 30,
            "risk_consequence": "consultation",
        },
    )
    assert response.status_code == 302
    addendum = framework.amendments.get()
    assert addendum.kind == AgreementKind.ADDENDUM and addendum.amended_clauses == ["max_window_days"]


def test_back_to_negotiation_through_the_status_page_needs_a_reason(client_for, lead, awaiting):
    from django.urls import reverse

    url = reverse("agreements:transition", args=[awaiting.reference, "reopen_negotiation"])
    page = client_for(lead).get(url)
    assert page.status_code == 200 and "Back to negotiation" in page.content.decode()
    client_for(lead).post(url, {"reason": "", "confirmed": "yes"})
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.AWAITING_SIGNATURE
    client_for(lead).post(url, {"reason": "The company asked for a shorter window.", "confirmed": "yes"})
    awaiting.refresh_from_db()
    assert awaiting.status == AgreementStatus.NEGOTIATING
