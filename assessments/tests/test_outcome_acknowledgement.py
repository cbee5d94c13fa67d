"""A completed case's outcome reaches the company, which acknowledges it (with a comment if it wishes)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from assessments import services
from assessments.models import Assessment
from assessments.states import AssessmentStatus
from audit.models import AuditEvent
from core.errors import TransitionNotAllowed
from reminders.models import Handoff

pytestmark = pytest.mark.django_db


def _completed(case, lead, outcome="access_restriction_recommended"):
    Assessment.objects.filter(pk=case.pk).update(status=AssessmentStatus.REPORTING)
    case.refresh_from_db()
    return services.assessment_close(
        actor=lead,
        assessment=case,
        outcome=outcome,
        rationale="Internal: the red team's transcripts 3 to 9.",
        company_summary="Restrict fine-tuning access until the classifier ships.",
    )


def test_closing_tells_the_company_with_the_summary_and_the_agreement_s_risk_term(case, lead, liaison_a):
    case = _completed(case, lead)
    told = Handoff.objects.get(recipient=liaison_a, title__startswith="Assessment completed")
    assert "Restrict fine-tuning access until the classifier ships." in told.body
    agreement = case.submission.agreement
    assert f"Under agreement {agreement.reference}, when a risk is found: " in told.body
    assert "transcripts 3 to 9" not in told.body  # the rationale stays the centre's record
    assert "acknowledge" in told.body


def test_an_outcome_without_restriction_does_not_cite_the_risk_term(case, lead, liaison_a):
    _completed(case, lead, outcome="no_concerns")
    told = Handoff.objects.get(recipient=liaison_a, title__startswith="Assessment completed")
    assert "when a risk is found" not in told.body


def test_the_company_acknowledges_once_and_the_team_is_told(case, lead, evaluator, liaison_a, liaison_b):
    case = _completed(case, lead)
    with pytest.raises(PermissionDenied):
        services.assessment_outcome_acknowledge(actor=lead, assessment=case)
    case = services.assessment_outcome_acknowledge(actor=liaison_a, assessment=case, comment="Will restrict.")
    assert case.outcome_acknowledged_by == liaison_a and case.outcome_company_comment == "Will restrict."
    assert AuditEvent.objects.filter(object_id=case.reference, summary__startswith="The company acknowledged").exists()
    told = Handoff.objects.filter(title__startswith="Outcome acknowledged").values_list("recipient", flat=True)
    assert set(told) == {lead.pk, evaluator.pk}
    with pytest.raises(TransitionNotAllowed, match="already acknowledged"):
        services.assessment_outcome_acknowledge(actor=liaison_a, assessment=case)


def test_a_case_not_completed_has_nothing_to_acknowledge(case, liaison_a):
    with pytest.raises(TransitionNotAllowed):
        services.assessment_outcome_acknowledge(actor=liaison_a, assessment=case)


def test_the_form_the_queue_the_timeline_and_the_report(case, lead, liaison_a, client_for):
    from assessments.queue import queue_items_for

    case = _completed(case, lead)
    client = client_for(liaison_a)
    detail = client.get(case.get_absolute_url()).content.decode()
    url = reverse("assessments:acknowledge_outcome", args=[case.reference])
    assert url in detail and "Restrict fine-tuning access until the classifier ships." in detail
    assert reverse("agreements:detail", args=[case.submission.agreement.reference]) + "#terms-heading" in detail
    assert [i.kind for i in queue_items_for(actor=liaison_a, limit=10)] == ["assessments.acknowledge_outcome"]
    too_long = client.post(url, {"comment": "x" * 5001})
    assert too_long.status_code == 200 and "x" * 50 in too_long.content.decode()
    assert client.post(url, {"comment": "Will restrict fine-tuning."}).status_code == 302
    assert queue_items_for(actor=liaison_a, limit=10) == []
    detail = client.get(case.get_absolute_url()).content.decode()
    assert "Outcome acknowledged by the company" in detail and "Will restrict fine-tuning." in detail
    assert url not in detail
    report = client.get(reverse("findings:report_company", args=[case.reference])).content.decode()
    assert "Acknowledged by the company" in report and "Will restrict fine-tuning." in report
    from findings.tests.test_reports import _pdf_text

    pdf = client.get(reverse("findings:report_company_pdf", args=[case.reference]))
    _, text = _pdf_text(b"".join(pdf.streaming_content) if pdf.streaming else pdf.content)
    assert "Acknowledged by the company" in text


def test_the_api_acknowledges_and_another_company_gets_404(case, lead, liaison_a, liaison_b, client_for):
    case = _completed(case, lead)
    path = f"/api/v1/assessments/{case.reference}/acknowledge-outcome/"
    assert client_for(liaison_b).post(path, {"comment": "x"}).status_code == 404
    assert (
        client_for(liaison_b).get(reverse("assessments:acknowledge_outcome", args=[case.reference])).status_code == 404
    )
    response = client_for(liaison_a).post(path, {"comment": "Received."}, content_type="application/json")
    assert response.status_code == 200 and response.json()["outcome_company_comment"] == "Received."
    assert client_for(liaison_a).post(path, {}, content_type="application/json").status_code == 409


def test_the_admin_shows_the_acknowledgement_read_only(case, lead, liaison_a, admin_user, client_for):
    case = _completed(case, lead)
    services.assessment_outcome_acknowledge(actor=liaison_a, assessment=case, comment="Noted.")
    page = client_for(admin_user).get(reverse("admin:assessments_assessment_change", args=[case.pk])).content.decode()
    assert "Noted." in page and 'name="outcome_company_comment"' not in page
