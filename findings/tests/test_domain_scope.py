"""A finding's risk domain lies within its case's: service, form, API and admin refuse the same."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.errors import RuleViolation
from findings import services
from findings.models import Finding
from findings.tests.factories import FindingFactory

pytestmark = pytest.mark.django_db


def _create(actor, case, domain):
    return services.finding_create(
        actor=actor, assessment=case, title="Uplift", risk_domain=domain, severity="high", summary="Seen."
    )


def test_finding_outside_the_cases_domains_is_refused(case, evaluator):
    # The case assesses cyber and biological.
    with pytest.raises(RuleViolation) as refused:
        _create(evaluator, case, "chemical")
    assert "outside the risk domains of " + case.reference in refused.value.errors["risk_domain"][0]
    assert not Finding.objects.exists()
    assert _create(evaluator, case, "biological").risk_domain == "biological"


def test_changing_a_findings_domain_to_one_outside_the_case_is_refused(case, evaluator):
    finding = FindingFactory(assessment=case, author=evaluator, risk_domain="cyber")
    with pytest.raises(RuleViolation):
        services.finding_update(actor=evaluator, finding=finding, data={"risk_domain": "autonomy"})
    finding.refresh_from_db()
    assert finding.risk_domain == "cyber"


def test_form_refuses_a_domain_outside_the_case_and_keeps_the_text(case, evaluator, client_for):
    response = client_for(evaluator).post(
        reverse("findings:create", args=[case.reference]),
        {"title": "Chem route", "risk_domain": "chemical", "severity": "high", "summary": "A route was given."},
    )
    html = response.content.decode()
    assert response.status_code == 200 and "outside the risk domains" in html and "A route was given." in html
    assert not Finding.objects.exists()


def test_api_refuses_a_domain_outside_the_case(case, evaluator, client_for):
    response = client_for(evaluator).post(
        "/api/v1/findings/",
        {
            "assessment": case.reference,
            "title": "Chem route",
            "risk_domain": "chemical",
            "severity": "high",
            "summary": "A route was given.",
        },
        content_type="application/json",
    )
    assert response.status_code == 400 and "outside the risk domains" in response.json()["errors"]["risk_domain"][0]


def test_admin_cannot_move_a_finding_outside_its_case(case, evaluator, admin_user, client_for):
    # A programme admin off the case sees the finding's text read-only; a post changes nothing.
    finding = FindingFactory(assessment=case, author=evaluator, risk_domain="cyber")
    url = reverse("admin:findings_finding_change", args=[finding.pk])
    page = client_for(admin_user).get(url).content.decode()
    assert 'name="risk_domain"' not in page
    client_for(admin_user).post(url, {"risk_domain": "autonomy"})
    finding.refresh_from_db()
    assert finding.risk_domain == "cyber"
