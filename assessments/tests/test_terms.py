"""The agreement's terms govern the case: risk domains within the agreement's (as amended), and
the window ending by the planned public release unless the lead says why. Service, form, API, admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from agreements.models import AgreementKind, AgreementStatus
from agreements.tests.factories import AgreementFactory
from assessments import services
from assessments.models import Assessment
from assessments.tests.factories import ModelSubmissionFactory
from core.errors import RuleViolation

pytestmark = pytest.mark.django_db

NARROW = ["biological", "chemical", "cyber"]


@pytest.fixture
def narrow_agreement(company_a):
    return AgreementFactory(organisation=company_a, risk_domains=NARROW)


@pytest.fixture
def submission(narrow_agreement):
    return ModelSubmissionFactory(agreement=narrow_agreement, intended_release_date=None)


def _window(days_ahead: int = 1, days: int = 10):
    start = timezone.localtime(timezone.now() + timedelta(days=days_ahead)).replace(second=0, microsecond=0)
    return start, start + timedelta(days=days)


def _open(lead, submission, domains, **extra):
    start, end = _window()
    return services.assessment_create(
        actor=lead,
        submission=submission,
        team=[],
        risk_domains=domains,
        window_start=start,
        window_end=end,
        **extra,
    )


def test_case_outside_the_agreements_domains_is_refused_naming_the_term(lead, submission):
    with pytest.raises(RuleViolation) as refused:
        _open(lead, submission, ["autonomy", "radiological_nuclear"])
    message = refused.value.errors["risk_domains"][0]
    assert "Risk domains in scope" in message and "Autonomy" in message and "Radiological / nuclear" in message
    assert not Assessment.objects.exists()


def test_case_within_the_agreements_domains_is_opened(lead, submission):
    assert _open(lead, submission, ["cyber", "biological"]).risk_domains == ["cyber", "biological"]


def test_an_active_amendment_widens_the_domains_for_every_case_under_the_parent(lead, submission, narrow_agreement):
    AgreementFactory(
        organisation=narrow_agreement.organisation,
        kind=AgreementKind.AMENDMENT,
        parent=narrow_agreement,
        risk_domains=[*NARROW, "autonomy"],
        amended_clauses=["risk_domains"],
    )
    assert _open(lead, submission, ["autonomy"]).risk_domains == ["autonomy"]


def test_an_amendment_still_in_negotiation_changes_nothing(lead, submission, narrow_agreement):
    AgreementFactory(
        organisation=narrow_agreement.organisation,
        kind=AgreementKind.AMENDMENT,
        parent=narrow_agreement,
        status=AgreementStatus.NEGOTIATING,
        risk_domains=[*NARROW, "autonomy"],
        amended_clauses=["risk_domains"],
    )
    with pytest.raises(RuleViolation):
        _open(lead, submission, ["autonomy"])


def test_changing_the_plan_cannot_add_a_domain_outside_the_terms(lead, submission):
    case = _open(lead, submission, ["cyber"])
    with pytest.raises(RuleViolation) as refused:
        services.assessment_update(
            actor=lead,
            assessment=case,
            team=[],
            risk_domains=["cyber", "autonomy"],
            window_start=case.window_start,
            window_end=case.window_end,
            internal_notes="",
        )
    assert "Risk domains in scope" in refused.value.errors["risk_domains"][0]
    case.refresh_from_db()
    assert case.risk_domains == ["cyber"]


def test_form_refuses_a_domain_outside_the_terms_and_keeps_what_was_typed(client_for, lead, submission):
    start, end = _window()
    response = client_for(lead).post(
        reverse("assessments:create"),
        {
            "submission": submission.pk,
            "risk_domains": ["cyber", "autonomy"],
            "window_start": start.strftime("%Y-%m-%dT%H:%M"),
            "window_end": end.strftime("%Y-%m-%dT%H:%M"),
            "internal_notes": "Start with the cyber range.",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Risk domains in scope" in html and "Start with the cyber range." in html
    assert not Assessment.objects.exists()


def test_api_refuses_a_domain_outside_the_terms_with_a_field_error(client_for, lead, submission):
    start, end = _window()
    response = client_for(lead).post(
        "/api/v1/assessments/",
        {
            "submission": submission.reference,
            "risk_domains": ["autonomy"],
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "Risk domains in scope" in response.json()["errors"]["risk_domains"][0]


def test_admin_refuses_a_domain_outside_the_terms(client_for, admin_user, lead, submission):
    case = _open(lead, submission, ["cyber"])
    url = reverse("admin:assessments_assessment_change", args=[case.pk])
    response = client_for(admin_user).post(
        url,
        {
            "lead": lead.pk,
            "risk_domains": ["cyber", "autonomy"],
            "window_start_0": timezone.localtime(case.window_start).strftime("%Y-%m-%d"),
            "window_start_1": timezone.localtime(case.window_start).strftime("%H:%M:%S"),
            "window_end_0": timezone.localtime(case.window_end).strftime("%Y-%m-%d"),
            "window_end_1": timezone.localtime(case.window_end).strftime("%H:%M:%S"),
            "window_after_release_reason": "",
            "internal_notes": "",
        },
    )
    assert response.status_code == 200 and "Risk domains in scope" in response.content.decode()
    case.refresh_from_db()
    assert case.risk_domains == ["cyber"]


# --- The window and the planned public release -----------------------------------------------


def test_window_ending_after_the_planned_release_needs_the_leads_reason(lead, narrow_agreement):
    release = timezone.localdate() + timedelta(days=5)
    submission = ModelSubmissionFactory(agreement=narrow_agreement, intended_release_date=release)
    with pytest.raises(RuleViolation) as refused:
        _open(lead, submission, ["cyber"])
    assert "planned public release" in refused.value.errors["window_end"][0]
    case = _open(lead, submission, ["cyber"], window_after_release_reason="The company agreed to hold the release.")
    assert case.window_after_release_reason == "The company agreed to hold the release."


def test_window_ending_by_the_planned_release_needs_no_reason(lead, narrow_agreement):
    release = timezone.localdate() + timedelta(days=20)
    submission = ModelSubmissionFactory(agreement=narrow_agreement, intended_release_date=release)
    assert _open(lead, submission, ["cyber"]).window_after_release_reason == ""


def test_api_refuses_a_window_past_the_release_without_a_reason(client_for, lead, narrow_agreement):
    release = timezone.localdate() + timedelta(days=5)
    submission = ModelSubmissionFactory(agreement=narrow_agreement, intended_release_date=release)
    start, end = _window()
    payload = {
        "submission": submission.reference,
        "risk_domains": ["cyber"],
        "window_start": start.isoformat(),
        "window_end": end.isoformat(),
    }
    response = client_for(lead).post("/api/v1/assessments/", payload, content_type="application/json")
    assert response.status_code == 400 and "window_after_release_reason" in response.json()["errors"]
    payload["window_after_release_reason"] = "Release held by agreement."
    response = client_for(lead).post("/api/v1/assessments/", payload, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["window_after_release_reason"] == "Release held by agreement."


def test_a_per_model_addendum_sets_the_window_of_the_models_under_it(lead, narrow_agreement):
    addendum = AgreementFactory(
        organisation=narrow_agreement.organisation,
        kind=AgreementKind.ADDENDUM,
        parent=narrow_agreement,
        max_window_days=7,
        amended_clauses=["max_window_days"],
    )
    submission = ModelSubmissionFactory(agreement=addendum, intended_release_date=None)
    with pytest.raises(RuleViolation) as refused:
        _open(lead, submission, ["cyber"])  # a 10-day window
    assert "at most 7 days" in refused.value.errors["window_end"][0]
    # The framework's domains still govern the addendum's models.
    start, end = _window(days=7)
    with pytest.raises(RuleViolation):
        services.assessment_create(
            actor=lead, submission=submission, team=[], risk_domains=["autonomy"], window_start=start, window_end=end
        )
