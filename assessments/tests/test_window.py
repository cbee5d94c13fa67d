"""The access window never exceeds the agreement's maximum, and never 30 days: service, form and API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from agreements.tests.factories import AgreementFactory
from assessments import services
from assessments.models import Assessment
from assessments.tests.factories import ModelSubmissionFactory
from core.errors import RuleViolation

pytestmark = pytest.mark.django_db


def _open(lead, submission, days: float, evaluator=None):
    start = timezone.now() + timedelta(days=1)
    return services.assessment_create(
        actor=lead,
        submission=submission,
        team=[evaluator] if evaluator else [],
        risk_domains=["cyber"],
        window_start=start,
        window_end=start + timedelta(days=days),
    )


@pytest.fixture
def submission_a(agreement_a):
    return ModelSubmissionFactory(agreement=agreement_a)


@pytest.mark.parametrize("days", [29, 30])
def test_window_up_to_30_days_is_accepted(lead, submission_a, days):
    assessment = _open(lead, submission_a, days)
    assert Assessment.objects.get(pk=assessment.pk).window_days == days


def test_window_of_31_days_is_refused_naming_the_limit(lead, submission_a):
    with pytest.raises(RuleViolation) as exc:
        _open(lead, submission_a, 31)
    assert "at most 30 days" in exc.value.errors["window_end"][0]
    assert not Assessment.objects.filter(submission=submission_a).exists()


def test_window_one_minute_over_30_days_is_refused(lead, submission_a):
    with pytest.raises(RuleViolation):
        _open(lead, submission_a, 30 + 1 / 1440)


def test_agreement_with_14_day_cap_refuses_15_days(lead, company_b):
    agreement = AgreementFactory(organisation=company_b, max_window_days=14)
    submission = ModelSubmissionFactory(agreement=agreement)
    assert _open(lead, submission, 14).window_days == 14
    with pytest.raises(RuleViolation) as exc:
        _open(lead, ModelSubmissionFactory(agreement=agreement), 15)
    message = exc.value.errors["window_end"][0]
    assert "at most 14 days" in message and agreement.reference in message


def test_database_refuses_a_31_day_window_even_past_the_service(case):
    case.window_end = case.window_start + timedelta(days=31)
    with pytest.raises(IntegrityError), transaction.atomic():
        case.save()


def test_changing_the_plan_cannot_stretch_the_window(case, lead):
    with pytest.raises(RuleViolation):
        services.assessment_update(
            actor=lead,
            assessment=case,
            team=list(case.team.all()),
            risk_domains=["cyber"],
            window_start=case.window_start,
            window_end=case.window_start + timedelta(days=31),
            internal_notes="",
        )
    case.refresh_from_db()
    assert case.window_days == 14


def _form_data(submission, days):
    start = timezone.localtime(timezone.now() + timedelta(days=1)).replace(second=0, microsecond=0)
    end = start + timedelta(days=days)
    return {
        "submission": submission.pk,
        "risk_domains": ["cyber", "autonomy"],
        "window_start": start.strftime("%Y-%m-%dT%H:%M"),
        "window_end": end.strftime("%Y-%m-%dT%H:%M"),
        "internal_notes": "Keep the prompts from 2.0.",
    }


def test_form_refuses_31_days_and_keeps_what_was_typed(client_for, lead, submission_a):
    response = client_for(lead).post(reverse("assessments:create"), _form_data(submission_a, 31))
    assert response.status_code == 200
    html = response.content.decode()
    assert "at most 30 days" in html
    assert "Keep the prompts from 2.0." in html  # nothing typed is lost
    assert not Assessment.objects.filter(submission=submission_a).exists()


def test_form_refuses_15_days_under_a_14_day_agreement(client_for, lead, company_b):
    submission = ModelSubmissionFactory(agreement=AgreementFactory(organisation=company_b, max_window_days=14))
    response = client_for(lead).post(reverse("assessments:create"), _form_data(submission, 15))
    assert "at most 14 days" in response.content.decode()
    assert not Assessment.objects.filter(submission=submission).exists()


def test_form_opens_a_30_day_case_and_redirects_to_it(client_for, lead, evaluator, submission_a):
    data = {**_form_data(submission_a, 30), "team": [evaluator.pk]}
    response = client_for(lead).post(reverse("assessments:create"), data)
    assessment = Assessment.objects.get(submission=submission_a)
    assert response.status_code == 302 and response["Location"] == assessment.get_absolute_url()
    assert assessment.lead == lead and list(assessment.team.all()) == [evaluator]


def test_api_refuses_31_days_with_a_field_message(client_for, lead, submission_a):
    start = timezone.now() + timedelta(days=1)
    response = client_for(lead).post(
        "/api/v1/assessments/",
        {
            "submission": submission_a.reference,
            "risk_domains": ["cyber"],
            "window_start": start.isoformat(),
            "window_end": (start + timedelta(days=31)).isoformat(),
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "at most 30 days" in response.json()["errors"]["window_end"][0]
